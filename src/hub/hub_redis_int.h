/* hub_redis_int.h - what the files of the Redis hub share.
 *
 *   hub_redis.c        the connections: resolve, connect, subscribe, the
 *                      command layer with its reply deadline, reconnect with
 *                      backoff, heartbeat and reaper ticks, shutdown
 *   hub_redis_users.c  the hub vtable: local users and their clients,
 *                      publish/route, the subscription's events, presence
 *                      transitions, epochs
 *   hub_redis_lua.c    the Lua scripts (the key layout is in docs/deploy.md)
 *   hub_redis_cache.c  cached friendship/block checks and presence inputs
 *   hub_order.c        per-connection order and dedup of events
 */
#ifndef DUET_HUB_REDIS_INT_H
#define DUET_HUB_REDIS_INT_H

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdint.h>
#include <uv.h>

#include "../base/map.h"
#include "hub_conns.h"
#include "hub.h"

/* ---- scripts (hub_redis_lua.c) ---- */

enum hr_script {
    HR_S_HEARTBEAT,     /* sid, first -> now ms | -1 (our session was reaped) */
    HR_S_ATTACH,        /* sid, uid -> version when uid came online, 0, -1 (session gone) */
    HR_S_DETACH,        /* sid, uid -> version when uid went offline, or 0 */
    HR_S_REAP,          /* ttl_ms, max -> [uid, version, at]... of users gone offline */
    HR_S_REAP_MINE,     /* old sid, at, uid... -> the same, for a session of ours */
    HR_S_ROUTE,         /* skip sid, uid, payload, cond uid, cond version -> receivers */
    HR_S_ONLINE,        /* uid... -> [0|1]... */
    HR_S_CACHE_GET,     /* key -> value | nil, and the cache epoch */
    HR_S_CACHE_SET,     /* key, value, ttl_s, epoch -> 1 | 0 (epoch moved on) */
    HR_S_CACHE_DROP,    /* key... -> deleted count */
    HR_S_THROTTLE_TAKE, /* user key, addr key, max user, max addr, window ms -> 0 | wait ms */
    HR_S_THROTTLE_OK,   /* user key, addr key -> 1 */
    HR_S_VIS_SET,       /* sid, uid, 1|0 -> 1 (hub_redis_vis.c) */
    HR_S_VIS_GET,       /* sid, uid -> live sessions but sid with a visible connection */
    HR_S_COUNT
};

struct hr_script_def {
    const char *name;
    const char *lua;
    char sha[41];
};

/* Fills the SHA-1s (what EVALSHA names a script by). 0 or -ENOMEM. */
int hub_redis_lua_init(struct hr_script_def defs[HR_S_COUNT]);

/* ---- state ---- */

enum hr_state { HR_DOWN, HR_CONNECTING, HR_UP };

struct hub_redis;
/* reply is NULL when the command failed: Redis down, too slow, an error
 * reply (logged), or shutdown. */
typedef void (*hr_reply_cb)(struct hub_redis *hr, redisReply *reply, void *data);

/* One command awaiting its reply.
 * Ownership: allocated by hr_eval, freed after its callback ran. */
struct hr_req {
    struct hub_redis *hr;
    struct hr_req *prev, *next; /* hr's list, oldest first */
    uint64_t sent_at;           /* uv_now */
    hr_reply_cb cb;
    void *data;
};

/* A user with connections on this instance.
 * Ownership: hr->users owns it; its clients are borrowed. */
struct hr_user {
    duet_id id;
    struct hub_conns conns; /* our connections of this user */
    uint64_t reg_epoch;     /* the epoch whose session holds our registration */
    uint64_t reg_op;        /* which attach command that is (hr->next_op) */
    int reg_state;          /* HR_REG_* */
    int vis_pub;            /* Web Push: our session is in duet:vis:<uid> */
    uint64_t vis_epoch;     /* the epoch that vis_pub was published in */
};

enum { HR_REG_NONE, HR_REG_PENDING, HR_REG_DONE };

/* The registrations of a session of ours that Redis lost track of (a
 * reconnect): they are removed after a grace period, so that users who
 * reconnected in time do not flap offline.
 * Ownership: hr->old list; owns the ids. */
struct hr_old {
    struct hr_old *next;
    char sid[96];
    int64_t at;   /* when we lost Redis: their last seen */
    uint64_t due; /* uv_now when to reap */
    duet_id *users;
    size_t n;
};

/* The hub. Ownership: the app owns it; it owns the contexts (freed through
 * hiredis, whose libuv adapter closes their handles), the timer, the users
 * map and the per-client state (hub_order) of the clients it has joined. */
struct hub_redis {
    struct hub base;
    char instance[65];        /* --instance (1..64), in our session id and channel */
    struct hub_host app_host; /* the application's callbacks (hub.h) */
    uv_loop_t *loop;
    char host[256];
    int port;
    int64_t ttl_ms, timeout_ms;
    struct hr_script_def scripts[HR_S_COUNT];

