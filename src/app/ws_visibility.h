/* ws_visibility.h - the `visibility` request (ws_visibility.c): a tab says
 * whether it is visible, so that a hidden one gets Web Push instead. */
#ifndef DUET_WS_VISIBILITY_H
#define DUET_WS_VISIBILITY_H

#include <jansson.h>

struct client;

/* Records the connection's visibility; the answer event (NULL when out of
 * memory), ref echoed. */
json_t *ws_visibility(struct client *cl, json_t *ref, int visible);

#endif
