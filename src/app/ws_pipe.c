/* ws_pipe.c - a WebSocket session's answers in request order and its bound
 * on requests in flight (ws_pipe.h). */
#include "ws_pipe.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "client.h"

/* One request's place in the answer order.
 * Ownership: its pipe; text is owned (malloc'd) once filled out of turn. */
struct pipe_slot {
    struct pipe_slot *next;
    size_t reserve;
    int filled;
    char *text; /* the answer waiting for its turn, or NULL for none */
    size_t len;
};

static size_t pipe_budget(const struct client *cl)
{
    size_t quarter = (size_t)cl->app->cfg->max_ws_queue_kib * 1024u / 4;
    return quarter < PIPE_BUDGET ? quarter : PIPE_BUDGET;
}

/* Pauses or resumes reading. `drained`: the queue just went to the socket,
 * so only the reservations count (the one write in flight is not waited
 * for, and asking for another drain now would only loop). One request is
 * always let in when none is in flight. */
static void pipe_check(struct client *cl, int drained)
{
    struct ws_pipe *p = &cl->pipe;
    if (!cl->hub.open)
        return;
    size_t queued = drained ? 0 : net_ws_queued(cl->hub.conn);
    size_t budget = pipe_budget(cl);
    int over_out = queued > budget || (p->n > 0 && p->reserved > budget - queued);
    int over = p->n >= PIPE_MAX_INFLIGHT || over_out;
    /* The user's share is asked last: only a connection that could read
     * on waits in its user's queue. */
    if (!over &&
        limits_inflight_full(&cl->app->limits, &cl->hub.user, PIPE_MAX_PER_USER, &p->waiter))
        over = 1;
    if (over != p->paused) {
        p->paused = over;
        net_ws_pause(cl->hub.conn, over);
        if (over)
            cl->app->metrics.ws_paused++;
    }
    /* Output is what stands in the way: hear when it drained. */
    if (over && over_out && queued > 0 && p->n < PIPE_MAX_INFLIGHT)
        net_ws_want_drain(cl->hub.conn);
}

/* The user's queue woke this connection: look again. */
static void pipe_wake(struct limits_waiter *w)
{
    struct client *cl = (struct client *)((char *)w - offsetof(struct client, pipe.waiter));
    pipe_check(cl, 0);
}

struct pipe_slot *pipe_open(struct client *cl, size_t reserve)
{
    struct ws_pipe *p = &cl->pipe;
    struct pipe_slot *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    if (limits_inflight_add(&cl->app->limits, &cl->hub.user) < 0) {
        free(s);
        return NULL;
    }
    p->waiter.wake = pipe_wake;
    s->reserve = reserve;
    if (p->tail != NULL)
        p->tail->next = s;
    else
        p->head = s;
    p->tail = s;
    p->n++;
    p->reserved += reserve;
    pipe_check(cl, 0);
    return s;
}

static void pipe_pop(struct client *cl)
{
    struct ws_pipe *p = &cl->pipe;
    struct pipe_slot *s = p->head;
    p->head = s->next;
    if (p->head == NULL)
        p->tail = NULL;
    p->n--;
    p->reserved -= s->reserve;
    free(s->text);
    free(s);
    limits_inflight_done(&cl->app->limits, &cl->hub.user);
}

/* Sends the filled slots at the head. */
static void pipe_flush(struct client *cl)
{
    struct ws_pipe *p = &cl->pipe;
    while (p->head != NULL && p->head->filled) {
        struct pipe_slot *s = p->head;
        if (s->text != NULL)
            client_send_text(cl, s->text, s->len);
        pipe_pop(cl);
    }
    pipe_check(cl, 0);
}

void pipe_answer(struct client *cl, struct pipe_slot *s, const char *text, size_t len)
{
    if (s == NULL || s->filled)
        return;
    s->filled = 1;
    if (text != NULL && s == cl->pipe.head) {
        /* Its turn already: no copy. */
        client_send_text(cl, text, len);
        pipe_pop(cl);
    } else if (text != NULL && cl->hub.open) {
        s->text = malloc(len ? len : 1);
        if (s->text == NULL) {
            /* A lost answer would leave the client waiting: let it resume. */
            log_error("ws_pipe: out of memory holding an answer");
            net_ws_close(cl->hub.conn, 1011, "try again");
        } else {
            memcpy(s->text, text, len);
            s->len = len;
        }
    }
    pipe_flush(cl);
}

void pipe_answer_json(struct client *cl, struct pipe_slot *s, json_t *ev)
{
    char *text = ev != NULL ? json_dumps(ev, JSON_COMPACT) : NULL;
    json_decref(ev);
    if (text == NULL) {
        log_error("ws_pipe: out of memory encoding an answer");
        if (cl->hub.open)
            net_ws_close(cl->hub.conn, 1011, "try again");
    }
    pipe_answer(cl, s, text, text != NULL ? strlen(text) : 0);
    free(text);
}

void pipe_drained(struct client *cl)
{
    if (cl->pipe.paused)
        pipe_check(cl, 1);
}

void pipe_release(struct client *cl)
{
    limits_inflight_cancel(&cl->app->limits, &cl->hub.user, &cl->pipe.waiter);
    while (cl->pipe.head != NULL)
        pipe_pop(cl);
}
