/* cass_push.c - Web Push on Cassandra (store.h, STORE_PUSH_*; the tables
 * are in cass_schema.c). A user's subscriptions are one partition
 * (push_subs), push_endpoints finds the subscription of an endpoint, and
 * the push queue is one partition per owning instance (push_jobs) whose
 * rows carry the subscription's endpoint and keys, so that a restart reads
 * one partition. Differences from SQLite (docs/cassandra.md): deleting a
 * subscription leaves its queued pushes (at most the ones due then), which
 * are sent and answered 404/410 or dropped; at most 15 subscriptions per
 * user (one batch). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../store_rules.h"
#include "cass_int.h"

#define SUB_COLS  "sub_id, user_id, endpoint, p256dh, auth, device, created_at, last_success"
#define SUB_NCOLS 8

const char *const cs_push_cql[CS_STMT_COUNT] = {
    [CS_PUSH_SUB_INSERT] =
        "INSERT INTO @.push_subs (user_id, sub_id, token_hash, endpoint, p256dh,"
        " auth, device, created_at, last_success) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
    [CS_PUSH_SUBS] = "SELECT " SUB_COLS ", token_hash FROM @.push_subs WHERE user_id = ?",
    [CS_PUSH_SUB_DELETE] = "DELETE FROM @.push_subs WHERE user_id = ? AND sub_id = ?",
    [CS_PUSH_SUB_SUCCESS] =
        "UPDATE @.push_subs SET last_success = ? WHERE user_id = ? AND sub_id = ?",
    [CS_PUSH_EP_GET] = "SELECT user_id, sub_id FROM @.push_endpoints WHERE endpoint = ?",
    [CS_PUSH_EP_INSERT] =
        "INSERT INTO @.push_endpoints (endpoint, user_id, sub_id) VALUES (?, ?, ?)",
    [CS_PUSH_EP_DELETE] = "DELETE FROM @.push_endpoints WHERE endpoint = ?",
    [CS_PUSH_PREFS_GET] = "SELECT preview FROM @.push_prefs WHERE user_id = ?",
    [CS_PUSH_PREFS_SET] = "INSERT INTO @.push_prefs (user_id, preview) VALUES (?, ?)",
    /* The user's mute of the chat (c-org's chat_state): a muted chat pushes nothing. */
    [CS_PUSH_MUTED] = "SELECT muted_until FROM @.chat_state WHERE user_id = ? AND chat_id = ?",
    [CS_PUSH_NOTIFIED_GET] =
        "SELECT chat_id FROM @.push_notified WHERE user_id = ? AND chat_id = ?",
    [CS_PUSH_NOTIFIED_SET] = "INSERT INTO @.push_notified (user_id, chat_id) VALUES (?, ?)",
    [CS_PUSH_NOTIFIED_DEL] = "DELETE FROM @.push_notified WHERE user_id = ? AND chat_id = ?",
    [CS_PUSH_JOB_INSERT] =
        "INSERT INTO @.push_jobs (instance, job_id, sub_id, user_id, endpoint, p256dh, auth, kind,"
        " chat_id, seq, sender_name, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?)",
    [CS_PUSH_JOBS] = "SELECT job_id, kind, chat_id, seq, sender_name, body, created_at, sub_id,"
                     " user_id, endpoint, p256dh, auth FROM @.push_jobs WHERE instance = ?",
    [CS_PUSH_JOB_DELETE] = "DELETE FROM @.push_jobs WHERE instance = ? AND job_id = ?",
};

/* The jobs table has the subscription's columns under the same names,
 * device, last_success and created_at aside: those three read as "", 0. */
static int read_sub(pool_t *p, const struct cql_rows *r, int64_t row, int col, int full,
                    struct duet_push_sub *s)
{
    memset(s, 0, sizeof(*s));
    cs_get_id(cql_cell(r, row, col), &s->id);
    cs_get_id(cql_cell(r, row, col + 1), &s->user);
    if (cs_get_str(p, cql_cell(r, row, col + 2), &s->endpoint) < 0 ||
        cs_get_str(p, cql_cell(r, row, col + 3), &s->p256dh) < 0 ||
        cs_get_str(p, cql_cell(r, row, col + 4), &s->auth) < 0)
        return -ENOMEM;
    if (!full) {
        s->device = "";
        return 0;
    }
    if (cs_get_str(p, cql_cell(r, row, col + 5), &s->device) < 0)
        return -ENOMEM;
    s->created_at = cs_get_i64(cql_cell(r, row, col + 6));
    s->last_success = cs_get_i64(cql_cell(r, row, col + 7));
    return 0;
}

