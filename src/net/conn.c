/* conn.c - one connection's buffers and socket: queued output and the
 * coalesced write, reading, reference counting and closing (lingering
 * close included). Accepting and the server's life are in server.c,
 * timeouts in timer.c.
 *
 * Output is never written from inside the code that produces it: it is
 * appended to the conn's obuf and the conn is put on the server's dirty list;
 * a uv_check (after I/O callbacks) and a uv_prepare (before the loop blocks)
 * then hand each dirty conn's obuf to a single uv_write. Several responses
 * or messages produced in one loop turn so leave in one write.
 */
#include "net_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void net__list_init(struct net__link *head)
{
    head->prev = head->next = head;
}

void net__list_push(struct net__link *head, struct net__link *l)
{
    l->prev = head->prev;
    l->next = head;
    head->prev->next = l;
    head->prev = l;
}

void net__list_remove(struct net__link *l)
{
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l->next = l;
}

int net__list_empty(const struct net__link *head)
{
    return head->next == head;
}

/* ---- output ---------------------------------------------------------- */

int net__out_reserve(net_conn *c, size_t n)
{
    if (c->ocap - c->olen >= n)
        return 0;
    size_t cap = c->ocap ? c->ocap : 1024;
    while (cap - c->olen < n) {
        if (cap > SIZE_MAX / 4)
            return -ENOMEM;
        cap *= 2;
    }
    struct net__out *p = realloc(c->obuf, sizeof(*p) + cap);
    if (p == NULL)
        return -ENOMEM;
    c->obuf = p;
    c->ocap = cap;
    return 0;
}

int net__out_append(net_conn *c, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    int r = net__out_reserve(c, len);
    if (r < 0)
        return r;
    memcpy(c->obuf->data + c->olen, data, len);
    c->olen += len;
    net__conn_mark(c);
    return 0;
}

int net__out_printf(net_conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    int r = net__out_reserve(c, (size_t)n + 1); /* vsnprintf writes a NUL */
    if (r < 0)
        return r;
    va_start(ap, fmt);
    vsnprintf(c->obuf->data + c->olen, (size_t)n + 1, fmt, ap);
    va_end(ap);
    c->olen += (size_t)n;
    net__conn_mark(c);
    return 0;
}

size_t net__out_pending(const net_conn *c)
{
    return c->olen + c->wlen;
}

static void on_write(uv_write_t *req, int status)
{
    net_conn *c = req->data;
    free(c->wbuf); /* req lives in it */
    c->wbuf = NULL;
    c->wlen = 0;
    c->writing = 0;
    if (c->closed)
        return; /* UV_ECANCELED from uv_close */
    if (status < 0) {
        net__conn_drop(c);
        return;
    }
    c->wrote = 1;      /* the peer reads: see net__ws_timeout */
    net__conn_mark(c); /* more output, a pending close, or parsing to resume */
}

