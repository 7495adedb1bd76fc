/* app.h - the application: the loop's context and the pieces every module of
 * src/app shares.
 *
 * Modules:
 *   api.c        HTTP routing, request/response plumbing, sessions from cookies
 *   api_users.c  sign-up, login, logout, settings, password
 *   api_social.c friends, blocks, conversation list, history over HTTP
 *   auth.c       Argon2id on the thread pool, tokens, login throttling
 *   client.c     one WebSocket session: connect, pending replay, dispatch
 *   chat.c       the WebSocket events: send, ack, seen, typing, delete, history
 *   presence.c   online/last seen fan-out and privacy rules
 *   hub.c        delivery to a user's connections (in-process backend)
 *   hub_redis*.c the Redis backend: cross-instance delivery, presence
 *                registry, caches (hub_redis.c says which file does what)
 *   hub_order.c  per-connection ordering and dedup of cross-instance events
 *   cache.c      what is cached in the hub's shared cache, and its invalidation
 *   proto.c      JSON encoding of users, messages and errors
 */
#ifndef DUET_APP_H
#define DUET_APP_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "../base/duet.h"
#include "../base/jsonw.h"
#include "../base/map.h"
#include "../net/net.h"
#include "../store/store.h"
#include "auth.h"
#include "config.h"
#include "hub.h"
#include "limits.h"
#include "metrics.h"

/* The loop's context: everything mutable lives here (no globals).
 * Ownership: created and destroyed by main.c; owns store, net and hub. */
struct app {
    uv_loop_t *loop;
    const struct config *cfg;
    store_t *store;
    net_server *net;
    struct hub *hub;
    struct auth auth;
    struct metrics metrics;
    map_t typing; /* user id + chat id -> uint64_t* loop ms of the last forwarded typing */
    struct limits limits;
    int64_t started_at;
    int stopping;
    /* The loop's scratch buffer for events written directly (jsonw.h):
     * filled and sent in one go, never held across a callback. */
    struct jsonw out;
};

/* One authenticated WebSocket session.
 * Ownership: reference counted. The WebSocket holds one reference until
 * on_ws_close; every in-flight request holds one. The client holds a
 * reference on its net_conn, dropped when the client is freed. */
struct client {
    struct app *app;
    net_conn *conn;
    int refs;
    int open;   /* the WebSocket is open */
    int joined; /* hub join succeeded: leave is owed */
    duet_id user;
    uint8_t token_hash[32];
    char addr[64]; /* client address (proxy-aware), counted in app->limits */
    /* The hub's: its list of this user's clients, and backend state. */
    struct client *hub_next, *hub_prev;
    int hub_listed;
    void *hub_priv;
    struct pending_load *replay; /* the backlog still being sent, or NULL */
};

void client_ref(struct client *cl);
void client_unref(struct client *cl);
/* Sends a JSON event (steals ev). No-op when the socket is closed. */
void client_send(struct client *cl, json_t *ev);
/* Sends an encoded event (copied). No-op when the socket is closed. */
void client_send_text(struct client *cl, const char *s, size_t len);
/* The loop's writer, emptied, for an event to be sent before returning. */
struct jsonw *app_writer(struct app *app);
void client_send_error(struct client *cl, const char *request, json_t *ref, int err,
                       const char *code, const char *message);
/* Starts a session on an accepted WebSocket: hello, pending replay, live. */
int client_start(struct app *app, net_conn *c, const struct duet_user *me,
                 const uint8_t token_hash[32], const char *addr);
/* Called for each text frame of a client's WebSocket. */
void chat_on_text(struct client *cl, const char *data, size_t len);

/* HTTP entry point (net_app.on_request). */
void api_on_request(void *app, net_conn *c, net_request *req);
void app_on_ws_text(void *app, net_conn *c, const char *data, size_t len);
void app_on_ws_close(void *app, net_conn *c);
void app_on_ws_drain(void *app, net_conn *c);

/* Presence, called by the hub: a user came online (first connection
 * anywhere) or went offline (last one closed, at `at`). version orders the
 * changes of one user (0 for the local hub; see hub_event). */
void presence_online(struct app *app, const duet_id *user, int64_t version);
void presence_offline(struct app *app, const duet_id *user, int64_t at, int64_t version);
/* What `viewer` may see of `subject`'s presence, given whether subject is
 * online (hub online query); fills online/last_seen. */
void presence_view(const struct duet_user *viewer_settings, const struct duet_user *subject,
                   int blocked, int online, json_t *into);

/* Submits req to the store, counting latency and errors; 0 or error (then
 * the callback will not run). */
int app_store(struct app *app, store_req *req);

/* Frees the typing throttle's entries and map. */
void app_free_typing(struct app *app);

/* Publishes an event to every connection of user (steals ev). */
void app_publish(struct app *app, const duet_id *user, json_t *ev, const struct client *except);
/* The same for a repeat of an event published before (a duplicate send). */
void app_republish(struct app *app, const duet_id *user, json_t *ev, const struct client *except);
/* A message event to two users (a chat's participants), encoded once by the
 * caller into s (proto_write_message_event of m): the hot path of a message.
 * replay as app_republish. */
void app_publish_pair_msg(struct app *app, const duet_id *a, const struct client *a_except,
                          const duet_id *b, const struct client *b_except, const struct duet_msg *m,
                          const char *s, size_t len, int replay);
/* The same to one user only: a message withheld from its receiver goes to
 * the sender's other connections alone. */
void app_publish_msg(struct app *app, const duet_id *user, const struct client *except,
                     const struct duet_msg *m, const char *s, size_t len, int replay);
/* Fills a hub_event's kind, chat and seq from an encoded event's fields. */
void app_event_meta(json_t *ev, struct hub_event *out);

/* The shared cache (cache.c). get: 0 or an error (then use the store). */
#define CACHE_KEY_MAX 80
void cache_key_peer(char out[CACHE_KEY_MAX], const duet_id *user, const duet_id *chat);
void cache_key_peers(char out[CACHE_KEY_MAX], const duet_id *user);
int cache_get(struct app *app, const char *key, hub_cache_cb cb, void *data);
void cache_set(struct app *app, const char *key, const char *value, size_t len, const char *gen);
/* Forgets what a friend or block change between a and b affects. */
void cache_forget_pair(struct app *app, const duet_id *a, const duet_id *b, hub_dropped_cb done,
                       void *data);
/* Forgets the presence fan-out lists of users (a last-seen setting moved). */
void cache_forget_peers(struct app *app, const duet_id *users, size_t n, hub_dropped_cb done,
                        void *data);

#endif