static int by_created(const void *a, const void *b)
{
    const struct duet_push_sub *x = a, *y = b;
    if (x->created_at != y->created_at)
        return x->created_at < y->created_at ? -1 : 1;
    return memcmp(x->id.b, y->id.b, 16);
}

/* The CS_PUSH_SUBS rows into out.push_subs, oldest first; rows without an
 * endpoint (a last_success stamp that outlived its subscription) skipped. */
static int subs_read(cs_op *op)
{
    store_req *req = op->req;
    const struct cql_rows *r = &op->q.rows;
    int rc = cs_q_status(op);
    if (rc < 0)
        return rc;
    req->out.push_subs =
        r->n_rows ? pool_calloc(&req->pool, (size_t)r->n_rows * sizeof(struct duet_push_sub))
                  : NULL;
    if (r->n_rows > 0 && req->out.push_subs == NULL)
        return -ENOMEM;
    req->out.n_push_subs = 0;
    for (int64_t i = 0; i < r->n_rows; i++) {
        struct duet_push_sub *s = &req->out.push_subs[req->out.n_push_subs];
        if (read_sub(&req->pool, r, i, 0, 1, s) < 0)
            return -ENOMEM;
        if (s->endpoint[0] != '\0')
            req->out.n_push_subs++;
    }
    if (req->out.n_push_subs > 1) /* qsort wants an array, even of none */
        qsort(req->out.push_subs, req->out.n_push_subs, sizeof(struct duet_push_sub), by_created);
    return 0;
}

/* Whether CS_PUSH_SUBS row i (with token_hash after the columns) is of the
 * session token_hash. */
static int row_of_session(const cs_op *op, int64_t i, const uint8_t th[32])
{
    const struct cql_cell *c = cql_cell(&op->q.rows, i, SUB_NCOLS);
    return !cs_is_null(c) && c->len == 32 && memcmp(c->value, th, 32) == 0;
}

static void sub_drop(cs_op *op, const struct duet_push_sub *s)
{
    cs_batch_add(op, CS_PUSH_SUB_DELETE, "ii", &s->user, &s->id);
    cs_batch_add(op, CS_PUSH_EP_DELETE, "s", s->endpoint);
}

enum { SA_START = 0, SA_EP, SA_WRITTEN, SA_LISTED, SA_DONE };

void cs_push_sub_add(cs_op *op)
{
    store_req *req = op->req;
    struct duet_push_sub *o = &req->out.push_sub;
    int rc = 0;
    switch (op->step) {
    case SA_START:
        cs_read(op, SA_EP, CS_PUSH_EP_GET, "s", req->in.push.endpoint);
        return;
    case SA_EP:
        if ((rc = cs_q_status(op)) < 0)
            break;
        duet_id_random(&o->id);
        o->user = req->in.user;
        o->endpoint = pool_strdup(&req->pool, req->in.push.endpoint);
        o->p256dh = pool_strdup(&req->pool, req->in.push.p256dh);
        o->auth = pool_strdup(&req->pool, req->in.push.auth);
        o->device = pool_strdup(&req->pool, req->in.push.device ? req->in.push.device : "");
        o->created_at = req->in.now;
        if (o->endpoint == NULL || o->p256dh == NULL || o->auth == NULL || o->device == NULL) {
            rc = -ENOMEM;
            break;
        }
        /* The rows go with the batch's request: read them first. */
        duet_id ou, os;
        int had = op->q.rows.n_rows > 0 && !cs_is_null(cql_cell(&op->q.rows, 0, 1));
        if (had) {
            cs_get_id(cql_cell(&op->q.rows, 0, 0), &ou);
            cs_get_id(cql_cell(&op->q.rows, 0, 1), &os);
        }
        cs_batch_begin(op);
        if (had)
            cs_batch_add(op, CS_PUSH_SUB_DELETE, "ii", &ou, &os);
        cs_batch_add(op, CS_PUSH_SUB_INSERT, "iihssssl", &o->user, &o->id, req->in.token_hash,
                     o->endpoint, o->p256dh, o->auth, o->device, o->created_at);
        cs_batch_add(op, CS_PUSH_EP_INSERT, "sii", o->endpoint, &o->user, &o->id);
        cs_batch_submit(op, SA_WRITTEN, 0);
        return;
    case SA_WRITTEN:
        if ((rc = cs_q_status(op)) < 0)
            break;
        cs_read(op, SA_LISTED, CS_PUSH_SUBS, "i", &req->in.user);
        return;
    case SA_LISTED: {
        if ((rc = subs_read(op)) < 0)
            break;
        size_t n = req->out.n_push_subs, lim = req->in.limit > 0 ? (size_t)req->in.limit : n;
        if (n <= lim)
            break;
        /* The oldest go (never the one just added: it is the newest). */
        cs_batch_begin(op);
        for (size_t i = 0; i < n - lim && i < CQL_BATCH_MAX / 2; i++)
            if (!duet_id_eq(&req->out.push_subs[i].id, &o->id))
                sub_drop(op, &req->out.push_subs[i]);
        cs_batch_submit(op, SA_DONE, 0);
        return;
    }
    default: /* SA_DONE */
        rc = cs_q_status(op);
        break;
    }
    req->out.push_subs = NULL;
    req->out.n_push_subs = 0;
    cs_finish(op, rc);
}

