/* timer.c - every conn's timeout on one server timer.
 *
 * A conn waits for at most one timeout at a time (net__timer_mode). The
 * timeouts come in a few lengths (header, keep-alive, ping, close), and a
 * conn whose timer is set later with the same length expires later, so a
 * list per length, appended to, stays in deadline order: only the heads can
 * be due, and one uv_timer armed for the earliest head serves every conn.
 * Per conn this is a link and a deadline (24 bytes) instead of a uv_timer_t
 * (152 bytes), most of what an idle WebSocket costs besides its socket.
 * Insertion walks back from the tail, so a length no list was made for
 * still lands in order (the last list), only not in O(1). What a timeout
 * means (a 408, a ping, a drop) is the server's callback's business.
 */
#include "net_int.h"

void net__timers_init(net_server *s, net__timeout_cb expired)
{
    s->on_timeout = expired;
    const uint64_t len[NET__TQ_N] = {s->opts.header_timeout_ms, s->opts.idle_timeout_ms,
                                     s->opts.ws_ping_ms, NET__CLOSE_MS, 0};
    for (int i = 0; i < NET__TQ_N; i++) {
        net__list_init(&s->tq[i].head);
        s->tq[i].ms = len[i];
    }
}

static void arm(net_server *s, uint64_t due)
{
    uint64_t now = uv_now(s->loop);
    /* uv_timer_start fails only for a closing handle or a NULL callback;
     * the handle closes after the last conn. */
    (void)uv_timer_start(&s->timer, net__timers_run, due > now ? due - now : 0, 0);
    s->timer_due = due;
    s->timer_armed = 1;
}

void net__timers_run(uv_timer_t *t)
{
    net_server *s = t->data;
    s->timer_armed = 0;
    /* Timers set from on_timeout are due at now + 1 or later (net__timer_set),
     * so they wait for the next run: no pass can go on for ever. */
    uint64_t now = uv_now(s->loop);
    for (int i = 0; i < NET__TQ_N; i++) {
        struct net__link *head = &s->tq[i].head;
        while (!net__list_empty(head)) {
            net_conn *c = NET__CONTAINER(head->next, net_conn, tlink);
            if (c->deadline > now)
                break;
            enum net__timer_mode mode = (enum net__timer_mode)c->timer_mode;
            net__list_remove(&c->tlink);
            c->timer_mode = NET__T_NONE;
            s->on_timeout(c, mode);
        }
    }
    uint64_t due = UINT64_MAX;
    for (int i = 0; i < NET__TQ_N; i++) {
        struct net__link *head = &s->tq[i].head;
        if (!net__list_empty(head)) {
            uint64_t d = NET__CONTAINER(head->next, net_conn, tlink)->deadline;
            if (d < due)
                due = d;
        }
    }
    if (due != UINT64_MAX)
        arm(s, due);
    else
        uv_timer_stop(&s->timer); /* cannot fail */
}

void net__timer_set(net_conn *c, enum net__timer_mode mode, uint64_t ms)
{
    if (c->closed)
        return;
    net_server *s = c->srv;
    if (c->timer_mode != NET__T_NONE)
        net__list_remove(&c->tlink);
    c->timer_mode = (uint8_t)mode;
    if (mode == NET__T_NONE)
        return; /* an earlier arm only causes an empty run */
    if (ms == 0)
        ms = 1;
    c->deadline = uv_now(s->loop) + ms;
    int q = NET__TQ_N - 1;
    for (int i = 0; i < NET__TQ_N - 1; i++)
        if (s->tq[i].ms == ms) {
            q = i;
            break;
        }
    struct net__link *head = &s->tq[q].head, *at = head->prev;
    while (at != head && NET__CONTAINER(at, net_conn, tlink)->deadline > c->deadline)
        at = at->prev;
    net__list_push(at->next, &c->tlink); /* right after at */
    if (!s->timer_armed || c->deadline < s->timer_due)
        arm(s, c->deadline);
}

void net__timer_clear(net_conn *c)
{
    if (c->timer_mode != NET__T_NONE)
        net__list_remove(&c->tlink);
    c->timer_mode = NET__T_NONE;
}
