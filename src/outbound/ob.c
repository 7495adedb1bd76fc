/* ob.c - libcurl's multi-socket API on the libuv loop.
 *
 * libcurl tells us which sockets to watch (on_socket) and when to call it
 * back for its timeouts (on_curl_timer); we watch them with a uv_poll_t
 * each and one uv_timer_t, and hand every event back with
 * curl_multi_socket_action(). Finished transfers are collected with
 * curl_multi_info_read() after each action (check_done).
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/dlist.h"
#include "../base/duet.h"
#include "ob.h"

#define DEFAULT_INFLIGHT 64
#define DEFAULT_BODY     (64 * 1024)
#define DEFAULT_TIMEOUT  30000
#define MAX_HEADER_LINE  8192

/* A socket libcurl asked us to watch. Ownership: linked in the client's
 * socks list until closed; freed in its close callback. */
struct ob_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    ob_client *c;
    struct ob_sock *prev, *next;
};

/* A request in flight. Ownership: linked in the client's reqs list; owns
 * its easy handle, header list, response body and wanted header names;
 * freed right after its completion callback. */
struct ob_req {
    CURL *easy;
    struct curl_slist *hdrs;
    ob_client *c;
    ob_done_cb cb;
    void *ud;
    uint8_t *body;
    size_t len, cap, max;
    int too_big;
    int denied; /* a connection was refused by public_only */
    char *want[OB_MAX_WANT];
    size_t n_want;
    char errbuf[CURL_ERROR_SIZE];
    struct ob_req *prev, *next;
    /* A file body (ob_request.body_file): its fd (-1: none; owned), the
     * next offset to read and the bytes left to send. */
    int fd;
    uint64_t foff, fleft;
};

/* Ownership: see ob.h; ca_file is its own copy. */
struct ob_client {
    uv_loop_t *loop;
    CURLM *multi; /* NULL once closed */
    uv_timer_t timer;
    struct ob_opts opts;
    char *ca_file;
    struct ob_req *reqs;
    size_t n_reqs;
    struct ob_sock *socks;
    int closing;
    int pending_closes; /* handles whose close callback has not run yet */
    void (*closed)(void *ud);
    void *closed_ud;
};

static void check_done(ob_client *c);

/* ---- freeing ------------------------------------------------------------- */

static void maybe_freed(ob_client *c)
{
    if (!c->closing || c->pending_closes > 0)
        return;
    void (*closed)(void *) = c->closed;
    void *ud = c->closed_ud;
    free(c->ca_file);
    free(c);
    curl_global_cleanup();
    if (closed)
        closed(ud);
}

static void on_handle_closed(uv_handle_t *h)
{
    ob_client *c = h->data;
    if (h->type == UV_POLL)
        free(h); /* the poll handle is the first member of its ob_sock */
    c->pending_closes--;
    maybe_freed(c);
}

static void sock_close(ob_client *c, struct ob_sock *k)
{
    DLIST_UNLINK(c->socks, k);
    k->poll.data = c;
    c->pending_closes++;
    uv_close((uv_handle_t *)&k->poll, on_handle_closed);
}

static void req_free(struct ob_req *r)
{
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->hdrs);
    for (size_t i = 0; i < r->n_want; i++)
        free(r->want[i]);
    free(r->body);
    if (r->fd >= 0)
        close(r->fd);
    free(r);
}

/* ---- libcurl's callbacks ------------------------------------------------- */

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct ob_sock *k = (struct ob_sock *)h;
    ob_client *c = k->c;
    int flags = 0, running;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    /* A failure here is a transfer's, and check_done reports it. */
    (void)curl_multi_socket_action(c->multi, k->fd, flags, &running);
    check_done(c);
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    ob_client *c = userp;
    struct ob_sock *k = socketp;
    if (what == CURL_POLL_REMOVE) {
        /* libcurl forgets the socket's pointer with the socket itself. */
        if (k)
            sock_close(c, k);
        return 0;
    }
    if (c->closing)
        return -1;
    if (!k) {
        if (!(k = calloc(1, sizeof(*k))))
            return -1;
        if (uv_poll_init_socket(c->loop, &k->poll, s) != 0) {
            free(k);
            return -1;
        }
        k->fd = s, k->c = c;
        DLIST_LINK(c->socks, k);
        if (curl_multi_assign(c->multi, s, k) != CURLM_OK) {
            sock_close(c, k);
            return -1;
        }
    }
    int ev = 0;
    if (what & CURL_POLL_IN)
        ev |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        ev |= UV_WRITABLE;
    return uv_poll_start(&k->poll, ev, on_poll) == 0 ? 0 : -1;
}

