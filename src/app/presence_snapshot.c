/* presence_snapshot.c - at connect, one `presence` event per friend, sent
 * right after `hello` and before the backlog.
 *
 * Why here: the client has joined the hub before the snapshot is read, and
 * the hub holds every event back until the backlog is sent, so a change
 * that happens after the read reaches the client after the snapshot. A
 * client needs no GET /api/chats to learn who is online, and no race
 * between that answer and live events. */
#include <errno.h>
#include <stdlib.h>

#include "../base/log.h"
#include "presence.h"
#include "proto.h"

/* Ownership: holds a reference on the client until done has run; freed
 * by snap_end. */
struct presence_snap {
    struct client *cl;
    presence_snapshot_done done;
    store_req sreq;
    duet_id *ids; /* the peers, for the hub's online query */
};

static void snap_end(struct presence_snap *s)
{
    struct client *cl = s->cl;
    presence_snapshot_done done = s->done;
    store_req_reset(&s->sreq);
    free(s->ids);
    free(s);
    done(cl);
    client_unref(cl);
}

static void snap_send(struct presence_snap *s, const struct duet_chat *c, int online)
{
    struct duet_user viewer = {.lastseen_vis = s->cl->lastseen_vis};
    json_t *ev = json_pack("{s:s, s:o}", "type", "presence", "user", proto_id(&c->peer.id));
    if (ev != NULL &&
        presence_view(&viewer, &c->peer, c->blocked_by_me || c->blocked_me, online, ev) < 0) {
        json_decref(ev);
        ev = NULL; /* client_send logs it */
    }
    client_send(s->cl, ev);
}

/* The hub answered which peers are online; online is NULL when it ran out
 * of memory, and then no snapshot is sent (later changes still are). */
static void snap_online(void *data, const uint8_t *online)
{
    struct presence_snap *s = data;
    const store_req *r = &s->sreq;
    if (online == NULL)
        log_warn("presence: snapshot: out of memory");
    for (size_t i = 0; online != NULL && i < r->out.n_chats && s->cl->hub.open; i++)
        if (r->out.chats[i].friends) /* a former friend's chat shows no presence */
            snap_send(s, &r->out.chats[i], online[i]);
    snap_end(s);
}

static void snap_listed(store_req *r)
{
    struct presence_snap *s = r->data;
    if (r->status < 0 || !s->cl->hub.open) {
        if (r->status < 0)
            log_warn("presence: snapshot: %s", duet_strerror_code(r->status));
        snap_end(s);
        return;
    }
    s->ids = calloc(r->out.n_chats + 1, sizeof(*s->ids));
    if (s->ids == NULL) {
        log_warn("presence: snapshot: out of memory");
        snap_end(s);
        return;
    }
    for (size_t i = 0; i < r->out.n_chats; i++)
        s->ids[i] = r->out.chats[i].peer.id;
    hub_online(s->cl->app->hub, s->ids, r->out.n_chats, snap_online, s);
}

void presence_snapshot_start(struct client *cl, presence_snapshot_done done)
{
    struct presence_snap *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        log_warn("presence: snapshot: out of memory");
        done(cl);
        return;
    }
    s->cl = cl;
    s->done = done;
    client_ref(cl);
    store_req_init(&s->sreq, STORE_CHATS_LIST, snap_listed, s);
    s->sreq.in.user = cl->hub.user;
    int r = app_store(cl->app, &s->sreq);
    if (r < 0) {
        log_warn("presence: snapshot: %s", duet_strerror_code(r));
        snap_end(s);
    }
}
