/* net.h - the network layer: one listening socket that serves HTTP/1.1 and,
 * after an upgrade, WebSocket (RFC 6455) on the same port.
 *
 * The application sees three things:
 *  - an HTTP request (net_request), which it answers exactly once, possibly
 *    later from an async callback, with net_respond() or net_ws_accept();
 *  - a WebSocket text message, via net_app.on_ws_text;
 *  - the end of a WebSocket, via net_app.on_ws_close.
 *
 * Connection lifetime: a net_conn is reference counted. The network layer
 * holds one reference while the socket is open. The application takes one
 * (net_conn_ref) for as long as an async operation may still use the conn,
 * and drops it with net_conn_unref. Every net_* call on a conn that is
 * already closed is a harmless no-op, so async callbacks need only check
 * nothing, though they may skip work with net_conn_is_open().
 */
#ifndef DUET_NET_H
#define DUET_NET_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../base/duet.h"
#include "../base/pool.h"

typedef struct net_server net_server;
typedef struct net_conn net_conn;

struct net_header {
    duet_slice name;
    duet_slice value;
};

/* A parsed request. Everything points into memory owned by the conn and is
 * valid until the response is sent (net_respond) or the upgrade is done. */
typedef struct net_request {
    const char *method; /* "GET", "POST", ... (static string) */
    duet_slice path;    /* percent-decoded path, no query */
    duet_slice query;   /* raw query string, without '?' */
    struct net_header *headers;
    size_t n_headers;
    duet_slice body;
    const char *client_addr; /* the peer's IP address, as text */
    int is_upgrade;          /* a WebSocket upgrade request (GET with Upgrade: websocket) */
    pool_t *pool;            /* per-request pool, cleared after the response */
    /* A streamed body (net_server_opts.stream_prefix): the request comes
     * right after its headers, body is empty, and the application reads the
     * body with net_body_start(). body_length is the Content-Length, or
     * UINT64_MAX for a chunked body. */
    int body_stream;
    uint64_t body_length;
} net_request;

/* Callbacks into the application. `app` is net_server_opts.app. */
struct net_app {
    /* Every complete request, including upgrade requests. Must lead to
     * exactly one net_respond() or net_ws_accept() on c (now or later). The
     * next request on a keep-alive connection is read only after that. */
    void (*on_request)(void *app, net_conn *c, net_request *req);
    /* A complete, UTF-8 valid WebSocket text message. */
    void (*on_ws_text)(void *app, net_conn *c, const char *data, size_t len);
    /* The WebSocket is closed (whatever the cause); the conn is no longer
     * open. Called once, only for conns that net_ws_accept() upgraded. */
    void (*on_ws_close)(void *app, net_conn *c);
    /* Once after net_ws_want_drain(c): everything queued on c is in the
     * socket's one write in flight, or written. Optional. */
    void (*on_ws_drain)(void *app, net_conn *c);
    /* After net_server_close(): every connection and handle of the server
     * is closed and the server is freed. Optional. */
    void (*on_closed)(void *app);
};

struct net_server_opts {
    const char *host;           /* "127.0.0.1" */
    int port;                   /* 0 = any free port */
    size_t max_header_bytes;    /* request line + headers, default 16 KiB */
    size_t max_body_bytes;      /* default 64 KiB */
    size_t max_ws_msg_bytes;    /* default 64 KiB */
    size_t max_conns;           /* open connections at most (0 = no cap); more get 503 */
    size_t max_conns_per_addr;  /* ... from one peer address (0 = no cap); more get 429 */
    size_t max_ws_queue_bytes;  /* queued output per WebSocket before a 1008 close; 4 MiB */
    uint64_t header_timeout_ms; /* full headers must arrive within this, default 10 s */
    uint64_t idle_timeout_ms;   /* keep-alive idle, default 60 s */
    uint64_t ws_ping_ms;        /* ping interval; a missing pong closes, default 30 s, and
                                   so does output that did not move for two intervals */
    const char *headers;        /* header lines added to every response, each ending
                                   in "\r\n" (e.g. the instance id); NULL for none */
    const char *stream_prefix;  /* PATCH requests whose raw target starts with this are
                                   handed over after their headers and their body is
                                   streamed (net_body_start; no max_body_bytes); NULL: none */
    struct net_app app_cb;
    void *app;
};

/* Binds and listens. *out is owned by the caller, who must call
 * net_server_close() and wait for the loop to finish closing it. */
int net_server_start(uv_loop_t *loop, const struct net_server_opts *opts, net_server **out);
/* The bound port (useful with port 0). */
int net_server_port(net_server *s);
/* Stops accepting. Open connections stay open. */
void net_server_stop_accepting(net_server *s);
/* Closes every WebSocket with `code` (1001 on shutdown) and every HTTP
 * connection, then frees the server once all are closed. */
void net_server_close(net_server *s, uint16_t ws_code);
/* Number of open connections, and of those, WebSockets. */
size_t net_server_conn_count(net_server *s);
size_t net_server_ws_count(net_server *s);
/* Open WebSockets that are parked (quiet; their framing state freed). */
size_t net_server_ws_parked_count(net_server *s);

void net_conn_ref(net_conn *c);
void net_conn_unref(net_conn *c);
int net_conn_is_open(net_conn *c);
/* Application data attached to the conn (not freed by the net layer). */
void net_conn_set_data(net_conn *c, void *data);
void *net_conn_data(net_conn *c);
const char *net_conn_addr(net_conn *c);
/* The key that per-address limits count under: an IPv6 address's /64
 * (one subscriber usually holds a whole /64, so a per-/128 limit is none),
 * an IPv4-mapped IPv6 address as IPv4, anything else as it is (truncated
 * to fit). */
