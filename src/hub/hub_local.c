/* hub_local.c - the in-process hub: a map from user id to that user's clients.
 *
 * One process sees every store completion in order (store.h), so joining in
 * the completion of the backlog read is enough for "no gap, no duplicate":
 * join is ready at once and live() lists the client. */
#include "hub.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/map.h"
#include "../net/net.h"
#include "hub_conns.h"

/* Ownership: the hub owns the map and its per-user entries; the clients in
 * each list are borrowed. */
struct hub_local {
    struct hub base;
    struct hub_host host;
    map_t users; /* duet_id -> struct hub_conns */
};

static int local_join(struct hub *h, struct hub_conn *cl, hub_ready_cb ready)
{
    ready(cl);
    return 0;
}

static int local_live(struct hub *h, struct hub_conn *cl, const struct store_req *backlog)
{
    struct hub_local *hl = (struct hub_local *)h;
    struct hub_conns *u = map_get(&hl->users, cl->user.b, 16);
    int first = 0;
    if (u == NULL) {
        u = calloc(1, sizeof(*u));
        if (u == NULL)
            return -ENOMEM;
        if (map_put(&hl->users, cl->user.b, 16, u) < 0) {
            free(u);
            return -ENOMEM;
        }
        first = 1;
    }
    hub_conns_add(u, cl);
    if (first)
        hl->host.online(hl->host.ctx, &cl->user, 0);
    return 0;
}

static void local_leave(struct hub *h, struct hub_conn *cl)
{
    struct hub_local *hl = (struct hub_local *)h;
    struct hub_conns *u = map_get(&hl->users, cl->user.b, 16);
    if (u == NULL || !hub_conns_remove(u, cl) || u->n > 0)
        return;
    map_del(&hl->users, cl->user.b, 16);
    free(u);
    hl->host.offline(hl->host.ctx, &cl->user, hl->host.now_ms(hl->host.ctx), 0);
}

static void local_publish(struct hub *h, const duet_id *user, const struct hub_event *ev,
                          const struct hub_conn *except)
{
    struct hub_local *hl = (struct hub_local *)h;
    /* The first publish reached every connection already. */
    if (ev->replay)
        return;
    /* A reconnect may have overtaken a presence fan-out: the newer wins. */
    if (ev->presence_of != NULL &&
        (map_get(&hl->users, ev->presence_of->b, 16) != NULL) != (ev->online != 0))
        return;
    struct hub_conns *u = map_get(&hl->users, user->b, 16);
    if (u == NULL)
        return;
    for (struct hub_conn *cl = u->head; cl != NULL; cl = cl->next)
        if (cl != except)
            net_ws_send(cl->conn, ev->json, ev->len);
}

static void local_end_sessions(struct hub *h, const duet_id *user, const uint8_t token_hash[32],
                               int keep)
{
    struct hub_local *hl = (struct hub_local *)h;
    struct hub_conns *u = map_get(&hl->users, user->b, 16);
    if (u != NULL)
        hub_conns_end_sessions(u, token_hash, keep);
}

static void local_online(struct hub *h, const duet_id *users, size_t n, hub_online_cb cb,
                         void *data)
{
    struct hub_local *hl = (struct hub_local *)h;
    uint8_t *on = calloc(n > 0 ? n : 1, 1);
    if (on == NULL) {
        cb(data, NULL);
        return;
    }
    for (size_t i = 0; i < n; i++)
        on[i] = map_get(&hl->users, users[i].b, 16) != NULL;
    cb(data, on);
    free(on);
}

static void local_shutdown(struct hub *h, hub_done_cb done)
{
    done(((struct hub_local *)h)->host.ctx);
}

static size_t local_online_count(struct hub *h)
{
    return ((struct hub_local *)h)->users.count;
}

static void local_free(struct hub *h)
{
    struct hub_local *hl = (struct hub_local *)h;
    for (struct map_entry *e = map_first(&hl->users); e != NULL; e = map_next(&hl->users, e))
        free(e->value);
    map_free(&hl->users);
    free(hl);
}

static const struct hub_backend local_backend = {
    .name = "local",
    .join = local_join,
    .live = local_live,
    .leave = local_leave,
    .publish = local_publish,
    .end_sessions = local_end_sessions,
    .online = local_online,
    .online_count = local_online_count,
    .shutdown = local_shutdown,
    .free = local_free,
};

int hub_local_new(const struct hub_host *host, struct hub **out)
{
    struct hub_local *hl = calloc(1, sizeof(*hl));
    if (hl == NULL)
        return -ENOMEM;
    if (map_init(&hl->users) < 0) {
        free(hl);
        return -ENOMEM;
    }
    hl->host = *host;
    hl->base.backend = &local_backend;
    *out = &hl->base;
    return 0;
}