static void on_timer(uv_timer_t *t)
{
    ob_client *c = t->data;
    int running;
    (void)curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

/* libcurl asks to be called back in timeout_ms (-1: never). It must not be
 * called from here, so even 0 goes through the timer. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    ob_client *c = userp;
    if (c->closing)
        return 0;
    if (timeout_ms < 0)
        return uv_timer_stop(&c->timer) == 0 ? 0 : -1;
    return uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0) == 0 ? 0 : -1;
}

static size_t on_write(char *data, size_t size, size_t n, void *ud)
{
    struct ob_req *r = ud;
    size_t add = size * n;
    if (add > r->max - r->len) {
        r->too_big = 1;
        return 0; /* makes libcurl fail the transfer with CURLE_WRITE_ERROR */
    }
    if (r->len + add > r->cap) {
        size_t cap = r->cap ? r->cap : 1024;
        while (cap < r->len + add)
            cap *= 2;
        uint8_t *b = realloc(r->body, cap);
        if (!b)
            return 0;
        r->body = b, r->cap = cap;
    }
    memcpy(r->body + r->len, data, add);
    r->len += add;
    return add;
}

/* libcurl opens every socket through here, after resolving: with
 * public_only, an address that is not public is never connected to. */
static curl_socket_t on_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct ob_req *r = ud;
    if (r->c->opts.public_only && !ob_addr_public(&addr->addr)) {
        r->denied = 1;
        return CURL_SOCKET_BAD;
    }
    int fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

/* ---- completion ---------------------------------------------------------- */

static int map_error(const struct ob_req *r, CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
        return r->denied ? -EACCES : -ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return -EHOSTUNREACH;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
        return -EPROTO;
    case CURLE_WRITE_ERROR:
        return r->too_big ? -EMSGSIZE : -EIO;
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    default:
        return -EIO;
    }
}

/* Hands the outcome to the caller and frees the request. The request is
 * out of the list and the multi handle first, so the callback may start
 * new requests or close the client. */
static void req_finish(ob_client *c, struct ob_req *r, int err, CURLcode rc)
{
    struct ob_header hv[OB_MAX_WANT];
    struct ob_response res = {.err = err, .detail = "", .headers = hv, .n_headers = r->n_want};
    DLIST_UNLINK(c->reqs, r);
    c->n_reqs--;
    /* Fails only for a handle that is not in the multi: nothing to undo. */
    if (c->multi)
        (void)curl_multi_remove_handle(c->multi, r->easy);
    if (err == 0 && rc != CURLE_OK)
        res.err = map_error(r, rc);
    if (res.err == 0) {
        if (curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.status) != CURLE_OK)
            res.err = -EIO;
        res.body = r->body, res.body_len = r->len;
    }
    if (res.err)
        res.detail = r->errbuf[0] ? r->errbuf : err ? "cancelled" : curl_easy_strerror(rc);
    for (size_t i = 0; i < r->n_want; i++) {
        struct curl_header *h;
        hv[i].name = r->want[i];
        hv[i].value = NULL;
        /* The value stays valid until the easy handle is cleaned up. */
        if (res.err == 0 &&
            curl_easy_header(r->easy, r->want[i], 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
            hv[i].value = h->value;
    }
    r->cb(r->ud, &res);
    req_free(r);
}

static void check_done(ob_client *c)
{
    CURLMsg *m;
    int left;
    while (!c->closing && (m = curl_multi_info_read(c->multi, &left))) {
        struct ob_req *r = NULL;
        if (m->msg != CURLMSG_DONE)
            continue;
        if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r) != CURLE_OK || !r)
            continue; /* not ours: cannot happen, every easy handle is */
        req_finish(c, r, 0, m->data.result);
    }
}

/* ---- the client ---------------------------------------------------------- */

