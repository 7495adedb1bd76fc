/* hub.h - the delivery and presence interface: which connections a user has,
 * and getting an event to all of them.
 *
 * This is the seam for scale-out. The in-process backend (hub_local.c) knows only
 * this instance's connections. The Redis backend (hub_redis*.c) also
 * publishes to the other instances and keeps the cluster-wide online registry
 * (docs/deploy.md). The application talks only to these functions.
 *
 * A connection's life in the hub:
 *   join  -> the hub calls ready(cl) once every event published from then on,
 *            on any instance, will reach cl (events are held back until live);
 *   the client reads its backlog (STORE_PENDING_LIST) and sends it;
 *   live  -> held-back events covered by the backlog are dropped, the rest
 *            sent, and cl gets events as they come;
 *   leave -> when the socket closes.
 *
 * Presence: the hub decides when a user comes online (first connection
 * anywhere) or goes offline (last one closed, or their instance died) and
 * tells the application through its host interface (struct hub_host).
 *
 * The application calls the hub_*() wrappers below, never the backend's
 * table directly.
 *
 * Ownership: the app owns the hub (hub_*_new, then shutdown, then free). The
 * hub borrows the connections (struct hub_conn) registered in it; one must
 * leave before it is freed.
 */
#ifndef DUET_HUB_H
#define DUET_HUB_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "../base/duet.h"
#include "../net/net.h"
#include "../store/store.h"

struct hub;

/* A connection as the hub sees it, embedded in the application's session
 * (struct client). The application sets conn, user and token_hash before
 * hub_join and keeps open current (cleared when the socket closes); the
 * rest is the hub's. */
struct hub_conn {
    net_conn *conn;
    duet_id user;
    uint8_t token_hash[32];
    int open;
    struct hub_conn *next, *prev; /* the user's list (hub_conns.h) */
    int listed;
    void *priv; /* backend state */
    int hidden; /* the client reports no visible tab (Web Push); the app's to set */
};

/* The hub's counters, for GET /metrics. */
struct hub_stats {
    uint64_t gap_fills;       /* messages a connection missed, read from the store */
    uint64_t resumes;         /* WebSockets asked to resume (Redis came back) */
    uint64_t redis_lost;      /* times the Redis connection was lost */
    uint64_t presence_reaped; /* users of dead instances marked offline here */
};

/* What an event is, for backends that must order or deduplicate it. */
enum hub_ev_kind {
    HUB_EV_OTHER = 0, /* typing, presence, read, friends_changed: as they come */
    HUB_EV_MESSAGE,   /* a `message` event: chat, seq */
    HUB_EV_DELIVERED, /* a delivered `receipt`: chat, seq (cumulative) */
    HUB_EV_SEEN,      /* a seen `receipt`: chat, seq (cumulative) */
    HUB_EV_DELETED,   /* a `deleted` event: chat, seq */
};

/* An encoded event and what the hub needs to know about it. */
struct hub_event {
    const char *json;
    size_t len;
    enum hub_ev_kind kind;
    duet_id chat;
    int64_t seq;
    /* A repeat of an event published before (a duplicate send): backends
     * that cannot tell it apart from a first delivery skip it. */
    int replay;
    /* When set, deliver only while presence_of's presence is still
     * `online` at `version` (a presence fan-out overtaken by a newer change
     * is dropped). */
    const duet_id *presence_of;
    int online;
    int64_t version;
};

typedef void (*hub_ready_cb)(struct hub_conn *cl);
/* online[i] is 1 when users[i] has a connection on any instance. */
typedef void (*hub_online_cb)(void *data, const uint8_t *online);
typedef void (*hub_done_cb)(void *ctx); /* the host's ctx */
/* A cache lookup: value is NULL on a miss; gen names the version that a
 * cache_set after a store read must still match (else the read may predate
 * an invalidation, and nothing is stored). */
typedef void (*hub_cache_cb)(void *data, const char *value, size_t len, const char *gen);
typedef void (*hub_dropped_cb)(void *data);
typedef void (*hub_visible_cb)(void *data, int visible);
/* A shared throttle take: wait_ms 0 = counted and allowed, > 0 = over a
 * limit (nothing counted; the ms until its window ends), < 0 = the counters
 * could not be reached (nothing counted). */
typedef void (*hub_throttle_cb)(void *data, int64_t wait_ms);

