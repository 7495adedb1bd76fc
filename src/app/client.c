/* client.c - one WebSocket session: the hello, the pending replay, then live
 * delivery; and its teardown.
 *
 * No gap, no duplicate: the client joins the hub first; once the hub says
 * that every event published from now on will reach it (ready), the pending
 * rows are read; after they are sent the hub goes live, dropping the events
 * it held back that the backlog covers. A message stored before that read is
 * in the backlog; one stored after it was published after the join (hub.h).
 * In one process this is simply store order (store.h); across instances the
 * Redis hub uses the chat cursors read with the backlog (hub_order.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "client.h"
#include "presence.h"
#include "proto.h"
#include "ws_requests.h"

/* Ownership: the pending load holds a reference on the client; while its
 * rows are being sent, the client points to it (cl->replay) and frees it if
 * the socket closes first. */
struct pending_load {
    struct client *cl;
    store_req sreq;
    size_t next; /* the first row not sent yet */
};

/* A backlog goes out in slices of about this many bytes: each waits until
 * the previous one is in the kernel, so 10,000 long messages never overrun
 * the WebSocket's queue cap (which would close the connection at every
 * reconnect, and the user could never catch up). */
#define CLIENT_REPLAY_SLICE (1024u << 10)

void client_ref(struct client *cl)
{
    cl->refs++;
}

void client_unref(struct client *cl)
{
    if (--cl->refs > 0)
        return;
    net_conn_set_data(cl->hub.conn, NULL);
    net_conn_unref(cl->hub.conn);
    pipe_release(&cl->pipe);
    free(cl);
}

void client_send(struct client *cl, json_t *ev)
{
    if (ev == NULL) {
        log_error("client: out of memory encoding an event");
        return;
    }
    if (cl->hub.open) {
        char *s = json_dumps(ev, JSON_COMPACT);
        if (s != NULL) {
            net_ws_send(cl->hub.conn, s, strlen(s));
            free(s);
        }
    }
    json_decref(ev);
}

void client_send_text(struct client *cl, const char *s, size_t len)
{
    if (s == NULL) {
        log_error("client: out of memory encoding an event");
        return;
    }
    if (cl->hub.open)
        net_ws_send(cl->hub.conn, s, len);
}

json_t *client_error_event(struct client *cl, const char *request, json_t *ref, int err,
                           const char *code, const char *message)
{
    cl->app->metrics.ws_errors++;
    if (code == NULL)
        code = duet_strerror_code(err);
    return json_pack("{s:s, s:s?, s:O?, s:s, s:s}", "type", "error", "request", request, "ref", ref,
                     "code", code, "message", message ? message : code);
}

void client_send_error(struct client *cl, const char *request, json_t *ref, int err,
                       const char *code, const char *message)
{
    client_send(cl, client_error_event(cl, request, ref, err, code, message));
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
    default:
        return NULL;
    }
    if (ev != NULL && json_object_set_new(ev, "pending", json_true()) < 0) {
        json_decref(ev);
        return NULL;
    }
    return ev;
}

