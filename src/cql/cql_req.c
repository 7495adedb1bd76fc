/* cql_req.c - requests on the cluster: routing, preparing statements on the
 * node that runs them, UNPREPARED recovery, retries of idempotent requests,
 * results. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "cql_int.h"

enum { ROUTING_KEY_MAX = 1024 };

void cql_req_init(cql_req *req, enum cql_req_kind kind, cql_cb cb, void *data)
{
    memset(req, 0, sizeof(*req));
    req->kind = kind;
    req->cb = cb;
    req->data = data;
    req->applied = -1;
    /* The memset left every value empty (cql_values_init is a memset), the
     * batch's too: no loop over CQL_BATCH_MAX on every request. */
    pool_init(&req->pool);
}

void cql_req_reset(cql_req *req)
{
    cql_values_free(&req->values);
    /* Only the first n_batch items are ever bound (and freed ones are
     * empty again). */
    for (int i = 0; i < req->n_batch && i < CQL_BATCH_MAX; i++)
        cql_values_free(&req->batch[i].values);
    pool_destroy(&req->pool);
    free(req->body);
    req->body = NULL;
    memset(&req->rows, 0, sizeof(req->rows));
    memset(&req->err, 0, sizeof(req->err));
    req->result_kind = 0;
    req->applied = -1;
    req->status = 0;
}

/* ---- completion ------------------------------------------------------------ */
static void finish_now(struct cql_att *att, int status)
{
    cql_req *req = att->req;
    req->status = status;
    req->priv = NULL;
    free(att->agree_version);
    free(att);
    req->cb(req);
}

static void on_defer(uv_timer_t *t)
{
    cql_cluster *cl = t->data;
    struct cql_att *list = cl->deferred;
    cl->deferred = cl->deferred_tail = NULL;
    while (list != NULL) {
        struct cql_att *att = list;
        list = att->next;
        finish_now(att, att->req->status);
    }
}

/* Completes a request; inside cql_submit the callback is deferred to the
 * next loop turn (callbacks never run from inside cql_submit). */
static void finish(struct cql_att *att, int status)
{
    if (!att->in_submit) {
        finish_now(att, status);
        return;
    }
    cql_cluster *cl = att->cl;
    att->req->status = status;
    att->next = NULL;
    if (cl->deferred_tail)
        cl->deferred_tail->next = att;
    else
        cl->deferred = att;
    cl->deferred_tail = att;
    (void)uv_timer_start(&cl->defer, on_defer, 0, 0);
}

void cql__finish(struct cql_att *att, int status)
{
    finish(att, status);
}

void cql__fail_deferred(cql_cluster *cl)
{
    struct cql_att *list = cl->deferred;
    cl->deferred = cl->deferred_tail = NULL;
    while (list != NULL) {
        struct cql_att *att = list;
        list = att->next;
        finish_now(att, CQL_ECLOSED);
    }
}

/* ---- statements on nodes ------------------------------------------------------ */
static struct cql_stmt_node *stmt_node(cql_stmt *s, const struct cql_node *n)
{
    if (n->idx >= s->n_per_node) {
        int cap = n->idx + 1 > s->n_per_node * 2 ? n->idx + 1 : s->n_per_node * 2;
        struct cql_stmt_node *p = realloc(s->per_node, sizeof(*p) * (size_t)cap);
        if (p == NULL)
            return NULL;
        memset(p + s->n_per_node, 0, sizeof(*p) * (size_t)(cap - s->n_per_node));
        s->per_node = p;
        s->n_per_node = cap;
    }
    return &s->per_node[n->idx];
}

/* A PREPARE in flight. Ownership: malloc'd, freed in its callback. */
struct prep {
    struct cql_call call;
    cql_stmt *stmt;
    struct cql_node *node;
};

static void att_failed(struct cql_att *att, int status, int sent);
static void att_run(struct cql_att *att);

static void copy_error(cql_req *req, const struct cql_error *e)
{
    req->err = *e;
    req->err.message = e->message ? pool_strdup(&req->pool, e->message) : NULL;
    req->err.write_type = e->write_type ? pool_strdup(&req->pool, e->write_type) : NULL;
    req->err.keyspace = e->keyspace ? pool_strdup(&req->pool, e->keyspace) : NULL;
    req->err.table = e->table ? pool_strdup(&req->pool, e->table) : NULL;
    req->err.arg_types = e->arg_types ? pool_strdup(&req->pool, e->arg_types) : NULL;
    req->err.unprepared_id = NULL;
    req->err.unprepared_id_len = 0;
}

