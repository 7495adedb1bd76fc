/* cql_schema.c - waiting for schema agreement after a schema change.
 *
 * A CREATE/ALTER/DROP is answered once the coordinator applied it; the
 * other nodes learn it by gossip a little later, and a statement sent to
 * one of them meanwhile fails ("keyspace does not exist"). So, as drivers
 * do, the request that changed the schema completes only once every node
 * that is up reports the coordinator's schema_version (system.local and
 * system.peers, read on the coordinator), polling every 200 ms, or after
 * 10 s (logged; the change itself succeeded either way). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "cql_int.h"

enum { AGREE_POLL_MS = 200, AGREE_MAX_MS = 10000 };

static void agree_send(struct cql_att *att);

/* The request already has its result: complete it successfully. */
static void agree_done(struct cql_att *att)
{
    cql__finish(att, att->cl->closing ? CQL_ECLOSED : 0);
}

static void on_agree_timer(uv_timer_t *t)
{
    cql_cluster *cl = t->data;
    struct cql_att *list = cl->agreeing;
    cl->agreeing = NULL;
    while (list != NULL) {
        struct cql_att *att = list;
        list = att->next;
        agree_send(att);
    }
}

static void agree_later(struct cql_att *att)
{
    cql_cluster *cl = att->cl;
    if (uv_now(cl->loop) >= att->agree_deadline) {
        log_warn("cql: no schema agreement after %d ms; going on", AGREE_MAX_MS);
        agree_done(att);
        return;
    }
    att->next = cl->agreeing;
    cl->agreeing = att;
    (void)uv_timer_start(&cl->agree_timer, on_agree_timer, AGREE_POLL_MS, 0);
}

/* Whether a peer row's address belongs to a node that is up. */
static int peer_up(cql_cluster *cl, const struct cql_cell *addr)
{
    if (addr->value == NULL || (addr->len != 4 && addr->len != 16))
        return 0;
    for (int i = 0; i < cl->n_nodes; i++) {
        const struct cql_node *n = cl->nodes[i];
        const struct sockaddr_storage *a = &n->addr;
        const void *ip = a->ss_family == AF_INET
                             ? (const void *)&((const struct sockaddr_in *)a)->sin_addr
                             : (const void *)&((const struct sockaddr_in6 *)a)->sin6_addr;
        size_t len = a->ss_family == AF_INET ? 4 : 16;
        if ((size_t)addr->len == len && memcmp(ip, addr->value, len) == 0)
            return n->up;
    }
    return 0;
}

/* 1: agreement, 0: not yet, < 0: cannot tell. */
static int agree_check(struct cql_att *att, const struct cql_rows *rows, pool_t *pool)
{
    if (att->agree_step == 0) {
        if (rows->n_rows != 1 || rows->n_cols != 1)
            return CQL_EPROTO;
        const struct cql_cell *v = cql_cell(rows, 0, 0);
        if (v->value == NULL || v->len != 16)
            return CQL_EPROTO;
        free(att->agree_version);
        att->agree_version = malloc(16);
        if (att->agree_version == NULL)
            return -ENOMEM;
        memcpy(att->agree_version, v->value, 16);
        return 1;
    }
    (void)pool;
    if (rows->n_cols != 3)
        return CQL_EPROTO;
    for (int64_t i = 0; i < rows->n_rows; i++) {
        if (!peer_up(att->cl, cql_cell(rows, i, 1)) && !peer_up(att->cl, cql_cell(rows, i, 0)))
            continue; /* a node that is down cannot agree */
        const struct cql_cell *v = cql_cell(rows, i, 2);
        if (v->value == NULL || v->len != 16 || memcmp(v->value, att->agree_version, 16) != 0)
            return 0;
    }
    return 1;
}

static void on_agree(struct cql_call *call, int status, const struct cql_header *h, uint8_t *body,
                     size_t len)
{
    struct cql_att *att = call->data;
    size_t off = 0;
    pool_t pool;
    pool_init(&pool);
    struct cql_result res;
    if (status == 0 && cql_dec_prefix(h->flags, body, len, &off) < 0)
        status = CQL_EPROTO;
    if (status == 0 && h->opcode != CQL_OP_RESULT)
        status = CQL_EPROTO;
    if (status == 0)
        status = cql_dec_result(body + off, len - off, &pool, &res);
    if (status == 0 && res.kind != CQL_RESULT_ROWS)
        status = CQL_EPROTO;
    int agreed = status == 0 ? agree_check(att, &res.rows, &pool) : status;
    pool_destroy(&pool);
    free(body);
    if (agreed < 0) {
        /* The change is made; only the wait is cut short. */
        if (!att->cl->closing)
            log_warn("cql: schema agreement check failed: %s", cql_strerror(agreed));
        agree_done(att);
        return;
    }
    if (att->agree_step == 0) {
        att->agree_step = 1;
        agree_send(att);
        return;
    }
    if (agreed) {
        agree_done(att);
        return;
    }
    att->agree_step = 0;
    agree_later(att);
}

static void agree_send(struct cql_att *att)
{
    static const char *const q[] = {
        "SELECT schema_version FROM system.local",
        "SELECT peer, rpc_address, schema_version FROM system.peers",
    };
    cql_cluster *cl = att->cl;
    if (cl->closing || att->node == NULL || att->node->conn == NULL || !att->node->up) {
        agree_done(att);
        return;
    }
    const char *text = q[att->agree_step];
    struct cql_params p = {.consistency = CQL_ONE};
    cl->scratch.len = 0;
    int r = cql_enc_query(&cl->scratch, 0, text, strlen(text), &p);
    att->call.cb = on_agree;
    att->call.data = att;
    if (r == 0)
        r = cql_conn_send(att->node->conn, &att->call, cl->scratch.p, cl->scratch.len);
    cl->scratch.len = 0;
    if (r < 0)
        agree_done(att);
}

void cql__schema_wait(struct cql_att *att)
{
    att->agree_step = 0;
    att->agree_deadline = uv_now(att->cl->loop) + AGREE_MAX_MS;
    agree_send(att);
}

void cql__schema_close(cql_cluster *cl)
{
    struct cql_att *list = cl->agreeing;
    cl->agreeing = NULL;
    while (list != NULL) {
        struct cql_att *att = list;
        list = att->next;
        cql__finish(att, CQL_ECLOSED);
    }
}