int ob_new(uv_loop_t *loop, const struct ob_opts *opts, ob_client **out)
{
    int rc = -ENOMEM;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -EIO;
    ob_client *c = calloc(1, sizeof(*c));
    if (!c)
        goto err;
    c->loop = loop;
    c->opts = opts ? *opts : (struct ob_opts){0};
    if (!c->opts.max_inflight)
        c->opts.max_inflight = DEFAULT_INFLIGHT;
    if (!c->opts.max_req_body)
        c->opts.max_req_body = DEFAULT_BODY;
    if (!c->opts.max_resp_body)
        c->opts.max_resp_body = DEFAULT_BODY;
    if (c->opts.ca_file && !(c->ca_file = strdup(c->opts.ca_file)))
        goto err;
    c->opts.ca_file = c->ca_file;
    if (!(c->multi = curl_multi_init()))
        goto err;
    rc = -EIO;
    if (curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer) != CURLM_OK ||
        curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK)
        goto err;
    /* Last: nothing can fail after it, so err never has a handle to close. */
    if ((rc = uv_timer_init(loop, &c->timer)) != 0)
        goto err;
    c->timer.data = c;
    *out = c;
    return 0;
err:
    if (c) {
        if (c->multi)
            curl_multi_cleanup(c->multi);
        free(c->ca_file);
        free(c);
    }
    curl_global_cleanup();
    return rc;
}

size_t ob_inflight(const ob_client *c)
{
    return c->n_reqs;
}

static int token_ok(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (*s <= 0x20 || *s >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", *s))
            return 0;
    return 1;
}

static int value_ok(const char *s)
{
    for (; s && *s; s++)
        if ((*s < 0x20 && *s != '\t') || *s == 0x7f)
            return 0;
    return s != NULL;
}

static int validate(const ob_client *c, const struct ob_request *r)
{
    if (!r->cb || !token_ok(r->method) || !r->url ||
        (strncasecmp(r->url, "http://", 7) != 0 && strncasecmp(r->url, "https://", 8) != 0) ||
        (r->n_headers && !r->headers) || r->n_want > OB_MAX_WANT || (r->n_want && !r->want) ||
        (r->body_len && !r->body) || (r->body_file && r->body))
        return -EINVAL;
    for (size_t i = 0; i < r->n_headers; i++)
        if (!token_ok(r->headers[i].name) || !value_ok(r->headers[i].value) ||
            strlen(r->headers[i].name) + strlen(r->headers[i].value) + 3 > MAX_HEADER_LINE)
            return -EINVAL;
    for (size_t i = 0; i < r->n_want; i++)
        if (!token_ok(r->want[i]))
            return -EINVAL;
    if (r->body_len > c->opts.max_req_body)
        return -EMSGSIZE;
    return 0;
}

/* The request's headers as libcurl's list; "Expect:" turns off its
 * 100-continue wait for bodies. */
static int build_headers(struct ob_req *q, const struct ob_request *r)
{
    char line[MAX_HEADER_LINE];
    struct curl_slist *l;
    for (size_t i = 0; i < r->n_headers; i++) {
        /* "Name;" is how libcurl sends a header with an empty value. */
        if (r->headers[i].value[0])
            snprintf(line, sizeof(line), "%s: %s", r->headers[i].name, r->headers[i].value);
        else
            snprintf(line, sizeof(line), "%s;", r->headers[i].name);
        if (!(l = curl_slist_append(q->hdrs, line)))
            return -ENOMEM;
        q->hdrs = l;
    }
    if (!(l = curl_slist_append(q->hdrs, "Expect:")))
        return -ENOMEM;
    q->hdrs = l;
    return 0;
}

#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (curl_easy_setopt(e, opt, val) != CURLE_OK)                                             \
            return -EIO;                                                                           \
    } while (0)

/* libcurl asks for the next piece of a file body: read where the last
 * read stopped, never past the length given. A short file aborts. */
