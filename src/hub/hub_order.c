/* hub_order.c - per-connection order of the Redis hub's events.
 *
 * Across instances, two events can take different paths (this instance
 * directly, another one through Redis), a publish can be lost with the
 * instance that was to send it, and a connection may be registered while a
 * message is both in its backlog and on its way live. A client acks
 * cumulatively ("every message up to seq"), so a message that arrived out of
 * order or not at all would be lost to it. This module makes each
 * connection's `message` events per chat arrive in seq order, each once:
 *
 *  - w, per chat, is the last seq this connection has (or that predates it:
 *    the chat's last_seq read with the backlog, hub.h);
 *  - seq <= w is a duplicate and dropped; seq == w + 1 is sent; a later one
 *    is held, and if the gap is not filled by Redis within HO_GAP_WAIT_MS
 *    the missing messages are read from the store (the source of truth:
 *    every seq below one that exists is committed, or, on Cassandra, a
 *    hole the store declares void after a bound, and w moves past it);
 *  - the connection's own sends advance w without an event (it had `sent`);
 *  - a deletion waits for its message; receipts only move forward.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "hub_redis_int.h"

#define HO_GAP_WAIT_MS 300
#define HO_MAX_ITEMS   20000              /* held or buffered, per connection */
#define HO_MAX_BYTES   (16 * 1024 * 1024) /* buffered before live */
#define HO_FILL_MAX    100

/* One held or buffered event.
 * Ownership: its list (the order's buffer or a chat's held list); owns a
 * copy of the JSON. */
struct ho_item {
    struct ho_item *next;
    enum hub_ev_kind kind;
    duet_id chat;
    int64_t seq;
    int marker;
    size_t len;
    char json[];
};

/* Ownership: the order's chats map owns it and its held items. */
struct ho_chat {
    duet_id id;
    int64_t w, dw, sw;    /* messages, delivered and seen receipts sent up to */
    struct ho_item *held; /* by seq; at one seq, the message before its deletion */
    uint64_t gap_since;   /* uv_now when a gap appeared; 0 = none */
    int filling;          /* a store read is in flight */
};

/* Ownership: the hub's part of a client (hr_conn) owns it until leave; a
 * store read in flight keeps it (freed when the last one returns). */
struct hub_order {
    struct hub_redis *hr;
    struct hub_conn *cl;
    int live, dead, freed;
    int fills; /* store reads in flight */
    struct ho_item *buf, *buf_tail;
    size_t n_items, buf_bytes;
    map_t chats;
    struct duet_cursor *cursors; /* the backlog's, sorted by chat id */
    size_t n_cursors;
    int gappy; /* chats with a gap */
    struct hub_order *gap_prev, *gap_next;
};

/* A store read filling a gap. Ownership: its own; holds a reference on the
 * connection (hub_host.ref). */
struct ho_fill {
    struct hub_order *o;
    duet_id chat;
    store_req sreq;
};

static void ho_free_items(struct ho_item *it)
{
    while (it != NULL) {
        struct ho_item *n = it->next;
        free(it);
        it = n;
    }
}

static void ho_gap_unlink(struct hub_order *o)
{
    struct hub_redis *hr = o->hr;
    if (o->gap_prev == NULL && hr->gaps != o)
        return;
    if (o->gap_prev != NULL)
        o->gap_prev->gap_next = o->gap_next;
    else
        hr->gaps = o->gap_next;
    if (o->gap_next != NULL)
        o->gap_next->gap_prev = o->gap_prev;
    o->gap_prev = o->gap_next = NULL;
}

static void ho_release(struct hub_order *o)
{
    ho_gap_unlink(o);
    ho_free_items(o->buf);
    o->buf = o->buf_tail = NULL;
    for (struct map_entry *e = map_first(&o->chats); e != NULL; e = map_next(&o->chats, e)) {
        struct ho_chat *c = e->value;
        ho_free_items(c->held);
        free(c);
    }
    map_free(&o->chats);
    free(o->cursors);
    o->cursors = NULL;
}

int hub_order_new(struct hub_redis *hr, struct hub_conn *cl, struct hub_order **out)
{
    struct hub_order *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return -ENOMEM;
    if (map_init(&o->chats) < 0) {
        free(o);
        return -ENOMEM;
    }
    o->hr = hr;
    o->cl = cl;
    *out = o;
    return 0;
}

