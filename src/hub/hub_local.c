/* hub_local.c - the in-process hub: a map from user id to that user's clients.
 *
 * One process sees every store completion in order (store.h). A client's
 * backlog is read in pages (client.c), so it is not one cut: from join to
 * live the client's events are held, and live() sends those the backlog did
 * not cover (a message above its chat's cursor, a deletion not replayed),
 * then lists the client. Join is ready at once. */
#include "hub.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/map.h"
#include "../net/net.h"
#include "hub_conns.h"

/* Events held for one connection at most, between join and live: more
 * closes it (it resumes), as the Redis hub does (hub_order.c). */
#define LOCAL_HOLD_MAX_ITEMS 20000
#define LOCAL_HOLD_MAX_BYTES (16u << 20)

/* Ownership: the hub owns the maps and their per-user entries; the clients
 * in each list are borrowed. */
struct hub_local {
    struct hub base;
    struct hub_host host;
    map_t users;   /* duet_id -> struct hub_conns: live connections */
    map_t joining; /* duet_id -> struct hub_conns: joined, backlog not sent yet */
};

/* One held event. Ownership: its connection's hold; owns a copy of the JSON. */
struct local_held {
    struct local_held *next;
    enum hub_ev_kind kind;
    duet_id chat;
    int64_t seq;
    size_t len;
    char json[];
};

/* What a joining connection was sent meanwhile.
 * Ownership: the connection's priv, from join to live or leave. */
struct local_hold {
    struct local_held *head, *tail;
    size_t n, bytes;
    int failed; /* over the bound: closed, held nothing more */
};

static void hold_free(struct local_hold *hold)
{
    struct local_held *it = hold->head;
    while (it != NULL) {
        struct local_held *next = it->next;
        free(it);
        it = next;
    }
    free(hold);
}

static void hold_push(struct hub_conn *cl, const struct hub_event *ev)
{
    struct local_hold *hold = cl->priv;
    if (hold->failed)
        return;
    struct local_held *it = NULL;
    if (hold->n < LOCAL_HOLD_MAX_ITEMS && hold->bytes + ev->len <= LOCAL_HOLD_MAX_BYTES)
        it = malloc(sizeof(*it) + ev->len);
    if (it == NULL) {
        hold->failed = 1;
        net_ws_close(cl->conn, 1011, "try again");
        return;
    }
    it->next = NULL;
    it->kind = ev->kind;
    it->chat = ev->chat;
    it->seq = ev->seq;
    it->len = ev->len;
    memcpy(it->json, ev->json, ev->len);
    if (hold->tail != NULL)
        hold->tail->next = it;
    else
        hold->head = it;
    hold->tail = it;
    hold->n++;
    hold->bytes += ev->len;
}

/* Whether the backlog covered a held event: a message at or below its
 * chat's cursor, or a deletion it replayed. */
static int held_in_backlog(const struct store_req *b, const struct local_held *it)
{
    if (b == NULL)
        return 0;
    if (it->kind == HUB_EV_MESSAGE) {
        for (size_t i = 0; i < b->out.n_cursors; i++)
            if (duet_id_eq(&b->out.cursors[i].chat_id, &it->chat))
                return it->seq <= b->out.cursors[i].last_seq;
        return 0;
    }
    if (it->kind == HUB_EV_DELETED)
        for (size_t i = 0; i < b->out.n_pending; i++) {
            const struct duet_pending *p = &b->out.pending[i];
            if (p->kind == PENDING_DELETED && p->msg.sequence == it->seq &&
                duet_id_eq(&p->msg.chat_id, &it->chat))
                return 1;
        }
    return 0;
}

/* Lists cl in map (creating the user's entry); 1 if it was the first. */
static int local_list(map_t *map, struct hub_conn *cl)
{
    struct hub_conns *u = map_get(map, cl->user.b, 16);
    int first = 0;
    if (u == NULL) {
        u = calloc(1, sizeof(*u));
        if (u == NULL)
            return -ENOMEM;
        if (map_put(map, cl->user.b, 16, u) < 0) {
            free(u);
            return -ENOMEM;
        }
        first = 1;
    }
    hub_conns_add(u, cl);
    return first;
}

