/* hub_redis.c - the Redis hub's connections (hub_redis_int.h lists the
 * files of the backend).
 *
 * Two hiredis async contexts on duetd's libuv loop: `cmd` runs the scripts,
 * `sub` is subscribed to this session's channel. Nothing here blocks: the
 * host name is resolved on libuv's thread pool, connects are non-blocking,
 * and every reply has a deadline (--redis-timeout). A reply that is late, a
 * ping on our own channel that does not come back, an error, or a heartbeat
 * that finds our session reaped all count as "Redis lost": both contexts are
 * dropped and a new connection is tried with backoff (100 ms doubling to
 * 5 s). Each successful connection is a new epoch with a new session id;
 * hub_redis_users.c then ends every local WebSocket with 1012 so that its
 * client resumes from the store, which is the source of truth.
 */
#include <errno.h>
#include <hiredis/adapters/libuv.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "hub_redis_int.h"

#define HR_TICK_MS        250
#define HR_BACKOFF_MIN    100
#define HR_BACKOFF_MAX    5000
#define HR_REAP_MAX_USERS "500"

uint64_t hr_now(struct hub_redis *hr)
{
    return uv_now(hr->loop);
}

/* ---- the command layer ---- */

static void hr_req_unlink(struct hub_redis *hr, struct hr_req *q)
{
    if (q->prev != NULL)
        q->prev->next = q->next;
    else
        hr->reqs = q->next;
    if (q->next != NULL)
        q->next->prev = q->prev;
    else
        hr->reqs_tail = q->prev;
    hr->n_reqs--;
}

static void hr_on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct hr_req *q = privdata;
    struct hub_redis *hr = q->hr;
    redisReply *reply = r;
    hr_req_unlink(hr, q);
    int noscript = 0;
    if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
        log_warn("redis: error reply: %.200s", reply->str != NULL ? reply->str : "?");
        noscript = reply->str != NULL && strncmp(reply->str, "NOSCRIPT", 8) == 0;
        reply = NULL;
    }
    q->cb(hr, reply, q->data);
    free(q);
    /* Someone flushed the scripts: reload them with a new connection. */
    if (noscript)
        hr_conn_lost(hr, "scripts missing");
}

static void hr_ignore_reply(struct hub_redis *hr, redisReply *reply, void *data) {}

/* Queues a command on `cmd` (sent once connected). */
static int hr_send(struct hub_redis *hr, int argc, const char **argv, const size_t *lens,
                   hr_reply_cb cb, void *data)
{
    if (hr->cmd == NULL)
        return -ENOTCONN;
    struct hr_req *q = calloc(1, sizeof(*q));
    if (q == NULL)
        return -ENOMEM;
    q->hr = hr;
    q->cb = cb != NULL ? cb : hr_ignore_reply;
    q->data = data;
    q->sent_at = hr_now(hr);
    if (redisAsyncCommandArgv(hr->cmd, hr_on_reply, q, argc, argv, lens) != REDIS_OK) {
        free(q);
        return -EIO;
    }
    q->prev = hr->reqs_tail;
    if (hr->reqs_tail != NULL)
        hr->reqs_tail->next = q;
    else
        hr->reqs = q;
    hr->reqs_tail = q;
    hr->n_reqs++;
    return 0;
}

static int hr_evalsha(struct hub_redis *hr, enum hr_script s, size_t argc, const char *const *argv,
                      const size_t *lens, hr_reply_cb cb, void *data)
{
    if (argc > 100000)
        return -E2BIG;
    const char **av = malloc((argc + 3) * sizeof(*av));
    size_t *al = malloc((argc + 3) * sizeof(*al));
    int r = -ENOMEM;
    if (av != NULL && al != NULL) {
        av[0] = "EVALSHA";
        av[1] = hr->scripts[s].sha;
        av[2] = "0";
        for (int i = 0; i < 3; i++)
            al[i] = strlen(av[i]);
        for (size_t i = 0; i < argc; i++) {
            av[i + 3] = argv[i];
            al[i + 3] = lens != NULL ? lens[i] : strlen(argv[i]);
        }
        r = hr_send(hr, (int)(argc + 3), av, al, cb, data);
    }
    free(av);
    free(al);
    return r;
}