struct hub_backend {
    const char *name;
    /* Registers cl (see above). 0, or a negative error (ready is not
     * called then). ready may run before join returns. */
    int (*join)(struct hub *h, struct hub_conn *cl, hub_ready_cb ready);
    /* cl's backlog (the completed STORE_PENDING_LIST request, read with
     * in.cursors) was sent: go live. 0 or a negative error. */
    int (*live)(struct hub *h, struct hub_conn *cl, const struct store_req *backlog);
    /* Unregisters cl (joined, whether live or not). */
    void (*leave)(struct hub *h, struct hub_conn *cl);
    /* Delivers ev to every connection of user but `except`. */
    void (*publish)(struct hub *h, const duet_id *user, const struct hub_event *ev,
                    const struct hub_conn *except);
    /* Closes the user's connections of one session (token_hash), or of every
     * session but keep_hash (when keep is set), on every instance. */
    void (*end_sessions)(struct hub *h, const duet_id *user, const uint8_t token_hash[32],
                         int keep);
    /* Which of users are online; cb may run before this returns. users is
     * borrowed until cb runs. */
    void (*online)(struct hub *h, const duet_id *users, size_t n, hub_online_cb cb, void *data);
    /* A cache shared by the instances, for state that spares the store
     * work (friendship and block checks). NULL in backends without one.
     * cache_get: 0, or an error (cb not called: use the store). */
    int (*cache_get)(struct hub *h, const char *key, hub_cache_cb cb, void *data);
    void (*cache_set)(struct hub *h, const char *key, const char *value, size_t len,
                      const char *gen, int ttl_s);
    /* Invalidates keys; done runs once the cache has forgotten them (or
     * could not be reached: then a cache epoch moves on at reconnect). */
    void (*cache_drop)(struct hub *h, const char *const *keys, size_t n, hub_dropped_cb done,
                       void *data);
    /* Login throttle counters shared by the instances (auth.c has the
     * per-instance ones). NULL in backends without them. throttle_take
     * counts one attempt under both keys at once if neither is at its max
     * (a window starts with its first attempt): 0, or an error (cb not
     * called). throttle_ok: the password was right: drops user_key and
     * uncounts one attempt of addr_key. Keys are the caller's strings. */
    int (*throttle_take)(struct hub *h, const char *user_key, const char *addr_key,
                         int64_t max_user, int64_t max_addr, int64_t window_ms, hub_throttle_cb cb,
                         void *data);
    void (*throttle_ok)(struct hub *h, const char *user_key, const char *addr_key);
    /* Users with a connection on this instance. */
    size_t (*online_count)(struct hub *h);
    /* Called once every WebSocket is closed, before the store closes: finish
     * what must reach other instances, then call done (maybe at once). */
    void (*shutdown)(struct hub *h, hub_done_cb done);
    /* After the loop ended. */
    void (*free)(struct hub *h);
    /* Web Push: whether user has an open connection that does not report
     * hidden, on any instance; cb may run before this returns. When the
     * answer cannot be had (Redis down) it is what this instance knows. */
    void (*visible)(struct hub *h, const duet_id *user, hub_visible_cb cb, void *data);
    /* cl's hidden flag changed (the app sets it first). NULL: nothing to do. */
    void (*visibility)(struct hub *h, struct hub_conn *cl);
};

struct hub {
    const struct hub_backend *backend;
    struct hub_stats stats;
};

/* What the hub needs from the application, given at creation.
 * Ownership: copied into the hub; ctx is borrowed for the hub's life. */
struct hub_host {
    void *ctx;
    /* A user came online (first connection anywhere) or went offline (last
     * one closed, at `at`). version orders the changes of one user (0 for
     * the local hub; see hub_event). */
    void (*online)(void *ctx, const duet_id *user, int64_t version);
    void (*offline)(void *ctx, const duet_id *user, int64_t at, int64_t version);
    /* The wall clock in ms, for last-seen stamps. */
    int64_t (*now_ms)(void *ctx);
    /* Keeps a connection's memory alive across a store read (unref: let
     * it go); the hub never frees a connection. */
    void (*ref)(void *ctx, struct hub_conn *c);
    void (*unref)(void *ctx, struct hub_conn *c);
    /* Submits a store request; 0, or an error (then the callback will not
     * run). */
    int (*submit)(void *ctx, store_req *req);
    /* The `message` event for m, encoded (malloc'd; NULL when out of
     * memory), for messages read back from the store. */
    char *(*message_event)(void *ctx, const struct duet_msg *m, size_t *len);
};

/* The backend's operations (struct hub_backend says what each does). The
 * cache ones do nothing in backends without a cache: hub_cache_get then
 * returns -ENOTSUP, hub_cache_drop calls done at once. */
int hub_join(struct hub *h, struct hub_conn *cl, hub_ready_cb ready);
int hub_live(struct hub *h, struct hub_conn *cl, const struct store_req *backlog);
void hub_leave(struct hub *h, struct hub_conn *cl);
void hub_publish(struct hub *h, const duet_id *user, const struct hub_event *ev,
                 const struct hub_conn *except);
void hub_end_sessions(struct hub *h, const duet_id *user, const uint8_t token_hash[32], int keep);
void hub_online(struct hub *h, const duet_id *users, size_t n, hub_online_cb cb, void *data);
int hub_has_cache(const struct hub *h);
int hub_cache_get(struct hub *h, const char *key, hub_cache_cb cb, void *data);
void hub_cache_set(struct hub *h, const char *key, const char *value, size_t len, const char *gen,
                   int ttl_s);
void hub_cache_drop(struct hub *h, const char *const *keys, size_t n, hub_dropped_cb done,
                    void *data);
/* -ENOTSUP without shared counters (the caller's own then decide). */
int hub_throttle_take(struct hub *h, const char *user_key, const char *addr_key, int64_t max_user,
                      int64_t max_addr, int64_t window_ms, hub_throttle_cb cb, void *data);
void hub_throttle_ok(struct hub *h, const char *user_key, const char *addr_key);
size_t hub_online_count(struct hub *h);
/* Web Push's visibility (hub_backend: visible, visibility). */
void hub_visible(struct hub *h, const duet_id *user, hub_visible_cb cb, void *data);
void hub_visibility(struct hub *h, struct hub_conn *cl);
void hub_shutdown(struct hub *h, hub_done_cb done);
void hub_free(struct hub *h);

int hub_local_new(const struct hub_host *host, struct hub **out);

/* The Redis backend; the connection is made in the background (with
 * retries), so this fails only for bad options or no memory. */
struct hub_redis_opts {
    const char *host;     /* name or address */
    const char *instance; /* this instance's name (--instance), in ids */
    int port;
    int64_t ttl_ms;     /* presence TTL of a silent instance */
    int64_t timeout_ms; /* a reply later than this counts as Redis down */
};
int hub_redis_new(uv_loop_t *loop, const struct hub_host *host, const struct hub_redis_opts *o,
                  struct hub **out);

#endif
