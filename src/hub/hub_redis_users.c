/* hub_redis_users.c - the Redis hub's vtable: local users and their
 * connections, routing events to other instances, the events that arrive on
 * our channel, and presence transitions.
 *
 * Routing: an instance's session (one per Redis connection epoch) has a
 * channel; duet:on:<uid> lists the sessions where a user has connections.
 * publish() delivers to local connections directly and runs the route
 * script, which publishes on the channel of every other session of the user
 * (a presence fan-out goes through Redis to every session, ours included,
 * so that Redis can drop it if a newer change overtook it).
 *
 * A user is registered (attach script) by their first local connection and
 * unregistered by their last; the scripts say when that made them come
 * online or go offline cluster-wide.
 *
 * Payload on a channel: "<uid hex> <kind> <chat hex> <seq>\n<event JSON>",
 * kind one of o m d s x (hub_ev_kind) or e (end sessions; then the body is
 * "<token hash hex> <keep>").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "hub_redis_int.h"

#define HEX_ID 32
static const char hr_kinds[] = "omdsx"; /* by enum hub_ev_kind */

/* The hub's part of a client.
 * Ownership: cl->priv (struct hub_conn), from join to leave; owns the order. */
struct hr_conn {
    hub_ready_cb ready; /* set while the registration is in flight */
    uint64_t epoch;     /* 0: joined while Redis was down (local only) */
    struct hub_order *order;
};

/* What an attach or detach reply needs.
 * Ownership: the command's data, freed by its callback. */
struct hr_reg_op {
    duet_id user;
    uint64_t epoch;
    uint64_t op; /* an attach's number: a reply completes only its own */
};

/* An online query in flight. Ownership: the command's data. */
struct hr_online_op {
    hub_online_cb cb;
    void *data;
    const duet_id *users; /* borrowed until cb */
    size_t n;
};

/* ---- local users ---- */

static struct hr_user *user_get(struct hub_redis *hr, const duet_id *id, int create)
{
    struct hr_user *u = map_get(&hr->users, id->b, 16);
    if (u != NULL || !create)
        return u;
    u = calloc(1, sizeof(*u));
    if (u == NULL)
        return NULL;
    u->id = *id;
    if (map_put(&hr->users, id->b, 16, u) < 0) {
        free(u);
        return NULL;
    }
    return u;
}

/* Runs the ready callbacks of u's clients waiting for epoch's attach. */
static void user_ready(struct hr_user *u, uint64_t epoch)
{
    /* ready() only starts a store read; still, restart the walk after each
     * call rather than trust the list across it. */
    for (;;) {
        struct hub_conn *cl = u->conns.head;
        while (cl != NULL) {
            struct hr_conn *hc = cl->priv;
            if (hc->ready != NULL && hc->epoch == epoch)
                break;
            cl = cl->next;
        }
        if (cl == NULL)
            return;
        struct hr_conn *hc = cl->priv;
        hub_ready_cb ready = hc->ready;
        hc->ready = NULL;
        ready(cl);
    }
}

static void on_attached(struct hub_redis *hr, redisReply *reply, void *data)
{
    struct hr_reg_op *op = data;
    struct hr_user *u = user_get(hr, &op->user, 0);
    int ok = reply != NULL && reply->type == REDIS_REPLY_INTEGER && reply->integer >= 0;
    if (ok && reply->integer > 0)
        hr->app_host.online(hr->app_host.ctx, &op->user, reply->integer);
    /* The user may have left and come back since: then this reply is an
     * older attach's (undone by a detach), and theirs is still to come. */
    if (u != NULL && u->reg_op == op->op && u->reg_state == HR_REG_PENDING) {
        u->reg_state = ok ? HR_REG_DONE : HR_REG_NONE;
        /* Not ok: Redis is gone; the clients go on locally until it is back. */
        user_ready(u, op->epoch);
    }
    uint64_t epoch = op->epoch;
    free(op);
    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER && reply->integer < 0 &&
        epoch == hr->epoch)
        hr_conn_lost(hr, "our session expired");
}

static void on_detached(struct hub_redis *hr, redisReply *reply, void *data)
{
    struct hr_reg_op *op = data;
    struct hub_host *h = &hr->app_host;
    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0)
        h->offline(h->ctx, &op->user, h->now_ms(h->ctx), reply->integer);
    free(op);
}