int hr_eval(struct hub_redis *hr, enum hr_script s, size_t argc, const char *const *argv,
            const size_t *lens, hr_reply_cb cb, void *data)
{
    if (hr->state != HR_UP)
        return -ENOTCONN;
    return hr_evalsha(hr, s, argc, argv, lens, cb, data);
}

/* ---- connecting ---- */

static void hr_schedule_retry(struct hub_redis *hr)
{
    hr->connect_at = hr_now(hr) + (uint64_t)hr->backoff_ms;
    hr->backoff_ms *= 2;
    if (hr->backoff_ms > HR_BACKOFF_MAX)
        hr->backoff_ms = HR_BACKOFF_MAX;
}

void hr_conn_lost(struct hub_redis *hr, const char *why)
{
    if (hr->state == HR_DOWN)
        return;
    if (hr->state == HR_UP) {
        log_warn("redis: lost %s:%d (%s); delivery is local until it is back", hr->host, hr->port,
                 why);
        hr->down_since = duet_now_ms();
        hr->base.stats.redis_lost++;
    } else if (!hr->stopping) {
        log_warn("redis: cannot connect to %s:%d (%s); retrying", hr->host, hr->port, why);
    }
    hr->state = HR_DOWN;
    hr->sub_ok = hr->hb_ok = 0;
    hr->ping_at = 0;
    /* Clear our pointers first: freeing runs callbacks that may call in. */
    redisAsyncContext *c = hr->cmd, *s = hr->sub;
    hr->cmd = hr->sub = NULL;
    if (c != NULL)
        redisAsyncFree(c);
    if (s != NULL)
        redisAsyncFree(s);
    hr_schedule_retry(hr);
}

static void hr_on_connect(const redisAsyncContext *ac, int status)
{
    struct hub_redis *hr = ac->data;
    if (status == REDIS_OK)
        return;
    /* hiredis frees ac after this returns. */
    if (ac == hr->cmd)
        hr->cmd = NULL;
    if (ac == hr->sub)
        hr->sub = NULL;
    hr_conn_lost(hr, ac->errstr[0] != '\0' ? ac->errstr : "connect failed");
}

static void hr_on_disconnect(const redisAsyncContext *ac, int status)
{
    struct hub_redis *hr = ac->data;
    int ours = ac == hr->cmd || ac == hr->sub;
    if (ac == hr->cmd)
        hr->cmd = NULL;
    if (ac == hr->sub)
        hr->sub = NULL;
    if (ours && !hr->stopping)
        hr_conn_lost(hr, ac->errstr[0] != '\0' ? ac->errstr : "connection closed");
}

static void hr_maybe_up(struct hub_redis *hr)
{
    if (hr->state != HR_CONNECTING || !hr->sub_ok || !hr->hb_ok)
        return;
    uint64_t old_epoch = hr->epoch;
    char old_sid[sizeof(hr->sid)];
    memcpy(old_sid, hr->sid, sizeof(old_sid));
    hr->epoch++;
    snprintf(hr->sid, sizeof(hr->sid), "%s.%s.%llu", hr->instance, hr->boot,
             (unsigned long long)hr->epoch);
    hr->state = HR_UP;
    hr->backoff_ms = HR_BACKOFF_MIN;
    hr->next_heartbeat = hr->next_reap = hr_now(hr) + (uint64_t)hr->ttl_ms / 5;
    log_info("redis: connected to %s:%d, session %s", hr->host, hr->port, hr->sid);
    if (hr->down_since != 0) {
        /* A cache invalidation may have failed while we were away: start a
         * new cache generation (every instance then misses once). */
        const char *av[] = {"INCR", "duet:cache:epoch"};
        const size_t al[] = {4, 16};
        if (hr_send(hr, 2, av, al, NULL, NULL) < 0)
            log_warn("redis: cannot move the cache epoch on");
    }
    hr_users_up(hr, old_epoch, old_epoch > 0 ? old_sid : NULL);
}

static void hr_on_first_heartbeat(struct hub_redis *hr, redisReply *reply, void *data)
{
    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER || reply->integer < 0) {
        hr_conn_lost(hr, "first heartbeat failed");
        return;
    }
    hr->hb_ok = 1;
    hr_maybe_up(hr);
}