#define NET_ADDR_GROUP_LEN 52
void net_addr_group(const char *addr, char out[NET_ADDR_GROUP_LEN]);

/* Looks up a request header (case-insensitive); NULL if absent. */
const duet_slice *net_header(const net_request *req, const char *name);
/* Finds cookie `name` in the Cookie header(s); 0 and *out, or -ENOENT.
 * -EEXIST when it appears more than once with different values: which one
 * the browser sent first says nothing about who set it (a sibling domain
 * can plant one with a longer Path, which browsers send first), so neither
 * is trusted. */
int net_cookie(const net_request *req, const char *name, duet_slice *out);
/* Whether the request's Origin, when there is one, is this site: the
 * scheme (https or http) and the Host header, or exactly `allowed`
 * (NULL: none). No Origin passes (not a browser's cross-site request). */
int net_origin_ok(const net_request *req, const char *allowed, int https);
/* Finds a query parameter (not decoded beyond '+' and %XX); 0 or -ENOENT. */
int net_query(const net_request *req, const char *name, duet_slice *out);
/* A query parameter that is a non-negative decimal integer (0 to
 * INT64_MAX): 1 and *v, 0 when absent, -1 when malformed or too big. */
int net_query_int(const net_request *req, const char *name, int64_t *v);

/* The header lines of every JSON (API) answer, errors included, whether the
 * application or this layer (400, 408, 413, 431, 503) gives it: never
 * cached, never sniffed as another type, never framed, no referrer, and a
 * CSP that lets the document do nothing should a browser render it. Static
 * files carry their own, page-friendly set (static.c). */
#define NET_JSON_HEADERS                                                                           \
    "Cache-Control: no-store\r\n"                                                                  \
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"                      \
    "X-Content-Type-Options: nosniff\r\n"                                                          \
    "X-Frame-Options: DENY\r\n"                                                                    \
    "Referrer-Policy: no-referrer\r\n"                                                             \
    "Cross-Origin-Resource-Policy: same-origin\r\n"

/* Sends a response. extra_headers is NULL or a block of complete header
 * lines, each ending in "\r\n" (e.g. "Set-Cookie: ...\r\n"). The body is
 * copied. Adds Content-Length, Date-less minimal headers, and
 * "Connection: close" when the connection will close. */
void net_respond(net_conn *c, int status, const char *content_type, const char *extra_headers,
                 const void *body, size_t len);

/* Streamed request bodies (req->body_stream). The body arrives through
 * on_data in pieces, never more bytes in all than the application allowed
 * with net_body_allow() (the socket is not read beyond a small bounded
 * buffer meanwhile: back-pressure on the peer). on_end runs exactly once
 * after net_body_start, never from inside a net_* call: status 0 once the
 * whole body was delivered (then the application answers with
 * net_respond), or < 0 when the connection failed, timed out or closed
 * first (-ECONNRESET, -ETIMEDOUT, -EBADMSG): the conn is then closed.
 * Answering before the body ended is allowed (an error): on_end then never
 * runs and the connection closes after the answer. ud is borrowed. */
typedef void (*net_body_data_cb)(void *ud, const char *data, size_t len);
typedef void (*net_body_end_cb)(void *ud, int status);
void net_body_start(net_conn *c, net_body_data_cb on_data, net_body_end_cb on_end, void *ud);
/* Lets up to n more body bytes be delivered (adds to what is left). */
void net_body_allow(net_conn *c, size_t n);

/* Answers with `len` bytes of the open file fd from offset off: the header
 * (Content-Length: len) goes at once, the body in chunks read on the thread
 * pool, each read only once the socket took most of the last (bounded
 * memory whatever the file's size). Takes fd over (closes it, also on
 * failure). A HEAD request gets the header alone. A read error mid-body
 * closes the connection. */
void net_respond_file(net_conn *c, int status, const char *content_type, const char *extra_headers,
                      uv_file fd, uint64_t off, uint64_t len);

/* Parses a Range header value against a body of `size` bytes (RFC 9110
 * 14.1.2, one range: "bytes=a-b", "bytes=a-", "bytes=-n"). 1 and the
 * inclusive [*first, *last]: answer 206; 0: ignore the header (absent,
 * another unit, several ranges: answer the whole body, 200); -ERANGE:
 * unsatisfiable (416). Pure. */
int net_range_parse(const char *v, size_t len, uint64_t size, uint64_t *first, uint64_t *last);

/* Completes the WebSocket handshake for the pending upgrade request: the conn
 * becomes a WebSocket. Responds 400 itself (and returns -EINVAL) when the
 * request is not a valid RFC 6455 handshake. */
int net_ws_accept(net_conn *c);
/* Queues one text message. Returns -ENOBUFS when the conn's output queue is
 * over its cap (the conn is then closed with 1008), -EPIPE when closed. */
int net_ws_send(net_conn *c, const char *data, size_t len);
/* Bytes queued on a WebSocket and not yet handed to the kernel (0 once
 * closed). */
size_t net_ws_queued(net_conn *c);
/* Asks for one on_ws_drain call once all of c's queue has been handed to
 * the socket's write (at most that one write stays in flight; called on a
 * later loop turn, never from inside this call). Lets a big replay go out
 * in slices, two at most queued, instead of overrunning the queue's cap. */
void net_ws_want_drain(net_conn *c);
/* Stops (paused = 1) or resumes taking messages from c: while paused no
 * further frame is read, on_ws_text is not called, and the socket is not
 * read (back-pressure on the peer). May be called from on_ws_text; a
 * message already received is still delivered. Pongs are not read either,
 * so a paused conn is not closed for a missing pong while its output moves. */
void net_ws_pause(net_conn *c, int paused);
/* Starts the closing handshake. */
void net_ws_close(net_conn *c, uint16_t code, const char *reason);

#endif