static int reg_send(struct hub_redis *hr, enum hr_script s, const duet_id *user, hr_reply_cb cb,
                    uint64_t *opno)
{
    struct hr_reg_op *op = malloc(sizeof(*op));
    if (op == NULL)
        return -ENOMEM;
    op->user = *user;
    op->epoch = hr->epoch;
    op->op = ++hr->next_op;
    if (opno != NULL)
        *opno = op->op;
    char uid[HEX_ID + 1];
    duet_hex_encode(user->b, 16, uid);
    const char *av[] = {hr->sid, uid};
    int r = hr_eval(hr, s, 2, av, NULL, cb, op);
    if (r < 0)
        free(op);
    return r;
}

static int hr_join(struct hub *h, struct hub_conn *cl, hub_ready_cb ready)
{
    struct hub_redis *hr = (struct hub_redis *)h;
    struct hr_conn *hc = calloc(1, sizeof(*hc));
    if (hc == NULL)
        return -ENOMEM;
    int r = hub_order_new(hr, cl, &hc->order);
    if (r < 0) {
        free(hc);
        return r;
    }
    struct hr_user *u = user_get(hr, &cl->user, 1);
    if (u == NULL) {
        hub_order_free(hc->order);
        free(hc);
        return -ENOMEM;
    }
    cl->priv = hc;
    hub_conns_add(&u->conns, cl);
    hr_vis_sync(hr, u);
    hc->epoch = hr->state == HR_UP ? hr->epoch : 0;
    if (hc->epoch == 0 || (u->reg_epoch == hr->epoch && u->reg_state == HR_REG_DONE)) {
        ready(cl);
        return 0;
    }
    hc->ready = ready;
    if (u->reg_epoch == hr->epoch && u->reg_state == HR_REG_PENDING)
        return 0; /* another connection's attach is in flight */
    if (reg_send(hr, HR_S_ATTACH, &cl->user, on_attached, &u->reg_op) < 0) {
        /* Redis just failed: go on locally (resumed when it is back). */
        hc->ready = NULL;
        hc->epoch = 0;
        ready(cl);
        return 0;
    }
    u->reg_epoch = hr->epoch;
    u->reg_state = HR_REG_PENDING;
    return 0;
}

static int hr_live(struct hub *h, struct hub_conn *cl, const struct store_req *backlog)
{
    struct hr_conn *hc = cl->priv;
    return hc != NULL ? hub_order_live(hc->order, backlog) : -EINVAL;
}

static void hr_leave(struct hub *h, struct hub_conn *cl)
{
    struct hub_redis *hr = (struct hub_redis *)h;
    struct hr_conn *hc = cl->priv;
    struct hr_user *u = user_get(hr, &cl->user, 0);
    if (hc == NULL || u == NULL || !hub_conns_remove(&u->conns, cl))
        return;
    cl->priv = NULL;
    if (hc->ready != NULL)
        hc->ready(cl); /* owed once; it sees the socket closed */
    hub_order_free(hc->order);
    free(hc);
    hr_vis_sync(hr, u);
    if (u->conns.n > 0)
        return;
    /* Only a registration of the current session is ours to undo; older
     * ones are reaped (hr_old). */
    if (u->reg_state != HR_REG_NONE && u->reg_epoch == hr->epoch && hr->state == HR_UP &&
        reg_send(hr, HR_S_DETACH, &u->id, on_detached, NULL) < 0)
        log_warn("redis: cannot unregister a user; the reaper will");
    map_del(&hr->users, u->id.b, 16);
    free(u);
}

/* ---- delivery ---- */

static void deliver_local(struct hub_redis *hr, const duet_id *user, const struct hub_event *ev,
                          const struct hub_conn *except)
{
    struct hr_user *u = user_get(hr, user, 0);
    if (u == NULL)
        return;
    for (struct hub_conn *cl = u->conns.head; cl != NULL; cl = cl->next) {
        struct hr_conn *hc = cl->priv;
        if (cl != except)
            hub_order_event(hc->order, ev, 0);
        else if (ev->kind == HUB_EV_MESSAGE)
            hub_order_event(hc->order, ev, 1);
    }
}

