/* cql_hs.c - what a connection says before and besides requests: the
 * STARTUP/AUTHENTICATE/USE handshake after connecting, and USE on a live
 * connection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "cql_conn_int.h"

static void hs_send(struct cql_conn *c, int r)
{
    if (r == 0)
        r = cql__send_frame(c, &c->hs, c->scratch.p, c->scratch.len, c->connect_deadline, 0);
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
    cql__arm_timer(c);
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

void cql__on_hs(struct cql_call *call, int status, const struct cql_header *h, uint8_t *body,
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

void cql__hs_start(struct cql_conn *c)
{
    c->state = ST_HANDSHAKE;
    c->hs_step = HS_STARTUP;
    hs_send(c, cql_enc_startup(&c->scratch, 0));
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
    cql__flush(c);
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
        r = cql__send_frame(c, &c->use_call, b.p, b.len,
                            uv_now(c->loop) + (uint64_t)c->o.request_timeout_ms, 0);
    }
    cql_buf_free(&b);
    if (r == 0)
        c->use_pending = 1;
    return r;
}
