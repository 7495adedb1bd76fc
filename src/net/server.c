/* server.c - listening, accepting (with the per-address cap), the idle
 * WebSocket sweep, and the server's start and close. A connection's own
 * life is in conn.c, timeouts in timer.c.
 */
#include "net_int.h"

#include <arpa/inet.h>
#include <malloc.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Frees the server, then tells the application (which may close the loop's
 * other handles from there). */
static void server_free(net_server *s)
{
    void (*done)(void *) = s->opts.app_cb.on_closed;
    void *app = s->opts.app;
    map_free(&s->per_addr);
    free(s);
    if (done != NULL)
        done(app);
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

void net_addr_group(const char *addr, char out[NET_ADDR_GROUP_LEN])
{
    struct in6_addr a6;
    if (inet_pton(AF_INET6, addr, &a6) == 1) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a6.s6_addr, mapped, sizeof(mapped)) == 0 &&
            inet_ntop(AF_INET, a6.s6_addr + 12, out, NET_ADDR_GROUP_LEN) != NULL)
            return;
        memset(a6.s6_addr + 8, 0, 8);
        if (inet_ntop(AF_INET6, &a6, out, NET_ADDR_GROUP_LEN - 3) != NULL) {
            strcat(out, "/64");
            return;
        }
    }
    snprintf(out, NET_ADDR_GROUP_LEN, "%s", addr);
}

/* Counts c against its address's share: -EBUSY when the address holds
 * max_conns_per_addr already (c is then not counted). Without memory for
 * the count the conn is let in: the global cap still holds. */
static int addr_take(net_conn *c)
{
    net_server *s = c->srv;
    if (s->opts.max_conns_per_addr == 0)
        return 0;
    char key[NET_ADDR_GROUP_LEN];
    net_addr_group(c->addr, key);
    size_t len = strlen(key);
    uintptr_t n = (uintptr_t)map_get(&s->per_addr, key, len);
    if (n >= s->opts.max_conns_per_addr)
        return -EBUSY;
    if (map_put(&s->per_addr, key, len, (void *)(n + 1)) == 0)
        c->addr_counted = 1;
    return 0;
}

void net__addr_release(net_conn *c)
{
    if (!c->addr_counted)
        return;
    c->addr_counted = 0;
    net_server *s = c->srv;
    char key[NET_ADDR_GROUP_LEN];
    net_addr_group(c->addr, key);
    size_t len = strlen(key);
    uintptr_t n = (uintptr_t)map_get(&s->per_addr, key, len);
    if (n <= 1)
        map_del(&s->per_addr, key, len);
    else
        (void)map_put(&s->per_addr, key, len, (void *)(n - 1)); /* replaces: no allocation */
}

static void on_accept_retry(uv_timer_t *t);

/* libuv has accepted a socket and stops watching the listener until
 * uv_accept takes it. So a conn that cannot be allocated now is tried again
 * on a timer, the backlog waiting meanwhile; returning without uv_accept
 * would leave the listener stopped for good. */
static void accept_retry_later(net_server *s)
{
    if (s->has_retry && s->listening)
        (void)uv_timer_start(&s->retry, on_accept_retry, NET__ACCEPT_RETRY_MS, 0);
}

static void accept_one(net_server *s)
{
    net_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        accept_retry_later(s);
        return;
    }
    c->srv = s;
    c->refs = 1;
    c->tcp.data = c;
    net__list_init(&c->dirty);
    net__list_init(&c->tlink);
    int r = uv_tcp_init(s->loop, &c->tcp);
    if (r < 0) {
        free(c);
        accept_retry_later(s);
        return;
    }
    c->handles = 1;
    net__list_push(&s->conns, &c->all);
    s->n_alive++;
    s->n_open++;
    if ((r = uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&c->tcp)) < 0 ||
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
    if (addr_take(c) < 0) {
        net__http_error(c, 429, "too_many_connections",
                        "too many connections from this address; close some first", NULL);
        return;
    }
    net__update_reading(c);
}

static void on_accept_retry(uv_timer_t *t)
{
    net_server *s = t->data;
    if (s->listening) /* closing the listener closed the socket it held */
        accept_one(s);
}

static void on_connection(uv_stream_t *listener, int status)
{
    if (status < 0)
        return; /* e.g. EMFILE: libuv keeps listening and retries */
    accept_one(listener->data);
}

/* A conn's timeout expired (timer.c): HTTP answers 408, a WebSocket owes
 * a pong or sends its ping; the others only close. */
static void conn_timeout(net_conn *c, enum net__timer_mode mode)
{
    switch (mode) {
    case NET__T_HEADER:
        net__http_timeout(c);
        break;
    case NET__T_PING:
        net__ws_timeout(c);
        break;
    case NET__T_IDLE:
    case NET__T_CLOSE:
    case NET__T_LINGER:
        net__conn_drop(c);
        break;
    case NET__T_NONE:
        break;
    }
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
    net__server_maybe_free(s);
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
    if (map_init(&s->per_addr) < 0) {
        free(s);
        return -ENOMEM;
    }
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
    s->retry.data = s;
    net__timers_init(s, conn_timeout);
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
    if ((r = uv_timer_init(loop, &s->retry)) < 0)
        goto err;
    s->handles++;
    s->has_retry = 1;
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
    net__server_maybe_free(s);
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

void net__server_maybe_free(net_server *s)
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
    if (s->has_retry) {
        s->has_retry = 0;
        uv_close((uv_handle_t *)&s->retry, on_server_handle_close);
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
     * walk is safe; the list head itself lives until net__server_maybe_free. */
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
    net__server_maybe_free(s);
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