void hub_order_free(struct hub_order *o)
{
    o->freed = 1;
    ho_gap_unlink(o);
    if (o->fills > 0)
        return; /* the last store read frees it */
    ho_release(o);
    free(o);
}

/* Gives up on order: the client resumes from its backlog. */
static void ho_fail(struct hub_order *o, const char *why)
{
    if (o->dead)
        return;
    log_warn("hub: %s; asking a client to resume", why);
    o->dead = 1;
    net_ws_close(o->cl->conn, 1011, "try again");
    ho_gap_unlink(o);
}

static void ho_send(struct hub_order *o, const char *json, size_t len)
{
    if (o->cl->open)
        net_ws_send(o->cl->conn, json, len);
}

static int cursor_cmp(const void *a, const void *b)
{
    return memcmp(((const struct duet_cursor *)a)->chat_id.b,
                  ((const struct duet_cursor *)b)->chat_id.b, 16);
}

static struct ho_chat *ho_chat(struct hub_order *o, const duet_id *id)
{
    struct ho_chat *c = map_get(&o->chats, id->b, 16);
    if (c != NULL)
        return c;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->id = *id;
    /* A chat missing from the cursors began after the backlog: from 0. */
    struct duet_cursor key = {.chat_id = *id};
    const struct duet_cursor *cur =
        o->n_cursors > 0 ? bsearch(&key, o->cursors, o->n_cursors, sizeof(key), cursor_cmp) : NULL;
    c->w = cur != NULL ? cur->last_seq : 0;
    if (map_put(&o->chats, id->b, 16, c) < 0) {
        free(c);
        return NULL;
    }
    return c;
}

static struct ho_item *ho_item(const struct hub_event *ev, int marker)
{
    size_t len = marker ? 0 : ev->len;
    struct ho_item *it = malloc(sizeof(*it) + len + 1);
    if (it == NULL)
        return NULL;
    it->next = NULL;
    it->kind = ev->kind;
    it->chat = ev->chat;
    it->seq = ev->seq;
    it->marker = marker;
    it->len = len;
    memcpy(it->json, ev->json, len);
    it->json[len] = '\0';
    return it;
}

static void ho_gap_end(struct hub_order *o, struct ho_chat *c)
{
    if (c->gap_since == 0)
        return;
    c->gap_since = 0;
    if (--o->gappy == 0)
        ho_gap_unlink(o);
}

/* Sends what the held list has in order. */
static void ho_drain(struct hub_order *o, struct ho_chat *c)
{
    struct ho_item *it;
    while ((it = c->held) != NULL) {
        if (it->kind == HUB_EV_MESSAGE && it->seq > c->w + 1)
            break;
        if (it->kind == HUB_EV_DELETED && it->seq > c->w)
            break;
        c->held = it->next;
        o->n_items--;
        if (it->kind == HUB_EV_DELETED || it->seq == c->w + 1) {
            if (!it->marker)
                ho_send(o, it->json, it->len);
            if (it->kind == HUB_EV_MESSAGE)
                c->w = it->seq;
        }
        free(it);
    }
    if (c->held == NULL)
        ho_gap_end(o, c);
}

static void ho_hold(struct hub_order *o, struct ho_chat *c, const struct hub_event *ev, int marker)
{
    struct ho_item **pp = &c->held;
    int rank = ev->kind == HUB_EV_DELETED;
    while (*pp != NULL) {
        struct ho_item *h = *pp;
        int hrank = h->kind == HUB_EV_DELETED;
        if (h->seq == ev->seq && hrank == rank)
            return; /* the same event by another path */
        if (h->seq > ev->seq || (h->seq == ev->seq && hrank > rank))
            break;
        pp = &h->next;
    }
    if (o->n_items >= HO_MAX_ITEMS) {
        ho_fail(o, "too many events out of order");
        return;
    }
    struct ho_item *it = ho_item(ev, marker);
    if (it == NULL) {
        ho_fail(o, "out of memory ordering events");
        return;
    }
    it->next = *pp;
    *pp = it;
    o->n_items++;
    if (c->gap_since == 0) {
        c->gap_since = hr_now(o->hr);
        if (o->gappy++ == 0) {
            struct hub_redis *hr = o->hr;
            o->gap_prev = NULL;
            o->gap_next = hr->gaps;
            if (hr->gaps != NULL)
                hr->gaps->gap_prev = o;
            hr->gaps = o;
        }
    }
}

