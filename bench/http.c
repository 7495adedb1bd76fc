/* http.c - a tiny HTTP/1.1 client for the bench's account set-up: one
 * request per connection, the answer parsed with http-parser. */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HREQ_MAX_BODY (4 << 20)

static void h_closed(uv_handle_t *hd)
{
    struct hreq *h = hd->data;
    h->cb(h, h->err);
}

static void h_finish(struct hreq *h, int err)
{
    if (h->err == 0)
        h->err = err;
    if (!uv_is_closing((uv_handle_t *)&h->tcp))
        uv_close((uv_handle_t *)&h->tcp, h_closed);
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    struct hreq *h = p->data;
    if (h->hdr_is_cookie == 2) { /* a new field starts after a value */
        h->hdr_len = 0;
        h->hdr_is_cookie = 0;
    }
    if (h->hdr_len + n < sizeof(h->hdr)) {
        memcpy(h->hdr + h->hdr_len, at, n);
        h->hdr_len += n;
        h->hdr[h->hdr_len] = '\0';
    } else {
        h->hdr_len = sizeof(h->hdr); /* too long to be Set-Cookie */
    }
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    struct hreq *h = p->data;
    int first = h->hdr_is_cookie != 2;
    h->hdr_is_cookie = 2;
    if (!first || h->hdr_len >= sizeof(h->hdr) || strcasecmp(h->hdr, "Set-Cookie") != 0)
        return 0;
    static const char name[] = "duet_session=";
    if (n < sizeof(name) - 1 || strncmp(at, name, sizeof(name) - 1) != 0)
        return 0;
    const char *v = at + sizeof(name) - 1;
    size_t len = 0;
    while (v + len < at + n && v[len] != ';')
        len++;
    if (len > 0 && len < sizeof(h->cookie)) {
        memcpy(h->cookie, v, len);
        h->cookie[len] = '\0';
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct hreq *h = p->data;
    if (h->body_len + n + 1 > HREQ_MAX_BODY)
        return -1;
    if (h->body_len + n + 1 > h->body_cap) {
        size_t cap = h->body_cap ? h->body_cap : 1024;
        while (cap < h->body_len + n + 1)
            cap *= 2;
        char *b = realloc(h->body, cap);
        if (b == NULL)
            return -1;
        h->body = b;
        h->body_cap = cap;
    }
    memcpy(h->body + h->body_len, at, n);
    h->body_len += n;
    h->body[h->body_len] = '\0';
    return 0;
}

static int on_complete(http_parser *p)
{
    struct hreq *h = p->data;
    h->status = (int)p->status_code;
    h->complete = 1;
    return 0;
}

static const http_parser_settings h_settings = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_body = on_body,
    .on_message_complete = on_complete,
};

static void h_alloc(uv_handle_t *hd, size_t hint, uv_buf_t *buf)
{
    (void)hd;
    buf->base = malloc(hint);
    buf->len = buf->base ? hint : 0;
}

static void h_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct hreq *h = s->data;
    if (n > 0) {
        size_t done = http_parser_execute(&h->parser, &h_settings, buf->base, (size_t)n);
        if (done != (size_t)n || HTTP_PARSER_ERRNO(&h->parser) != HPE_OK)
            h_finish(h, -EPROTO);
        else if (h->complete)
            h_finish(h, 0);
    } else if (n < 0) {
        if (n == UV_EOF)
            http_parser_execute(&h->parser, &h_settings, NULL, 0);
        h_finish(h, h->complete ? 0 : (n == UV_EOF ? -EPROTO : (int)n));
    }
    free(buf->base);
}

static void h_written(uv_write_t *w, int status)
{
    struct hreq *h = w->data;
    if (status < 0)
        h_finish(h, status);
}

static void h_connected(uv_connect_t *c, int status)
{
    struct hreq *h = c->data;
    if (status < 0) {
        h_finish(h, status);
        return;
    }
    uv_buf_t b = uv_buf_init(h->out, (unsigned)h->out_len);
    int r = uv_write(&h->wreq, (uv_stream_t *)&h->tcp, &b, 1, h_written);
    if (r == 0)
        r = uv_read_start((uv_stream_t *)&h->tcp, h_alloc, h_read);
    if (r < 0)
        h_finish(h, r);
}

int hreq_start(struct hreq *h, uv_loop_t *loop, const struct sockaddr_in *src,
               const struct sockaddr_in *dst, const char *method, const char *path,
               const char *cookie, const char *json, hreq_cb cb, void *data)
{
    memset(h, 0, sizeof(*h));
    h->cb = cb;
    h->data = data;
    size_t blen = json ? strlen(json) : 0;
    size_t cap = strlen(path) + blen + (cookie ? strlen(cookie) : 0) + 256;
    h->out = malloc(cap);
    if (h->out == NULL)
        return -ENOMEM;
    char host[INET_ADDRSTRLEN];
    uv_ip4_name(dst, host, sizeof(host));
    int n = snprintf(
        h->out, cap,
        "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n%s%s%s"
        "%s%zu\r\n\r\n%s",
        method, path, host, ntohs(dst->sin_port), cookie ? "Cookie: duet_session=" : "",
        cookie ? cookie : "", cookie ? "\r\n" : "",
        json ? "Content-Type: application/json\r\nContent-Length: " : "Content-Length: ", blen,
        json ? json : "");
    if (n < 0 || (size_t)n >= cap) {
        free(h->out);
        h->out = NULL;
        return -EINVAL;
    }
    h->out_len = (size_t)n;
    http_parser_init(&h->parser, HTTP_RESPONSE);
    h->parser.data = h;
    int r = uv_tcp_init(loop, &h->tcp);
    if (r < 0) {
        free(h->out);
        h->out = NULL;
        return r;
    }
    h->tcp.data = h;
    h->creq.data = h;
    h->wreq.data = h;
    if ((r = uv_tcp_bind(&h->tcp, (const struct sockaddr *)src, 0)) < 0 ||
        (r = uv_tcp_connect(&h->creq, &h->tcp, (const struct sockaddr *)dst, h_connected)) < 0) {
        h_finish(h, r); /* the callback reports it */
        return 0;
    }
    return 0;
}

void hreq_free(struct hreq *h)
{
    free(h->out);
    free(h->body);
    h->out = NULL;
    h->body = NULL;
}
