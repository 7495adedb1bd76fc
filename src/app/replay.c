/* replay.c - a connecting client's backlog, a page at a time.
 *
 * The first page also reads every chat's cursor (its last sequence number):
 * one snapshot. Each next page is read only once the socket has taken the
 * last one (on_ws_drain), so a client that does not read holds one page,
 * not its whole backlog. Pages follow the store's key order (store.h), so a
 * row present throughout the replay is sent once.
 *
 * Paging is not one cut: a message stored meanwhile is in a later page or
 * not (its chat already passed). The hub holds the client's live events
 * from join to live and then drops what the backlog covered: messages at or
 * below their chat's cursor, raised here over the messages sent that follow
 * it directly, and deletions sent (hub_local.c, hub_order.c). The summary
 * given to hub_live carries exactly that: the cursors, each chat's newest
 * delivered and seen receipts sent, and the deletions sent.
 */
#include "replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "client.h"
#include "proto.h"
#include "proto_conv.h"

/* Ownership: the replay holds a reference on the client; while it waits for
 * a drain the client points to it (cl->replay) and frees it if the socket
 * closes first. page and sum own their pools. */
struct pending_load {
    struct client *cl;
    store_req page;          /* the page being read, then sent */
    store_req sum;           /* never submitted: what hub_live needs (above) */
    size_t cap_cursors;      /* of sum.out.cursors */
    size_t cap_rows;         /* of sum.out.pending */
    size_t next;             /* the page's first row not sent */
    int64_t sent;            /* rows sent, for synced */
    int started;             /* the first page (with the cursors) was read */
    struct duet_pending key; /* the last row read: the next page starts after it */
};

static void replay_free(struct pending_load *pl)
{
    struct client *cl = pl->cl;
    if (cl->replay == pl)
        cl->replay = NULL;
    store_req_reset(&pl->page);
    store_req_reset(&pl->sum);
    free(pl);
    client_unref(cl);
}

/* A backlog row but a message (those are written directly: replay_one). */
static json_t *pending_event(const struct duet_pending *p)
{
    json_t *ev;
    switch (p->kind) {
    case PENDING_DELIVERED:
        ev = proto_receipt_event(&p->msg.chat_id, 0, p->msg.sequence, p->msg.received_at);
        break;
    case PENDING_SEEN:
        ev = proto_receipt_event(&p->msg.chat_id, 1, p->msg.sequence, p->msg.seen_at);
        break;
    case PENDING_DELETED:
        ev = proto_deleted_event(&p->msg);
        break;
    case PENDING_CHAT_STATE: /* c-org */
        ev = proto_chat_state_event(&p->msg.chat_id, &p->state);
        break;
    default: /* c-msg: reaction, edited, hidden */
        ev = proto_conv_pending_event(p);
        break;
    }
    if (ev != NULL && json_object_set_new(ev, "pending", json_true()) < 0) {
        json_decref(ev);
        return NULL;
    }
    return ev;
}

/* Sends one backlog row: 0, or a negative error when it could not be
 * encoded or queued. */
static int replay_one(struct client *cl, const struct duet_pending *p)
{
    if (p->kind == PENDING_MESSAGE) {
        /* Messages, the bulk of a backlog, are written directly. */
        struct jsonw *w = app_writer(cl->app);
        proto_write_message_event(w, &p->msg, 1);
        size_t len;
        const char *s = jsonw_finish(w, &len);
        if (s == NULL)
            return -ENOMEM;
        return cl->hub.open ? net_ws_send(cl->hub.conn, s, len) : 0;
    }
    json_t *ev = pending_event(p);
    if (ev == NULL)
        return -ENOMEM;
    char *s = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    if (s == NULL)
        return -ENOMEM;
    int r = cl->hub.open ? net_ws_send(cl->hub.conn, s, strlen(s)) : 0;
    free(s);
    return r;
}

/* The summary's cursor of chat; added at 0 (a chat newer than the
 * snapshot) when add is set. NULL when absent or out of memory. */
static struct duet_cursor *sum_cursor(struct pending_load *pl, const duet_id *chat, int add)
{
    store_req *s = &pl->sum;
    for (size_t i = 0; i < s->out.n_cursors; i++)
        if (duet_id_eq(&s->out.cursors[i].chat_id, chat))
            return &s->out.cursors[i];
    if (!add)
        return NULL;
    struct duet_cursor *a =
        pool_grow(&s->pool, s->out.cursors, s->out.n_cursors, &pl->cap_cursors, sizeof(*a));
    if (a == NULL)
        return NULL;
    s->out.cursors = a;
    a[s->out.n_cursors].chat_id = *chat;
    a[s->out.n_cursors].last_seq = 0;
    return &a[s->out.n_cursors++];
}

/* Records a row about to be sent in the summary: 0 or -ENOMEM. */
static int sum_add(struct pending_load *pl, const struct duet_pending *p)
{
    store_req *s = &pl->sum;
    if (p->kind == PENDING_MESSAGE) {
        struct duet_cursor *c = sum_cursor(pl, &p->msg.chat_id, 1);
        if (c == NULL)
            return -ENOMEM;
        if (p->msg.sequence == c->last_seq + 1) /* never past a gap */
            c->last_seq = p->msg.sequence;
        return 0;
    }
    if (p->kind == PENDING_DELIVERED || p->kind == PENDING_SEEN) {
        for (size_t i = 0; i < s->out.n_pending; i++) {
            struct duet_pending *q = &s->out.pending[i];
            if (q->kind == p->kind && duet_id_eq(&q->msg.chat_id, &p->msg.chat_id)) {
                if (p->msg.sequence > q->msg.sequence)
                    q->msg.sequence = p->msg.sequence;
                return 0;
            }
        }
    }
    struct duet_pending *a =
        pool_grow(&s->pool, s->out.pending, s->out.n_pending, &pl->cap_rows, sizeof(*a));
    if (a == NULL)
        return -ENOMEM;
    s->out.pending = a;
    struct duet_pending *q = &a[s->out.n_pending++];
    memset(q, 0, sizeof(*q));
    q->kind = p->kind; /* the page's strings go with it: only the key stays */
    q->msg.chat_id = p->msg.chat_id;
    q->msg.sequence = p->msg.sequence;
    q->msg.message_id = q->msg.message = q->msg.preview = "";
    return 0;
}

