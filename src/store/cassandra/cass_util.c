/* cass_util.c - the Cassandra backend's helpers: requests, cells, scans. */
#include "../../base/log.h"
#include "cass_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- requests ---- */

static void cs_on_cql(cql_req *q)
{
    cs_op *op = q->data;
    op->fn(op);
}

void cs_q_reset(cs_op *op)
{
    if (op->q_live) {
        cql_req_reset(&op->q);
        op->q_live = 0;
    }
}

static void cs_prep(cs_op *op, enum cql_req_kind kind, int next)
{
    cs_q_reset(op);
    cql_req_init(&op->q, kind, cs_on_cql, op);
    op->q_live = 1;
    op->step = next;
}

static void cs_put_be32(uint8_t *p, uint32_t x)
{
    p[0] = (uint8_t)(x >> 24), p[1] = (uint8_t)(x >> 16);
    p[2] = (uint8_t)(x >> 8), p[3] = (uint8_t)x;
}

/* Binds fmt's arguments (see cass_int.h) into v. */
static int cs_vbind(struct cql_values *v, const char *fmt, va_list ap)
{
    for (const char *f = fmt; *f; f++) {
        switch (*f) {
        case 'i':
            cql_bind_uuid(v, va_arg(ap, const duet_id *)->b);
            break;
        case 'h':
            cql_bind_blob(v, va_arg(ap, const uint8_t *), 32);
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (str == NULL)
                cql_bind_null(v);
            else
                cql_bind_cstr(v, str);
            break;
        }
        case 'l':
            cql_bind_bigint(v, va_arg(ap, int64_t));
            break;
        case 'd':
            cql_bind_int(v, (int32_t)va_arg(ap, int));
            break;
        case 'b':
            cql_bind_bool(v, va_arg(ap, int));
            break;
        case 'L': {
            /* A list<uuid> value: [int n] then n times [int 16][16 bytes].
             * The driver's blob binding writes any value's bytes as they are. */
            const duet_id *ids = va_arg(ap, const duet_id *);
            size_t n = va_arg(ap, size_t);
            uint8_t buf[4 + CS_IN_MAX * 20];
            if (n > CS_IN_MAX)
                return -EINVAL;
            uint32_t be = (uint32_t)n;
            buf[0] = (uint8_t)(be >> 24), buf[1] = (uint8_t)(be >> 16);
            buf[2] = (uint8_t)(be >> 8), buf[3] = (uint8_t)be;
            for (size_t i = 0; i < n; i++) {
                uint8_t *e = buf + 4 + i * 20;
                e[0] = e[1] = e[2] = 0, e[3] = 16;
                memcpy(e + 4, ids[i].b, 16);
            }
            cql_bind_blob(v, buf, 4 + n * 20);
            break;
        }
        case 'S': {
            /* A list<text> value: [int n] then n times [int len][bytes]. */
            const char *const *strs = va_arg(ap, const char *const *);
            size_t n = va_arg(ap, size_t), len = 4;
            if (n > CS_IN_MAX)
                return -EINVAL;
            for (size_t i = 0; i < n; i++)
                len += 4 + strlen(strs[i]);
            uint8_t *buf = malloc(len), *e = buf + 4;
            if (buf == NULL)
                return -ENOMEM;
            cs_put_be32(buf, (uint32_t)n);
            for (size_t i = 0; i < n; i++) {
                size_t sl = strlen(strs[i]);
                cs_put_be32(e, (uint32_t)sl);
                memcpy(e + 4, strs[i], sl);
                e += 4 + sl;
            }
            cql_bind_blob(v, buf, len);
            free(buf);
            break;
        }
        default:
            return -EINVAL;
        }
    }
    return v->oom ? -ENOMEM : 0;
}

/* Submits op->q; on failure finishes the op. */
static int cs_go(cs_op *op)
{
    cs_store *s = op->s;
    int rc = s->closing ? CQL_ECLOSED : cql_submit(s->cl, &op->q);
    if (rc < 0) {
        log_warn("store: cassandra: %s: %s", store_op_name(op->req->op), cql_strerror(rc));
        cs_finish(op, rc == -ENOMEM ? rc : DUET_ESTORE);
        return DUET_ESTORE;
    }
    return 0;
}

