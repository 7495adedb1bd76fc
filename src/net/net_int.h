/* net_int.h - internals shared by the files of src/net, and
 * the pure helpers the unit tests call. Not for use outside src/net. */
#ifndef DUET_NET_INT_H
#define DUET_NET_INT_H

#include <netinet/in.h>
#include <stdarg.h>
#include <wslay/wslay.h>

#include "../base/map.h"
#include "hparse.h"
#include "net.h"

#define NET__READ_CHUNK    16384u       /* bytes offered to each read */
#define NET__HTTP_OUT_HIGH (256u << 10) /* stop parsing pipelined requests above this */
#define NET__CLOSE_MS      2000u        /* close handshake and lingering close timeout */
#define NET__SWEEP_MS      1000u        /* interval of the idle WebSocket sweep */
/* Connections the kernel queues for accept (it caps this at somaxconn): a
 * reconnect storm of thousands must not overflow it, or the clients whose
 * handshake was dropped wait for a SYN/ACK retransmission (1 s, 3 s, ...). */
#define NET__LISTEN_BACKLOG  4096
#define NET__ACCEPT_RETRY_MS 100u /* after a conn could not be allocated */
#define NET__TRIM_PARKED     256u /* parked in one sweep: give memory back */
#define NET__ADDR_LEN        INET6_ADDRSTRLEN

/* An intrusive circular doubly linked list (libuv's QUEUE is private). */
struct net__link {
    struct net__link *prev, *next;
};

#define NET__CONTAINER(ptr, type, field) ((type *)((char *)(ptr)-offsetof(type, field)))

void net__list_init(struct net__link *head);
void net__list_push(struct net__link *head, struct net__link *l);
void net__list_remove(struct net__link *l);
int net__list_empty(const struct net__link *head);

/* What the conn's timer (timer.c) is measuring. */
enum net__timer_mode {
    NET__T_NONE,
    NET__T_HEADER, /* a request must arrive whole: 408 */
    NET__T_IDLE,   /* keep-alive idle: silent close */
    NET__T_PING,   /* WebSocket ping interval */
    NET__T_CLOSE,  /* WebSocket close handshake: drop */
    NET__T_LINGER, /* lingering close after the last write: drop */
};

/* Called by timer.c when c's timeout of this mode expires (c's timer is
 * already cleared, so the callback may set a new one). */
typedef void (*net__timeout_cb)(net_conn *c, enum net__timer_mode mode);

/* The lists of timer.c: one per timeout length, the last for any other. */
enum { NET__TQ_HEADER, NET__TQ_IDLE, NET__TQ_PING, NET__TQ_CLOSE, NET__TQ_OTHER, NET__TQ_N };

/* Conns waiting for a timeout of one length, in deadline order. */
struct net__tlist {
    struct net__link head; /* net_conn.tlink */
    uint64_t ms;           /* the length (0 for NET__TQ_OTHER) */
};

/* Offsets of one header inside net__http.hbuf while the request is read
 * (hbuf may move as it grows). */
struct net__hoff {
    size_t name, name_len, value, value_len;
};

/* HTTP side of a conn. Ownership: the conn (u.http), malloc'd at accept and
 * freed with the conn's memory (so a request stays readable while the app
 * holds a ref) or at the upgrade (net_ws_accept), with parser and pool. */
struct net__http {
    hparse *parser;
    pool_t pool; /* everything below that points somewhere points here */
    net_request req;
    char *hbuf; /* url, then header names and values, back to back */
    size_t hlen, hcap, url_len;
    struct net__hoff *hoff;
    size_t n_hoff, cap_hoff;
    char *body;
    size_t body_len, body_cap;
    int err_status; /* the status a callback aborted the parser with */
    /* A streamed body (net_body_start): the app's callbacks (borrowed) and
     * how many more body bytes it takes now. */
    net_body_data_cb body_data;
    net_body_end_cb body_end;
    void *body_ud;
    size_t body_window;
    uint64_t stream_len;      /* Content-Length at the headers, or UINT64_MAX */
    struct net__fsend *fsend; /* a file answer in progress (http_file.c); owned */
    uint8_t version;          /* 10 or 11 */
    unsigned in_value : 1, keep_alive : 1, upgrade : 1, head : 1, in_flight : 1;
    unsigned streaming : 1, body_done : 1; /* a streamed body; it was delivered whole */
};