static void ho_live_event(struct hub_order *o, const struct hub_event *ev, int marker)
{
    if (ev->kind == HUB_EV_OTHER) {
        if (!marker)
            ho_send(o, ev->json, ev->len);
        return;
    }
    struct ho_chat *c = ho_chat(o, &ev->chat);
    if (c == NULL) {
        ho_fail(o, "out of memory ordering events");
        return;
    }
    switch (ev->kind) {
    case HUB_EV_DELIVERED:
    case HUB_EV_SEEN: {
        int64_t *w = ev->kind == HUB_EV_DELIVERED ? &c->dw : &c->sw;
        if (ev->seq > *w) {
            *w = ev->seq;
            ho_send(o, ev->json, ev->len);
        }
        return;
    }
    case HUB_EV_DELETED:
        if (ev->seq <= c->w)
            ho_send(o, ev->json, ev->len);
        else
            ho_hold(o, c, ev, 0);
        return;
    case HUB_EV_MESSAGE:
        if (ev->seq <= c->w)
            return;
        if (ev->seq == c->w + 1) {
            if (!marker)
                ho_send(o, ev->json, ev->len);
            c->w = ev->seq;
            ho_drain(o, c);
        } else {
            ho_hold(o, c, ev, marker);
        }
        return;
    default:
        return;
    }
}

void hub_order_event(struct hub_order *o, const struct hub_event *ev, int marker)
{
    if (o->dead)
        return;
    if (o->live) {
        ho_live_event(o, ev, marker);
        return;
    }
    /* Before live: keep everything; live() sorts it out. */
    if (o->n_items >= HO_MAX_ITEMS || o->buf_bytes + ev->len > HO_MAX_BYTES) {
        ho_fail(o, "too many events while loading a backlog");
        return;
    }
    struct ho_item *it = ho_item(ev, marker);
    if (it == NULL) {
        ho_fail(o, "out of memory buffering events");
        return;
    }
    if (o->buf_tail != NULL)
        o->buf_tail->next = it;
    else
        o->buf = it;
    o->buf_tail = it;
    o->n_items++;
    o->buf_bytes += it->len;
}

/* A buffered deletion that the backlog replayed already. */
static int in_backlog(const store_req *r, const struct ho_item *it)
{
    for (size_t i = 0; i < r->out.n_pending; i++) {
        const struct duet_pending *p = &r->out.pending[i];
        if (p->kind == PENDING_DELETED && p->msg.sequence == it->seq &&
            duet_id_eq(&p->msg.chat_id, &it->chat))
            return 1;
    }
    return 0;
}

int hub_order_live(struct hub_order *o, const store_req *r)
{
    if (o->dead)
        return 0;
    if (r->out.n_cursors > 0) {
        o->cursors = malloc(r->out.n_cursors * sizeof(*o->cursors));
        if (o->cursors == NULL)
            return -ENOMEM;
        memcpy(o->cursors, r->out.cursors, r->out.n_cursors * sizeof(*o->cursors));
        o->n_cursors = r->out.n_cursors;
        qsort(o->cursors, o->n_cursors, sizeof(*o->cursors), cursor_cmp);
    }
    for (size_t i = 0; i < r->out.n_pending; i++) {
        const struct duet_pending *p = &r->out.pending[i];
        if (p->kind != PENDING_DELIVERED && p->kind != PENDING_SEEN)
            continue;
        struct ho_chat *c = ho_chat(o, &p->msg.chat_id);
        if (c == NULL)
            return -ENOMEM;
        int64_t *w = p->kind == PENDING_DELIVERED ? &c->dw : &c->sw;
        if (p->msg.sequence > *w)
            *w = p->msg.sequence;
    }
    o->live = 1;
    struct ho_item *it = o->buf;
    o->buf = o->buf_tail = NULL;
    o->buf_bytes = 0;
    while (it != NULL) {
        struct ho_item *next = it->next;
        o->n_items--;
        if (!o->dead && !(it->kind == HUB_EV_DELETED && in_backlog(r, it))) {
            struct hub_event ev = {.json = it->json,
                                   .len = it->len,
                                   .kind = it->kind,
                                   .chat = it->chat,
                                   .seq = it->seq};
            ho_live_event(o, &ev, it->marker);
        }
        free(it);
        it = next;
    }
    return 0;
}

