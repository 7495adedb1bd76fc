/* cql_conn.c - one TCP connection to a Cassandra node: connect, stream-id
 * multiplexing, frame reassembly, per-request timeouts and write
 * coalescing. The STARTUP/AUTHENTICATE/USE handshake is in cql_hs.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "cql_conn_int.h"

static struct cql_call orphan_marker;
#define ORPHAN (&orphan_marker)

enum { MAX_STREAMS = CQL_MAX_STREAMS, INITIAL_STREAMS = 256, READ_CHUNK = 64 * 1024 };

/* ---- stream ids ------------------------------------------------------------ */
static int stream_alloc(struct cql_conn *c, struct cql_call *call)
{
    if (c->n_free == 0) {
        if (c->n_slots >= MAX_STREAMS)
            return -EBUSY;
        int n = c->n_slots ? c->n_slots * 2 : INITIAL_STREAMS;
        struct cql_call **s = realloc(c->slots, sizeof(*s) * (size_t)n);
        if (s == NULL)
            return -ENOMEM;
        c->slots = s;
        int16_t *f = realloc(c->free_ids, sizeof(*f) * (size_t)n);
        if (f == NULL)
            return -ENOMEM;
        c->free_ids = f;
        for (int i = c->n_slots; i < n; i++)
            s[i] = NULL;
        /* Lowest ids on top of the stack. */
        for (int i = n - 1; i >= c->n_slots; i--)
            f[c->n_free++] = (int16_t)i;
        c->n_slots = n;
    }
    int16_t id = c->free_ids[--c->n_free];
    c->slots[id] = call;
    return id;
}

static void stream_free(struct cql_conn *c, int16_t id)
{
    c->slots[id] = NULL;
    c->free_ids[c->n_free++] = id;
}

/* ---- the deadline list ------------------------------------------------------ */
static void list_insert(struct cql_conn *c, struct cql_call *call)
{
    /* Deadlines are nearly always increasing: walk back from the tail. */
    struct cql_call *after = c->tail;
    while (after != NULL && after->deadline_ > call->deadline_)
        after = after->prev_;
    call->prev_ = after;
    call->next_ = after ? after->next_ : c->head;
    if (call->next_)
        call->next_->prev_ = call;
    else
        c->tail = call;
    if (after)
        after->next_ = call;
    else
        c->head = call;
}

static void list_remove(struct cql_conn *c, struct cql_call *call)
{
    if (call->prev_)
        call->prev_->next_ = call->next_;
    else
        c->head = call->next_;
    if (call->next_)
        call->next_->prev_ = call->prev_;
    else
        c->tail = call->prev_;
    call->prev_ = call->next_ = NULL;
}

static void on_timer(uv_timer_t *t);

void cql__arm_timer(struct cql_conn *c)
{
    if (c->state == ST_CLOSED)
        return;
    uint64_t due = c->head ? c->head->deadline_ : UINT64_MAX;
    if (c->state != ST_UP && c->connect_deadline < due)
        due = c->connect_deadline;
    if (due == UINT64_MAX) {
        uv_timer_stop(&c->timer);
        return;
    }
    uint64_t now = uv_now(c->loop);
    (void)uv_timer_start(&c->timer, on_timer, due > now ? due - now : 0, 0);
}

/* ---- closing ------------------------------------------------------------------ */
static void on_handle_closed(uv_handle_t *h)
{
    struct cql_conn *c = h->data;
    if (--c->handles_open > 0)
        return;
    if (c->o.on_free != NULL)
        c->o.on_free(c, c->o.data);
    cql_buf_free(&c->out);
    cql_buf_free(&c->wbuf);
    cql_buf_free(&c->held);
    cql_buf_free(&c->scratch);
    free(c->in);
    free(c->keyspace);
    free(c->slots);
    free(c->free_ids);
    free(c);
}

void cql_conn_close(struct cql_conn *c, int status)
{
    if (c->state == ST_CLOSED)
        return;
    enum conn_state was = c->state;
    c->state = ST_CLOSED;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    if (was == ST_UP)
        c->o.on_down(c, status, c->o.data);
    /* The handshake call is internal: the conn owns it. */
    while (c->head != NULL) {
        struct cql_call *call = c->head;
        list_remove(c, call);
        stream_free(c, call->stream_);
        c->in_flight--;
        if (call != &c->hs)
            call->cb(call, status, NULL, NULL, 0);
    }
    if (was != ST_UP)
        c->o.on_ready(c, status, c->o.data);
}

/* ---- writing ------------------------------------------------------------------- */

static void on_write(uv_write_t *w, int status)
{
    struct cql_conn *c = w->data;
    c->writing = 0;
    c->wbuf.len = 0;
    if (c->state == ST_CLOSED)
        return;
    if (status < 0) {
        cql_conn_close(c, status);
        return;
    }
    cql__flush(c);
}

/* Writes everything queued in out as one write; what is sent meanwhile waits
 * in out for the next one. */
