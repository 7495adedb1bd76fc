/* publish.c - events to every connection of a user, through the hub
 * (publish.h). */
#include "publish.h"

#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "proto.h"

void publish_event_meta(json_t *ev, struct hub_event *out)
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

/* Publishes an encoded event to each of n users (all but except[i] of
 * users[i]'s connections). */
static void publish_he(struct app *app, const duet_id *const *users,
                       const struct client *const *except, size_t n, const struct hub_event *he)
{
    for (size_t i = 0; i < n; i++)
        hub_publish(app->hub, users[i], he, except[i] != NULL ? &except[i]->hub : NULL);
}

/* Encodes ev once and publishes it as publish_he. Takes ev. */
static void publish(struct app *app, const duet_id *const *users,
                    const struct client *const *except, size_t n, json_t *ev, int replay)
{
    if (ev == NULL) {
        log_error("publish: out of memory encoding an event");
        return;
    }
    struct hub_event he = {.replay = replay};
    publish_event_meta(ev, &he);
    char *s = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    if (s == NULL) {
        log_error("publish: out of memory encoding an event");
        return;
    }
    he.json = s;
    he.len = strlen(s);
    publish_he(app, users, except, n, &he);
    free(s);
}

/* Publishes m's encoded message event s to n users, as publish_he. */
static void publish_msg_to(struct app *app, const duet_id *const *users,
                           const struct client *const *except, size_t n, const struct duet_msg *m,
                           const char *s, size_t len, int replay)
{
    if (s == NULL) {
        log_error("publish: out of memory encoding an event");
        return;
    }
    struct hub_event he = {.json = s,
                           .len = len,
                           .kind = HUB_EV_MESSAGE,
                           .chat = m->chat_id,
                           .seq = m->sequence,
                           .replay = replay};
    publish_he(app, users, except, n, &he);
}

void publish_pair_msg(struct app *app, const duet_id *a, const struct client *a_except,
                      const duet_id *b, const struct client *b_except, const struct duet_msg *m,
                      const char *s, size_t len, int replay)
{
    const duet_id *users[2] = {a, b};
    const struct client *except[2] = {a_except, b_except};
    publish_msg_to(app, users, except, 2, m, s, len, replay);
}

void publish_msg(struct app *app, const duet_id *user, const struct client *except,
                 const struct duet_msg *m, const char *s, size_t len, int replay)
{
    publish_msg_to(app, &user, &except, 1, m, s, len, replay);
}

void publish_event(struct app *app, const duet_id *user, json_t *ev, const struct client *except)
{
    publish(app, &user, &except, 1, ev, 0);
}

void publish_replay(struct app *app, const duet_id *user, json_t *ev, const struct client *except)
{
    publish(app, &user, &except, 1, ev, 1);
}