enum { SL_START = 0, SL_ROWS };

void cs_push_sub_list(cs_op *op)
{
    if (op->step == SL_START) {
        cs_read(op, SL_ROWS, CS_PUSH_SUBS, "i", &op->req->in.user);
        return;
    }
    cs_finish(op, subs_read(op));
}

enum { SD_START = 0, SD_ROWS, SD_DONE };

/* SUB_DELETE and SUB_LOGOUT: read the user's subscriptions, delete the one
 * named or those of the session. */
void cs_push_sub_delete(cs_op *op)
{
    store_req *req = op->req;
    int rc, logout = req->op == STORE_PUSH_SUB_LOGOUT, n = 0;
    struct duet_push_sub gone[CQL_BATCH_MAX / 2];
    switch (op->step) {
    case SD_START:
        cs_read(op, SD_ROWS, CS_PUSH_SUBS, "i", &req->in.user);
        return;
    case SD_ROWS:
        if ((rc = cs_q_status(op)) < 0)
            break;
        /* Collected first: the batch's request replaces the rows. */
        for (int64_t i = 0; i < op->q.rows.n_rows && n < CQL_BATCH_MAX / 2; i++) {
            struct duet_push_sub *s = &gone[n];
            if (read_sub(&op->pool, &op->q.rows, i, 0, 0, s) < 0) {
                rc = -ENOMEM;
                goto done;
            }
            if (s->endpoint[0] == '\0' ||
                (logout ? row_of_session(op, i, req->in.token_hash) == (req->in.push.kind == 1)
                        : !duet_id_eq(&s->id, &req->in.push.sub_id)))
                continue;
            n++;
        }
        if (n == 0) {
            rc = logout ? 0 : DUET_ENOTFOUND;
            break;
        }
        cs_batch_begin(op);
        for (int i = 0; i < n; i++)
            sub_drop(op, &gone[i]);
        cs_batch_submit(op, SD_DONE, 0);
        return;
    default:
        rc = cs_q_status(op);
        break;
    }
done:
    cs_finish(op, rc);
}

enum { SP_START = 0, SP_SET, SP_GOT };

void cs_push_prefs(cs_op *op)
{
    store_req *req = op->req;
    int rc;
    switch (op->step) {
    case SP_START:
        if (req->in.push.preview >= 0) {
            cs_write(op, SP_SET, CS_PUSH_PREFS_SET, "id", &req->in.user, req->in.push.preview != 0);
            return;
        }
        /* fall through */
    case SP_SET:
        if (op->step == SP_SET && (rc = cs_q_status(op)) < 0)
            break;
        cs_read(op, SP_GOT, CS_PUSH_PREFS_GET, "i", &req->in.user);
        return;
    default:
        if ((rc = cs_q_status(op)) == 0)
            req->out.push_preview =
                op->q.rows.n_rows > 0 && cs_get_i32(cql_cell(&op->q.rows, 0, 0)) != 0;
        break;
    }
    cs_finish(op, rc);
}

enum { EQ_START = 0, EQ_PREFS, EQ_SENDER, EQ_NOTIFIED, EQ_SUBS, EQ_MUTED, EQ_DONE };