void cql__flush(struct cql_conn *c)
{
    if (c->writing || c->out.len == 0 || c->state == ST_CLOSED)
        return;
    struct cql_buf t = c->wbuf;
    c->wbuf = c->out;
    c->out = t;
    uv_buf_t b = uv_buf_init((char *)c->wbuf.p, (unsigned)c->wbuf.len);
    c->wreq.data = c;
    int r = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (r < 0) {
        c->wbuf.len = 0;
        cql_conn_close(c, r);
        return;
    }
    c->writing = 1;
}

int cql__send_frame(struct cql_conn *c, struct cql_call *call, const uint8_t *frame, size_t len,
                    uint64_t deadline, int hold)
{
    if (len < CQL_HEADER_LEN || len > UINT32_MAX)
        return -EINVAL;
    struct cql_buf *dst = hold ? &c->held : &c->out;
    if (cql_buf_reserve(dst, len) < 0)
        return -ENOMEM;
    int id = stream_alloc(c, call);
    if (id < 0)
        return id;
    memcpy(dst->p + dst->len, frame, len);
    cql_frame_set_stream(dst->p + dst->len, (int16_t)id);
    dst->len += len;
    call->conn_ = c;
    call->stream_ = (int16_t)id;
    call->deadline_ = deadline;
    list_insert(c, call);
    c->in_flight++;
    if (c->head == call)
        cql__arm_timer(c);
    if (!hold)
        cql__flush(c);
    return 0;
}

int cql_conn_send(struct cql_conn *c, struct cql_call *call, const uint8_t *frame, size_t len)
{
    if (c->state != ST_UP)
        return CQL_ECLOSED;
    return cql__send_frame(c, call, frame, len, uv_now(c->loop) + (uint64_t)c->o.request_timeout_ms,
                           c->use_pending);
}

/* ---- timers ---------------------------------------------------------------------- */
enum { SILENCE_MIN_MS = 2000 };

/* How long a connection with requests waiting may stay silent before the
 * node counts as hung: a request timeout, but never under 2 s, so that
 * short timeouts on a slow node do not tear connections down. */
static uint64_t silence_limit(const struct cql_conn *c)
{
    int64_t t = c->o.request_timeout_ms;
    return (uint64_t)(t > SILENCE_MIN_MS ? t : SILENCE_MIN_MS);
}

static void on_timer(uv_timer_t *t)
{
    struct cql_conn *c = t->data;
    uint64_t now = uv_now(c->loop);
    if (c->state != ST_UP && now >= c->connect_deadline) {
        cql_conn_close(c, CQL_ETIMEOUT);
        return;
    }
    while (c->state != ST_CLOSED && c->head != NULL && c->head->deadline_ <= now) {
        struct cql_call *call = c->head;
        list_remove(c, call);
        c->in_flight--;
        if (call == &c->hs || call == &c->use_call) {
            /* The handshake, or a USE, did not finish in time. */
            stream_free(c, call->stream_);
            cql_conn_close(c, CQL_ETIMEOUT);
            return;
        }
        if (now - c->last_read >= silence_limit(c)) {
            /* Not a byte for a whole timeout while a request waited: the
             * node is hung (frozen, partitioned), not slow. Give the
             * connection up so the node is marked down and requests go
             * elsewhere; this call fails with the others. */
            list_insert(c, call);
            c->in_flight++;
            log_warn("cql: nothing received for %lld ms: closing the connection",
                     (long long)(now - c->last_read));
            cql_conn_close(c, CQL_ETIMEOUT);
            return;
        }
        /* The id stays taken until the late answer, or the conn, goes. */
        c->slots[call->stream_] = ORPHAN;
        call->cb(call, CQL_ETIMEOUT, NULL, NULL, 0);
    }
    cql__arm_timer(c);
}