/* ---- filling gaps from the store ---- */

static void ho_filled(store_req *r)
{
    struct ho_fill *f = r->data;
    struct hub_order *o = f->o;
    struct hub_conn *cl = o->cl;
    const struct hub_host *host = &o->hr->app_host;
    o->fills--;
    if (o->freed) {
        if (o->fills == 0) {
            ho_release(o);
            free(o);
        }
        goto out;
    }
    struct ho_chat *c = map_get(&o->chats, f->chat.b, 16);
    if (c == NULL || o->dead)
        goto out;
    c->filling = 0;
    if (r->status < 0) {
        ho_fail(o, "a missing message could not be read");
        goto out;
    }
    /* Sequences the store gave up on (claimed by a sender that never
     * wrote them; docs/cassandra.md "Holes") hold nothing back. */
    if (r->out.void_to > c->w) {
        c->w = r->out.void_to;
        ho_drain(o, c);
    }
    for (size_t i = 0; i < r->out.n_msgs && !o->dead; i++) {
        const struct duet_msg *m = &r->out.msgs[i];
        if (m->sequence != c->w + 1)
            continue;
        if (c->held != NULL && c->held->kind == HUB_EV_MESSAGE && c->held->seq == m->sequence) {
            ho_drain(o, c); /* we have this one (or it is the client's own) */
            continue;
        }
        size_t len;
        char *s = host->message_event(host->ctx, m, &len);
        if (s == NULL) {
            ho_fail(o, "out of memory filling a gap");
            break;
        }
        ho_send(o, s, len);
        free(s);
        o->hr->base.stats.gap_fills++;
        c->w = m->sequence;
        ho_drain(o, c);
    }
    /* Still a gap (more than one read's worth): go again next tick. */
    if (c->held != NULL && c->gap_since != 0) {
        uint64_t now = hr_now(o->hr);
        c->gap_since = now > HO_GAP_WAIT_MS ? now - HO_GAP_WAIT_MS : 1;
    }
out:
    store_req_reset(r);
    free(f);
    host->unref(host->ctx, cl);
}

static void ho_fill(struct hub_order *o, struct ho_chat *c)
{
    int64_t target = c->w;
    for (const struct ho_item *it = c->held; it != NULL; it = it->next)
        target = it->seq;
    int64_t n = target - c->w;
    if (n <= 0) {
        ho_drain(o, c);
        return;
    }
    struct ho_fill *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        ho_fail(o, "out of memory filling a gap");
        return;
    }
    f->o = o;
    f->chat = c->id;
    store_req_init(&f->sreq, STORE_HISTORY, ho_filled, f);
    f->sreq.in.user = o->cl->user;
    f->sreq.in.chat_id = c->id;
    f->sreq.in.has_after = 1;
    f->sreq.in.after = c->w;
    f->sreq.in.limit = (int)(n < HO_FILL_MAX ? n : HO_FILL_MAX);
    f->sreq.in.now = duet_now_ms();
    const struct hub_host *host = &o->hr->app_host;
    if (host->submit(host->ctx, &f->sreq) < 0) {
        store_req_reset(&f->sreq);
        free(f);
        ho_fail(o, "a missing message could not be read");
        return;
    }
    host->ref(host->ctx, o->cl);
    o->fills++;
    c->filling = 1;
}

void hub_order_tick(struct hub_redis *hr)
{
    uint64_t now = hr_now(hr);
    struct hub_order *o = hr->gaps;
    while (o != NULL) {
        /* A fill may fail the order and unlink it: step first. */
        struct hub_order *next = o->gap_next;
        for (struct map_entry *e = map_first(&o->chats); e != NULL && !o->dead;
             e = map_next(&o->chats, e)) {
            struct ho_chat *c = e->value;
            if (c->gap_since != 0 && !c->filling && now - c->gap_since >= HO_GAP_WAIT_MS)
                ho_fill(o, c);
        }
        o = next;
    }
}
