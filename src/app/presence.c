/* presence.c - pushing online/offline and last seen to friends, under the
 * privacy rules of docs/protocol.md. */
#include <errno.h>
#include <stdlib.h>

#include "../base/log.h"
#include "app.h"
#include "proto.h"

/* A presence fan-out in flight: last seen (when going offline), the user's
 * settings, then the friends to tell.
 * Ownership: allocated by presence_change, freed in its last step. */
struct presence_op {
    struct app *app;
    duet_id user;
    int online;
    int64_t at;
    int lastseen_vis; /* the user's own setting */
    store_req sreq;
};

void presence_view(struct app *app, const struct duet_user *viewer, const struct duet_user *subject,
                   int blocked, json_t *into)
{
    int online = !blocked && app->hub->backend->is_online(app->hub, &subject->id);
    int show_seen = !blocked && !online && viewer->lastseen_vis == LASTSEEN_FRIENDS &&
                    subject->lastseen_vis == LASTSEEN_FRIENDS;
    json_object_set_new(into, "online", json_boolean(online));
    json_object_set_new(into, "last_seen", proto_time(show_seen ? subject->last_seen : 0));
}

static void op_end(struct presence_op *op)
{
    store_req_reset(&op->sreq);
    free(op);
}

static int op_step(struct presence_op *op, enum store_op type, store_cb cb)
{
    store_req_reset(&op->sreq);
    store_req_init(&op->sreq, type, cb, op);
    op->sreq.in.user = op->user;
    op->sreq.in.now = op->at;
    int r = app_store(op->app, &op->sreq);
    if (r < 0) {
        log_warn("presence: %s", duet_strerror_code(r));
        op_end(op);
    }
    return r;
}

static void peers_loaded(store_req *r)
{
    struct presence_op *op = r->data;
    struct app *app = op->app;
    /* A reconnect may have overtaken this fan-out; the newer state wins. */
    int online_now = app->hub->backend->is_online(app->hub, &op->user);
    if (r->status < 0 || online_now != op->online) {
        op_end(op);
        return;
    }
    for (size_t i = 0; i < r->out.n_users; i++) {
        const struct duet_user *peer = &r->out.users[i];
        if (!app->hub->backend->is_online(app->hub, &peer->id))
            continue;
        int show = !op->online && op->lastseen_vis == LASTSEEN_FRIENDS &&
                   peer->lastseen_vis == LASTSEEN_FRIENDS;
        app_publish(app, &peer->id,
                    json_pack("{s:s, s:o, s:b, s:o}", "type", "presence", "user",
                              proto_id(&op->user), "online", op->online, "last_seen",
                              proto_time(show ? op->at : 0)),
                    NULL);
    }
    op_end(op);
}

static void user_loaded(store_req *r)
{
    struct presence_op *op = r->data;
    if (r->status < 0) {
        op_end(op);
        return;
    }
    op->lastseen_vis = r->out.user.lastseen_vis;
    op_step(op, STORE_PRESENCE_PEERS, peers_loaded);
}

static void last_seen_set(store_req *r)
{
    struct presence_op *op = r->data;
    if (r->status < 0)
        log_warn("presence: last seen not stored: %s", duet_strerror_code(r->status));
    op_step(op, STORE_USER_GET, user_loaded);
}

static void presence_change(struct app *app, const duet_id *user, int online)
{
    struct presence_op *op = calloc(1, sizeof(*op));
    if (op == NULL) {
        log_error("presence: out of memory");
        return;
    }
    op->app = app;
    op->user = *user;
    op->online = online;
    op->at = duet_now_ms();
    store_req_init(&op->sreq, STORE_USER_GET, NULL, op);
    if (online)
        op_step(op, STORE_USER_GET, user_loaded);
    else
        op_step(op, STORE_USER_SET_LAST_SEEN, last_seen_set);
}

void presence_online(struct app *app, const duet_id *user)
{
    presence_change(app, user, 1);
}

void presence_offline(struct app *app, const duet_id *user)
{
    presence_change(app, user, 0);
}