/* WebSocket side of a conn. Ownership: the conn owns ctx. ctx is NULL while
 * the connection is parked: wslay's context is about 8.6 KiB, most of an
 * idle connection's memory, and holds nothing between whole frames when no
 * output is queued, so a connection quiet for a sweep interval (about a
 * second) frees it; the next frame, ping or close makes it again (ws.c). A
 * new WebSocket starts parked, and messages to a parked one are framed
 * directly into obuf. Busy connections are not parked, so messages pay
 * nothing. */
struct net__ws {
    wslay_event_context_ptr ctx;
    uint64_t fed;               /* input bytes handed to wslay */
    uint64_t framed;            /* ... of which whole frames, header included */
    uint64_t frame_len;         /* size of the frame being received */
    uint32_t utf8;              /* validator state of the current text message */
    unsigned in_text : 1;       /* the message being received is text */
    unsigned frame_text : 1;    /* the frame being received carries text */
    unsigned frame_fin : 1;     /* ... and ends its message */
    unsigned failed : 1;        /* we failed the connection; ignore further input */
    unsigned awaiting_pong : 1; /* a ping is out and unanswered */
    unsigned closing : 1;       /* our close frame is queued or sent */
    unsigned close_held : 1;    /* a peer's close waits until our queued replies are out */
    unsigned fragmented : 1;    /* inside a message of several frames */
    unsigned busy : 1;          /* traffic since the last sweep */
    unsigned want_drain : 1;    /* on_ws_drain is owed once the queue is empty */
    unsigned paused : 1;        /* the application takes no more messages (net_ws_pause) */
    unsigned stall_ticks : 2;   /* ping intervals in a row with output stuck (timer) */
    uint32_t ping_id;           /* the payload of our current ping; only its pong counts */
    uint64_t in_left;           /* bytes of the current frame not yet handed to wslay */
};

/* One batch of output and the uv_write that carries it, in one allocation,
 * so a conn with nothing to write holds no write request (192 bytes of an
 * idle connection's memory otherwise). Ownership: the conn, as obuf, then as
 * wbuf until on_write. */
struct net__out {
    uv_write_t req;
    char data[];
};

/* A connection. Ownership: reference counted (see net.h). The socket holds
 * one ref until uv_close; the memory is freed when refs is 0 and the socket
 * handle has closed. rbuf/obuf/wbuf are malloc'd on demand and freed when empty;
 * the shutdown request of a lingering close is malloc'd in linger() and freed
 * in its callback. */
struct net_conn {
    uv_tcp_t tcp;
    net_server *srv;        /* NULL once the handle has closed */
    struct net__link all;   /* srv->conns, while handles are open */
    struct net__link dirty; /* srv->dirty, while work is pending */
    struct net__link tlink; /* srv->tq[], while timer_mode is not NET__T_NONE */
    uint64_t deadline;      /* loop time (ms) the timer is due at */
    unsigned refs;
    int handles; /* open uv handles: 1, then 0 */
    char *rbuf;  /* received, not yet consumed: [roff, rlen) */
    size_t roff, rlen, rcap;
    struct net__out *obuf; /* queued output, not yet handed to uv_write */
    size_t olen, ocap;     /* bytes used and allocated in obuf->data */
    struct net__out *wbuf; /* output in the in-flight uv_write */
    size_t wlen;
    void *data;
    uint8_t timer_mode;
    unsigned is_ws : 1, closed : 1, eof : 1, finishing : 1, lingering : 1, reading : 1, writing : 1,
        is_dirty : 1, addr_counted : 1, wrote : 1; /* wrote: a write completed (ws.c clears it) */
    char addr[NET__ADDR_LEN];
    union {
        struct net__http *http; /* owned; freed at the upgrade (net__http_free) */
        struct net__ws ws;
    } u;
};

