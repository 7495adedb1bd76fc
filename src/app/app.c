/* app.c - small helpers every part of the application uses. */
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "app.h"
#include "proto.h"

int app_store(struct app *app, store_req *req)
{
    int r = store_submit(app->store, req);
    if (r < 0)
        app->metrics.store_errors++;
    return r;
}

void app_event_meta(json_t *ev, struct hub_event *out)
{
    const char *type = json_string_value(json_object_get(ev, "type"));
    out->kind = HUB_EV_OTHER;
    if (type == NULL)
        return;
    if (strcmp(type, "message") == 0) {
        out->kind = HUB_EV_MESSAGE;
    } else if (strcmp(type, "deleted") == 0) {
        out->kind = HUB_EV_DELETED;
    } else if (strcmp(type, "receipt") == 0) {
        const char *st = json_string_value(json_object_get(ev, "status"));
        out->kind = st != NULL && strcmp(st, "seen") == 0 ? HUB_EV_SEEN : HUB_EV_DELIVERED;
    } else {
        return;
    }
    if (proto_get_id(ev, "chat_id", &out->chat) < 0 || proto_get_int(ev, "seq", &out->seq) < 0)
        out->kind = HUB_EV_OTHER; /* cannot happen for our own events */
}

/* Encodes ev once and publishes it to each of n users (all but except[i]
 * of users[i]'s connections). Takes ev. */
static void publish(struct app *app, const duet_id *const *users,
                    const struct client *const *except, size_t n, json_t *ev, int replay)
{
    if (ev == NULL) {
        log_error("publish: out of memory encoding an event");
        return;
    }
    struct hub_event he = {.replay = replay};
    app_event_meta(ev, &he);
    char *s = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    if (s == NULL) {
        log_error("publish: out of memory encoding an event");
        return;
    }
    he.json = s;
    he.len = strlen(s);
    for (size_t i = 0; i < n; i++)
        app->hub->backend->publish(app->hub, users[i], &he, except[i]);
    free(s);
}

void app_publish(struct app *app, const duet_id *user, json_t *ev, const struct client *except)
{
    publish(app, &user, &except, 1, ev, 0);
}

void app_republish(struct app *app, const duet_id *user, json_t *ev, const struct client *except)
{
    publish(app, &user, &except, 1, ev, 1);
}

void app_publish_pair(struct app *app, const duet_id *a, const struct client *a_except,
                      const duet_id *b, const struct client *b_except, json_t *ev, int replay)
{
    const duet_id *users[2] = {a, b};
    const struct client *except[2] = {a_except, b_except};
    publish(app, users, except, 2, ev, replay);
}

void app_free_typing(struct app *app)
{
    for (struct map_entry *e = map_first(&app->typing); e != NULL; e = map_next(&app->typing, e))
        free(e->value);
    map_free(&app->typing);
}
