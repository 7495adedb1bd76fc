/* ob.h - outbound HTTP(S) requests on duetd's libuv loop: libcurl's
 * multi-socket interface driven by a uv_poll_t per socket and one
 * uv_timer_t. Web Push sends through it (and S3 uploads later).
 *
 * Everything runs on the loop thread; nothing blocks it (libcurl resolves
 * names on its own thread). HTTPS always checks the peer's certificate and
 * name; `ca_file` replaces the system's CA bundle (tests). Redirects are
 * not followed and only http and https are spoken.
 *
 * Completion callbacks run on the loop, never from inside ob_request(),
 * exactly once per started request: with the response, or with an error
 * (the request failed, timed out, or the client was closed).
 */
#ifndef DUET_OB_H
#define DUET_OB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

/* Ownership: opaque; owns the curl multi handle, its easy handles, the poll
 * handles and the timer. Freed after ob_close()'s callback. */
typedef struct ob_client ob_client;

struct ob_opts {
    size_t max_inflight;  /* requests at once; more answer DUET_EBUSY (0: 64) */
    size_t max_req_body;  /* request body bound (0: 64 KiB) */
    size_t max_resp_body; /* response body bound; longer fails -EMSGSIZE (0: 64 KiB) */
    const char *ca_file;  /* PEM bundle instead of the system's, or NULL */
    /* Refuse to connect to addresses that are not public (loopback,
     * private, link-local, ...), after name resolution: push endpoints come
     * from browsers, and must not reach the server's own network. Off only
     * for tests against loopback. */
    int public_only;
};

/* A header, borrowed. */
struct ob_header {
    const char *name;
    const char *value;
};

struct ob_response {
    /* 0 when an HTTP response arrived (any status); otherwise -ETIMEDOUT,
     * -ECONNREFUSED, -EHOSTUNREACH (name not resolved), -EACCES (every
     * address not public, with public_only), -EPROTO (TLS or
     * certificate), -EMSGSIZE (body over the bound), -ECANCELED (client
     * closed), -EIO (anything else). */
    int err;
    const char *detail; /* libcurl's message when err != 0, else "" */
    long status;
    /* The response headers asked for in ob_request.want, in that order;
     * value NULL when absent. */
    const struct ob_header *headers;
    size_t n_headers;
    const uint8_t *body;
    size_t body_len;
};

/* Everything in the response is valid only during the call. */
typedef void (*ob_done_cb)(void *ud, const struct ob_response *res);

/* One request; all of it is copied by ob_request(), so it may live on the
 * caller's stack. */
struct ob_request {
    const char *method; /* "GET", "POST", "PUT", "DELETE", "HEAD", ... */
    const char *url;    /* http:// or https:// */
    const struct ob_header *headers;
    size_t n_headers;
    const void *body; /* NULL for none */
    size_t body_len;
    uint32_t timeout_ms;     /* the whole exchange, connect included (0: 30 s) */
    const char *const *want; /* names of response headers to hand back */
    size_t n_want;
    ob_done_cb cb;
    void *ud;
    /* A body streamed from a file instead of `body` (which must then be
     * NULL): body_file_len bytes of the regular file body_file from
     * body_file_off, read by libcurl's read callback as it sends, never held
     * whole; not bounded by max_req_body. The file is opened by
     * ob_request(): -EINVAL when it is shorter than offset + length, a
     * negated errno when it cannot be opened. Read failures fail the
     * request with -EIO. */
    const char *body_file;
    uint64_t body_file_off;
    uint64_t body_file_len;
};

#define OB_MAX_WANT 8

/* Whether an IPv4 or IPv6 address is a public unicast address (what
 * public_only allows); IPv4-mapped IPv6 addresses are judged as IPv4. */
int ob_addr_public(const struct sockaddr *sa);

int ob_new(uv_loop_t *loop, const struct ob_opts *opts, ob_client **out);

/* Starts a request. 0, or (and then cb is never called): -EINVAL (bad
 * method, URL or header), -EMSGSIZE (body over the bound), DUET_EBUSY (at
 * max_inflight), -ECANCELED (closing), -ENOMEM, -EIO (libcurl refused). */
int ob_request(ob_client *c, const struct ob_request *r);

size_t ob_inflight(const ob_client *c);

/* Fails every request in flight with -ECANCELED (their callbacks run
 * before this returns), closes the handles, and calls closed (if not NULL)
 * once everything is freed. Call once. */
void ob_close(ob_client *c, void (*closed)(void *ud), void *ud);

#endif
