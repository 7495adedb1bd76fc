/* app.c - small helpers every part of the application uses. */
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "app.h"

int app_store(struct app *app, store_req *req)
{
    int r = store_submit(app->store, req);
    if (r < 0)
        app->metrics.store_errors++;
    return r;
}

void app_publish(struct app *app, const duet_id *user, json_t *ev, const struct client *except)
{
    if (ev == NULL) {
        log_error("publish: out of memory encoding an event");
        return;
    }
    char *s = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    if (s == NULL) {
        log_error("publish: out of memory encoding an event");
        return;
    }
    app->hub->backend->publish(app->hub, user, s, strlen(s), except);
    free(s);
}

void app_free_typing(struct app *app)
{
    for (struct map_entry *e = map_first(&app->typing); e != NULL; e = map_next(&app->typing, e))
        free(e->value);
    map_free(&app->typing);
}