static int cs_vexec(cs_op *op, int next, enum cs_stmt_id id, int kind, int64_t ts, const char *fmt,
                    va_list ap)
{
    cs_prep(op, CQL_REQ_EXECUTE, next);
    op->q.stmt = cs_stmt(op->s, id);
    int rc = cs_vbind(&op->q.values, fmt, ap);
    if (rc < 0) {
        cs_finish(op, rc);
        return rc;
    }
    /* kind: 0 read, 1 write, 2 LWT. Only the first two may be retried. */
    op->q.idempotent = kind != 2;
    if (kind == 0) {
        if (op->serial)
            op->q.consistency =
                op->s->consistency == CQL_LOCAL_QUORUM || op->s->consistency == CQL_LOCAL_ONE
                    ? CQL_LOCAL_SERIAL
                    : CQL_SERIAL;
        op->q.page_size = op->page_size;
        op->q.paging_state = op->paging;
        op->q.paging_state_len = op->paging_len;
    }
    if (kind == 1)
        op->q.timestamp_us = ts > 0 ? ts : cs_ts(op->s);
    return cs_go(op);
}

int cs_read(cs_op *op, int next, enum cs_stmt_id id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cs_vexec(op, next, id, 0, 0, fmt, ap);
    va_end(ap);
    return rc;
}

int cs_write(cs_op *op, int next, enum cs_stmt_id id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cs_vexec(op, next, id, 1, 0, fmt, ap);
    va_end(ap);
    return rc;
}

int cs_write_at(cs_op *op, int next, enum cs_stmt_id id, int64_t ts, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cs_vexec(op, next, id, 1, ts, fmt, ap);
    va_end(ap);
    return rc;
}

int cs_lwt(cs_op *op, int next, enum cs_stmt_id id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cs_vexec(op, next, id, 2, 0, fmt, ap);
    va_end(ap);
    return rc;
}

void cs_batch_begin(cs_op *op)
{
    cs_prep(op, CQL_REQ_BATCH, op->step);
    op->q.batch_type = CQL_BATCH_LOGGED;
    op->q.n_batch = 0;
    op->batch_err = 0;
}

int cs_batch_add(cs_op *op, enum cs_stmt_id id, const char *fmt, ...)
{
    if (op->q.n_batch >= CQL_BATCH_MAX) {
        op->batch_err = -E2BIG;
        return -E2BIG;
    }
    struct cql_batch_item *it = &op->q.batch[op->q.n_batch++];
    cql_values_init(&it->values);
    it->stmt = cs_stmt(op->s, id);
    va_list ap;
    va_start(ap, fmt);
    int rc = cs_vbind(&it->values, fmt, ap);
    va_end(ap);
    if (rc < 0)
        op->batch_err = rc;
    return rc;
}

static int cs_batch_go(cs_op *op, int next)
{
    op->step = next;
    if (op->batch_err < 0) {
        log_error("store: cassandra: %s: batch: %s", store_op_name(op->req->op),
                  strerror(-op->batch_err));
        cs_finish(op, op->batch_err == -ENOMEM ? -ENOMEM : DUET_ESTORE);
        return DUET_ESTORE;
    }
    return cs_go(op);
}

int cs_batch_submit(cs_op *op, int next, int ts_from_stmts)
{
    /* Same values and timestamps on a retry: applying it twice is applying
     * it once. */
    op->q.idempotent = 1;
    if (!ts_from_stmts)
        op->q.timestamp_us = cs_ts(op->s);
    return cs_batch_go(op, next);
}

int cs_batch_submit_at(cs_op *op, int next, int64_t ts)
{
    op->q.idempotent = 1;
    op->q.timestamp_us = ts;
    return cs_batch_go(op, next);
}

int cs_batch_submit_lwt(cs_op *op, int next)
{
    op->q.idempotent = 0;
    return cs_batch_go(op, next);
}