/* "<uid> <k> <chat> <seq>\n" + body, in a new buffer. */
static char *payload(const duet_id *user, char kind, const duet_id *chat, int64_t seq,
                     const char *body, size_t blen, size_t *len)
{
    size_t cap = 2 * HEX_ID + 32 + blen;
    char *p = malloc(cap);
    if (p == NULL)
        return NULL;
    char u[HEX_ID + 1], c[HEX_ID + 1];
    static const duet_id zero;
    duet_hex_encode(user->b, 16, u);
    duet_hex_encode((chat != NULL ? chat : &zero)->b, 16, c);
    int n = snprintf(p, cap, "%s %c %s %lld\n", u, kind, c, (long long)seq);
    if (n < 0 || (size_t)n + blen > cap) {
        free(p);
        return NULL;
    }
    memcpy(p + n, body, blen);
    *len = (size_t)n + blen;
    return p;
}

static void route(struct hub_redis *hr, const duet_id *user, const char *p, size_t plen,
                  const duet_id *cond, int64_t version, int skip_self)
{
    char uid[HEX_ID + 1], cuid[HEX_ID + 1] = "", ver[24] = "";
    duet_hex_encode(user->b, 16, uid);
    if (cond != NULL) {
        duet_hex_encode(cond->b, 16, cuid);
        snprintf(ver, sizeof(ver), "%lld", (long long)version);
    }
    const char *av[] = {skip_self ? hr->sid : "", uid, p, cuid, ver};
    const size_t al[] = {strlen(av[0]), HEX_ID, plen, strlen(cuid), strlen(ver)};
    if (hr_eval(hr, HR_S_ROUTE, 5, av, al, NULL, NULL) < 0)
        log_debug("redis: an event for another instance was dropped (Redis down)");
}

static void hr_publish(struct hub *h, const duet_id *user, const struct hub_event *ev,
                       const struct hub_conn *except)
{
    struct hub_redis *hr = (struct hub_redis *)h;
    /* A presence fan-out goes through Redis even to us: only Redis can
     * tell whether a newer change overtook it. */
    if (ev->presence_of == NULL)
        deliver_local(hr, user, ev, except);
    if (hr->state != HR_UP)
        return;
    size_t plen;
    char *p = payload(user, hr_kinds[ev->kind], &ev->chat, ev->seq, ev->json, ev->len, &plen);
    if (p == NULL) {
        log_error("redis: out of memory routing an event");
        return;
    }
    route(hr, user, p, plen, ev->presence_of, ev->version, ev->presence_of == NULL);
    free(p);
}

static void end_local(struct hub_redis *hr, const duet_id *user, const uint8_t token_hash[32],
                      int keep)
{
    struct hr_user *u = user_get(hr, user, 0);
    if (u != NULL)
        hub_conns_end_sessions(&u->conns, token_hash, keep);
}

static void hr_end_sessions(struct hub *h, const duet_id *user, const uint8_t token_hash[32],
                            int keep)
{
    struct hub_redis *hr = (struct hub_redis *)h;
    end_local(hr, user, token_hash, keep);
    if (hr->state != HR_UP)
        return; /* other instances' sockets close at their 1012 resume */
    char body[80];
    duet_hex_encode(token_hash, 32, body);
    body[64] = ' ';
    body[65] = keep ? '1' : '0';
    size_t plen;
    char *p = payload(user, 'e', NULL, 0, body, 66, &plen);
    if (p == NULL) {
        log_error("redis: out of memory ending sessions");
        return;
    }
    route(hr, user, p, plen, NULL, 0, 1);
    free(p);
}

void hr_users_message(struct hub_redis *hr, const char *p, size_t len)
{
    /* Only our instances publish here, but a bad payload must not crash. */
    duet_id user, chat;
    const char *nl = memchr(p, '\n', len);
    if (nl == NULL || nl - p < 2 * HEX_ID + 5 || p[HEX_ID] != ' ' || p[HEX_ID + 2] != ' ' ||
        p[2 * HEX_ID + 3] != ' ' || duet_hex_decode(p, 16, user.b) < 0 ||
        duet_hex_decode(p + HEX_ID + 3, 16, chat.b) < 0)
        goto bad;
    int64_t seq = 0;
    for (const char *s = p + 2 * HEX_ID + 4; s < nl; s++) {
        if (*s < '0' || *s > '9' || seq > INT64_MAX / 10 - 10)
            goto bad;
        seq = seq * 10 + (*s - '0');
    }
    const char *body = nl + 1;
    size_t blen = len - (size_t)(body - p);
    char k = p[HEX_ID + 1];
    if (k == 'e') {
        uint8_t th[32];
        if (blen != 66 || duet_hex_decode(body, 32, th) < 0)
            goto bad;
        end_local(hr, &user, th, body[65] == '1');
        return;
    }
    const char *kp = k != '\0' ? strchr(hr_kinds, k) : NULL;
    if (kp == NULL)
        goto bad;
    struct hub_event ev = {.json = body,
                           .len = blen,
                           .kind = (enum hub_ev_kind)(kp - hr_kinds),
                           .chat = chat,
                           .seq = seq};
    deliver_local(hr, &user, &ev, NULL);
    return;
bad:
    log_warn("redis: ignoring a malformed event on our channel");
}

