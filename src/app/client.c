/* client.c - one WebSocket session: the hello, the pending replay, then live
 * delivery; and its teardown.
 *
 * No gap, no duplicate: the client joins the hub first; once the hub says
 * that every event published from now on will reach it (ready), the pending
 * rows are read, a page at a time (replay.c); after they are sent the hub
 * goes live, dropping the events it held back that the backlog covers (the
 * chat cursors read with the first page, raised over what was sent:
 * hub_local.c, hub_order.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "client.h"
#include "presence.h"
#include "proto.h"
#include "replay.h"
#include "ws_requests.h"

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
    pipe_release(cl);
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

void client_on_ws_drain(void *appp, net_conn *c)
{
    struct client *cl = net_conn_data(c);
    (void)appp;
    if (cl == NULL)
        return;
    replay_drained(cl);
    pipe_drained(cl);
}

/* The presence snapshot went out: read the backlog. */
static void replay_start(struct client *cl)
{
    if (cl->hub.open && replay_begin(cl) < 0)
        net_ws_close(cl->hub.conn, 1011, "try again");
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
    client_send(cl, json_pack("{s:s, s:o, s:s, s:I, s:{s:I, s:I, s:I}}", "type", "hello", "user",
                              proto_me(me), "instance", app->cfg->instance, "time",
                              (json_int_t)duet_now_ms(), "limits", "max_message_chars",
                              (json_int_t)app->cfg->max_message_chars, "delete_window_ms",
                              (json_int_t)app->cfg->delete_window_s * 1000, "edit_window_ms",
                              (json_int_t)app->cfg->edit_window_s * 1000));

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
    replay_cancel(cl); /* closed in the middle of its backlog */
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