static size_t on_read_file(char *buf, size_t size, size_t n, void *ud)
{
    struct ob_req *r = ud;
    size_t want = size * n;
    if ((uint64_t)want > r->fleft)
        want = (size_t)r->fleft;
    if (want == 0)
        return 0;
    ssize_t got;
    do
        got = pread(r->fd, buf, want, (off_t)r->foff);
    while (got < 0 && errno == EINTR);
    if (got <= 0)
        return CURL_READFUNC_ABORT; /* fails the transfer: -EIO */
    r->foff += (uint64_t)got, r->fleft -= (uint64_t)got;
    return (size_t)got;
}

/* Opens a file body and checks that it holds offset + length bytes. */
static int open_file_body(struct ob_req *q, const struct ob_request *r)
{
    struct stat st;
    if ((q->fd = open(r->body_file, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    if (fstat(q->fd, &st) != 0)
        return -errno;
    if (!S_ISREG(st.st_mode) || r->body_file_off > (uint64_t)st.st_size ||
        r->body_file_len > (uint64_t)st.st_size - r->body_file_off)
        return -EINVAL;
    q->foff = r->body_file_off, q->fleft = r->body_file_len;
    return 0;
}

static int setup_easy(ob_client *c, struct ob_req *q, const struct ob_request *r)
{
    CURL *e = q->easy;
    SET(CURLOPT_URL, r->url);
    SET(CURLOPT_PRIVATE, q);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_TIMEOUT_MS, (long)(r->timeout_ms ? r->timeout_ms : DEFAULT_TIMEOUT));
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_WRITEDATA, q);
    SET(CURLOPT_ERRORBUFFER, q->errbuf);
    SET(CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    SET(CURLOPT_OPENSOCKETDATA, q);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->ca_file)
        SET(CURLOPT_CAINFO, c->ca_file);
    SET(CURLOPT_HTTPHEADER, q->hdrs);
    if (r->body_file) {
        SET(CURLOPT_UPLOAD, 1L);
        SET(CURLOPT_READFUNCTION, on_read_file);
        SET(CURLOPT_READDATA, q);
        SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_file_len);
        if (strcmp(r->method, "PUT") != 0)
            SET(CURLOPT_CUSTOMREQUEST, r->method);
        return 0;
    }
    if (r->body) {
        /* The size first: COPYPOSTFIELDS copies that many bytes. */
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        SET(CURLOPT_COPYPOSTFIELDS, (const char *)r->body);
    }
    if (strcmp(r->method, "HEAD") == 0)
        SET(CURLOPT_NOBODY, 1L);
    else if (strcmp(r->method, r->body ? "POST" : "GET") != 0)
        SET(CURLOPT_CUSTOMREQUEST, r->method);
    return 0;
}

int ob_request(ob_client *c, const struct ob_request *r)
{
    if (c->closing)
        return -ECANCELED;
    int rc = validate(c, r);
    if (rc)
        return rc;
    if (c->n_reqs >= c->opts.max_inflight)
        return DUET_EBUSY;
    struct ob_req *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->c = c, q->cb = r->cb, q->ud = r->ud, q->max = c->opts.max_resp_body;
    q->fd = -1;
    if (r->body_file && (rc = open_file_body(q, r)) != 0)
        goto err;
    rc = -ENOMEM;
    for (; q->n_want < r->n_want; q->n_want++)
        if (!(q->want[q->n_want] = strdup(r->want[q->n_want])))
            goto err;
    if (!(q->easy = curl_easy_init()) || (rc = build_headers(q, r)) != 0 ||
        (rc = setup_easy(c, q, r)) != 0)
        goto err;
    if (curl_multi_add_handle(c->multi, q->easy) != CURLM_OK) {
        rc = -EIO;
        goto err;
    }
    DLIST_LINK(c->reqs, q);
    c->n_reqs++;
    return 0;
err:
    req_free(q);
    return rc ? rc : -ENOMEM;
}

void ob_close(ob_client *c, void (*closed)(void *ud), void *ud)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->closed = closed, c->closed_ud = ud;
    while (c->reqs)
        req_finish(c, c->reqs, -ECANCELED, CURLE_OK);
    /* Closes the connections it kept; their sockets come back through
     * on_socket as CURL_POLL_REMOVE while c is still whole. */
    (void)curl_multi_cleanup(c->multi); /* fails only for a bad handle */
    c->multi = NULL;
    while (c->socks)
        sock_close(c, c->socks);
    c->pending_closes++;
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}