/* ---- presence queries and transitions ---- */

static void on_online(struct hub_redis *hr, redisReply *reply, void *data)
{
    struct hr_online_op *op = data;
    uint8_t *on = calloc(op->n > 0 ? op->n : 1, 1);
    if (on != NULL) {
        int ok = reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == op->n;
        for (size_t i = 0; i < op->n; i++) {
            if (ok && reply->element[i]->type == REDIS_REPLY_INTEGER)
                on[i] = reply->element[i]->integer != 0;
            else /* Redis failed: what we know locally */
                on[i] = user_get(hr, &op->users[i], 0) != NULL;
        }
    }
    op->cb(op->data, on);
    free(on);
    free(op);
}

static void hr_online(struct hub *h, const duet_id *users, size_t n, hub_online_cb cb, void *data)
{
    struct hub_redis *hr = (struct hub_redis *)h;
    struct hr_online_op *op = calloc(1, sizeof(*op));
    char *hex = calloc(n > 0 ? n : 1, HEX_ID + 1);
    const char **av = calloc(n > 0 ? n : 1, sizeof(*av));
    if (op == NULL || hex == NULL || av == NULL) {
        free(op);
        free(hex);
        free(av);
        cb(data, NULL);
        return;
    }
    *op = (struct hr_online_op){.cb = cb, .data = data, .users = users, .n = n};
    for (size_t i = 0; i < n; i++) {
        duet_hex_encode(users[i].b, 16, hex + i * (HEX_ID + 1));
        av[i] = hex + i * (HEX_ID + 1);
    }
    int r = n > 0 ? hr_eval(hr, HR_S_ONLINE, n, av, NULL, on_online, op) : -ENOENT;
    free(hex);
    free(av);
    if (r < 0)
        on_online(hr, NULL, op);
}

static size_t hr_online_count(struct hub *h)
{
    return ((struct hub_redis *)h)->users.count;
}

void hr_users_reaped(struct hub_redis *hr, redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 3 != 0)
        return;
    for (size_t i = 0; i + 2 < reply->elements; i += 3) {
        redisReply **e = reply->element + i;
        duet_id user;
        if (e[0]->type != REDIS_REPLY_STRING || e[0]->len != HEX_ID ||
            duet_hex_decode(e[0]->str, 16, user.b) < 0 || e[1]->type != REDIS_REPLY_STRING ||
            e[2]->type != REDIS_REPLY_STRING)
            continue;
        long long v = strtoll(e[1]->str, NULL, 10);
        /* Scores come back as doubles written out in full. */
        long long at = (long long)strtod(e[2]->str, NULL);
        if (v > 0 && at > 0) {
            hr->base.stats.presence_reaped++;
            hr->app_host.offline(hr->app_host.ctx, &user, at, v);
        }
    }
}

static void on_reaped(struct hub_redis *hr, redisReply *reply, void *data)
{
    if (reply != NULL)
        hr_users_reaped(hr, reply);
}

/* Sends the reap of an old session of ours; 0 or error (kept for later). */
static int old_reap(struct hub_redis *hr, struct hr_old *o)
{
    char at[24];
    snprintf(at, sizeof(at), "%lld", (long long)o->at);
    const char **av = calloc(o->n + 2, sizeof(*av));
    char *hex = calloc(o->n + 1, HEX_ID + 1);
    int r = -ENOMEM;
    if (av != NULL && hex != NULL) {
        av[0] = o->sid;
        av[1] = at;
        for (size_t i = 0; i < o->n; i++) {
            duet_hex_encode(o->users[i].b, 16, hex + i * (HEX_ID + 1));
            av[i + 2] = hex + i * (HEX_ID + 1);
        }
        r = hr_eval(hr, HR_S_REAP_MINE, o->n + 2, av, NULL, on_reaped, NULL);
    }
    free(av);
    free(hex);
    return r;
}