int cs_q_status(cs_op *op)
{
    const cql_req *q = &op->q;
    if (q->status == 0)
        return 0;
    if (q->status == CQL_ESERVER)
        log_warn("store: cassandra: %s: %s: %s", store_op_name(op->req->op),
                 cql_error_name(q->err.code), q->err.message != NULL ? q->err.message : "");
    else
        log_warn("store: cassandra: %s: %s", store_op_name(op->req->op), cql_strerror(q->status));
    return q->status == -ENOMEM ? -ENOMEM : DUET_ESTORE;
}

int cs_col(const struct cql_rows *r, const char *name)
{
    for (int i = 0; i < r->n_cols; i++)
        if (r->col_names[i] != NULL && strcmp(r->col_names[i], name) == 0)
            return i;
    return -1;
}

/* ---- cells ---- */

void cs_get_id(const struct cql_cell *c, duet_id *out)
{
    if (cql_get_uuid(c, out->b) < 0)
        memset(out->b, 0, sizeof(out->b));
}

int64_t cs_get_i64(const struct cql_cell *c)
{
    int64_t v;
    return cql_get_bigint(c, &v) < 0 ? 0 : v;
}

int cs_get_i32(const struct cql_cell *c)
{
    int32_t v;
    return cql_get_int(c, &v) < 0 ? 0 : v;
}

int cs_get_flag(const struct cql_cell *c)
{
    int v;
    return cql_get_bool(c, &v) < 0 ? 0 : v != 0;
}

int cs_get_str(pool_t *p, const struct cql_cell *c, const char **out)
{
    const char *v = cql_get_text(c, p);
    if (v == NULL)
        return -ENOMEM;
    *out = v;
    return 0;
}

int cs_read_user(pool_t *p, const struct cql_rows *r, int64_t row, int col, struct duet_user *u)
{
    memset(u, 0, sizeof(*u));
    cs_get_id(cql_cell(r, row, col), &u->id);
    if (cs_get_str(p, cql_cell(r, row, col + 1), &u->username) < 0 ||
        cs_get_str(p, cql_cell(r, row, col + 2), &u->display_name) < 0)
        return -ENOMEM;
    u->created_at = cs_get_i64(cql_cell(r, row, col + 3));
    u->last_seen = cs_get_i64(cql_cell(r, row, col + 4));
    u->lastseen_vis = cs_get_i32(cql_cell(r, row, col + 5));
    u->read_receipts = cs_get_i32(cql_cell(r, row, col + 6));
    return 0;
}

int cs_read_msg(pool_t *p, const struct cql_rows *r, int64_t row, int col, const duet_id *chat,
                struct duet_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->chat_id = *chat;
    cs_get_id(cql_cell(r, row, col), &m->sender);
    cs_get_id(cql_cell(r, row, col + 1), &m->receiver);
    if (cs_get_str(p, cql_cell(r, row, col + 2), &m->message_id) < 0 ||
        cs_get_str(p, cql_cell(r, row, col + 3), &m->message) < 0 ||
        cs_get_str(p, cql_cell(r, row, col + 5), &m->preview) < 0)
        return -ENOMEM;
    m->type = cs_get_i32(cql_cell(r, row, col + 4));
    if (m->type <= CS_TYPE_WITHHELD)
        m->type = CS_TYPE_WITHHELD - m->type; /* callers ask cs_row_withheld() */
    m->sequence = cs_get_i64(cql_cell(r, row, col + 6));
    m->sent_at = cs_get_i64(cql_cell(r, row, col + 7));
    m->received_at = cs_get_i64(cql_cell(r, row, col + 8));
    m->seen_at = cs_get_i64(cql_cell(r, row, col + 9));
    m->deleted_at = cs_get_i64(cql_cell(r, row, col + 10));
    if (cs_get_str(p, cql_cell(r, row, col + 11), &m->media) < 0)
        return -ENOMEM;
    return 0;
}

