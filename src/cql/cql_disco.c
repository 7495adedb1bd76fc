/* cql_disco.c - node discovery from system.local and system.peers on the
 * control connection, and the token ring it builds (cql_pool.c owns the
 * nodes and connects them). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "cql_int.h"

struct token_ctx {
    cql_cluster *cl;
    struct cql_node *node;
    int err;
};

static int add_token(void *ctx, const uint8_t *e, int32_t len)
{
    struct token_ctx *t = ctx;
    char s[32];
    if (e == NULL || len <= 0 || len >= (int32_t)sizeof(s))
        return 0; /* not a Murmur3 token: skipped */
    memcpy(s, e, (size_t)len);
    s[len] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return 0;
    cql_cluster *cl = t->cl;
    struct cql_ring_entry *r = realloc(cl->ring, sizeof(*r) * (cl->n_ring + 1));
    if (r == NULL) {
        t->err = -ENOMEM;
        return -ENOMEM;
    }
    cl->ring = r;
    r[cl->n_ring].token = v;
    r[cl->n_ring].node = t->node;
    cl->n_ring++;
    return 0;
}

static int cmp_ring(const void *a, const void *b)
{
    const struct cql_ring_entry *x = a, *y = b;
    return x->token < y->token ? -1 : x->token > y->token;
}

static void discovery_done(cql_cluster *cl)
{
    cl->discovered = 1;
    if (cl->n_ring > 0)
        qsort(cl->ring, cl->n_ring, sizeof(*cl->ring), cmp_ring);
    log_info("cql: %d node(s), %zu token(s) in the ring", cl->n_nodes, cl->n_ring);
    for (int i = 0; i < cl->n_nodes; i++) {
        struct cql_node *n = cl->nodes[i];
        if (n->conn == NULL && !n->up) {
            (void)uv_timer_stop(&n->retry);
            n->first_round = 1;
            cql__node_connect(n);
            if (n->conn == NULL)
                n->first_round = 0;
        }
    }
    cql__maybe_ready(cl);
}

static int cell_inet(const struct cql_cell *c, int port, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    if (c->value != NULL && c->len == 4) {
        struct sockaddr_in *s = (struct sockaddr_in *)out;
        s->sin_family = AF_INET;
        s->sin_port = htons((uint16_t)port);
        memcpy(&s->sin_addr, c->value, 4);
        return s->sin_addr.s_addr != 0 ? 0 : -EINVAL;
    }
    if (c->value != NULL && c->len == 16) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)out;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons((uint16_t)port);
        memcpy(&s->sin6_addr, c->value, 16);
        static const uint8_t any[16];
        return memcmp(c->value, any, 16) != 0 ? 0 : -EINVAL;
    }
    return -EINVAL;
}

static int addr_port(const struct sockaddr_storage *a)
{
    return a->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)a)->sin_port)
                                   : ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
}

/* system.local: data_center, tokens. system.peers: peer, rpc_address,
 * data_center, tokens (peers are reached on the contact point's port). */
static int disco_rows(cql_cluster *cl, const struct cql_rows *rows, pool_t *pool)
{
    int port = addr_port(&cl->control->addr);
    for (int64_t i = 0; i < rows->n_rows; i++) {
        struct cql_node *n;
        int c = 0;
        if (cl->disco_step == 0) {
            n = cl->control;
            snprintf(n->dc, sizeof(n->dc), "%s", cql_get_text(cql_cell(rows, i, 0), pool));
            c = 1;
        } else {
            struct sockaddr_storage a;
            if (cell_inet(cql_cell(rows, i, 1), port, &a) < 0 &&
                cell_inet(cql_cell(rows, i, 0), port, &a) < 0)
                continue;
            n = cql__node_add(cl, &a, cql_get_text(cql_cell(rows, i, 2), pool));
            if (n == NULL)
                return -ENOMEM;
            c = 3;
        }
        const struct cql_cell *t = cql_cell(rows, i, c);
        if (t->value == NULL)
            continue;
        struct token_ctx ctx = {cl, n, 0};
        int r = cql_dec_collection(t->value, t->len, add_token, &ctx);
        if (ctx.err < 0)
            return ctx.err;
        if (r < 0)
            log_warn("cql: bad tokens column for %s", n->name);
    }
    return 0;
}

static void disco_send(cql_cluster *cl);

static void on_disco(struct cql_call *call, int status, const struct cql_header *h, uint8_t *body,
                     size_t len)
{
    cql_cluster *cl = call->data;
    size_t off = 0;
    pool_t pool;
    pool_init(&pool);
    struct cql_result res;
    if (status == 0 && cql_dec_prefix(h->flags, body, len, &off) < 0)
        status = CQL_EPROTO;
    if (status == 0 && h->opcode != CQL_OP_RESULT)
        status = h->opcode == CQL_OP_ERROR ? CQL_ESERVER : CQL_EPROTO;
    if (status == 0)
        status = cql_dec_result(body + off, len - off, &pool, &res);
    int want_cols = cl->disco_step == 0 ? 2 : 4;
    if (status == 0 && (res.kind != CQL_RESULT_ROWS || res.rows.n_cols != want_cols))
        status = CQL_EPROTO;
    if (status == 0)
        status = disco_rows(cl, &res.rows, &pool);
    pool_destroy(&pool);
    free(body);
    if (cl->closing)
        return;
    if (status < 0) {
        /* Without the topology the cluster still works: the nodes known so
         * far, round-robin. */
        log_warn("cql: node discovery failed: %s", cql_strerror(status));
        discovery_done(cl);
        return;
    }
    if (++cl->disco_step == 2) {
        discovery_done(cl);
        return;
    }
    disco_send(cl);
}

static void disco_send(cql_cluster *cl)
{
    static const char *const q[] = {
        "SELECT data_center, tokens FROM system.local",
        "SELECT peer, rpc_address, data_center, tokens FROM system.peers",
    };
    const char *text = q[cl->disco_step];
    struct cql_params p = {.consistency = CQL_ONE};
    cl->scratch.len = 0;
    int r = cql_enc_query(&cl->scratch, 0, text, strlen(text), &p);
    if (r == 0)
        r = cql_conn_send(cl->control->conn, &cl->disco, cl->scratch.p, cl->scratch.len);
    cl->scratch.len = 0;
    if (r < 0) {
        log_warn("cql: node discovery failed: %s", cql_strerror(r));
        discovery_done(cl);
    }
}

void cql__discover(cql_cluster *cl, struct cql_node *n)
{
    cl->control = n;
    cl->disco_step = 0;
    cl->disco.cb = on_disco;
    cl->disco.data = cl;
    /* A fresh ring: the tokens come from this discovery only. */
    cl->n_ring = 0;
    disco_send(cl);
}