/* ---- reading ---------------------------------------------------------------------- */
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct cql_conn *c = h->data;
    (void)hint;
    if (c->in_cap - c->in_len < READ_CHUNK / 4) {
        size_t cap = c->in_cap ? c->in_cap * 2 : READ_CHUNK;
        while (cap - c->in_len < READ_CHUNK / 4)
            cap *= 2;
        uint8_t *p = realloc(c->in, cap);
        if (p == NULL) {
            *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS */
            return;
        }
        c->in = p;
        c->in_cap = cap;
    }
    *buf = uv_buf_init((char *)c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

static void dispatch(struct cql_conn *c, const struct cql_header *h, const uint8_t *body)
{
    if (h->stream < 0)
        return; /* an EVENT: not registered for any, ignored */
    if (h->stream >= c->n_slots || c->slots[h->stream] == NULL) {
        log_warn("cql: answer on unused stream %d", h->stream);
        cql_conn_close(c, CQL_EPROTO);
        return;
    }
    struct cql_call *call = c->slots[h->stream];
    stream_free(c, h->stream);
    if (call == ORPHAN)
        return; /* the late answer of a timed-out call */
    uint8_t *copy = malloc(h->length ? h->length : 1);
    if (copy == NULL) {
        cql_conn_close(c, -ENOMEM);
        return;
    }
    if (h->length > 0)
        memcpy(copy, body, h->length);
    int head = c->head == call;
    list_remove(c, call);
    c->in_flight--;
    if (head)
        cql__arm_timer(c);
    call->cb(call, 0, h, copy, h->length);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct cql_conn *c = s->data;
    (void)buf;
    if (c->state == ST_CLOSED)
        return;
    if (n < 0) {
        cql_conn_close(c, n == UV_EOF ? -ECONNRESET : (int)n);
        return;
    }
    c->in_len += (size_t)n;
    c->last_read = uv_now(c->loop);
    size_t off = 0;
    while (c->state != ST_CLOSED) {
        struct cql_header h;
        int r = cql_header_decode(c->in + off, c->in_len - off, CQL_VERSION_RESP, &h);
        if (r == -EAGAIN)
            break;
        if (r < 0) {
            log_warn("cql: bad frame header from the server");
            cql_conn_close(c, CQL_EPROTO);
            return;
        }
        size_t need = CQL_HEADER_LEN + (size_t)h.length;
        if (c->in_len - off < need) {
            /* Make room for the whole frame, so it arrives in place. */
            if (off == 0 && c->in_cap < need + READ_CHUNK / 4) {
                uint8_t *p = realloc(c->in, need + READ_CHUNK / 4);
                if (p == NULL) {
                    cql_conn_close(c, -ENOMEM);
                    return;
                }
                c->in = p;
                c->in_cap = need + READ_CHUNK / 4;
            }
            break;
        }
        dispatch(c, &h, c->in + off + CQL_HEADER_LEN);
        off += need;
    }
    if (c->state == ST_CLOSED)
        return;
    if (off > 0) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
}

static void on_connect(uv_connect_t *req, int status)
{
    struct cql_conn *c = req->data;
    if (c->state == ST_CLOSED)
        return;
    if (status < 0) {
        cql_conn_close(c, status);
        return;
    }
    int r = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (r < 0) {
        cql_conn_close(c, r);
        return;
    }
    cql__hs_start(c);
}

int cql_conn_open(uv_loop_t *loop, const struct cql_conn_opts *o, struct cql_conn **out)
{
    struct cql_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -ENOMEM;
    c->loop = loop;
    c->o = *o;
    c->state = ST_CONNECTING;
    c->hs.cb = cql__on_hs;
    c->hs.data = c;
    c->o.keyspace = NULL;
    if (o->keyspace != NULL && (c->keyspace = strdup(o->keyspace)) == NULL) {
        free(c);
        return -ENOMEM;
    }
    int r = uv_tcp_init(loop, &c->tcp);
    if (r < 0) {
        free(c->keyspace);
        free(c);
        return r;
    }
    c->tcp.data = c;
    c->handles_open = 1;
    if ((r = uv_timer_init(loop, &c->timer)) < 0)
        goto err_tcp;
    c->timer.data = c;
    c->handles_open = 2;
    (void)uv_tcp_nodelay(&c->tcp, 1);
    c->creq.data = c;
    r = uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&c->o.addr, on_connect);
    if (r < 0)
        goto err_timer;
    c->connect_deadline = uv_now(loop) + (uint64_t)o->connect_timeout_ms;
    cql__arm_timer(c);
    *out = c;
    return 0;

err_timer:
    /* Closing frees c in on_handle_closed; no on_free for a conn the
     * caller never got. */
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
err_tcp:
    c->o.on_free = NULL;
    c->state = ST_CLOSED;
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    return r;
}

int cql_conn_is_up(const struct cql_conn *c)
{
    return c->state == ST_UP;
}

int cql_conn_in_flight(const struct cql_conn *c)
{
    return c->in_flight;
}

int cql_conn_streams_used(const struct cql_conn *c)
{
    return c->n_slots - c->n_free;
}

/* ---- addresses ----------------------------------------------------------------------------- */
int cql_parse_addr(const char *s, size_t len, int default_port, struct sockaddr_storage *out)
{
    char host[64];
    int port = default_port;
    const char *end = s + len, *colon = NULL;
    if (len == 0)
        return -EINVAL;
    if (s[0] == '[') {
        const char *rb = memchr(s, ']', len);
        if (rb == NULL || (size_t)(rb - s - 1) >= sizeof(host))
            return -EINVAL;
        memcpy(host, s + 1, (size_t)(rb - s - 1));
        host[rb - s - 1] = '\0';
        if (rb + 1 < end) {
            if (rb[1] != ':')
                return -EINVAL;
            colon = rb + 1;
        }
    } else {
        colon = memchr(s, ':', len);
        size_t hl = colon ? (size_t)(colon - s) : len;
        if (hl == 0 || hl >= sizeof(host))
            return -EINVAL;
        memcpy(host, s, hl);
        host[hl] = '\0';
    }
    if (colon != NULL) {
        port = 0;
        const char *p = colon + 1;
        if (p == end)
            return -EINVAL;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9' || port > 65535)
                return -EINVAL;
            port = port * 10 + (*p - '0');
        }
    }
    if (port <= 0 || port > 65535)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)out) == 0)
        return 0;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) == 0)
        return 0;
    return -EINVAL;
}