static void flush_output(net_conn *c)
{
    if (c->writing || c->olen == 0)
        return;
    /* Hand the whole obuf over; new output starts a fresh buffer. */
    c->wbuf = c->obuf;
    c->wlen = c->olen;
    c->obuf = NULL;
    c->olen = c->ocap = 0;
    uv_buf_t b = uv_buf_init(c->wbuf->data, (unsigned)c->wlen);
    c->wbuf->req.data = c;
    int r = uv_write(&c->wbuf->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (r < 0) {
        free(c->wbuf);
        c->wbuf = NULL;
        c->wlen = 0;
        net__conn_drop(c);
        return;
    }
    c->writing = 1;
}

/* ---- input ----------------------------------------------------------- */

void net__rbuf_release(net_conn *c)
{
    if (c->roff < c->rlen)
        return;
    free(c->rbuf);
    c->rbuf = NULL;
    c->roff = c->rlen = c->rcap = 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    net_conn *c = h->data;
    (void)suggested;
    if (c->roff > 0) { /* keep unparsed bytes at the front */
        memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
        c->rlen -= c->roff;
        c->roff = 0;
    }
    if (c->rcap - c->rlen < NET__READ_CHUNK / 4) {
        size_t cap = c->rlen + NET__READ_CHUNK;
        char *p = realloc(c->rbuf, cap);
        if (p == NULL) {
            *buf = uv_buf_init(NULL, 0); /* read_cb gets UV_ENOBUFS */
            return;
        }
        c->rbuf = p;
        c->rcap = cap;
    }
    *buf = uv_buf_init(c->rbuf + c->rlen, (unsigned)(c->rcap - c->rlen));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    net_conn *c = stream->data;
    (void)buf;
    if (c->closed)
        return;
    if (nread > 0) {
        c->rlen += (size_t)nread;
        if (c->lingering)
            c->roff = c->rlen; /* discard: the response is already out */
        else if (c->is_ws)
            net__ws_input(c);
        else
            net__http_input(c);
    } else if (nread < 0) {
        c->eof = 1;
        /* A half-closed HTTP client still gets the answers it asked for. */
        if (nread == UV_EOF && !c->is_ws && !c->lingering && !net__http_body_open(c) &&
            (c->u.http->in_flight || net__out_pending(c) > 0)) {
            net__conn_finish(c);
        } else {
            net__conn_drop(c);
            return;
        }
    }
    if (!c->closed) {
        net__rbuf_release(c);
        net__update_reading(c);
    }
}

void net__update_reading(net_conn *c)
{
    int want;
    if (c->closed || c->eof)
        want = 0;
    else if (c->lingering)
        want = 1;
    else if (c->finishing)
        want = 0;
    else if (c->is_ws)
        want = net__ws_wants_read(c);
    else
        want = net__http_wants_read(c);
    if (want == (int)c->reading)
        return;
    if (want) {
        int r = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
        if (r < 0) {
            net__conn_drop(c);
            return;
        }
    } else {
        uv_read_stop((uv_stream_t *)&c->tcp); /* cannot fail */
    }
    c->reading = (unsigned)want;
}

/* ---- closing ----------------------------------------------------------- */

static void conn_free(net_conn *c)
{
    if (c->is_ws)
        net__ws_free(c);
    else
        net__http_free(c);
    free(c->rbuf);
    free(c->obuf);
    free(c);
}

static void on_conn_close(uv_handle_t *h)
{
    net_conn *c = h->data;
    if (--c->handles > 0)
        return;
    net_server *s = c->srv;
    net__list_remove(&c->all);
    s->n_alive--;
    c->srv = NULL;
    if (c->refs == 0)
        conn_free(c);
    net__server_maybe_free(s);
}

void net__conn_drop(net_conn *c)
{
    if (c->closed)
        return;
    net_server *s = c->srv;
    c->closed = 1;
    c->reading = 0;
    if (c->is_dirty) {
        net__list_remove(&c->dirty);
        c->is_dirty = 0;
    }
    uv_close((uv_handle_t *)&c->tcp, on_conn_close);
    net__timer_clear(c);
    net__addr_release(c);
    s->n_open--;
    if (c->is_ws) {
        s->n_ws--;
        if (s->opts.app_cb.on_ws_close != NULL)
            s->opts.app_cb.on_ws_close(s->opts.app, c);
    } else {
        net__http_body_abort(c, -ECONNRESET); /* a streamed body cut short */
    }
    free(c->rbuf);
    c->rbuf = NULL;
    c->roff = c->rlen = c->rcap = 0;
    free(c->obuf);
    c->obuf = NULL;
    c->olen = c->ocap = 0;
    net_conn_unref(c); /* the socket's ref; memory goes after on_conn_close */
}

void net__conn_finish(net_conn *c)
{
    if (c->closed || c->finishing)
        return;
    c->finishing = 1;
    /* A peer that never reads must not keep the conn (and a closing server)
     * forever. */
    if (c->timer_mode == NET__T_NONE)
        net__timer_set(c, NET__T_IDLE,
                       c->srv->closing ? NET__CLOSE_MS : c->srv->opts.idle_timeout_ms);
    net__conn_mark(c);
}

/* libuv calls it in every case (UV_ECANCELED when the conn closes first),
 * before the handle's close callback, so c is still there. */
static void on_shutdown(uv_shutdown_t *req, int status)
{
    net_conn *c = req->data;
    free(req);
    if (status < 0 && !c->closed)
        net__conn_drop(c);
}

/* All output is written: send FIN, then read and discard until the peer
 * closes, so unread input does not turn our close into a RST that destroys
 * the last response or close frame in flight. */
static void linger(net_conn *c)
{
    if (c->eof) {
        net__conn_drop(c);
        return;
    }
    c->lingering = 1;
    /* Only lingering conns need one: not a part of every conn. */
    uv_shutdown_t *req = malloc(sizeof(*req));
    if (req == NULL) {
        net__conn_drop(c);
        return;
    }
    req->data = c;
    if (uv_shutdown(req, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
        free(req);
        net__conn_drop(c);
        return;
    }
    c->roff = c->rlen;
    net__rbuf_release(c);
    net__timer_set(c, NET__T_LINGER, NET__CLOSE_MS);
}

/* ---- the dirty list ---------------------------------------------------- */

static void pump(net_conn *c)
{
    /* WebSockets always pass: their input step also moves wslay's queue. */
    if (!c->finishing && !c->lingering &&
        (c->is_ws || c->rlen > c->roff || net__http_body_open(c))) {
        if (c->is_ws)
            net__ws_input(c);
        else
            net__http_input(c);
        if (c->closed)
            return;
        net__rbuf_release(c);
    }
    flush_output(c);
    if (c->closed)
        return;
    if (!c->is_ws && c->u.http->fsend != NULL)
        net__fsend_pump(c);
    if (c->is_ws) {
        net__ws_drained(c);
        if (c->closed)
            return;
    }
    if (c->finishing && !c->lingering && !c->writing && c->olen == 0 &&
        (c->is_ws || !c->u.http->in_flight)) {
        linger(c);
        if (c->closed)
            return;
    }
    net__update_reading(c);
}

static void server_flush(net_server *s)
{
    while (!net__list_empty(&s->dirty)) {
        net_conn *c = NET__CONTAINER(s->dirty.next, net_conn, dirty);
        net__list_remove(&c->dirty);
        c->is_dirty = 0;
        pump(c);
    }
    uv_prepare_stop(&s->prepare);
    uv_check_stop(&s->check);
    s->flush_armed = 0;
}

static void on_prepare(uv_prepare_t *h)
{
    server_flush(h->data);
}

static void on_check(uv_check_t *h)
{
    server_flush(h->data);
}

void net__conn_mark(net_conn *c)
{
    if (c->closed || c->is_dirty)
        return;
    net_server *s = c->srv;
    net__list_push(&s->dirty, &c->dirty);
    c->is_dirty = 1;
    if (!s->flush_armed) {
        /* Both only fail for a NULL callback. */
        (void)uv_prepare_start(&s->prepare, on_prepare);
        (void)uv_check_start(&s->check, on_check);
        s->flush_armed = 1;
    }
}

/* ---- conn API ------------------------------------------------------------ */

void net_conn_ref(net_conn *c)
{
    c->refs++;
}

void net_conn_unref(net_conn *c)
{
    if (--c->refs == 0 && c->handles == 0)
        conn_free(c);
}

int net_conn_is_open(net_conn *c)
{
    return !c->closed;
}

void net_conn_set_data(net_conn *c, void *data)
{
    c->data = data;
}

void *net_conn_data(net_conn *c)
{
    return c->data;
}

const char *net_conn_addr(net_conn *c)
{
    return c->addr;
}