    /* connection */
    enum hr_state state;
    redisAsyncContext *cmd, *sub;
    int sub_ok, hb_ok; /* subscribed; first heartbeat answered */
    uv_getaddrinfo_t gai;
    int resolving;
    char addr[64];       /* resolved address */
    uint64_t connect_at; /* uv_now of the next attempt (while down) */
    uint64_t connect_started;
    int64_t backoff_ms;
    int64_t down_since; /* wall ms when we last lost Redis; 0 when never up */
    uint64_t epoch;     /* +1 per successful connection */
    char boot[17];      /* random per process */
    char sid[96];       /* session id of the current epoch */
    char chan[128];     /* its channel */
    struct hr_req *reqs, *reqs_tail;
    size_t n_reqs;

    /* periodic work */
    uv_timer_t tick;
    int tick_open;
    uint64_t next_heartbeat, next_reap;
    uint64_t ping_sent, ping_seen; /* our own channel echoes pings */
    uint64_t ping_at;              /* uv_now of the oldest unanswered ping */

    /* delivery */
    map_t users;            /* duet_id -> struct hr_user */
    uint64_t next_op;       /* numbers attach commands */
    struct hub_order *gaps; /* clients waiting for a missing message */
    struct hr_old *old;

    /* shutdown */
    int stopping;
    hub_done_cb done;
    uint64_t stop_deadline;
    int done_called;
};

/* ---- hub_redis.c ---- */

/* Runs a script with string arguments. 0, or a negative error (Redis down:
 * then cb is not called). */
int hr_eval(struct hub_redis *hr, enum hr_script s, size_t argc, const char *const *argv,
            const size_t *lens, hr_reply_cb cb, void *data);
/* Drops the connection (Redis too slow or broken) and reconnects soon. */
void hr_conn_lost(struct hub_redis *hr, const char *why);
uint64_t hr_now(struct hub_redis *hr);
/* The vtable's connection half. */
void hub_redis_shutdown(struct hub *h, hub_done_cb done);
void hub_redis_free(struct hub *h);

/* ---- hub_redis_throttle.c ---- */

int hub_redis_throttle_take(struct hub *h, const char *user_key, const char *addr_key,
                            int64_t max_user, int64_t max_addr, int64_t window_ms,
                            hub_throttle_cb cb, void *data);
void hub_redis_throttle_ok(struct hub *h, const char *user_key, const char *addr_key);

/* ---- hub_redis_cache.c ---- */

int hub_redis_cache_get(struct hub *h, const char *key, hub_cache_cb cb, void *data);
void hub_redis_cache_set(struct hub *h, const char *key, const char *value, size_t len,
                         const char *gen, int ttl_s);
void hub_redis_cache_drop(struct hub *h, const char *const *keys, size_t n, hub_dropped_cb done,
                          void *data);

/* ---- hub_redis_users.c ---- */

extern const struct hub_backend hub_redis_backend;
/* The connection came up with a new session: resume every client. */
void hr_users_up(struct hub_redis *hr, uint64_t old_epoch, const char *old_sid);
/* A message on our channel. */
void hr_users_message(struct hub_redis *hr, const char *payload, size_t len);
/* Reaper results: [uid, version, at]... of users gone offline. */
void hr_users_reaped(struct hub_redis *hr, redisReply *reply);
void hr_users_tick(struct hub_redis *hr);
void hr_users_free(struct hub_redis *hr);

/* ---- hub_order.c: per-connection order ----
 *
 * Messages of one chat reach a connection in seq order, each once, whatever
 * path they took (this instance, another one through Redis, a store read
 * when one is missing). Receipts only move forward. Events before live are
 * held, and those the backlog covers are dropped. */

struct hub_order;
int hub_order_new(struct hub_redis *hr, struct hub_conn *cl, struct hub_order **out);
void hub_order_free(struct hub_order *o);
/* An event for the order's client; `marker`: the client sent this message
 * itself (it had `sent`), so only its place in the order counts. */
void hub_order_event(struct hub_order *o, const struct hub_event *ev, int marker);
int hub_order_live(struct hub_order *o, const struct store_req *backlog);
/* Fills gaps that waited long enough from the store. */
void hub_order_tick(struct hub_redis *hr);

/* ---- hub_redis_vis.c: Web Push visibility across instances ---- */

/* Publishes whether u has a visible connection here, when that changed
 * (or the session did). */
void hr_vis_sync(struct hub_redis *hr, struct hr_user *u);
void hr_visible(struct hub *h, const duet_id *user, hub_visible_cb cb, void *data);
void hr_visibility(struct hub *h, struct hub_conn *cl);

#endif