int cs_row_withheld(const struct cql_rows *r, int64_t row, int col)
{
    const struct cql_cell *t = cql_cell(r, row, col + 4);
    return !cs_is_null(t) && cs_get_i32(t) <= CS_TYPE_WITHHELD;
}

void cs_withhold(struct duet_msg *m)
{
    m->message = m->preview = m->message_id = m->media = "";
    m->sent_at = m->received_at = m->seen_at = m->deleted_at = 0;
    m->withheld = 1;
}

int cs_row_void(const struct cql_rows *r, int64_t row, int col)
{
    const struct cql_cell *t = cql_cell(r, row, col + 4);
    return !cs_is_null(t) && cs_get_i32(t) == CS_TYPE_VOID;
}

int64_t cs_void_age_us(const cs_store *s)
{
    /* The sender's op writes its rows within 8 request timeouts of its
     * claim: a row batch (the driver tries a request up to 3 times, each
     * bounded by the timeout), then in-op retries started within 2 timeouts
     * of the first failure (cs_send_again), the last one again up to 3.
     * 10 leaves a margin. */
    int64_t t = s->timeout_ms > 0 ? s->timeout_ms : 12000;
    return 10 * t * 1000;
}

int cs_read_chat(cs_store *s, const struct cql_rows *r, int64_t row, const duet_id *user,
                 struct cs_chat *c)
{
    memset(c, 0, sizeof(*c));
    cs_get_id(cql_cell(r, row, 0), &c->id);
    /* A partition without members is not a chat (cannot happen unless a
     * befriend batch is still being applied). */
    if (cs_is_null(cql_cell(r, row, 1)) || cs_is_null(cql_cell(r, row, 2)))
        return DUET_EFORBIDDEN;
    cs_get_id(cql_cell(r, row, 1), &c->a);
    cs_get_id(cql_cell(r, row, 2), &c->b);
    cs_members_put(s, &c->id, &c->a, &c->b);
    c->me_is_a = user == NULL || duet_id_eq(&c->a, user);
    if (!c->me_is_a && !duet_id_eq(&c->b, user))
        return DUET_EFORBIDDEN;
    c->peer = c->me_is_a ? c->b : c->a;
    c->friends = cs_get_flag(cql_cell(r, row, 3));
    c->since = cs_get_i64(cql_cell(r, row, 4));
    c->seq_null = cs_is_null(cql_cell(r, row, 5));
    c->last_seq = cs_get_i64(cql_cell(r, row, 5));
    c->last_activity = cs_get_i64(cql_cell(r, row, 6));
    int me = c->me_is_a ? 0 : 1;
    c->my_read = cs_get_i64(cql_cell(r, row, 7 + me));
    c->peer_read = cs_get_i64(cql_cell(r, row, 8 - me));
    c->my_recv = cs_get_i64(cql_cell(r, row, 9 + me));
    c->my_seen = cs_get_i64(cql_cell(r, row, 11 + me));
    c->peer_seen = cs_get_i64(cql_cell(r, row, 12 - me));
    return 0;
}

int cs_load_member_chat(cs_op *op)
{
    int rc = cs_q_status(op);
    if (rc < 0)
        return rc;
    if (op->q.rows.n_rows < 1)
        return DUET_EFORBIDDEN;
    return cs_read_chat(op->s, &op->q.rows, 0, &op->req->in.user, &op->chat);
}

/* ---- scans ---- */

void cs_scan_init(struct cs_scan *sc, const duet_id *chat, int64_t lo, int64_t hi, int asc)
{
    sc->chat = *chat;
    sc->lo = lo < 0 ? 0 : lo;
    sc->hi = hi;
    sc->asc = asc;
    sc->b = asc ? cs_bucket(sc->lo + 1) : cs_bucket(hi);
    sc->asked = 0;
}

int64_t cs_scan_bucket(const struct cs_scan *sc)
{
    if (sc->hi <= sc->lo || sc->b < 0)
        return -1;
    if (sc->asc ? sc->b > cs_bucket(sc->hi) : sc->b < cs_bucket(sc->lo + 1))
        return -1;
    return sc->b;
}