/* The server. Ownership: the caller of net_server_start; it frees itself
 * after net_server_close once every handle (its own and its conns') closed. */
struct net_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_prepare_t prepare; /* flushes dirty conns before the loop blocks */
    uv_check_t check;     /* flushes dirty conns right after I/O callbacks */
    uv_timer_t sweep;     /* parks quiet WebSockets (net__ws_sweep) */
    uv_timer_t timer;     /* every conn's timeout (timer.c) */
    uv_timer_t retry;     /* takes an accepted conn that found no memory */
    struct net__tlist tq[NET__TQ_N];
    net__timeout_cb on_timeout; /* what an expired timeout does (timer.c) */
    uint64_t timer_due;         /* what timer is armed for, if timer_armed */
    struct net_server_opts opts;
    struct net__link conns; /* conns whose handles are not closed yet */
    struct net__link dirty; /* conns with output or input to process */
    map_t per_addr;         /* peer address -> open conns from it (in the pointer) */
    size_t n_open, n_ws, n_alive;
    size_t n_parked_new; /* parked since the last sweep (malloc_trim) */
    int handles;         /* listener, prepare, check not yet closed */
    int port;
    uint16_t close_code;
    unsigned listening : 1, closing : 1, flush_armed : 1, has_prepare : 1, has_check : 1,
        has_sweep : 1, has_timer : 1, timer_armed : 1, has_retry : 1;
};

/* server.c */
/* Frees the server once it is closing and every handle has closed. */
void net__server_maybe_free(net_server *s);
/* Uncounts a dropped conn from its address's share (net_server_opts
 * max_conns_per_addr). */
void net__addr_release(net_conn *c);