static void on_prepared(struct cql_call *call, int status, const struct cql_header *h,
                        uint8_t *body, size_t len)
{
    struct prep *p = call->data;
    cql_stmt *s = p->stmt;
    struct cql_stmt_node *sn = &s->per_node[p->node->idx];
    pool_t pool;
    pool_init(&pool);
    struct cql_error err;
    int have_err = 0;
    size_t off = 0;
    if (status == 0 && cql_dec_prefix(h->flags, body, len, &off) < 0)
        status = CQL_EPROTO;
    if (status == 0 && h->opcode == CQL_OP_ERROR) {
        status = cql_dec_error(body + off, len - off, &pool, &err);
        if (status == 0) {
            status = CQL_ESERVER;
            have_err = 1;
        }
    } else if (status == 0 && h->opcode == CQL_OP_RESULT) {
        struct cql_result res;
        status = cql_dec_result(body + off, len - off, &pool, &res);
        if (status == 0 && res.kind != CQL_RESULT_PREPARED)
            status = CQL_EPROTO;
        if (status == 0) {
            uint8_t *id = malloc(res.prepared.id_len ? res.prepared.id_len : 1);
            if (id == NULL) {
                status = -ENOMEM;
            } else {
                memcpy(id, res.prepared.id, res.prepared.id_len);
                free(sn->id);
                sn->id = id;
                sn->id_len = res.prepared.id_len;
                if (!s->pk_known && res.prepared.n_pk <= 32) {
                    s->n_pk = res.prepared.n_pk;
                    memcpy(s->pk, res.prepared.pk_indexes, sizeof(uint16_t) * (size_t)s->n_pk);
                    s->pk_known = 1;
                }
            }
        }
    } else if (status == 0) {
        status = CQL_EPROTO;
    }
    free(body);
    sn->state = status == 0 ? PREP_READY : PREP_NONE;
    struct cql_att *w = sn->waiters;
    sn->waiters = sn->waiters_tail = NULL;
    free(p);
    if (status < 0 && !have_err)
        log_warn("cql: PREPARE failed: %s", cql_strerror(status));
    /* The waiters' requests were not sent: any of them may go elsewhere. */
    while (w != NULL) {
        struct cql_att *att = w;
        w = att->next;
        if (status == 0) {
            att_run(att);
        } else if (have_err) {
            copy_error(att->req, &err);
            finish(att, CQL_ESERVER);
        } else {
            att_failed(att, status, 0);
        }
    }
    pool_destroy(&pool);
}

/* Makes sure stmt is prepared on the attempt's node: 1 when it is, 0 when
 * the attempt now waits for it, < 0 on failure. */
static int ensure_prepared(struct cql_att *att, cql_stmt *s)
{
    struct cql_stmt_node *sn = stmt_node(s, att->node);
    if (sn == NULL)
        return -ENOMEM;
    if (sn->state == PREP_READY)
        return 1;
    if (sn->state == PREP_NONE) {
        struct prep *p = malloc(sizeof(*p));
        if (p == NULL)
            return -ENOMEM;
        p->call.cb = on_prepared;
        p->call.data = p;
        p->stmt = s;
        p->node = att->node;
        cql_cluster *cl = att->cl;
        cl->scratch.len = 0;
        int r = cql_enc_prepare(&cl->scratch, 0, s->query, s->query_len);
        if (r == 0)
            r = cql_conn_send(att->node->conn, &p->call, cl->scratch.p, cl->scratch.len);
        cl->scratch.len = 0;
        if (r < 0) {
            free(p);
            return r;
        }
        sn->state = PREP_PENDING;
    }
    att->next = NULL;
    if (sn->waiters_tail)
        sn->waiters_tail->next = att;
    else
        sn->waiters = att;
    sn->waiters_tail = att;
    return 0;
}

/* ---- routing ---------------------------------------------------------------------- */
static int stmt_token(cql_stmt *s, const struct cql_values *v, int64_t *tok)
{
    uint8_t key[ROUTING_KEY_MAX];
    size_t n;
    if (!s->pk_known || s->n_pk == 0 ||
        cql_routing_key(v, s->pk, s->n_pk, key, sizeof(key), &n) < 0)
        return -1;
    *tok = cql_murmur3_token(key, n);
    return 0;
}

