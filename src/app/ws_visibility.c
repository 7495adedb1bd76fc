/* ws_visibility.c - the `visibility` request. A connection counts as
 * visible until it says otherwise, so a client that never sends it (an
 * older one) gets no pushes while it is connected. */
#include "ws_visibility.h"

#include "client.h"

json_t *ws_visibility(struct client *cl, json_t *ref, int visible)
{
    cl->hub.hidden = !visible;
    hub_visibility(cl->app->hub, &cl->hub);
    return json_pack("{s:s, s:O?, s:b}", "type", "visibility", "ref", ref, "visible", visible);
}
