/* fuzz_conn.c - see fuzz_conn.h. */
#include "fuzz_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uv_loop_t loop;
static fz_output_fn out_hook;

static void die(const char *what)
{
    fprintf(stderr, "fuzz harness: %s\n", what);
    abort();
}

/* Timeouts never run here; the harnesses call net__http_timeout and
 * net__ws_timeout themselves. */
static void no_timeout(net_conn *c, enum net__timer_mode mode)
{
    (void)c;
    (void)mode;
}

net_server *fz_server(const struct net_server_opts *opts, fz_output_fn out)
{
    static net_server *s;
    if (s != NULL)
        return s;
    if (uv_loop_init(&loop) != 0)
        die("uv_loop_init");
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        die("out of memory");
    s->loop = &loop;
    s->opts = *opts;
    net__list_init(&s->conns);
    net__list_init(&s->dirty);
    /* net__conn_mark arms these; they then flush an empty dirty list. */
    if (uv_prepare_init(&loop, &s->prepare) != 0 || uv_check_init(&loop, &s->check) != 0)
        die("uv handle init");
    s->prepare.data = s;
    s->check.data = s;
    s->has_prepare = s->has_check = 1;
    /* The conns' shared timeout timer (timer.c): armed by net__timer_set,
     * never run here (the harness only turns the loop to close). */
    net__timers_init(s, no_timeout);
    if (uv_timer_init(&loop, &s->timer) != 0)
        die("uv handle init");
    s->timer.data = s;
    uv_unref((uv_handle_t *)&s->timer);
    s->has_timer = 1;
    s->handles = 3;
    out_hook = out;
    return s;
}

net_conn *fz_conn_open(net_server *s)
{
    net_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        die("out of memory");
    c->srv = s;
    c->refs = 1;
    c->tcp.data = c;
    net__list_init(&c->dirty);
    net__list_init(&c->tlink);
    /* An unconnected TCP handle: never read or written, only closed. */
    if (uv_tcp_init(s->loop, &c->tcp) != 0)
        die("uv handle init");
    c->handles = 1;
    net__list_push(&s->conns, &c->all);
    s->n_alive++;
    s->n_open++;
    strcpy(c->addr, "192.0.2.1");
    if (net__http_init(c) != 0)
        die("net__http_init");
    return c;
}

int fz_conn_alive(const net_conn *c)
{
    return !c->closed && !c->finishing && !c->lingering;
}

/* "Writes" the output: shows it to the hook and forgets it. */
static void drain(net_conn *c)
{
    static int show = -1;
    if (show < 0)
        show = getenv("FUZZ_SHOW") != NULL; /* FUZZ_SHOW=1: print the output */
    if (c->olen > 0 && show)
        fprintf(stderr, "--- output (%zu bytes)\n%.*s\n", c->olen, (int)c->olen, c->obuf->data);
    if (c->olen > 0 && out_hook != NULL)
        out_hook(c, c->obuf->data, c->olen);
    c->olen = 0;
}

/* What server.c's pump does, minus the socket. */
static void process(net_conn *c)
{
    for (int guard = 0; guard < 100000 && fz_conn_alive(c); guard++) {
        size_t before = c->roff;
        int was_ws = c->is_ws;
        if (c->is_ws)
            net__ws_input(c);
        else if (c->roff < c->rlen)
            net__http_input(c);
        else
            break;
        if (c->closed)
            return;
        drain(c);
        if (c->roff == before && c->is_ws == was_ws)
            break;
    }
    if (!c->closed)
        drain(c);
}

void fz_conn_feed(net_conn *c, const uint8_t *data, size_t len)
{
    if (!fz_conn_alive(c) || len == 0)
        return;
    /* An exact-size copy, so ASan sees any read past the received bytes. */
    size_t keep = c->rlen - c->roff;
    char *buf = malloc(keep + len);
    if (buf == NULL)
        die("out of memory");
    if (keep > 0)
        memcpy(buf, c->rbuf + c->roff, keep);
    memcpy(buf + keep, data, len);
    free(c->rbuf);
    c->rbuf = buf;
    c->roff = 0;
    c->rlen = c->rcap = keep + len;
    process(c);
    if (!c->closed)
        net__rbuf_release(c);
}

void fz_conn_close(net_conn *c)
{
    net__conn_drop(c); /* a no-op when already closed */
    /* Runs the close callbacks (conn_free) and the flush of the empty dirty
     * list; nothing else is active. */
    if (uv_run(&loop, UV_RUN_DEFAULT) != 0)
        die("uv_run left handles active");
}