static void hr_on_sub(redisAsyncContext *ac, void *r, void *privdata)
{
    struct hub_redis *hr = ac->data;
    redisReply *reply = r;
    if (reply == NULL || ac != hr->sub)
        return; /* a disconnect: hr_on_disconnect handles it */
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[0]->type != REDIS_REPLY_STRING ||
        reply->element[2]->type != REDIS_REPLY_STRING) {
        if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
            reply->element[0]->type == REDIS_REPLY_STRING &&
            strcmp(reply->element[0]->str, "subscribe") == 0) {
            hr->sub_ok = 1;
            hr_maybe_up(hr);
        }
        return;
    }
    if (strcmp(reply->element[0]->str, "message") != 0)
        return;
    const redisReply *p = reply->element[2];
    if (p->len == 4 && memcmp(p->str, "ping", 4) == 0) {
        hr->ping_at = 0;
        return;
    }
    hr_users_message(hr, p->str, p->len);
}

static int hr_context(struct hub_redis *hr, redisAsyncContext **out)
{
    redisAsyncContext *ac = redisAsyncConnect(hr->addr, hr->port);
    if (ac == NULL)
        return -ENOMEM;
    if (ac->err != 0) {
        log_warn("redis: connect %s:%d: %s", hr->addr, hr->port, ac->errstr);
        redisAsyncFree(ac);
        return -ECONNREFUSED;
    }
    ac->data = hr;
    if (redisLibuvAttach(ac, hr->loop) != REDIS_OK) {
        redisAsyncFree(ac);
        return -ENOMEM;
    }
    if (redisAsyncSetConnectCallback(ac, hr_on_connect) != REDIS_OK ||
        redisAsyncSetDisconnectCallback(ac, hr_on_disconnect) != REDIS_OK) {
        redisAsyncFree(ac);
        return -EINVAL;
    }
    *out = ac;
    return 0;
}

static void hr_connect(struct hub_redis *hr)
{
    int r;
    /* The session of the epoch this connection will start. */
    snprintf(hr->chan, sizeof(hr->chan), "duet:ch:%s.%s.%llu", hr->instance, hr->boot,
             (unsigned long long)hr->epoch + 1);
    const char *sid = hr->chan + strlen("duet:ch:");
    if ((r = hr_context(hr, &hr->cmd)) < 0 || (r = hr_context(hr, &hr->sub)) < 0)
        goto fail;
    /* hiredis queues these until the connection is up; replies come in
     * order, so the scripts exist before the first EVALSHA runs. */
    for (int i = 0; i < HR_S_COUNT; i++) {
        const char *av[] = {"SCRIPT", "LOAD", hr->scripts[i].lua};
        const size_t al[] = {6, 4, strlen(hr->scripts[i].lua)};
        if ((r = hr_send(hr, 3, av, al, NULL, NULL)) < 0)
            goto fail;
    }
    const char *hb[] = {sid, "1"};
    if ((r = hr_evalsha(hr, HR_S_HEARTBEAT, 2, hb, NULL, hr_on_first_heartbeat, NULL)) < 0)
        goto fail;
    if (redisAsyncCommand(hr->sub, hr_on_sub, NULL, "SUBSCRIBE %s", hr->chan) != REDIS_OK) {
        r = -EIO;
        goto fail;
    }
    return;
fail:
    hr_conn_lost(hr, uv_strerror(r));
}

static void hr_on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct hub_redis *hr = req->data;
    hr->resolving = 0;
    if (hr->stopping || status < 0 || res == NULL) {
        if (!hr->stopping)
            hr_conn_lost(hr, status < 0 ? uv_strerror(status) : "no address");
        uv_freeaddrinfo(res);
        return;
    }
    int r = res->ai_family == AF_INET6
                ? uv_ip6_name((struct sockaddr_in6 *)res->ai_addr, hr->addr, sizeof(hr->addr))
                : uv_ip4_name((struct sockaddr_in *)res->ai_addr, hr->addr, sizeof(hr->addr));
    uv_freeaddrinfo(res);
    if (r < 0) {
        hr_conn_lost(hr, uv_strerror(r));
        return;
    }
    hr_connect(hr);
}