/* conn.c */
void net__conn_mark(net_conn *c);
/* Makes room for n more bytes of output: 0 or -ENOMEM. */
int net__out_reserve(net_conn *c, size_t n);
int net__out_append(net_conn *c, const void *data, size_t len);
int net__out_printf(net_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t net__out_pending(const net_conn *c);
void net__conn_drop(net_conn *c);
void net__conn_finish(net_conn *c);

/* timer.c */
void net__timers_init(net_server *s, net__timeout_cb expired);
void net__timers_run(uv_timer_t *t);
/* Sets c's timeout (replacing any), or clears it with NET__T_NONE. */
void net__timer_set(net_conn *c, enum net__timer_mode mode, uint64_t ms);
/* Takes c off the timer lists (a conn being dropped). */
void net__timer_clear(net_conn *c);

/* conn.c */
void net__update_reading(net_conn *c);
void net__rbuf_release(net_conn *c);

/* http.c */
int net__http_init(net_conn *c);
void net__http_free(net_conn *c);
void net__http_input(net_conn *c);
void net__http_timeout(net_conn *c);
void net__http_server_closing(net_conn *c);
int net__http_wants_read(const net_conn *c);
/* Answers with the JSON error shape (extra: NULL or header lines) and
 * closes after the write. */
void net__http_error(net_conn *c, int status, const char *code, const char *message,
                     const char *extra);

/* A streamed body is open: started and neither ended nor answered. */
int net__http_body_open(const net_conn *c);
/* Ends an open streamed body with status (on_end), e.g. when the conn drops. */
void net__http_body_abort(net_conn *c, int status);
/* Writes the status line and headers (Content-Length: len), no body. */
int net__http_head(net_conn *c, int status, const char *ctype, const char *extra, uint64_t len,
                   int *keep);
/* The answer is complete: forget the request, keep the conn alive or close. */
void net__http_answered(net_conn *c, int keep);

/* http_file.c */
struct net__fsend;
/* Reads the next chunk of a file answer once the output drained (pump). */
void net__fsend_pump(net_conn *c);
void net__fsend_free(net_conn *c);

/* http_req.c */
/* Writes {"error":code,"message":message} (both plain ASCII, no quotes)
 * into out; returns the length or -ENOSPC. */
int net__json_error(char *out, size_t size, const char *code, const char *message);
/* Decodes %XX escapes (and '+' as space when plus_is_space) from in into out
 * (which may alias in; it never grows). -EINVAL on a bad escape or %00. */
int net__pct_decode(const char *in, size_t len, char *out, size_t *out_len, int plus_is_space);
/* Splits a request target into a decoded path and a raw query, copying both
 * into pool. -EINVAL for a bad target, -ENOMEM. */
int net__parse_target(pool_t *pool, const char *url, size_t len, duet_slice *path,
                      duet_slice *query);
/* [p, end) without leading and trailing spaces and tabs. */
duet_slice net__trim(const char *p, const char *end);
/* Whether the comma-separated header value contains token (any case). */
int net__has_token(const duet_slice *value, const char *token);

/* ws.c */
void net__ws_input(net_conn *c);
void net__ws_timeout(net_conn *c);
void net__ws_free(net_conn *c);
void net__ws_drained(net_conn *c);
/* Parks the connection if it was quiet since the last sweep. */
void net__ws_sweep(net_conn *c);
void net__ws_begin_close(net_conn *c, uint16_t code, const char *reason);
int net__ws_wants_read(const net_conn *c);

/* ws_pure.c */
/* Writes the header of an unmasked final frame with a payload of len bytes
 * (the shortest length form, RFC 6455 5.2); returns its size, 2 to 10. */
size_t net__ws_frame_header(uint8_t out[10], unsigned opcode, uint64_t len);
/* Our ping: a final unmasked frame whose 4-byte payload is id (big-endian).
 * Only a pong echoing the current id counts (an unsolicited pong, which RFC
 * 6455 allows, says nothing about whether the peer reads). */
#define NET__WS_PING_LEN 6
void net__ws_ping_frame(uint8_t out[NET__WS_PING_LEN], uint32_t id);
int net__ws_pong_matches(uint32_t id, const uint8_t *payload, size_t len);
/* The same for a payload still masked with mask[4]. */
int net__ws_pong_matches_masked(uint32_t id, const uint8_t mask[4], const uint8_t *payload,
                                size_t len);
/* Sec-WebSocket-Accept for a client key: 28 characters and a NUL. */
int net__ws_accept_key(const char *key, size_t len, char out[29]);

/* static.c */
#define NET__ETAG_LEN 18 /* '"', 16 hex digits, '"' */
/* The Content-Type for a file name (by extension). */
const char *net__content_type(const char *path);
/* Whether gzip can shrink a body of this type (text, JSON, SVG). */
int net__compressible(const char *type);
/* A strong ETag for a body: a quoted hash of its bytes. */
void net__etag(const void *data, size_t len, char out[NET__ETAG_LEN + 1]);
/* Whether an If-None-Match value matches etag (weak comparison, or "*"). */
int net__etag_match(const duet_slice *inm, const char *etag);
/* Whether an Accept-Encoding value accepts gzip (by name or "*", q > 0). */
int net__accepts_gzip(const duet_slice *ae);
/* Compresses in into a malloc'd gzip stream; 0, -ENOMEM or -EIO. */
int net__gzip(const void *in, size_t len, char **out, size_t *out_len);

/* An incremental UTF-8 validator (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF). Start from NET__UTF8_ACCEPT; feed returns
 * NET__UTF8_REJECT once the input is invalid; a complete message must end in
 * NET__UTF8_ACCEPT. */
#define NET__UTF8_ACCEPT 0u
#define NET__UTF8_REJECT 1u
uint32_t net__utf8_feed(uint32_t state, const uint8_t *p, size_t len);

#endif
