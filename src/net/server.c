/* server.c - listening, accepting, per-conn buffers, coalesced writes,
 * reference counting and closing (timeouts: timer.c).
 *
 * Output is never written from inside the code that produces it: it is
 * appended to the conn's obuf and the conn is put on the server's dirty list;
 * a uv_check (after I/O callbacks) and a uv_prepare (before the loop blocks)
 * then hand each dirty conn's obuf to a single uv_write. Several responses
 * or messages produced in one loop turn so leave in one write.
 */
#include "net_int.h"

#include <malloc.h>

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
        if (nread == UV_EOF && !c->is_ws && !c->lingering &&
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

static void server_maybe_free(net_server *s);

/* Frees the server, then tells the application (which may close the loop's
 * other handles from there). */
static void server_free(net_server *s)
{
    void (*done)(void *) = s->opts.app_cb.on_closed;
    void *app = s->opts.app;
    free(s);
    if (done != NULL)
        done(app);
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
    server_maybe_free(s);
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
    s->n_open--;
    if (c->is_ws) {
        s->n_ws--;
        if (s->opts.app_cb.on_ws_close != NULL)
            s->opts.app_cb.on_ws_close(s->opts.app, c);
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
    if (!c->finishing && !c->lingering && (c->is_ws || c->rlen > c->roff)) {
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

/* ---- accepting ----------------------------------------------------------- */

static void peer_addr(net_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    strcpy(c->addr, "unknown");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) < 0)
        return;
    if (uv_ip_name((struct sockaddr *)&ss, c->addr, sizeof(c->addr)) < 0)
        strcpy(c->addr, "unknown");
}

static void on_connection(uv_stream_t *listener, int status)
{
    net_server *s = listener->data;
    if (status < 0)
        return; /* e.g. EMFILE: libuv keeps listening and retries */
    net_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return; /* the pending connection stays in the backlog */
    c->srv = s;
    c->refs = 1;
    c->tcp.data = c;
    net__list_init(&c->dirty);
    net__list_init(&c->tlink);
    int r = uv_tcp_init(s->loop, &c->tcp);
    if (r < 0) {
        free(c);
        return;
    }
    c->handles = 1;
    net__list_push(&s->conns, &c->all);
    s->n_alive++;
    s->n_open++;
    if ((r = uv_accept(listener, (uv_stream_t *)&c->tcp)) < 0 ||
        (r = uv_tcp_nodelay(&c->tcp, 1)) < 0 || (r = net__http_init(c)) < 0) {
        net__conn_drop(c);
        return;
    }
    peer_addr(c);
    if (s->opts.max_conns > 0 && s->n_open > s->opts.max_conns) {
        /* Answer rather than leave it in the backlog: the client learns
         * why and can back off. */
        net__http_error(c, 503, "too_many_connections", "the server is full; try again later",
                        NULL);
        return;
    }
    net__update_reading(c);
}

static int resolve(const char *host, int port, struct sockaddr_storage *ss)
{
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
        return 0;
    return uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss);
}

static void set_defaults(struct net_server_opts *o)
{
    if (o->host == NULL)
        o->host = "127.0.0.1";
    if (o->max_header_bytes == 0)
        o->max_header_bytes = 16 * 1024;
    if (o->max_body_bytes == 0)
        o->max_body_bytes = 64 * 1024;
    if (o->max_ws_msg_bytes == 0)
        o->max_ws_msg_bytes = 64 * 1024;
    if (o->header_timeout_ms == 0)
        o->header_timeout_ms = 10000;
    if (o->idle_timeout_ms == 0)
        o->idle_timeout_ms = 60000;
    if (o->max_ws_queue_bytes == 0)
        o->max_ws_queue_bytes = 4u << 20;
    if (o->ws_ping_ms == 0)
        o->ws_ping_ms = 30000;
}

/* Once a sweep interval, quiet WebSockets give back their wslay context.
 * After many connections arrived at once (a reconnect storm) their freed
 * contexts lie between live allocations, where malloc keeps the pages:
 * malloc_trim hands the whole free pages back to the kernel. */
static void on_sweep(uv_timer_t *t)
{
    net_server *s = t->data;
    for (struct net__link *l = s->conns.next; l != &s->conns; l = l->next) {
        net_conn *c = NET__CONTAINER(l, net_conn, all);
        if (c->is_ws && !c->closed)
            net__ws_sweep(c);
    }
    /* parked by this sweep or since the last one (ws_park) */
    if (s->n_parked_new >= NET__TRIM_PARKED)
        (void)malloc_trim(0); /* 1 if memory was released, else 0 */
    s->n_parked_new = 0;
}

static void on_server_handle_close(uv_handle_t *h)
{
    net_server *s = h->data;
    s->handles--;
    server_maybe_free(s);
}

static int server_listen(net_server *s)
{
    struct sockaddr_storage ss;
    int r = resolve(s->opts.host, s->opts.port, &ss);
    if (r < 0)
        return r;
    if ((r = uv_tcp_init_ex(s->loop, &s->listener, ss.ss_family)) < 0)
        return r;
    s->handles++;
    s->listening = 1;
    /* libuv also sets SO_REUSEADDR in uv_tcp_bind; say it explicitly. */
    uv_os_fd_t fd;
    int on = 1;
    if ((r = uv_fileno((uv_handle_t *)&s->listener, &fd)) < 0)
        return r;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
        return -errno;
    if ((r = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0)) < 0)
        return r;
    if ((r = uv_listen((uv_stream_t *)&s->listener, NET__LISTEN_BACKLOG, on_connection)) < 0)
        return r;
    int len = sizeof(ss);
    if ((r = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len)) < 0)
        return r;
    s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