static void hr_start_connect(struct hub_redis *hr)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hr->state = HR_CONNECTING;
    hr->connect_started = hr_now(hr);
    hr->gai.data = hr;
    int r = uv_getaddrinfo(hr->loop, &hr->gai, hr_on_resolved, hr->host, NULL, &hints);
    if (r < 0) {
        hr_conn_lost(hr, uv_strerror(r));
        return;
    }
    hr->resolving = 1;
}

/* ---- periodic work ---- */

static void hr_on_heartbeat(struct hub_redis *hr, redisReply *reply, void *data)
{
    /* -1: the reaper took our session (we were silent too long): what it
     * did to our users' presence stands, so start a new session. */
    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER && reply->integer < 0 &&
        hr->state == HR_UP)
        hr_conn_lost(hr, "our session expired");
}

static void hr_on_reap(struct hub_redis *hr, redisReply *reply, void *data)
{
    if (reply != NULL)
        hr_users_reaped(hr, reply);
}

static void hr_periodic(struct hub_redis *hr, uint64_t now)
{
    if (hr->reqs != NULL && now - hr->reqs->sent_at > (uint64_t)hr->timeout_ms) {
        hr_conn_lost(hr, "reply timeout");
        return;
    }
    if (hr->ping_at != 0 && now - hr->ping_at > (uint64_t)hr->timeout_ms) {
        hr_conn_lost(hr, "subscription silent");
        return;
    }
    if (now >= hr->next_heartbeat) {
        hr->next_heartbeat = now + (uint64_t)hr->ttl_ms / 5;
        const char *hb[] = {hr->sid, "0"};
        const char *ping[] = {"PUBLISH", hr->chan, "ping"};
        const size_t pl[] = {7, strlen(hr->chan), 4};
        if (hr_eval(hr, HR_S_HEARTBEAT, 2, hb, NULL, hr_on_heartbeat, NULL) < 0 ||
            hr_send(hr, 3, ping, pl, NULL, NULL) < 0) {
            hr_conn_lost(hr, "cannot send the heartbeat");
            return;
        }
        if (hr->ping_at == 0)
            hr->ping_at = now;
    }
    if (now >= hr->next_reap) {
        hr->next_reap = now + (uint64_t)hr->ttl_ms / 5;
        char ttl[24];
        snprintf(ttl, sizeof(ttl), "%lld", (long long)hr->ttl_ms);
        const char *av[] = {ttl, HR_REAP_MAX_USERS};
        if (hr_eval(hr, HR_S_REAP, 2, av, NULL, hr_on_reap, NULL) < 0)
            hr_conn_lost(hr, "cannot send the reaper");
    }
}

static void hr_shutdown_step(struct hub_redis *hr);

static void hr_on_tick(uv_timer_t *t)
{
    struct hub_redis *hr = t->data;
    uint64_t now = hr_now(hr);
    if (hr->stopping) {
        hr_shutdown_step(hr);
        return;
    }
    switch (hr->state) {
    case HR_DOWN:
        if (!hr->resolving && now >= hr->connect_at)
            hr_start_connect(hr);
        break;
    case HR_CONNECTING:
        if (now - hr->connect_started > (uint64_t)hr->timeout_ms)
            hr_conn_lost(hr, "connect timeout");
        break;
    case HR_UP:
        hr_periodic(hr, now);
        break;
    }
    hr_users_tick(hr);
}

/* ---- shutdown ---- */

static void hr_on_tick_closed(uv_handle_t *h)
{
    struct hub_redis *hr = h->data;
    hr->tick_open = 0;
}

static void hr_on_tick_closed_free(uv_handle_t *h)
{
    struct hub_redis *hr = h->data;
    map_free(&hr->users);
    free(hr);
}

