/* cql_conn.c - one TCP connection to a Cassandra node: connect, the
 * STARTUP/AUTHENTICATE/USE handshake, stream-id multiplexing, frame
 * reassembly, per-request timeouts and write coalescing. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "cql_int.h"

enum conn_state { ST_CONNECTING, ST_HANDSHAKE, ST_UP, ST_CLOSED };
enum hs_step { HS_STARTUP, HS_AUTH, HS_USE };

/* Ownership: allocated by cql_conn_open; freed after both handles closed
 * (after on_free). Owns its buffers and the bodies of frames in progress. */
struct cql_conn {
    uv_loop_t *loop;
    uv_tcp_t tcp;
    uv_timer_t timer; /* connect deadline, then the earliest call deadline */
    uv_connect_t creq;
    uv_write_t wreq;
    struct cql_conn_opts o;
    enum conn_state state;
    int handles_open;
    uint64_t connect_deadline;

    /* Streams: slots[id] is the call waiting on id, ORPHAN for a timed-out
     * call whose answer may still come, NULL when free. Grown on demand. */
    struct cql_call **slots;
    int n_slots;
    int16_t *free_ids;
    int n_free;
    int in_flight;
    struct cql_call *head, *tail; /* calls in deadline order */

    /* Output: frames pile up in out while wbuf is being written. */
    struct cql_buf out, wbuf, held;
    int writing;
    int use_pending; /* a USE is in flight: new frames go to held */

    /* Input: bytes read but not yet a whole frame. */
    uint64_t last_read; /* loop time of the last bytes received */
    uint8_t *in;
    size_t in_len, in_cap;

    /* Handshake and USE. */
    struct cql_call hs;
    enum hs_step hs_step;
    struct cql_call use_call;
    struct cql_buf scratch;
    char *keyspace; /* the conn's copy of o.keyspace, until the handshake ends */
};

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

static void arm_timer(struct cql_conn *c)
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
static void flush(struct cql_conn *c);

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
    flush(c);
}

/* Writes everything queued in out as one write; what is sent meanwhile waits
 * in out for the next one. */
static void flush(struct cql_conn *c)
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

static int send_frame(struct cql_conn *c, struct cql_call *call, const uint8_t *frame, size_t len,
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
        arm_timer(c);
    if (!hold)
        flush(c);
    return 0;
}

