/* client.h - one authenticated WebSocket session (client.c): its start,
 * pending replay and sending; the WebSocket callbacks of net_app. */
#ifndef DUET_CLIENT_H
#define DUET_CLIENT_H

#include <stddef.h>

#include "app.h"
#include "ws_pipe.h"

/* One authenticated WebSocket session.
 * Ownership: reference counted. The WebSocket holds one reference until
 * on_ws_close; every in-flight request holds one. The client holds a
 * reference on its net_conn, dropped when the client is freed. */
struct client {
    struct app *app;
    /* The connection as the hub sees it (hub.h): conn, user, token_hash and
     * open (the WebSocket is open) are ours to set; the rest is the hub's. */
    struct hub_conn hub;
    int refs;
    int joined;                  /* hub join succeeded: leave is owed */
    char addr[64];               /* client address (proxy-aware), counted in app->limits */
    int lastseen_vis;            /* the user's setting at connect, for the presence snapshot */
    struct pending_load *replay; /* the backlog still being sent, or NULL */
    struct ws_pipe pipe;         /* answers in request order (ws_pipe.h) */
};

/* The client a hub connection is embedded in. */
static inline struct client *client_of(struct hub_conn *hc)
{
    return (struct client *)((char *)hc - offsetof(struct client, hub));
}

void client_ref(struct client *cl);
void client_unref(struct client *cl);
/* Sends a JSON event (steals ev). No-op when the socket is closed. */
void client_send(struct client *cl, json_t *ev);
/* Sends an encoded event (copied). No-op when the socket is closed. */
void client_send_text(struct client *cl, const char *s, size_t len);
void client_send_error(struct client *cl, const char *request, json_t *ref, int err,
                       const char *code, const char *message);
/* The error event client_send_error sends (counted as sent); NULL when out
 * of memory. */
json_t *client_error_event(struct client *cl, const char *request, json_t *ref, int err,
                           const char *code, const char *message);
/* Starts a session on an accepted WebSocket: hello, pending replay, live. */
int client_start(struct app *app, net_conn *c, const struct duet_user *me,
                 const uint8_t token_hash[32], const char *addr);
/* The WebSocket callbacks (net_app's on_ws_*); app is the struct app. */
void client_on_ws_text(void *app, net_conn *c, const char *data, size_t len);
void client_on_ws_close(void *app, net_conn *c);
void client_on_ws_drain(void *app, net_conn *c);

#endif
