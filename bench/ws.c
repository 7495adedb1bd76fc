/* ws.c - a WebSocket client on libuv and wslay (client mode): connect from a
 * chosen source address, the upgrade with the session cookie, then wslay
 * frames text messages. Queued messages are written coalesced: one uv_write
 * per flush with everything wslay produced since the last one. */
#include "bench.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static uint64_t ws_rand(struct wsc *w)
{
    /* xorshift64: masks only need to vary, not to be secret, in a bench */
    uint64_t x = w->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return w->rng = x;
}

static int buf_append(char **b, size_t *len, size_t *cap, const void *p, size_t n)
{
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 4096;
        while (c < *len + n)
            c *= 2;
        char *nb = realloc(*b, c);
        if (nb == NULL)
            return -ENOMEM;
        *b = nb;
        *cap = c;
    }
    memcpy(*b + *len, p, n);
    *len += n;
    return 0;
}

static void ws_closed(uv_handle_t *hd)
{
    struct wsc *w = hd->data;
    if (w->ctx != NULL)
        wslay_event_context_free(w->ctx);
    w->ctx = NULL;
    free(w->in);
    free(w->out);
    free(w->wbuf);
    w->in = w->out = w->wbuf = NULL;
    w->in_len = w->in_off = w->in_cap = w->out_len = w->out_cap = w->wbuf_cap = 0;
    w->writing = 0;
    w->state = WSC_IDLE;
    w->cbs->on_closed(w, w->err);
}

void wsc_drop(struct wsc *w, int err)
{
    if (w->state == WSC_IDLE || w->state == WSC_CLOSING)
        return;
    if (w->err == 0)
        w->err = err;
    w->state = WSC_CLOSING;
    uv_close((uv_handle_t *)&w->tcp, ws_closed);
}

/* ---- wslay callbacks ---- */

static ssize_t cb_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
    (void)flags;
    struct wsc *w = user;
    size_t avail = w->in_len - w->in_off;
    if (avail == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = avail < len ? avail : len;
    memcpy(buf, w->in + w->in_off, n);
    w->in_off += n;
    return (ssize_t)n;
}

static ssize_t cb_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    (void)flags;
    struct wsc *w = user;
    if (buf_append(&w->out, &w->out_len, &w->out_cap, data, len) < 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static int cb_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    (void)ctx;
    struct wsc *w = user;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t r = ws_rand(w);
        memcpy(buf + i, &r, len - i < 8 ? len - i : 8);
    }
    return 0;
}

static void cb_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a,
                   void *user)
{
    (void)ctx;
    struct wsc *w = user;
    if (w->state != WSC_OPEN)
        return;
    if (a->opcode == WSLAY_TEXT_FRAME)
        w->cbs->on_text(w, (const char *)a->msg, a->msg_length);
    else if (a->opcode == WSLAY_CONNECTION_CLOSE)
        wsc_drop(w, -ECONNRESET);
}

static const struct wslay_event_callbacks ws_wslay_cbs = {
    .recv_callback = cb_recv,
    .send_callback = cb_send,
    .genmask_callback = cb_genmask,
    .on_msg_recv_callback = cb_msg,
};

/* ---- I/O ---- */

static void ws_written(uv_write_t *req, int status)
{
    struct wsc *w = req->data;
    w->writing = 0;
    if (status < 0) {
        wsc_drop(w, status);
        return;
    }
    if (w->state == WSC_OPEN)
        wsc_flush(w);
}

void wsc_flush(struct wsc *w)
{
    if (w->state != WSC_OPEN || w->writing)
        return;
    if (wslay_event_want_write(w->ctx) && wslay_event_send(w->ctx) != 0) {
        wsc_drop(w, -EIO);
        return;
    }
    if (w->out_len == 0)
        return;
    /* swap the queue with the (idle) write buffer */
    char *b = w->wbuf;
    size_t cap = w->wbuf_cap;
    w->wbuf = w->out;
    w->wbuf_cap = w->out_cap;
    uv_buf_t ub = uv_buf_init(w->wbuf, (unsigned)w->out_len);
    w->out = b;
    w->out_cap = cap;
    w->out_len = 0;
    int r = uv_write(&w->wreq, (uv_stream_t *)&w->tcp, &ub, 1, ws_written);
    if (r < 0) {
        wsc_drop(w, r);
        return;
    }
    w->writing = 1;
}

int wsc_send(struct wsc *w, const char *s, size_t n)
{
    if (w->state != WSC_OPEN)
        return -ENOTCONN;
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)s, n};
    return wslay_event_queue_msg(w->ctx, &m) == 0 ? 0 : -ENOMEM;
}

/* Reads are copied into the connection's input buffer from one buffer
 * shared by every connection of the loop (loop->data). */
static void ws_alloc(uv_handle_t *hd, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    char *shared = hd->loop->data;
    *buf = uv_buf_init(shared, 65536);
}