int cs_scan_next(cs_op *op, int next, int limit)
{
    struct cs_scan *sc = &op->scan;
    int64_t b = cs_scan_bucket(sc);
    if (b < 0)
        return 0;
    sc->asked = limit;
    int rc = cs_read(op, next, sc->asc ? CS_SCAN_ASC : CS_SCAN_DESC, "illld", &sc->chat, b, sc->lo,
                     sc->hi, limit);
    return rc < 0 ? rc : 1;
}

void cs_scan_advance(cs_op *op)
{
    struct cs_scan *sc = &op->scan;
    const struct cql_rows *r = &op->q.rows;
    if (r->n_rows < sc->asked || r->n_rows == 0) {
        /* This bucket has no more in range. */
        sc->b += sc->asc ? 1 : -1;
        return;
    }
    int64_t last = cs_get_i64(cql_cell(r, r->n_rows - 1, CS_MSG_SEQ_COL));
    if (sc->asc)
        sc->lo = last;
    else
        sc->hi = last - 1;
}

/* ---- relations and users ---- */

int cs_read_rels(cs_op *op)
{
    const struct cql_rows *r = &op->q.rows;
    size_t cap = 0;
    op->rels = NULL;
    op->n_rels = 0;
    for (int64_t i = 0; i < r->n_rows; i++) {
        struct cs_rel *a = pool_grow(&op->pool, op->rels, op->n_rels, &cap, sizeof(*a));
        if (a == NULL)
            return -ENOMEM;
        op->rels = a;
        a[op->n_rels].kind = cs_get_i32(cql_cell(r, i, 0));
        cs_get_id(cql_cell(r, i, 1), &a[op->n_rels].other);
        a[op->n_rels].created_at = cs_get_i64(cql_cell(r, i, 2));
        op->n_rels++;
    }
    return 0;
}

const struct cs_rel *cs_rel_find(const cs_op *op, int kind, const duet_id *other)
{
    for (size_t i = 0; i < op->n_rels; i++)
        if (op->rels[i].kind == kind && duet_id_eq(&op->rels[i].other, other))
            return &op->rels[i];
    return NULL;
}

int cs_read_users(cs_op *op)
{
    const struct cql_rows *r = &op->q.rows;
    for (int64_t i = 0; i < r->n_rows; i++) {
        struct duet_user *a =
            pool_grow(&op->req->pool, op->users, op->n_users, &op->cap_users, sizeof(*a));
        if (a == NULL)
            return -ENOMEM;
        op->users = a;
        if (cs_read_user(&op->req->pool, r, i, 0, &a[op->n_users]) < 0)
            return -ENOMEM;
        op->n_users++;
    }
    return 0;
}

const struct duet_user *cs_user_find(const cs_op *op, const duet_id *id)
{
    for (size_t i = 0; i < op->n_users; i++)
        if (duet_id_eq(&op->users[i].id, id))
            return &op->users[i];
    return NULL;
}

/* ---- the privacy rule of seen_at ---- */

/* seen_at shows only while both users have read receipts on: reads both
 * (step next) when there is something to hide. */
int cs_want_receipts(cs_op *op, int next, const struct duet_msg *m)
{
    if (m->seen_at == 0)
        return 0;
    duet_id ids[2] = {m->sender, m->receiver};
    int rc = cs_read(op, next, CS_USERS_IN, "L", ids, (size_t)2);
    return rc < 0 ? rc : 1;
}

/* After cs_want_receipts' read: 1 if both have receipts on, 0 if not. */
int cs_receipts_both(cs_op *op)
{
    int rc = cs_q_status(op);
    if (rc < 0)
        return rc;
    int on = 0;
    for (int64_t i = 0; i < op->q.rows.n_rows; i++)
        on += cs_get_i32(cql_cell(&op->q.rows, i, 6)) != 0;
    return on == 2;
}

int cs_receipts_apply(cs_op *op, struct duet_msg *m)
{
    int rc = cs_receipts_both(op);
    if (rc < 0)
        return rc;
    if (rc == 0)
        m->seen_at = 0;
    return 0;
}
