/* app.h - the application's context (struct app) and the few helpers on
 * it (app.c). Each module has its own header:
 *
 *   api.h / api.c       HTTP routing, request/response plumbing, sessions
 *                       from cookies (api_int.h: what the api_*.c share)
 *   api_users.c         sign-up, login, logout, settings, password
 *   api_social.c        friends, blocks, conversation list, history over HTTP
 *   api_org.c           search and pin/archive/mute over HTTP (issue 17);
 *                       search_snip.h its result snippets
 *   auth.h              Argon2id on the thread pool, tokens, login throttling
 *   login_limit.h       one login attempt's throttle: the cluster's counters
 *                       (hub), else this instance's (auth.h)
 *   client.h            one WebSocket session: connect, pending replay, sending
 *   ws_requests.h       the WebSocket requests run: send, ack, seen, typing,
 *                       delete, history, ping
 *   ws_pipe.h           a connection's answers in request order, its bound on
 *                       requests in flight (back-pressure)
 *   replay.h            a connecting client's backlog, a page at a time
 *   proto_req.h         the WebSocket requests decoded and validated
 *   proto.h             JSON encoding of users, messages and errors
 *   presence.h          online/last seen fan-out and privacy rules
 *                       (presence_snapshot.c, presence_refresh.c)
 *   publish.h           events to a user's connections through the hub
 *   cache.h             what is cached in the hub's shared cache
 *   retry.h             store requests submitted again after a busy store
 *   metrics.h, limits.h, config.h
 *
 * The hub (../hub/hub.h), a layer below, delivers events to a user's
 * connections; app_hub_host gives it what it needs of the application.
 */
#ifndef DUET_APP_H
#define DUET_APP_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "../base/duet.h"
#include "../base/jsonw.h"
#include "../base/map.h"
#include "../base/recent.h"
#include "../net/net.h"
#include "../net/static.h"
#include "../hub/hub.h"
#include "../store/store.h"
#include "../blob/blob.h"
#include "auth.h"
#include "config.h"
#include "limits.h"
#include "metrics.h"
#include "retry.h"

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
    struct recent typing; /* user id + chat id of the typing forwarded in the last second */
    struct limits limits;
    int64_t started_at;
    int stopping;
    /* The loop's scratch buffer for events written directly (jsonw.h):
     * filled and sent in one go, never held across a callback. */
    struct jsonw out;
    struct push_svc *push;    /* Web Push sender (push_svc.h); NULL when off */
    struct uploads *uploads;  /* media uploads and the blob store (uploads.h) */
    struct static_cache web;  /* the web client's files in memory (static.h) */
    struct retry_queue retry; /* store requests to submit again (retry.h) */
};

struct push_svc;

/* The loop's writer, emptied, for an event to be sent before returning. */
struct jsonw *app_writer(struct app *app);

/* Submits req to the store, counting latency and errors; 0 or error (then
 * the callback will not run). */
int app_store(struct app *app, store_req *req);

/* The hub's host interface bound to app: presence, the clock, client
 * references, store reads and message encoding for the hub. */
void app_hub_host(struct app *app, struct hub_host *out);

/* How often one user's typing in one chat is forwarded at most. */
#define APP_TYPING_INTERVAL_MS 1000

/* Frees the typing throttle's entries and map. */
void app_free_typing(struct app *app);

#endif
