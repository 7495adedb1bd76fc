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
 *   proto.c      JSON encoding of users, messages and errors
 */
#ifndef DUET_APP_H
#define DUET_APP_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "../base/duet.h"
#include "../base/map.h"
#include "../net/net.h"
#include "../store/store.h"
#include "auth.h"
#include "config.h"
#include "hub.h"
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
    int64_t started_at;
    int stopping;
};

/* One authenticated WebSocket session.
 * Ownership: reference counted. The WebSocket holds one reference until
 * on_ws_close; every in-flight request holds one. The client holds a
 * reference on its net_conn, dropped when the client is freed. */
struct client {
    struct app *app;
    net_conn *conn;
    int refs;
    int open;     /* the WebSocket is open */
    int attached; /* registered in the hub (after the pending replay) */
    duet_id user;
    uint8_t token_hash[32];
    struct client *hub_next, *hub_prev; /* the hub's list of this user's clients */
};

void client_ref(struct client *cl);
void client_unref(struct client *cl);
/* Sends a JSON event (steals ev). No-op when the socket is closed. */
void client_send(struct client *cl, json_t *ev);
void client_send_error(struct client *cl, const char *request, json_t *ref, int err,
                       const char *code, const char *message);
/* Starts a session on an accepted WebSocket: hello, pending replay, live. */
int client_start(struct app *app, net_conn *c, const struct duet_user *me,
                 const uint8_t token_hash[32]);
/* Called for each text frame of a client's WebSocket. */
void chat_on_text(struct client *cl, const char *data, size_t len);

/* HTTP entry point (net_app.on_request). */
void api_on_request(void *app, net_conn *c, net_request *req);
void app_on_ws_text(void *app, net_conn *c, const char *data, size_t len);
void app_on_ws_close(void *app, net_conn *c);

/* Presence: a user came online on this instance (first connection) or went
 * offline (last connection closed). */
void presence_online(struct app *app, const duet_id *user);
void presence_offline(struct app *app, const duet_id *user);
/* What `viewer` may see of `subject`'s presence; fills online/last_seen. */
void presence_view(struct app *app, const struct duet_user *viewer_settings,
                   const struct duet_user *subject, int blocked, json_t *into);

/* Submits req to the store, counting latency and errors; 0 or error (then
 * the callback will not run). */
int app_store(struct app *app, store_req *req);

/* Frees the typing throttle's entries and map. */
void app_free_typing(struct app *app);

/* Publishes an event to every connection of user (steals ev). */
void app_publish(struct app *app, const duet_id *user, json_t *ev, const struct client *except);

#endif
