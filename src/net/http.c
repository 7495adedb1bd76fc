/* http.c - HTTP/1.1 requests on top of hparse: assembly, limits, keep-alive,
 * pipelining, and the helpers the application uses to read a request and
 * answer it.
 *
 * One request at a time: hparse pauses after each message, reading stops,
 * and the next request is parsed only after net_respond(). Responses thus
 * leave in request order without any queue of requests.
 */
#include "net_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- request assembly (hparse callbacks) ----------------------------------- */

/* Growing arrays live in the request pool: the old copy is simply left there
 * (at most doubling the footprint) and everything goes at pool_clear. */
static int grow(pool_t *pool, void **buf, size_t used, size_t *cap, size_t need, size_t min)
{
    if (*cap - used >= need)
        return 0;
    size_t ncap = *cap ? *cap * 2 : min;
    while (ncap - used < need)
        ncap *= 2;
    void *p = pool_alloc(pool, ncap);
    if (p == NULL)
        return -ENOMEM;
    if (used > 0)
        memcpy(p, *buf, used);
    *buf = p;
    *cap = ncap;
    return 0;
}

static int hbuf_add(struct net__http *h, const char *at, size_t len)
{
    if (grow(&h->pool, (void **)&h->hbuf, h->hlen, &h->hcap, len, 512) < 0) {
        h->err_status = 500;
        return -1;
    }
    memcpy(h->hbuf + h->hlen, at, len);
    h->hlen += len;
    return 0;
}

static int on_url(void *ud, const char *at, size_t len)
{
    struct net__http *h = ((net_conn *)ud)->u.http;
    h->url_len += len;
    return hbuf_add(h, at, len);
}

static int on_header_field(void *ud, const char *at, size_t len)
{
    struct net__http *h = ((net_conn *)ud)->u.http;
    /* hparse has checked that the name is a token. */
    if (h->n_hoff == 0 || h->in_value) { /* a new header, not a continued name */
        size_t used = h->n_hoff * sizeof(*h->hoff), cap = h->cap_hoff * sizeof(*h->hoff);
        if (grow(&h->pool, (void **)&h->hoff, used, &cap, sizeof(*h->hoff), 16 * sizeof(*h->hoff)) <
            0) {
            h->err_status = 500;
            return -1;
        }
        h->cap_hoff = cap / sizeof(*h->hoff);
        h->hoff[h->n_hoff++] = (struct net__hoff){h->hlen, 0, h->hlen, 0};
        h->in_value = 0;
    }
    h->hoff[h->n_hoff - 1].name_len += len;
    return hbuf_add(h, at, len);
}

static int on_header_value(void *ud, const char *at, size_t len)
{
    struct net__http *h = ((net_conn *)ud)->u.http;
    struct net__hoff *o = &h->hoff[h->n_hoff - 1];
    if (!h->in_value) {
        h->in_value = 1;
        o->value = h->hlen;
    }
    o->value_len += len;
    return hbuf_add(h, at, len);
}

/* The headers are complete, so hbuf no longer moves: slices can point in. */
static int build_headers(struct net__http *h)
{
    h->req.headers = pool_alloc(&h->pool, (h->n_hoff ? h->n_hoff : 1) * sizeof(*h->req.headers));
    if (h->req.headers == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < h->n_hoff; i++) {
        const struct net__hoff *o = &h->hoff[i];
        h->req.headers[i].name = (duet_slice){h->hbuf + o->name, o->name_len};
        h->req.headers[i].value = net__trim(h->hbuf + o->value, h->hbuf + o->value + o->value_len);
    }
    h->req.n_headers = h->n_hoff;
    return 0;
}