static int ws_handshake(struct wsc *w)
{
    char *end = memmem(w->in, w->in_len, "\r\n\r\n", 4);
    if (end == NULL)
        return w->in_len > 16384 ? -EPROTO : 0;
    *end = '\0';
    if (strncmp(w->in, "HTTP/1.1 101", 12) != 0) {
        int st = 0;
        sscanf(w->in, "HTTP/1.1 %d", &st);
        fprintf(stderr, "duet-bench: WebSocket upgrade refused: %.60s\n", w->in);
        return st == 503 || st == 429 ? -EBUSY : st == 401 ? -EACCES : -EPROTO;
    }
    if (strstr(w->in, w->accept) == NULL)
        return -EPROTO;
    size_t hl = (size_t)(end - w->in) + 4;
    memmove(w->in, w->in + hl, w->in_len - hl);
    w->in_len -= hl;
    if (wslay_event_context_client_init(&w->ctx, &ws_wslay_cbs, w) != 0)
        return -ENOMEM;
    w->state = WSC_OPEN;
    w->cbs->on_open(w);
    return 1;
}

static void ws_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct wsc *w = s->data;
    if (n < 0) {
        wsc_drop(w, n == UV_EOF ? -ECONNRESET : (int)n);
        return;
    }
    if (n == 0 || w->state == WSC_CLOSING)
        return;
    if (buf_append(&w->in, &w->in_len, &w->in_cap, buf->base, (size_t)n) < 0) {
        wsc_drop(w, -ENOMEM);
        return;
    }
    if (w->state == WSC_HANDSHAKE) {
        int r = ws_handshake(w);
        if (r < 0) {
            wsc_drop(w, r);
            return;
        }
        if (r == 0)
            return;
    }
    if (w->state != WSC_OPEN)
        return;
    if (wslay_event_recv(w->ctx) != 0) {
        wsc_drop(w, -EPROTO);
        return;
    }
    if (w->state != WSC_OPEN)
        return;
    /* keep only what wslay has not taken */
    memmove(w->in, w->in + w->in_off, w->in_len - w->in_off);
    w->in_len -= w->in_off;
    w->in_off = 0;
    w->cbs->on_read_end(w);
    wsc_flush(w);
}

static void ws_connected(uv_connect_t *c, int status)
{
    struct wsc *w = c->data;
    if (w->state != WSC_CONNECTING)
        return;
    if (status < 0) {
        wsc_drop(w, status);
        return;
    }
    w->state = WSC_HANDSHAKE;
    /* small frames must not wait for the server's delayed ACK (Nagle) */
    int r0 = uv_tcp_nodelay(&w->tcp, 1);
    if (r0 < 0) {
        wsc_drop(w, r0);
        return;
    }
    uv_buf_t b = uv_buf_init(w->wbuf, (unsigned)w->out_len);
    w->out_len = 0;
    int r = uv_write(&w->wreq, (uv_stream_t *)&w->tcp, &b, 1, ws_written);
    if (r == 0) {
        w->writing = 1;
        r = uv_read_start((uv_stream_t *)&w->tcp, ws_alloc, ws_read);
    }
    if (r < 0)
        wsc_drop(w, r);
}

int wsc_connect(struct wsc *w, uv_loop_t *loop, const struct sockaddr_in *src,
                const struct sockaddr_in *dst, const char *host, const char *cookie,
                const struct wsc_cbs *cbs, void *data)
{
    if (w->state != WSC_IDLE)
        return -EBUSY;
    w->cbs = cbs;
    w->data = data;
    w->err = 0;
    if (w->rng == 0)
        w->rng = (uint64_t)(uintptr_t)w ^ uv_hrtime() ^ 0x9e3779b97f4a7c15ull;
    uint8_t key[16];
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = ws_rand(w);
        memcpy(key + i, &r, 8);
    }
    char k64[25];
    if (EVP_EncodeBlock((unsigned char *)k64, key, 16) != 24)
        return -EIO;
    unsigned char in[24 + sizeof(ws_guid) - 1], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    memcpy(in, k64, 24);
    memcpy(in + 24, ws_guid, sizeof(ws_guid) - 1);
    if (EVP_Digest(in, sizeof(in), md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20)
        return -EIO;
    if (EVP_EncodeBlock((unsigned char *)w->accept, md, 20) != 28)
        return -EIO;
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                     "Cookie: duet_session=%s\r\n\r\n",
                     host, k64, cookie);
    if (n < 0 || (size_t)n >= sizeof(req))
        return -EINVAL;
    /* the upgrade request waits in wbuf until the connect completes */
    w->out_len = 0;
    if (w->wbuf_cap < (size_t)n) {
        char *b = realloc(w->wbuf, 4096);
        if (b == NULL)
            return -ENOMEM;
        w->wbuf = b;
        w->wbuf_cap = 4096;
    }
    memcpy(w->wbuf, req, (size_t)n);
    w->out_len = (size_t)n;
    int r = uv_tcp_init(loop, &w->tcp);
    if (r < 0)
        return r;
    w->tcp.data = w;
    w->creq.data = w;
    w->wreq.data = w;
    w->state = WSC_CONNECTING;
    if ((r = uv_tcp_bind(&w->tcp, (const struct sockaddr *)src, 0)) < 0 ||
        (r = uv_tcp_connect(&w->creq, &w->tcp, (const struct sockaddr *)dst, ws_connected)) < 0)
        wsc_drop(w, r); /* reported through on_closed */
    return 0;
}