static void hr_shutdown_step(struct hub_redis *hr)
{
    uint64_t now = hr_now(hr);
    if (!hr->done_called && (hr->n_reqs == 0 || hr->state != HR_UP || now >= hr->stop_deadline)) {
        hr->done_called = 1;
        /* The store closes in here: the presence fan-outs of our users
         * leaving run now and queue their publishes. */
        hr->done(hr->app_host.ctx);
        hr->stop_deadline = now + (uint64_t)hr->timeout_ms;
        if (hr->sub != NULL) {
            redisAsyncContext *s = hr->sub;
            hr->sub = NULL;
            redisAsyncFree(s);
        }
        /* Graceful: what is queued is sent and answered first. */
        if (hr->cmd != NULL)
            redisAsyncDisconnect(hr->cmd);
    }
    if (hr->done_called && hr->cmd != NULL && now >= hr->stop_deadline) {
        redisAsyncContext *c = hr->cmd;
        hr->cmd = NULL;
        log_warn("redis: no answer at shutdown; dropping the connection");
        redisAsyncFree(c);
    }
    if (hr->done_called && hr->cmd == NULL && hr->sub == NULL && !hr->resolving &&
        hr->tick_open == 1) {
        hr->tick_open = 2; /* closing */
        uv_close((uv_handle_t *)&hr->tick, hr_on_tick_closed);
    }
}

void hub_redis_shutdown(struct hub *h, hub_done_cb done)
{
    struct hub_redis *hr = (struct hub_redis *)h;
    hr->stopping = 1;
    hr->done = done;
    hr->stop_deadline = hr_now(hr) + (uint64_t)hr->timeout_ms;
    if (hr->resolving)
        (void)uv_cancel((uv_req_t *)&hr->gai); /* EBUSY: it ends on its own */
    if (hr->state == HR_UP) {
        /* Leave cleanly: nobody needs to reap our session. */
        const char *av[] = {"ZREM", "duet:sessions", hr->sid};
        const size_t al[] = {4, 13, strlen(hr->sid)};
        if (hr_send(hr, 3, av, al, NULL, NULL) < 0)
            log_warn("redis: cannot remove our session");
    } else if (hr->state == HR_CONNECTING) {
        hr_conn_lost(hr, "shutdown");
    }
    hr_shutdown_step(hr);
}

void hub_redis_free(struct hub *h)
{
    struct hub_redis *hr = (struct hub_redis *)h;
    hr_users_free(hr);
    free(hr);
}

int hub_redis_new(uv_loop_t *loop, const struct hub_host *host, const struct hub_redis_opts *o,
                  struct hub **out)
{
    if (o->host == NULL || strlen(o->host) >= sizeof(((struct hub_redis *)0)->host) ||
        o->instance == NULL || strlen(o->instance) >= sizeof(((struct hub_redis *)0)->instance) ||
        o->port <= 0 || o->ttl_ms < 1000 || o->timeout_ms < 1)
        return -EINVAL;
    struct hub_redis *hr = calloc(1, sizeof(*hr));
    if (hr == NULL)
        return -ENOMEM;
    int r;
    hr->base.backend = &hub_redis_backend;
    hr->app_host = *host;
    hr->loop = loop;
    snprintf(hr->instance, sizeof(hr->instance), "%s", o->instance);
    snprintf(hr->host, sizeof(hr->host), "%s", o->host);
    hr->port = o->port;
    hr->ttl_ms = o->ttl_ms;
    hr->timeout_ms = o->timeout_ms;
    hr->backoff_ms = HR_BACKOFF_MIN;
    uint8_t rnd[8];
    randombytes_buf(rnd, sizeof(rnd));
    for (int i = 0; i < 8; i++)
        snprintf(hr->boot + 2 * i, 3, "%02x", rnd[i]);
    if ((r = hub_redis_lua_init(hr->scripts)) < 0)
        goto err;
    if ((r = map_init(&hr->users)) < 0)
        goto err;
    if ((r = uv_timer_init(hr->loop, &hr->tick)) < 0)
        goto err_map;
    hr->tick.data = hr;
    hr->tick_open = 1;
    if ((r = uv_timer_start(&hr->tick, hr_on_tick, 0, HR_TICK_MS)) < 0) {
        /* The handle is initialised: hr goes when it is closed. */
        uv_close((uv_handle_t *)&hr->tick, hr_on_tick_closed_free);
        return r;
    }
    *out = &hr->base;
    return 0;

err_map:
    map_free(&hr->users);
err:
    free(hr);
    return r;
}