static int on_headers_complete(void *ud)
{
    net_conn *c = ud;
    struct net__http *h = c->u.http;
    const struct net_server_opts *o = &c->srv->opts;
    int v = hparse_version(h->parser);
    if (v != 10 && v != 11) {
        h->err_status = 400;
        return -1;
    }
    h->version = (uint8_t)v;
    uint64_t cl = hparse_content_length(h->parser);
    if (o->stream_prefix != NULL && strcmp(hparse_method(h->parser), "PATCH") == 0 &&
        h->url_len >= strlen(o->stream_prefix) &&
        memcmp(h->hbuf, o->stream_prefix, strlen(o->stream_prefix)) == 0) {
        /* The app gets the request now and reads the body as it likes. */
        if (build_headers(h) < 0) {
            h->err_status = 500;
            return -1;
        }
        h->keep_alive = (unsigned)hparse_keep_alive(h->parser);
        h->streaming = 1;
        h->stream_len = cl;
        const duet_slice *ex = net_header(&h->req, "expect");
        if (v == 11 && ex != NULL && ex->len == 12 &&
            strncasecmp(ex->base, "100-continue", 12) == 0 &&
            net__out_append(c, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0) {
            h->err_status = 500;
            return -1;
        }
        return HPARSE_STREAM;
    }
    if (cl != UINT64_MAX && cl > o->max_body_bytes) {
        h->err_status = 413; /* refused before a byte of it is read */
        return -1;
    }
    if (build_headers(h) < 0) {
        h->err_status = 500;
        return -1;
    }
    h->keep_alive = (unsigned)hparse_keep_alive(h->parser);
    h->upgrade = (unsigned)hparse_upgrade(h->parser);
    h->head = strcmp(hparse_method(h->parser), "HEAD") == 0;
    if (cl != UINT64_MAX && cl > 0 &&
        grow(&h->pool, (void **)&h->body, 0, &h->body_cap, (size_t)cl, (size_t)cl) < 0) {
        h->err_status = 500;
        return -1;
    }
    const duet_slice *expect = net_header(&h->req, "expect");
    if (v == 11 && expect != NULL && expect->len == 12 &&
        strncasecmp(expect->base, "100-continue", 12) == 0 &&
        net__out_append(c, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0) {
        h->err_status = 500;
        return -1;
    }
    return 0;
}

static int on_body(void *ud, const char *at, size_t len)
{
    net_conn *c = ud;
    struct net__http *h = c->u.http;
    if (h->streaming) {
        /* body_feed never feeds more than the window. */
        h->body_window -= len < h->body_window ? len : h->body_window;
        if (h->body_data != NULL)
            h->body_data(h->body_ud, at, len);
        return 0;
    }
    if (len > c->srv->opts.max_body_bytes - h->body_len) {
        h->err_status = 413; /* chunked, so only known while reading */
        return -1;
    }
    if (grow(&h->pool, (void **)&h->body, h->body_len, &h->body_cap, len, 1024) < 0) {
        h->err_status = 500;
        return -1;
    }
    memcpy(h->body + h->body_len, at, len);
    h->body_len += len;
    return 0;
}

static int on_message_complete(void *ud)
{
    (void)ud;
    return 0; /* dispatched once hparse_feed returns HPARSE_DONE */
}

static const struct hparse_cb parse_cb = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- responses --------------------------------------------------------------- */

static const struct {
    int status;
    const char *text;
} reasons[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {204, "No Content"},
    {206, "Partial Content"},
    {307, "Temporary Redirect"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {422, "Unprocessable Content"},
    {426, "Upgrade Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {503, "Service Unavailable"},
    {507, "Insufficient Storage"},
};

static const char *reason(int status)
{
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].status == status)
            return reasons[i].text;
    return "Unknown";
}

static int write_response(net_conn *c, int status, const char *ctype, const char *extra,
                          const void *body, size_t len, int keep, int head)
{
    struct net__http *h = c->u.http;
    const char *conn_hdr = !keep              ? "Connection: close\r\n"
                           : h->version == 10 ? "Connection: keep-alive\r\n"
                                              : "";
    const char *common = c->srv->opts.headers ? c->srv->opts.headers : "";
    /* A 304 has no body; a Content-Length there would have to be the 200's. */
    char clen[40] = "";
    if (status != 304)
        snprintf(clen, sizeof(clen), "Content-Length: %zu\r\n", len);
    int r = net__out_printf(c, "HTTP/1.1 %d %s\r\n%s%s%s%s%s%s%s\r\n", status, reason(status),
                            ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "",
                            common, extra ? extra : "", clen, conn_hdr);
    if (r == 0 && !head)
        r = net__out_append(c, body, len);
    return r;
}

/* Forgets the answered request: its memory, and whether one is in flight. */
static void request_reset(struct net__http *h)
{
    pool_clear(&h->pool);
    memset(&h->req, 0, sizeof(h->req));
    h->hbuf = NULL;
    h->hlen = h->hcap = h->url_len = 0;
    h->hoff = NULL;
    h->n_hoff = h->cap_hoff = 0;
    h->body = NULL;
    h->body_len = h->body_cap = 0;
    h->in_value = h->keep_alive = h->upgrade = h->head = h->in_flight = 0;
    h->err_status = 0;
    h->streaming = h->body_done = 0;
    h->body_data = NULL;
    h->body_end = NULL;
    h->body_ud = NULL;
    h->body_window = 0;
    h->stream_len = 0;
}

int net__http_body_open(const net_conn *c)
{
    const struct net__http *h = c->u.http;
    return h != NULL && h->streaming && !h->body_done && h->body_end != NULL;
}

void net__http_body_abort(net_conn *c, int status)
{
    struct net__http *h = c->u.http;
    if (!net__http_body_open(c))
        return;
    net_body_end_cb end = h->body_end;
    h->body_done = 1;
    h->body_data = NULL;
    h->body_end = NULL;
    end(h->body_ud, status);
}

void net__http_error(net_conn *c, int status, const char *code, const char *message,
                     const char *extra)
{
    if (c->closed || c->is_ws || (c->finishing && !c->u.http->in_flight))
        return;
    net__http_body_abort(c, -EBADMSG);
    if (c->closed)
        return;
    char body[512], hdr[512];
    int n = net__json_error(body, sizeof(body), code, message);
    if (n < 0)
        n = net__json_error(body, sizeof(body), code, "error");
    int hn = snprintf(hdr, sizeof(hdr), "%s%s", NET_JSON_HEADERS, extra ? extra : "");
    request_reset(c->u.http);
    if (hn < 0 || (size_t)hn >= sizeof(hdr) ||
        write_response(c, status, "application/json", hdr, body, (size_t)n, 0, 0) < 0) {
        net__conn_drop(c);
        return;
    }
    net__timer_set(c, NET__T_NONE, 0);
    net__conn_finish(c);
}

void net_respond(net_conn *c, int status, const char *content_type, const char *extra_headers,
                 const void *body, size_t len)
{
    if (c->closed || c->is_ws || !c->u.http->in_flight)
        return;
    struct net__http *h = c->u.http;
    /* A refused upgrade closes: what follows may already be WebSocket frames;
     * so does an answer before a streamed body was read whole. */
    int keep = h->keep_alive && !h->upgrade && !h->req.is_upgrade && !c->srv->closing && !c->eof &&
               !(h->streaming && !h->body_done);
    if (write_response(c, status, content_type, extra_headers, body, len, keep, h->head) < 0) {
        net__conn_drop(c);
        return;
    }
    net__http_answered(c, keep);
}

int net__http_head(net_conn *c, int status, const char *ctype, const char *extra, uint64_t len,
                   int *keep)
{
    struct net__http *h = c->u.http;
    *keep = h->keep_alive && !h->upgrade && !h->req.is_upgrade && !c->srv->closing && !c->eof &&
            !(h->streaming && !h->body_done);
    return write_response(c, status, ctype, extra, "", (size_t)len, *keep, 1);
}

void net__http_answered(net_conn *c, int keep)
{
    struct net__http *h = c->u.http;
    request_reset(h);
    if (!keep) {
        net__conn_finish(c);
        return;
    }
    hparse_resume(h->parser);
    const struct net_server_opts *o = &c->srv->opts;
    if (c->roff < c->rlen)
        net__timer_set(c, NET__T_HEADER, o->header_timeout_ms);
    else
        net__timer_set(c, NET__T_IDLE, o->idle_timeout_ms);
    net__conn_mark(c); /* parse what is buffered, flush, read again */
}

/* ---- the parse loop ---------------------------------------------------------- */

static void parse_failed(net_conn *c, int r)
{
    struct net__http *h = c->u.http;
    if (r == -EMSGSIZE) {
        net__http_error(c, 431, "headers_too_large", "request headers too large", NULL);
    } else if (r == -ECANCELED && h->err_status == 413) {
        net__http_error(c, 413, "body_too_large", "request body too large", NULL);
    } else if (r == -ECANCELED && h->err_status == 500) {
        net__http_error(c, 500, "internal", "out of memory", NULL);
    } else if (r == -ECANCELED) {
        net__http_error(c, 400, "bad_request", "unsupported HTTP version", NULL);
    } else {
        char msg[160];
        snprintf(msg, sizeof(msg), "malformed request: %s", hparse_errstr(h->parser));
        net__http_error(c, 400, "bad_request", msg, NULL);
    }
}

static void dispatch(net_conn *c)
{
    struct net__http *h = c->u.http;
    net_request *req = &h->req;
    int r = net__parse_target(&h->pool, h->hbuf, h->url_len, &req->path, &req->query);
    if (r < 0) {
        if (r == -ENOMEM)
            net__http_error(c, 500, "internal", "out of memory", NULL);
        else
            net__http_error(c, 400, "bad_request", "invalid request target", NULL);
        return;
    }
    req->method = hparse_method(h->parser);
    req->body = (duet_slice){h->body ? h->body : "", h->body_len};
    req->client_addr = c->addr;
    req->pool = &h->pool;
    const duet_slice *up = net_header(req, "upgrade");
    req->is_upgrade = strcmp(req->method, "GET") == 0 && up && net__has_token(up, "websocket");
    req->body_stream = h->streaming;
    req->body_length = h->streaming ? h->stream_len : h->body_len;
    h->in_flight = 1;
    net__timer_set(c, NET__T_NONE, 0);
    net_server *s = c->srv;
    s->opts.app_cb.on_request(s->opts.app, c, req);
}

/* Feeds a streamed body to the parser, never more than the app's window. */
static void body_feed(net_conn *c)
{
    struct net__http *h = c->u.http;
    while (!c->closed && net__http_body_open(c) && h->body_window > 0 && c->roff < c->rlen) {
        size_t n = c->rlen - c->roff, used = 0;
        if (n > h->body_window)
            n = h->body_window;
        int r = hparse_feed(h->parser, c->rbuf + c->roff, n, &used);
        c->roff += used;
        if (r < 0) {
            parse_failed(c, r);
            return;
        }
        if (r == HPARSE_DONE) {
            net__timer_set(c, NET__T_NONE, 0);
            net_body_end_cb end = h->body_end;
            h->body_done = 1;
            h->body_data = NULL;
            h->body_end = NULL;
            end(h->body_ud, 0);
            return;
        }
    }
    /* Waiting for the peer's bytes: it must send them in time. */
    if (!c->closed && net__http_body_open(c))
        net__timer_set(c, h->body_window > 0 ? NET__T_HEADER : NET__T_NONE,
                       c->srv->opts.header_timeout_ms);
}

void net_body_start(net_conn *c, net_body_data_cb on_data, net_body_end_cb on_end, void *ud)
{
    if (c->closed || c->is_ws || !c->u.http->in_flight || !c->u.http->streaming)
        return;
    struct net__http *h = c->u.http;
    h->body_data = on_data;
    h->body_end = on_end;
    h->body_ud = ud;
    hparse_resume(h->parser); /* past the headers, into the body */
    net__conn_mark(c);
}

void net_body_allow(net_conn *c, size_t n)
{
    if (c->closed || c->is_ws || !net__http_body_open(c))
        return;
    c->u.http->body_window += n;
    net__conn_mark(c); /* fed from the pump, never from inside this call */
}

void net__http_input(net_conn *c)
{
    const struct net_server_opts *o = &c->srv->opts;
    if (c->u.http->in_flight) {
        body_feed(c);
        return;
    }
    if (c->timer_mode == NET__T_IDLE && c->roff < c->rlen)
        net__timer_set(c, NET__T_HEADER, o->header_timeout_ms);
    /* The app may answer (or upgrade) synchronously inside on_request. */
    while (!c->closed && !c->is_ws && !c->finishing && !c->u.http->in_flight && c->roff < c->rlen &&
           net__out_pending(c) < NET__HTTP_OUT_HIGH) {
        size_t used;
        int r = hparse_feed(c->u.http->parser, c->rbuf + c->roff, c->rlen - c->roff, &used);
        c->roff += used;
        if (r == HPARSE_MORE)
            break;
        if (r < 0) {
            parse_failed(c, r);
            break;
        }
        dispatch(c); /* HPARSE_HEADERS: a streamed body follows (body_feed) */
    }
}

int net__http_wants_read(const net_conn *c)
{
    const struct net__http *h = c->u.http;
    if (net__http_body_open(c)) /* read a bounded amount ahead of the window */
        return h->body_window > 0 && c->rlen - c->roff < NET__READ_CHUNK;
    return !h->in_flight && net__out_pending(c) < NET__HTTP_OUT_HIGH;
}

void net__http_timeout(net_conn *c)
{
    if (net__http_body_open(c)) { /* a streamed body stalled */
        net__http_body_abort(c, -ETIMEDOUT);
        net__conn_drop(c);
        return;
    }
    if (c->u.http->in_flight)
        return;
    net__http_error(c, 408, "timeout", "request not received in time", NULL);
}

void net__http_server_closing(net_conn *c)
{
    if (c->u.http->in_flight)
        return; /* net_respond sees srv->closing and closes after the answer */
    if (net__out_pending(c) > 0) {
        net__conn_finish(c);
        net__timer_set(c, NET__T_CLOSE, NET__CLOSE_MS); /* shutting down: be brief */
    } else {
        net__conn_drop(c);
    }
}

int net__http_init(net_conn *c)
{
    struct net__http *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return -ENOMEM;
    pool_init(&h->pool);
    c->u.http = h; /* net__http_free frees it, whatever happens next */
    int r = hparse_new(&parse_cb, c, c->srv->opts.max_header_bytes, &h->parser);
    if (r < 0)
        return r;
    net__timer_set(c, NET__T_HEADER, c->srv->opts.header_timeout_ms);
    return 0;
}

void net__http_free(net_conn *c)
{
    struct net__http *h = c->u.http;
    if (h == NULL)
        return;
    net__fsend_free(c);
    hparse_free(h->parser);
    pool_destroy(&h->pool);
    free(h);
    c->u.http = NULL;
}