int cql_conn_send(struct cql_conn *c, struct cql_call *call, const uint8_t *frame, size_t len)
{
    if (c->state != ST_UP)
        return CQL_ECLOSED;
    return send_frame(c, call, frame, len, uv_now(c->loop) + (uint64_t)c->o.request_timeout_ms,
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
    arm_timer(c);
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
        arm_timer(c);
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

/* ---- handshake ----------------------------------------------------------------------- */
static void hs_send(struct cql_conn *c, int r)
{
    if (r == 0)
        r = send_frame(c, &c->hs, c->scratch.p, c->scratch.len, c->connect_deadline, 0);
    c->scratch.len = 0;
    if (r < 0)
        cql_conn_close(c, r);
}

static int enc_use(struct cql_buf *b, const char *ks)
{
    /* USE "ks" with quotes doubled: the name is taken as it is spelled. */
    char q[512];
    size_t n = 0;
    n += (size_t)snprintf(q, sizeof(q), "USE \"");
    for (const char *p = ks; *p != '\0'; p++) {
        if (n + 4 >= sizeof(q))
            return -EINVAL;
        if (*p == '"')
            q[n++] = '"';
        q[n++] = *p;
    }
    q[n++] = '"';
    struct cql_params prm = {.consistency = CQL_ONE};
    return cql_enc_query(b, 0, q, n, &prm);
}

static void hs_ready(struct cql_conn *c)
{
    c->state = ST_UP;
    arm_timer(c);
    free(c->keyspace);
    c->keyspace = NULL;
    c->o.on_ready(c, 0, c->o.data);
}

static void hs_use_or_ready(struct cql_conn *c)
{
    if (c->keyspace == NULL) {
        hs_ready(c);
        return;
    }
    c->hs_step = HS_USE;
    hs_send(c, enc_use(&c->scratch, c->keyspace));
}

static void hs_server_error(struct cql_conn *c, const uint8_t *body, size_t len, int status)
{
    pool_t pool;
    struct cql_error e;
    pool_init(&pool);
    if (cql_dec_error(body, len, &pool, &e) == 0)
        log_warn("cql: handshake refused: %s: %s", cql_error_name(e.code), e.message);
    pool_destroy(&pool);
    cql_conn_close(c, status);
}

static void on_hs(struct cql_call *call, int status, const struct cql_header *h, uint8_t *body,
                  size_t len)
{
    struct cql_conn *c = call->data;
    size_t off = 0;
    if (status == 0 && cql_dec_prefix(h->flags, body, len, &off) < 0)
        status = CQL_EPROTO;
    if (status < 0) {
        free(body);
        cql_conn_close(c, status);
        return;
    }
    const uint8_t *b = body + off;
    size_t n = len - off;
    switch (h->opcode) {
    case CQL_OP_READY:
        if (c->hs_step != HS_STARTUP)
            goto unexpected;
        hs_use_or_ready(c);
        break;
    case CQL_OP_AUTHENTICATE:
        if (c->hs_step != HS_STARTUP)
            goto unexpected;
        if (c->o.username == NULL || c->o.password == NULL) {
            log_warn("cql: the node requires authentication but no credentials are configured");
            cql_conn_close(c, CQL_EAUTH);
            break;
        }
        c->hs_step = HS_AUTH;
        hs_send(c, cql_enc_auth_plain(&c->scratch, 0, c->o.username, c->o.password));
        break;
    case CQL_OP_AUTH_SUCCESS:
        if (c->hs_step != HS_AUTH)
            goto unexpected;
        hs_use_or_ready(c);
        break;
    case CQL_OP_AUTH_CHALLENGE:
        /* PLAIN is one round: a challenge means the authenticator wants
         * something this driver does not speak. */
        log_warn("cql: unsupported authentication challenge");
        cql_conn_close(c, CQL_EAUTH);
        break;
    case CQL_OP_RESULT:
        if (c->hs_step != HS_USE)
            goto unexpected;
        hs_ready(c);
        break;
    case CQL_OP_ERROR:
        hs_server_error(c, b, n, c->hs_step == HS_AUTH ? CQL_EAUTH : CQL_ESERVER);
        break;
    default:
    unexpected:
        log_warn("cql: unexpected opcode 0x%02x during the handshake", h->opcode);
        cql_conn_close(c, CQL_EPROTO);
    }
    free(body);
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
    c->state = ST_HANDSHAKE;
    c->hs_step = HS_STARTUP;
    hs_send(c, cql_enc_startup(&c->scratch, 0));
}

int cql_conn_open(uv_loop_t *loop, const struct cql_conn_opts *o, struct cql_conn **out)
{
    struct cql_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -ENOMEM;
    c->loop = loop;
    c->o = *o;
    c->state = ST_CONNECTING;
    c->hs.cb = on_hs;
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
    arm_timer(c);
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

/* ---- USE on a live connection ----------------------------------------------------------- */
static void on_use(struct cql_call *call, int status, const struct cql_header *h, uint8_t *body,
                   size_t len)
{
    struct cql_conn *c = call->data;
    size_t off = 0;
    if (status == 0 && cql_dec_prefix(h->flags, body, len, &off) < 0)
        status = CQL_EPROTO;
    if (status == 0 && h->opcode == CQL_OP_ERROR) {
        hs_server_error(c, body + off, len - off, -ECONNABORTED);
        free(body);
        return;
    }
    free(body);
    if (status == 0 && h->opcode != CQL_OP_RESULT)
        status = CQL_EPROTO;
    if (status < 0) {
        cql_conn_close(c, status);
        return;
    }
    /* Release what waited for the keyspace, in order. */
    c->use_pending = 0;
    if (c->held.len > 0) {
        if (cql_buf_reserve(&c->out, c->held.len) < 0) {
            cql_conn_close(c, -ENOMEM);
            return;
        }
        memcpy(c->out.p + c->out.len, c->held.p, c->held.len);
        c->out.len += c->held.len;
        c->held.len = 0;
    }
    flush(c);
}

int cql_conn_use(struct cql_conn *c, const char *keyspace)
{
    if (c->state != ST_UP)
        return CQL_ECLOSED;
    if (c->use_pending)
        return -EBUSY;
    struct cql_buf b;
    cql_buf_init(&b);
    int r = enc_use(&b, keyspace);
    if (r == 0) {
        c->use_call.cb = on_use;
        c->use_call.data = c;
        r = send_frame(c, &c->use_call, b.p, b.len,
                       uv_now(c->loop) + (uint64_t)c->o.request_timeout_ms, 0);
    }
    cql_buf_free(&b);
    if (r == 0)
        c->use_pending = 1;
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