/* Reaps our old sessions that are due (all of them when `all`). */
static void old_sessions(struct hub_redis *hr, int all)
{
    struct hr_old **pp = &hr->old;
    while (*pp != NULL) {
        struct hr_old *o = *pp;
        if ((all || hr_now(hr) >= o->due) && hr->state == HR_UP && old_reap(hr, o) == 0) {
            *pp = o->next;
            free(o->users);
            free(o);
        } else {
            pp = &o->next;
        }
    }
}

void hr_users_up(struct hub_redis *hr, uint64_t old_epoch, const char *old_sid)
{
    size_t n = 0;
    for (struct map_entry *e = map_first(&hr->users); e != NULL; e = map_next(&hr->users, e)) {
        struct hr_user *u = e->value;
        n += old_sid != NULL && u->reg_epoch == old_epoch && u->reg_state != HR_REG_NONE;
    }
    if (n > 0) {
        struct hr_old *o = calloc(1, sizeof(*o));
        duet_id *ids = calloc(n, sizeof(*ids));
        if (o == NULL || ids == NULL) {
            free(o);
            free(ids);
            log_error("redis: out of memory; some users stay online until restart");
        } else {
            snprintf(o->sid, sizeof(o->sid), "%s", old_sid);
            o->at = hr->down_since;
            o->due = hr_now(hr) + (uint64_t)hr->ttl_ms;
            o->users = ids;
            for (struct map_entry *e = map_first(&hr->users); e != NULL;
                 e = map_next(&hr->users, e)) {
                struct hr_user *u = e->value;
                if (u->reg_epoch == old_epoch && u->reg_state != HR_REG_NONE)
                    ids[o->n++] = u->id;
            }
            o->next = hr->old;
            hr->old = o;
        }
    }
    /* Events routed while we were away are lost: every client resumes
     * from the store (1012: service restart, reconnect). */
    size_t closed = 0;
    for (struct map_entry *e = map_first(&hr->users); e != NULL; e = map_next(&hr->users, e)) {
        struct hr_user *u = e->value;
        for (struct hub_conn *cl = u->conns.head; cl != NULL; cl = cl->next) {
            struct hr_conn *hc = cl->priv;
            if (hc->epoch != hr->epoch) {
                net_ws_close(cl->conn, 1012, "reconnect");
                closed++;
            }
        }
    }
    hr->base.stats.resumes += closed;
    if (closed > 0)
        log_info("redis: back; %zu WebSockets asked to resume", closed);
}

void hr_users_tick(struct hub_redis *hr)
{
    old_sessions(hr, 0);
    hub_order_tick(hr);
}

static void hr_shutdown_users(struct hub *h, hub_done_cb done)
{
    struct hub_redis *hr = (struct hub_redis *)h;
    if (hr->state == HR_UP)
        old_sessions(hr, 1);
    hub_redis_shutdown(h, done);
}

void hr_users_free(struct hub_redis *hr)
{
    for (struct map_entry *e = map_first(&hr->users); e != NULL; e = map_next(&hr->users, e))
        free(e->value);
    map_free(&hr->users);
    while (hr->old != NULL) {
        struct hr_old *o = hr->old;
        hr->old = o->next;
        free(o->users);
        free(o);
    }
}

const struct hub_backend hub_redis_backend = {
    .name = "redis",
    .join = hr_join,
    .live = hr_live,
    .leave = hr_leave,
    .publish = hr_publish,
    .end_sessions = hr_end_sessions,
    .online = hr_online,
    .cache_get = hub_redis_cache_get,
    .cache_set = hub_redis_cache_set,
    .cache_drop = hub_redis_cache_drop,
    .throttle_take = hub_redis_throttle_take,
    .throttle_ok = hub_redis_throttle_ok,
    .online_count = hr_online_count,
    .shutdown = hr_shutdown_users,
    .free = hub_redis_free,
    .visible = hr_visible,
    .visibility = hr_visibility,
};