static void replay_loaded(store_req *r);

/* Reads the next page (after pl->key once started). */
static int replay_read(struct pending_load *pl)
{
    struct client *cl = pl->cl;
    size_t bytes = (size_t)cl->app->cfg->max_ws_queue_kib * 1024u / 4;
    store_req_reset(&pl->page);
    store_req_init(&pl->page, STORE_PENDING_LIST, replay_loaded, pl);
    store_req *q = &pl->page;
    q->in.user = cl->hub.user;
    q->in.limit = REPLAY_PAGE_ROWS;
    q->in.page_bytes = bytes < REPLAY_PAGE_BYTES ? (int64_t)bytes : REPLAY_PAGE_BYTES;
    q->in.cursors = !pl->started;
    if (pl->started) {
        q->in.has_after = 1;
        q->in.chat_id = pl->key.msg.chat_id;
        q->in.seq = pl->key.msg.sequence;
        q->in.kind = pl->key.kind;
    }
    pl->next = 0;
    return app_store(cl->app, q);
}

/* Sends the page read; then the next page once it drained, or the end:
 * synced, and live. */
static void replay_send(struct pending_load *pl)
{
    struct client *cl = pl->cl;
    struct app *app = cl->app;
    const store_req *r = &pl->page;
    while (pl->next < r->out.n_pending && cl->hub.open) {
        if (replay_one(cl, &r->out.pending[pl->next++]) < 0) {
            /* A skipped row would be a gap the client then acks past:
             * end the session instead, and the next one replays it. */
            log_error("replay: out of memory sending the backlog");
            net_ws_close(cl->hub.conn, 1011, "try again");
            replay_free(pl);
            return;
        }
        app->metrics.pending_replayed++;
        pl->sent++;
    }
    if (!cl->hub.open) {
        replay_free(pl);
        return;
    }
    if (r->out.more) {
        store_req_reset(&pl->page); /* the rows are out: hold none */
        cl->replay = pl;
        net_ws_want_drain(cl->hub.conn);
        return;
    }
    client_send(cl, json_pack("{s:s, s:I}", "type", "synced", "pending", (json_int_t)pl->sent));
    if (hub_live(app->hub, &cl->hub, &pl->sum) < 0)
        net_ws_close(cl->hub.conn, 1011, "try again");
    replay_free(pl);
}

static void replay_loaded(store_req *r)
{
    struct pending_load *pl = r->data;
    struct client *cl = pl->cl;
    if (r->status < 0 || !cl->hub.open) {
        /* Without the backlog we cannot promise "no gap": end the session
         * and let the client resume. */
        if (r->status < 0) {
            log_warn("replay: pending load failed: %s", duet_strerror_code(r->status));
            net_ws_close(cl->hub.conn, 1011, "try again");
        }
        replay_free(pl);
        return;
    }
    if (!pl->started) {
        pl->started = 1;
        for (size_t i = 0; i < r->out.n_cursors; i++) {
            struct duet_cursor *c = sum_cursor(pl, &r->out.cursors[i].chat_id, 1);
            if (c == NULL)
                goto nomem;
            c->last_seq = r->out.cursors[i].last_seq;
        }
    }
    for (size_t i = 0; i < r->out.n_pending; i++)
        if (sum_add(pl, &r->out.pending[i]) < 0)
            goto nomem;
    if (r->out.n_pending > 0) {
        const struct duet_pending *last = &r->out.pending[r->out.n_pending - 1];
        pl->key.kind = last->kind;
        pl->key.msg.chat_id = last->msg.chat_id;
        pl->key.msg.sequence = last->msg.sequence;
    }
    replay_send(pl);
    return;
nomem:
    log_error("replay: out of memory");
    net_ws_close(cl->hub.conn, 1011, "try again");
    replay_free(pl);
}

int replay_begin(struct client *cl)
{
    struct pending_load *pl = calloc(1, sizeof(*pl));
    if (pl == NULL)
        return -ENOMEM;
    pl->cl = cl;
    client_ref(cl); /* the replay's */
    store_req_init(&pl->sum, STORE_PENDING_LIST, NULL, pl);
    store_req_init(&pl->page, STORE_PENDING_LIST, replay_loaded, pl);
    int r = replay_read(pl);
    if (r < 0) {
        replay_free(pl);
        return r;
    }
    return 0;
}

void replay_drained(struct client *cl)
{
    struct pending_load *pl = cl->replay;
    if (pl == NULL)
        return;
    cl->replay = NULL;
    if (replay_read(pl) < 0) {
        net_ws_close(cl->hub.conn, 1011, "try again");
        replay_free(pl);
    }
}

void replay_cancel(struct client *cl)
{
    if (cl->replay != NULL)
        replay_free(cl->replay);
}