static void pending_load_free(struct pending_load *pl)
{
    struct client *cl = pl->cl;
    if (cl->replay == pl)
        cl->replay = NULL;
    store_req_reset(&pl->sreq);
    free(pl);
    client_unref(cl);
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

/* Sends the next slice of the backlog; after the last one, synced and live. */
static void replay_more(struct pending_load *pl)
{
    struct client *cl = pl->cl;
    struct app *app = cl->app;
    store_req *r = &pl->sreq;
    size_t slice = app->cfg->max_ws_queue_kib * 1024u / 4;
    if (slice > CLIENT_REPLAY_SLICE)
        slice = CLIENT_REPLAY_SLICE;
    int failed = 0;
    while (pl->next < r->out.n_pending && cl->hub.open) {
        if (replay_one(cl, &r->out.pending[pl->next++]) < 0) {
            /* A skipped row would be a gap the client then acks past:
             * end the session instead, and the next one replays it. */
            log_error("client: out of memory sending the backlog");
            net_ws_close(cl->hub.conn, 1011, "try again");
            failed = 1;
            break;
        }
        app->metrics.pending_replayed++;
        if (pl->next < r->out.n_pending && net_ws_queued(cl->hub.conn) >= slice) {
            cl->replay = pl;
            net_ws_want_drain(cl->hub.conn);
            return;
        }
    }
    if (cl->hub.open && !failed) {
        client_send(
            cl, json_pack("{s:s, s:I}", "type", "synced", "pending", (json_int_t)r->out.n_pending));
        if (hub_live(app->hub, &cl->hub, r) < 0)
            net_ws_close(cl->hub.conn, 1011, "try again");
    }
    pending_load_free(pl);
}

static void pending_loaded(store_req *r)
{
    struct pending_load *pl = r->data;
    struct client *cl = pl->cl;
    if (r->status < 0) {
        /* Without the backlog we cannot promise "no gap": end the session
         * and let the client resume. */
        log_warn("client: pending load failed: %s", duet_strerror_code(r->status));
        net_ws_close(cl->hub.conn, 1011, "try again");
        pending_load_free(pl);
        return;
    }
    replay_more(pl);
}

void client_on_ws_drain(void *appp, net_conn *c)
{
    struct client *cl = net_conn_data(c);
    (void)appp;
    if (cl == NULL)
        return;
    if (cl->replay != NULL)
        replay_more(cl->replay);
    pipe_drained(cl);
}

/* The presence snapshot went out: read the backlog. */
static void replay_start(struct client *cl)
{
    struct app *app = cl->app;
    struct pending_load *pl = NULL;
    if (!cl->hub.open)
        goto out;
    pl = calloc(1, sizeof(*pl));
    if (pl == NULL) {
        net_ws_close(cl->hub.conn, 1011, "try again");
        goto out;
    }
    pl->cl = cl;
    client_ref(cl); /* the pending load's */
    store_req_init(&pl->sreq, STORE_PENDING_LIST, pending_loaded, pl);
    pl->sreq.in.user = cl->hub.user;
    pl->sreq.in.cursors = 1;
    if (app_store(app, &pl->sreq) < 0) {
        store_req_reset(&pl->sreq);
        free(pl);
        client_unref(cl);
        net_ws_close(cl->hub.conn, 1011, "try again");
    }
out:
    client_unref(cl); /* the join's */
}

/* The hub routes this client's events now: the friends' presence, then the
 * backlog (the hub holds later events back until it is sent). */
static void client_ready(struct hub_conn *hc)
{
    struct client *cl = client_of(hc);
    if (!cl->hub.open) {
        client_unref(cl); /* the join's */
        return;
    }
    presence_snapshot_start(cl, replay_start);
}

int client_start(struct app *app, net_conn *c, const struct duet_user *me,
                 const uint8_t token_hash[32], const char *addr)
{
    struct client *cl = calloc(1, sizeof(*cl));
    if (cl == NULL)
        return -ENOMEM;
    snprintf(cl->addr, sizeof(cl->addr), "%s", addr);
    if (limits_ws_open(&app->limits, cl->addr) < 0) {
        free(cl);
        return -EBUSY;
    }
    int r = net_ws_accept(c);
    if (r < 0) {
        limits_ws_close(&app->limits, cl->addr);
        free(cl);
        return r;
    }
    cl->app = app;
    cl->hub.conn = c;
    cl->refs = 1; /* the WebSocket's, dropped in client_on_ws_close */
    cl->hub.open = 1;
    cl->hub.user = me->id;
    cl->lastseen_vis = me->lastseen_vis;
    memcpy(cl->hub.token_hash, token_hash, 32);
    net_conn_ref(c);
    net_conn_set_data(c, cl);
    app->metrics.ws_connects++;
    log_info("ws open user=%s addr=%s", me->username, net_conn_addr(c));

    /* The limits let a client show the length limit and offer delete for
     * everyone only while it can work; both are configurable. */
    client_send(cl, json_pack("{s:s, s:o, s:s, s:I, s:{s:I, s:I}}", "type", "hello", "user",
                              proto_me(me), "instance", app->cfg->instance, "time",
                              (json_int_t)duet_now_ms(), "limits", "max_message_chars",
                              (json_int_t)app->cfg->max_message_chars, "delete_window_ms",
                              (json_int_t)app->cfg->delete_window_s * 1000));

    client_ref(cl); /* the join's, until ready */
    r = hub_join(app->hub, &cl->hub, client_ready);
    if (r < 0) {
        client_unref(cl);
        net_ws_close(c, 1011, "try again");
        return 0;
    }
    cl->joined = 1;
    return 0;
}

void client_on_ws_text(void *appp, net_conn *c, const char *data, size_t len)
{
    struct client *cl = net_conn_data(c);
    if (cl != NULL && cl->hub.open)
        ws_requests_on_text(cl, data, len);
}

void client_on_ws_close(void *appp, net_conn *c)
{
    struct app *app = appp;
    struct client *cl = net_conn_data(c);
    if (cl == NULL)
        return;
    cl->hub.open = 0;
    if (cl->replay != NULL) /* closed in the middle of its backlog */
        pending_load_free(cl->replay);
    limits_ws_close(&app->limits, cl->addr);
    char id[DUET_ID_STRLEN + 1];
    duet_id_format(&cl->hub.user, id);
    log_info("ws close user_id=%s", id);
    if (cl->joined) {
        cl->joined = 0;
        hub_leave(app->hub, &cl->hub);
    }
    client_unref(cl);
}