/* Jobs for the subscriptions read (out.push_subs), with the chat marked
 * notified (MESSAGE) or unmarked (CLEAR), in one batch. */
static int enqueue_write(cs_op *op)
{
    store_req *req = op->req;
    size_t n = req->out.n_push_subs;
    if (n > CQL_BATCH_MAX - 1)
        n = CQL_BATCH_MAX - 1;
    int msg = req->in.push.kind != PUSH_JOB_CLEAR; /* a message or a reaction */
    const char *from = msg ? op->msg.message : "", *text = msg ? op->msg.preview : "";
    struct duet_push_job *jobs = store_push_jobs(req, n, from, text);
    if (n > 0 && jobs == NULL)
        return -ENOMEM;
    cs_batch_begin(op);
    cs_batch_add(op, msg ? CS_PUSH_NOTIFIED_SET : CS_PUSH_NOTIFIED_DEL, "ii", &req->in.user,
                 &req->in.chat_id);
    for (size_t i = 0; i < n; i++) {
        const struct duet_push_job *j = &jobs[i];
        cs_batch_add(op, CS_PUSH_JOB_INSERT, "siiisssdilssl", req->in.push.instance, &j->id,
                     &j->sub.id, &j->sub.user, j->sub.endpoint, j->sub.p256dh, j->sub.auth, j->kind,
                     &j->chat_id, j->seq, from, text, j->created_at);
    }
    req->out.push_jobs = jobs;
    req->out.n_push_jobs = n;
    return cs_batch_submit(op, EQ_DONE, 0);
}

void cs_push_enqueue(cs_op *op)
{
    store_req *req = op->req;
    int rc;
    switch (op->step) {
    case EQ_START:
        /* Most users have no subscription: one read, nothing written. */
        cs_read(op, EQ_SUBS, CS_PUSH_SUBS, "i", &req->in.user);
        return;
    case EQ_SUBS:
        if ((rc = subs_read(op)) < 0 || req->out.n_push_subs == 0)
            break;
        if (req->in.push.kind == PUSH_JOB_CLEAR)
            cs_read(op, EQ_NOTIFIED, CS_PUSH_NOTIFIED_GET, "ii", &req->in.user, &req->in.chat_id);
        else
            cs_read(op, EQ_MUTED, CS_PUSH_MUTED, "ii", &req->in.user, &req->in.chat_id);
        return;
    case EQ_MUTED:
        if ((rc = cs_q_status(op)) < 0)
            break;
        if (op->q.rows.n_rows > 0 && cs_get_i64(cql_cell(&op->q.rows, 0, 0)) > req->in.now)
            break; /* muted: no notification, and nothing to clear later */
        cs_read(op, EQ_PREFS, CS_PUSH_PREFS_GET, "i", &req->in.user);
        return;
    case EQ_PREFS:
        if ((rc = cs_q_status(op)) < 0)
            break;
        /* op->msg holds the sender's name (message) and the text kept
         * (preview): only with the setting on. */
        op->msg.preview = "";
        if ((req->in.push.kind == PUSH_JOB_REACTION ||
             (op->q.rows.n_rows > 0 && cs_get_i32(cql_cell(&op->q.rows, 0, 0)) != 0)) &&
            (op->msg.preview = pool_strdup(&req->pool, req->in.text ? req->in.text : "")) == NULL) {
            rc = -ENOMEM;
            break;
        }
        cs_read(op, EQ_SENDER, CS_USER_BY_ID, "i", &req->in.push.sender);
        return;
    case EQ_SENDER:
        if ((rc = cs_q_status(op)) < 0)
            break;
        /* The name as it is now: a rename shows in later notifications. */
        if (op->q.rows.n_rows < 1 ||
            cs_get_str(&req->pool, cql_cell(&op->q.rows, 0, 2), &op->msg.message) < 0) {
            rc = op->q.rows.n_rows < 1 ? DUET_ENOTFOUND : -ENOMEM;
            break;
        }
        if ((rc = enqueue_write(op)) < 0)
            break;
        return;
    case EQ_NOTIFIED:
        if ((rc = cs_q_status(op)) < 0 || op->q.rows.n_rows < 1)
            break; /* nothing to clear */
        if ((rc = enqueue_write(op)) < 0)
            break;
        return;
    default: /* EQ_DONE */
        rc = cs_q_status(op);
        break;
    }
    req->out.push_subs = NULL;
    req->out.n_push_subs = 0;
    if (rc < 0) {
        req->out.push_jobs = NULL;
        req->out.n_push_jobs = 0;
    }
    cs_finish(op, rc);
}

