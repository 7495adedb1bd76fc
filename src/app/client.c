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
#include "app.h"
#include "proto.h"

/* Ownership: the pending load holds a reference on the client. */
struct pending_load {
    struct client *cl;
    store_req sreq;
};

void client_ref(struct client *cl)
{
    cl->refs++;
}

void client_unref(struct client *cl)
{
    if (--cl->refs > 0)
        return;
    net_conn_set_data(cl->conn, NULL);
    net_conn_unref(cl->conn);
    free(cl);
}

void client_send(struct client *cl, json_t *ev)
{
    if (ev == NULL) {
        log_error("client: out of memory encoding an event");
        return;
    }
    if (cl->open) {
        char *s = json_dumps(ev, JSON_COMPACT);
        if (s != NULL) {
            net_ws_send(cl->conn, s, strlen(s));
            free(s);
        }
    }
    json_decref(ev);
}

void client_send_error(struct client *cl, const char *request, json_t *ref, int err,
                       const char *code, const char *message)
{
    cl->app->metrics.ws_errors++;
    if (code == NULL)
        code = duet_strerror_code(err);
    json_t *ev = json_pack("{s:s, s:s?, s:O?, s:s, s:s}", "type", "error", "request", request,
                           "ref", ref, "code", code, "message", message ? message : code);
    client_send(cl, ev);
}

static json_t *pending_event(const struct duet_pending *p)
{
    json_t *ev;
    switch (p->kind) {
    case PENDING_MESSAGE:
        ev = proto_message_event(&p->msg);
        break;
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

static void pending_loaded(store_req *r)
{
    struct pending_load *pl = r->data;
    struct client *cl = pl->cl;
    struct app *app = cl->app;
    if (r->status < 0) {
        /* Without the backlog we cannot promise "no gap": end the session
         * and let the client resume. */
        log_warn("client: pending load failed: %s", duet_strerror_code(r->status));
        net_ws_close(cl->conn, 1011, "try again");
        goto out;
    }
    if (!cl->open)
        goto out;
    for (size_t i = 0; i < r->out.n_pending; i++)
        client_send(cl, pending_event(&r->out.pending[i]));
    app->metrics.pending_replayed += r->out.n_pending;
    client_send(cl,
                json_pack("{s:s, s:I}", "type", "synced", "pending", (json_int_t)r->out.n_pending));
    if (app->hub->backend->live(app->hub, cl, r) < 0)
        net_ws_close(cl->conn, 1011, "try again");
out:
    store_req_reset(r);
    free(pl);
    client_unref(cl);
}

/* The hub routes this client's events now: read the backlog. */
static void client_ready(struct client *cl)
{
    struct app *app = cl->app;
    struct pending_load *pl = NULL;
    if (!cl->open)
        goto out;
    pl = calloc(1, sizeof(*pl));
    if (pl == NULL) {
        net_ws_close(cl->conn, 1011, "try again");
        goto out;
    }
    pl->cl = cl;
    client_ref(cl); /* the pending load's */
    store_req_init(&pl->sreq, STORE_PENDING_LIST, pending_loaded, pl);
    pl->sreq.in.user = cl->user;
    pl->sreq.in.cursors = 1;
    if (app_store(app, &pl->sreq) < 0) {
        store_req_reset(&pl->sreq);
        free(pl);
        client_unref(cl);
        net_ws_close(cl->conn, 1011, "try again");
    }
out:
    client_unref(cl); /* the join's */
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
    cl->conn = c;
    cl->refs = 1; /* the WebSocket's, dropped in app_on_ws_close */
    cl->open = 1;
    cl->user = me->id;
    memcpy(cl->token_hash, token_hash, 32);
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
    r = app->hub->backend->join(app->hub, cl, client_ready);
    if (r < 0) {
        client_unref(cl);
        net_ws_close(c, 1011, "try again");
        return 0;
    }
    cl->joined = 1;
    return 0;
}

void app_on_ws_text(void *appp, net_conn *c, const char *data, size_t len)
{
    struct client *cl = net_conn_data(c);
    if (cl != NULL && cl->open)
        chat_on_text(cl, data, len);
}

void app_on_ws_close(void *appp, net_conn *c)
{
    struct app *app = appp;
    struct client *cl = net_conn_data(c);
    if (cl == NULL)
        return;
    cl->open = 0;
    limits_ws_close(&app->limits, cl->addr);
    char id[DUET_ID_STRLEN + 1];
    duet_id_format(&cl->user, id);
    log_info("ws close user_id=%s", id);
    if (cl->joined) {
        cl->joined = 0;
        app->hub->backend->leave(app->hub, cl);
    }
    client_unref(cl);
}