int net_server_start(uv_loop_t *loop, const struct net_server_opts *opts, net_server **out)
{
    net_server *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->loop = loop;
    s->opts = *opts;
    set_defaults(&s->opts);
    net__list_init(&s->conns);
    net__list_init(&s->dirty);
    s->listener.data = s;
    s->prepare.data = s;
    s->check.data = s;
    s->sweep.data = s;
    s->timer.data = s;
    net__timers_init(s);
    int r;
    if ((r = uv_prepare_init(loop, &s->prepare)) < 0)
        goto err;
    s->handles++;
    s->has_prepare = 1;
    if ((r = uv_check_init(loop, &s->check)) < 0)
        goto err;
    s->handles++;
    s->has_check = 1;
    if ((r = uv_timer_init(loop, &s->sweep)) < 0)
        goto err;
    s->handles++;
    s->has_sweep = 1;
    /* Unreferenced: it must not keep the loop alive on its own. */
    if ((r = uv_timer_start(&s->sweep, on_sweep, NET__SWEEP_MS, NET__SWEEP_MS)) < 0)
        goto err;
    uv_unref((uv_handle_t *)&s->sweep);
    if ((r = uv_timer_init(loop, &s->timer)) < 0)
        goto err;
    s->handles++;
    s->has_timer = 1;
    /* Unreferenced too: conns waiting for a timeout keep the loop alive. */
    uv_unref((uv_handle_t *)&s->timer);
    r = server_listen(s);
    s->opts.host = NULL; /* borrowed from the caller; not needed any more */
    if (r < 0)
        goto err;
    *out = s;
    return 0;
err:
    /* Handles already initialised must close first; the last close frees s.
     * on_closed is for servers that started: the caller has an error to
     * handle instead (it ran the app's shutdown, which then ran twice). */
    s->opts.app_cb.on_closed = NULL;
    s->closing = 1;
    net_server_stop_accepting(s);
    server_maybe_free(s);
    return r;
}

int net_server_port(net_server *s)
{
    return s->port;
}

void net_server_stop_accepting(net_server *s)
{
    if (!s->listening)
        return;
    s->listening = 0;
    uv_close((uv_handle_t *)&s->listener, on_server_handle_close);
}

static void server_maybe_free(net_server *s)
{
    if (!s->closing || s->n_alive > 0)
        return;
    if (s->has_prepare) {
        s->has_prepare = 0;
        uv_close((uv_handle_t *)&s->prepare, on_server_handle_close);
    }
    if (s->has_check) {
        s->has_check = 0;
        uv_close((uv_handle_t *)&s->check, on_server_handle_close);
    }
    if (s->has_sweep) {
        s->has_sweep = 0;
        uv_close((uv_handle_t *)&s->sweep, on_server_handle_close);
    }
    if (s->has_timer) {
        s->has_timer = 0;
        uv_close((uv_handle_t *)&s->timer, on_server_handle_close);
    }
    if (s->handles == 0)
        server_free(s);
}

void net_server_close(net_server *s, uint16_t ws_code)
{
    if (s->closing)
        return;
    s->closing = 1;
    s->close_code = ws_code;
    net_server_stop_accepting(s);
    /* Dropping a conn leaves it on s->conns until its handles close, so the
     * walk is safe; the list head itself lives until server_maybe_free. */
    struct net__link *l = s->conns.next;
    while (l != &s->conns) {
        net_conn *c = NET__CONTAINER(l, net_conn, all);
        l = l->next;
        if (c->closed)
            continue;
        if (c->is_ws)
            net__ws_begin_close(c, ws_code, NULL);
        else
            net__http_server_closing(c);
    }
    server_maybe_free(s);
}

size_t net_server_conn_count(net_server *s)
{
    return s->n_open;
}

size_t net_server_ws_count(net_server *s)
{
    return s->n_ws;
}

size_t net_server_ws_parked_count(net_server *s)
{
    /* a walk, not a counter: only /metrics asks */
    size_t n = 0;
    for (struct net__link *l = s->conns.next; l != &s->conns; l = l->next) {
        const net_conn *c = NET__CONTAINER(l, net_conn, all);
        n += c->is_ws && !c->closed && c->u.ws.ctx == NULL;
    }
    return n;
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