enum { JL_START = 0, JL_ROWS };

void cs_push_jobs_list(cs_op *op)
{
    store_req *req = op->req;
    const struct cql_rows *r = &op->q.rows;
    int rc;
    if (op->step == JL_START) {
        cs_read(op, JL_ROWS, CS_PUSH_JOBS, "s", req->in.push.instance);
        return;
    }
    if ((rc = cs_q_status(op)) < 0) {
        cs_finish(op, rc);
        return;
    }
    struct duet_push_job *a =
        r->n_rows ? pool_calloc(&req->pool, (size_t)r->n_rows * sizeof(*a)) : NULL;
    if (r->n_rows > 0 && a == NULL) {
        cs_finish(op, -ENOMEM);
        return;
    }
    for (int64_t i = 0; i < r->n_rows; i++) {
        struct duet_push_job *j = &a[i];
        cs_get_id(cql_cell(r, i, 0), &j->id);
        j->kind = cs_get_i32(cql_cell(r, i, 1));
        cs_get_id(cql_cell(r, i, 2), &j->chat_id);
        j->seq = cs_get_i64(cql_cell(r, i, 3));
        j->created_at = cs_get_i64(cql_cell(r, i, 6));
        if (cs_get_str(&req->pool, cql_cell(r, i, 4), &j->from) < 0 ||
            cs_get_str(&req->pool, cql_cell(r, i, 5), &j->text) < 0 ||
            read_sub(&req->pool, r, i, 7, 0, &j->sub) < 0) {
            cs_finish(op, -ENOMEM);
            return;
        }
    }
    req->out.push_jobs = a;
    req->out.n_push_jobs = (size_t)r->n_rows;
    cs_finish(op, 0);
}

enum { JD_START = 0, JD_ROWS, JD_DONE };

/* The instance's jobs are read (one partition) to find the job's
 * subscription, and for GONE every job of that subscription. */
void cs_push_job_done(cs_op *op)
{
    store_req *req = op->req;
    const struct cql_rows *r = &op->q.rows;
    const char *inst = req->in.push.instance;
    struct duet_push_sub sub;
    duet_id others[CQL_BATCH_MAX];
    int rc, found = 0, n = 0;
    switch (op->step) {
    case JD_START:
        cs_read(op, JD_ROWS, CS_PUSH_JOBS, "s", inst);
        return;
    case JD_ROWS:
        if ((rc = cs_q_status(op)) < 0)
            break;
        for (int64_t i = 0; i < r->n_rows && !found; i++) {
            duet_id id;
            cs_get_id(cql_cell(r, i, 0), &id);
            if (duet_id_eq(&id, &req->in.push.job_id)) {
                if (read_sub(&op->pool, r, i, 7, 0, &sub) < 0) {
                    rc = -ENOMEM;
                    goto done;
                }
                found = 1;
            }
        }
        if (!found)
            break; /* settled already */
        /* Collected first: the batch's request replaces the rows. */
        for (int64_t i = 0;
             req->in.push.result == PUSH_RESULT_GONE && i < r->n_rows && n < CQL_BATCH_MAX - 3;
             i++) {
            duet_id sid;
            cs_get_id(cql_cell(r, i, 0), &others[n]);
            cs_get_id(cql_cell(r, i, 7), &sid);
            if (duet_id_eq(&sid, &sub.id) && !duet_id_eq(&others[n], &req->in.push.job_id))
                n++;
        }
        cs_batch_begin(op);
        cs_batch_add(op, CS_PUSH_JOB_DELETE, "si", inst, &req->in.push.job_id);
        if (req->in.push.result == PUSH_RESULT_DELIVERED)
            cs_batch_add(op, CS_PUSH_SUB_SUCCESS, "lii", req->in.now, &sub.user, &sub.id);
        else if (req->in.push.result == PUSH_RESULT_GONE)
            sub_drop(op, &sub);
        for (int i = 0; i < n; i++)
            cs_batch_add(op, CS_PUSH_JOB_DELETE, "si", inst, &others[i]);
        cs_batch_submit(op, JD_DONE, 0);
        return;
    default:
        rc = cs_q_status(op);
        break;
    }
done:
    cs_finish(op, rc);
}