/* EXECUTE, and batches whose statements all hit one token. */
static void compute_token(struct cql_att *att)
{
    cql_req *req = att->req;
    att->has_token = 0;
    if (req->kind == CQL_REQ_EXECUTE) {
        att->has_token = stmt_token(req->stmt, &req->values, &att->token) == 0;
    } else if (req->kind == CQL_REQ_BATCH) {
        for (int i = 0; i < req->n_batch; i++) {
            int64_t t;
            if (stmt_token(req->batch[i].stmt, &req->batch[i].values, &t) < 0 ||
                (i > 0 && t != att->token))
                return;
            att->token = t;
        }
        att->has_token = req->n_batch > 0;
    }
}

/* ---- sending ------------------------------------------------------------------------ */
static int encode(struct cql_att *att, struct cql_buf *b)
{
    cql_req *req = att->req;
    cql_cluster *cl = att->cl;
    int cons = req->consistency ? req->consistency : cl->o.consistency;
    int serial = req->serial_consistency ? req->serial_consistency : cl->o.serial_consistency;
    struct cql_params p = {
        .consistency = cons,
        .serial_consistency = serial,
        .values = &req->values,
        .page_size = req->page_size,
        .paging_state = req->paging_state,
        .paging_state_len = req->paging_state_len,
        .timestamp_us = req->timestamp_us,
    };
    switch (req->kind) {
    case CQL_REQ_QUERY:
        return cql_enc_query(b, 0, req->query, strlen(req->query), &p);
    case CQL_REQ_EXECUTE: {
        struct cql_stmt_node *sn = &req->stmt->per_node[att->node->idx];
        return cql_enc_execute(b, 0, sn->id, sn->id_len, &p);
    }
    case CQL_REQ_BATCH: {
        struct cql_batch_entry e[CQL_BATCH_MAX];
        for (int i = 0; i < req->n_batch; i++) {
            struct cql_stmt_node *sn = &req->batch[i].stmt->per_node[att->node->idx];
            e[i] = (struct cql_batch_entry){sn->id, sn->id_len, &req->batch[i].values};
        }
        return cql_enc_batch(b, 0, req->batch_type, e, req->n_batch, cons, serial,
                             req->timestamp_us);
    }
    }
    return -EINVAL;
}

static void on_response(struct cql_call *call, int status, const struct cql_header *h,
                        uint8_t *body, size_t len);

/* Runs the attempt on att->node: prepares what it needs there, then sends. */
static void att_run(struct cql_att *att)
{
    cql_cluster *cl = att->cl;
    cql_req *req = att->req;
    if (cl->closing) {
        finish(att, CQL_ECLOSED);
        return;
    }
    if (att->node == NULL || !att->node->up || att->node->conn == NULL) {
        att_failed(att, CQL_ENOHOST, 0);
        return;
    }
    int r;
    if (req->kind == CQL_REQ_EXECUTE) {
        if ((r = ensure_prepared(att, req->stmt)) <= 0)
            goto out;
    } else if (req->kind == CQL_REQ_BATCH) {
        for (int i = 0; i < req->n_batch; i++)
            if ((r = ensure_prepared(att, req->batch[i].stmt)) <= 0)
                goto out;
    }
    cl->scratch.len = 0;
    r = encode(att, &cl->scratch);
    if (r < 0) {
        finish(att, r); /* the request itself is bad (values, size) */
        return;
    }
    att->call.cb = on_response;
    att->call.data = att;
    r = cql_conn_send(att->node->conn, &att->call, cl->scratch.p, cl->scratch.len);
    cl->scratch.len = 0;
out:
    if (r < 0)
        att_failed(att, r, 0);
}

static int retryable(int status, const struct cql_error *e)
{
    if (status == CQL_ESERVER)
        return e->code == CQL_ERR_OVERLOADED || e->code == CQL_ERR_IS_BOOTSTRAPPING ||
               e->code == CQL_ERR_UNAVAILABLE;
    /* A timeout or a lost connection; not the request's own faults. */
    return status != CQL_ECLOSED && status != -ENOMEM && status != -EINVAL && status != -E2BIG &&
           status != CQL_EAUTH;
}

/* The try on att->node failed. sent: the request may have reached the node
 * (then only an idempotent request is tried again); otherwise it never left
 * and another node may always take it. */
static void att_failed(struct cql_att *att, int status, int sent)
{
    cql_cluster *cl = att->cl;
    cql_req *req = att->req;
    if (cl->closing) {
        finish(att, CQL_ECLOSED);
        return;
    }
    int again = sent ? req->idempotent && retryable(status, &req->err)
                     : status != -ENOMEM && status != -EINVAL && status != -E2BIG;
    if (!again || att->tries >= cl->o.max_retries + (sent ? 0 : cl->n_nodes)) {
        finish(att, status == CQL_ENOHOST || (!sent && again) ? CQL_ENOHOST : status);
        return;
    }
    att->tries++;
    struct cql_node *n = cql__pick_node(cl, att, att->node);
    if (n == NULL) {
        finish(att, sent ? status : CQL_ENOHOST);
        return;
    }
    if (status == CQL_ESERVER)
        memset(&req->err, 0, sizeof(req->err));
    att->node = n;
    att_run(att);
}