/* Unlists cl from map; 1 if it was listed there. */
static int local_unlist(map_t *map, struct hub_conn *cl, int *last)
{
    struct hub_conns *u = map_get(map, cl->user.b, 16);
    *last = 0;
    if (u == NULL || !hub_conns_remove(u, cl))
        return 0;
    if (u->n == 0) {
        map_del(map, cl->user.b, 16);
        free(u);
        *last = 1;
    }
    return 1;
}

static int local_join(struct hub *h, struct hub_conn *cl, hub_ready_cb ready)
{
    struct hub_local *hl = (struct hub_local *)h;
    struct local_hold *hold = calloc(1, sizeof(*hold));
    if (hold == NULL)
        return -ENOMEM;
    cl->priv = hold;
    if (local_list(&hl->joining, cl) < 0) {
        cl->priv = NULL;
        free(hold);
        return -ENOMEM;
    }
    ready(cl);
    return 0;
}

static int local_live(struct hub *h, struct hub_conn *cl, const struct store_req *backlog)
{
    struct hub_local *hl = (struct hub_local *)h;
    struct local_hold *hold = cl->priv;
    int last;
    if (hold == NULL || !local_unlist(&hl->joining, cl, &last))
        return -EINVAL;
    cl->priv = NULL;
    for (struct local_held *it = hold->head; it != NULL && !hold->failed; it = it->next)
        if (!held_in_backlog(backlog, it))
            net_ws_send(cl->conn, it->json, it->len);
    int failed = hold->failed;
    hold_free(hold);
    if (failed)
        return -ENOBUFS;
    int first = local_list(&hl->users, cl);
    if (first < 0)
        return first;
    if (first)
        hl->host.online(hl->host.ctx, &cl->user, 0);
    return 0;
}

static void local_leave(struct hub *h, struct hub_conn *cl)
{
    struct hub_local *hl = (struct hub_local *)h;
    int last;
    if (cl->priv != NULL) { /* left before live */
        (void)local_unlist(&hl->joining, cl, &last);
        hold_free(cl->priv);
        cl->priv = NULL;
        return;
    }
    if (!local_unlist(&hl->users, cl, &last) || !last)
        return;
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
    if (u != NULL)
        for (struct hub_conn *cl = u->head; cl != NULL; cl = cl->next)
            if (cl != except)
                net_ws_send(cl->conn, ev->json, ev->len);
    /* Held until the backlog is sent (live). */
    u = map_get(&hl->joining, user->b, 16);
    if (u != NULL)
        for (struct hub_conn *cl = u->head; cl != NULL; cl = cl->next)
            if (cl != except)
                hold_push(cl, ev);
}

static void local_end_sessions(struct hub *h, const duet_id *user, const uint8_t token_hash[32],
                               int keep)
{
    struct hub_local *hl = (struct hub_local *)h;
    struct hub_conns *u = map_get(&hl->users, user->b, 16);
    if (u != NULL)
        hub_conns_end_sessions(u, token_hash, keep);
    if ((u = map_get(&hl->joining, user->b, 16)) != NULL)
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

static void local_visible(struct hub *h, const duet_id *user, hub_visible_cb cb, void *data)
{
    struct hub_local *hl = (struct hub_local *)h;
    const struct hub_conns *u = map_get(&hl->users, user->b, 16);
    const struct hub_conns *j = map_get(&hl->joining, user->b, 16);
    cb(data, (u != NULL && hub_conns_visible(u)) || (j != NULL && hub_conns_visible(j)));
}

static void local_free(struct hub *h)
{
    struct hub_local *hl = (struct hub_local *)h;
    for (struct map_entry *e = map_first(&hl->users); e != NULL; e = map_next(&hl->users, e))
        free(e->value);
    map_free(&hl->users);
    for (struct map_entry *e = map_first(&hl->joining); e != NULL; e = map_next(&hl->joining, e))
        free(e->value);
    map_free(&hl->joining);
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
    .visible = local_visible,
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
    if (map_init(&hl->joining) < 0) {
        map_free(&hl->users);
        free(hl);
        return -ENOMEM;
    }
    hl->host = *host;
    hl->base.backend = &local_backend;
    *out = &hl->base;
    return 0;
}
