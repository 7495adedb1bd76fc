/* ws_handshake.c - the WebSocket opening handshake (RFC 6455 section 4):
 * checks the upgrade request, answers 101 and turns the HTTP conn into a
 * parked WebSocket (ws.c carries on from there).
 */
#include "net_int.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

static int header_is(const net_request *req, const char *name, const char *value)
{
    const duet_slice *v = net_header(req, name);
    return v != NULL && v->len == strlen(value) && memcmp(v->base, value, v->len) == 0;
}

static int connection_has_upgrade(const net_request *req)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct net_header *h = &req->headers[i];
        if (h->name.len == 10 && strncasecmp(h->name.base, "connection", 10) == 0 &&
            net__has_token(&h->value, "upgrade"))
            return 1;
    }
    return 0;
}

/* Checks the handshake: NULL and the accept value, or why it is refused. */
static const char *check_handshake(net_conn *c, char accept[29], const char **extra)
{
    const net_request *req = &c->u.http->req;
    const duet_slice *up = net_header(req, "upgrade");
    const duet_slice *key = net_header(req, "sec-websocket-key");
    *extra = NULL;
    if (strcmp(req->method, "GET") != 0 || c->u.http->version != 11)
        return "WebSocket needs GET and HTTP/1.1";
    if (up == NULL || !net__has_token(up, "websocket"))
        return "missing Upgrade: websocket";
    if (!connection_has_upgrade(req))
        return "missing Connection: Upgrade";
    if (!header_is(req, "sec-websocket-version", "13")) {
        *extra = "Sec-WebSocket-Version: 13\r\n";
        return "unsupported Sec-WebSocket-Version";
    }
    if (key == NULL || net__ws_accept_key(key->base, key->len, accept) < 0)
        return "invalid Sec-WebSocket-Key";
    return NULL;
}

int net_ws_accept(net_conn *c)
{
    if (c->closed)
        return -EPIPE;
    if (c->is_ws || !c->u.http->in_flight)
        return -EINVAL;
    char accept[29];
    const char *extra;
    const char *why = check_handshake(c, accept, &extra);
    if (why != NULL) {
        net__http_error(c, 400, "bad_request", why, extra);
        return -EINVAL;
    }
    net_server *s = c->srv;
    int r = net__out_printf(c,
                            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                            "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s\r\n",
                            accept, s->opts.headers ? s->opts.headers : "");
    if (r < 0) {
        net__conn_drop(c);
        return r;
    }
    /* The request's memory goes now; bytes after it stay in rbuf for wslay.
     * The WebSocket starts parked: its wslay context is made by the first
     * frame that arrives (or a ping or close), not for the hello. */
    net__http_free(c);
    memset(&c->u.ws, 0, sizeof(c->u.ws));
    /* Ping ids start somewhere a peer cannot guess from the count alone. */
    c->u.ws.ping_id = (uint32_t)(uv_hrtime() ^ (uintptr_t)c);
    c->is_ws = 1;
    s->n_ws++;
    net__timer_set(c, NET__T_PING, s->opts.ws_ping_ms);
    if (s->closing)
        net__ws_begin_close(c, s->close_code, NULL);
    net__conn_mark(c);
    return 0;
}