static void on_response(struct cql_call *call, int status, const struct cql_header *h,
                        uint8_t *body, size_t len)
{
    struct cql_att *att = call->data;
    cql_req *req = att->req;
    size_t off = 0;
    if (status == 0 && cql_dec_prefix(h->flags, body, len, &off) < 0)
        status = CQL_EPROTO;
    if (status < 0) {
        free(body);
        att_failed(att, status, 1);
        return;
    }
    if (h->opcode == CQL_OP_RESULT) {
        struct cql_result res;
        int r = cql_dec_result(body + off, len - off, &req->pool, &res);
        if (r < 0) {
            free(body);
            finish(att, r);
            return;
        }
        free(req->body);
        req->body = body;
        req->result_kind = res.kind;
        if (res.kind == CQL_RESULT_ROWS) {
            req->rows = res.rows;
            req->applied = cql_rows_applied(&res.rows);
        }
        if (res.kind == CQL_RESULT_SCHEMA_CHANGE) {
            cql__schema_wait(att);
            return;
        }
        finish(att, 0);
        return;
    }
    if (h->opcode != CQL_OP_ERROR) {
        free(body);
        finish(att, CQL_EPROTO);
        return;
    }
    int r = cql_dec_error(body + off, len - off, &req->pool, &req->err);
    free(body);
    if (r < 0) {
        finish(att, r);
        return;
    }
    if (req->err.code == CQL_ERR_UNPREPARED && req->kind != CQL_REQ_QUERY && !att->reprepared) {
        /* The node forgot the statement (restarted, or evicted it from its
         * cache): prepare again there and send once more. It did not run. */
        log_info("cql: %s: statement unprepared, preparing again", att->node->name);
        att->reprepared = 1;
        if (req->kind == CQL_REQ_EXECUTE) {
            struct cql_stmt_node *sn = stmt_node(req->stmt, att->node);
            if (sn != NULL && sn->state == PREP_READY)
                sn->state = PREP_NONE;
        } else {
            for (int i = 0; i < req->n_batch; i++) {
                struct cql_stmt_node *sn = stmt_node(req->batch[i].stmt, att->node);
                if (sn != NULL && sn->state == PREP_READY)
                    sn->state = PREP_NONE;
            }
        }
        memset(&req->err, 0, sizeof(req->err));
        att_run(att);
        return;
    }
    att_failed(att, CQL_ESERVER, 1);
}

void cql__att_start(struct cql_att *att)
{
    compute_token(att);
    att->node = cql__pick_node(att->cl, att, NULL);
    if (att->node == NULL) {
        finish(att, CQL_ENOHOST);
        return;
    }
    att_run(att);
}

int cql_submit(cql_cluster *cl, cql_req *req)
{
    if (cl->closing)
        return CQL_ECLOSED;
    switch (req->kind) {
    case CQL_REQ_QUERY:
        if (req->query == NULL)
            return -EINVAL;
        break;
    case CQL_REQ_EXECUTE:
        if (req->stmt == NULL || req->stmt->cl != cl)
            return -EINVAL;
        break;
    case CQL_REQ_BATCH:
        if (req->n_batch < 1 || req->n_batch > CQL_BATCH_MAX || req->batch_type < 0 ||
            req->batch_type > CQL_BATCH_COUNTER)
            return -EINVAL;
        for (int i = 0; i < req->n_batch; i++)
            if (req->batch[i].stmt == NULL || req->batch[i].stmt->cl != cl)
                return -EINVAL;
        break;
    default:
        return -EINVAL;
    }
    if (req->cb == NULL || req->priv != NULL)
        return -EINVAL;
    struct cql_att *att = calloc(1, sizeof(*att));
    if (att == NULL)
        return -ENOMEM;
    att->req = req;
    att->cl = cl;
    req->priv = att;
    req->status = 0;
    req->result_kind = 0;
    req->applied = -1;
    memset(&req->err, 0, sizeof(req->err));
    memset(&req->rows, 0, sizeof(req->rows));
    att->in_submit = 1;
    cql__att_start(att);
    /* Nothing completes synchronously: a finished att sits on the deferred
     * list until the next loop turn, so att is still valid here. */
    att->in_submit = 0;
    return 0;
}
