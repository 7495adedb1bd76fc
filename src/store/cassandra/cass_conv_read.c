/* cass_conv_read.c - issue 17's fields in what the Cassandra store reads
 * (cass_conv.c has the writes): a history page's extras, hidden messages,
 * reactions and quotes; a replayed message's extras and quote; the hidden
 * messages the chat list skips. Each runs after the op that read the rows:
 * the op's function is switched to one of this file's (op->fn), which
 * issues its reads and finishes the op. */
#include "cass_int.h"

#include <errno.h>
#include <string.h>

#include "../store_rules.h"

/* ---- history: extras, hidden, reactions, quotes ---- */

enum { HX_START = 0, HX_EXTRA, HX_HIDDEN, HX_REACT, HX_QUOTE };

static int cv_add_reactions(cs_op *op)
{
    store_req *req = op->req;
    struct duet_msg *msgs = req->out.msgs, *cur = NULL;
    size_t cap = 0;
    const struct cql_rows *r = &op->q.rows;
    for (int64_t i = 0; i < r->n_rows; i++) {
        struct duet_msg *m = store_msg_find(msgs, req->out.n_msgs, cs_get_i64(cql_cell(r, i, 0)));
        duet_id who;
        cs_get_id(cql_cell(r, i, 1), &who);
        /* A withheld reaction is shown to its author only. */
        if (m == NULL || m->withheld ||
            (cs_get_flag(cql_cell(r, i, 4)) && !duet_id_eq(&who, &req->in.user)))
            continue;
        if (m != cur) {
            cur = m;
            cap = m->n_reactions;
        }
        struct duet_reaction *a =
            pool_grow(&req->pool, m->reactions, m->n_reactions, &cap, sizeof(*a));
        if (a == NULL || cs_get_str(&req->pool, cql_cell(r, i, 2), &a[m->n_reactions].emoji) < 0)
            return -ENOMEM;
        a[m->n_reactions].user = who;
        a[m->n_reactions].at = cs_get_i64(cql_cell(r, i, 3));
        m->reactions = a;
        m->n_reactions++;
    }
    return 0;
}

/* The next message (from op->i_items) whose quote is to be read, or -1. */
static int64_t cv_next_quote(cs_op *op)
{
    const store_req *req = op->req;
    for (; op->i_items < req->out.n_msgs; op->i_items++) {
        const struct duet_msg *m = &req->out.msgs[op->i_items];
        if (m->reply_to > 0 && !m->hidden && m->deleted_at == 0 && !m->withheld)
            return m->reply_to;
    }
    return -1;
}

static void cv_history_fn(cs_op *op)
{
    store_req *req = op->req;
    struct duet_msg *msgs = req->out.msgs;
    size_t n = req->out.n_msgs;
    const struct cql_rows *r = &op->q.rows;
    int rc;
    int64_t q;
    switch (op->step) {
    case HX_START:
        if (n == 0) {
            rc = 0;
            break;
        }
        op->seq = cs_bucket(msgs[0].sequence); /* the bucket read next */
        goto extra;
    case HX_EXTRA:
        if ((rc = cs_q_status(op)) < 0)
            break;
        for (int64_t i = 0; i < r->n_rows; i++) {
            struct duet_msg *m = store_msg_find(msgs, n, cs_get_i64(cql_cell(r, i, 0)));
            if (m == NULL || m->withheld)
                continue;
            m->reply_to = cs_get_i64(cql_cell(r, i, 1));
            m->forwarded = cs_get_flag(cql_cell(r, i, 2));
            m->edited_at = cs_get_i64(cql_cell(r, i, 3));
        }
        op->seq++;
    extra:
        if (op->seq <= cs_bucket(msgs[n - 1].sequence)) {
            cs_read(op, HX_EXTRA, CS_CV_EXTRA_RANGE, "illl", &op->chat.id, op->seq,
                    msgs[0].sequence, msgs[n - 1].sequence);
            return;
        }
        cs_read(op, HX_HIDDEN, CS_CV_HIDDEN_RANGE, "iill", &req->in.user, &op->chat.id,
                msgs[0].sequence, msgs[n - 1].sequence);
        return;
    case HX_HIDDEN:
        if ((rc = cs_q_status(op)) < 0)
            break;
        for (int64_t i = 0; i < r->n_rows; i++) {
            struct duet_msg *m = store_msg_find(msgs, n, cs_get_i64(cql_cell(r, i, 0)));
            if (m != NULL)
                m->hidden = 1;
        }
        cs_read(op, HX_REACT, CS_CV_REACT_RANGE, "ill", &op->chat.id, msgs[0].sequence,
                msgs[n - 1].sequence);
        return;
    case HX_REACT:
        if ((rc = cs_q_status(op)) < 0 || (rc = cv_add_reactions(op)) < 0)
            break;
        for (size_t i = 0; i < n; i++) {
            if (!msgs[i].hidden)
                continue;
            msgs[i].message = msgs[i].preview = ""; /* delete for me: the seq stays */
            msgs[i].reply_to = 0;
            msgs[i].reactions = NULL;
            msgs[i].n_reactions = 0;
        }
        op->i_items = 0;
        goto quote;
    case HX_QUOTE:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_cv_quote_from_row(op, &msgs[op->i_items])) < 0)
            break;
        op->i_items++;
    quote:
        if ((q = cv_next_quote(op)) > 0) {
            cs_cv_read_msg(op, HX_QUOTE, &op->chat.id, q);
            return;
        }
        rc = 0;
        break;
    default:
        rc = -EINVAL;
        break;
    }
    cs_finish(op, rc);
}

/* Runs fn from step on the op: reads it issues start unpaged, whatever the
 * read that came before used. */
static void cv_run(cs_op *op, void (*fn)(cs_op *), int step)
{
    op->fn = fn;
    op->step = step;
    op->page_size = 0;
    op->paging = NULL;
    op->paging_len = 0;
    fn(op);
}

void cs_conv_history_done(cs_op *op)
{
    cv_run(op, cv_history_fn, HX_START);
}

/* ---- the replay: extras and quotes of messages, the edit's time ---- */

enum { PX_START = 0, PX_EXTRA, PX_QUOTE };

static void cv_pending_fn(cs_op *op)
{
    store_req *req = op->req;
    const struct cql_rows *r = &op->q.rows;
    struct duet_msg *m;
    int rc;
    switch (op->step) {
    case PX_START:
        for (size_t i = 0; i < req->out.n_pending; i++) {
            if (req->out.pending[i].kind != PENDING_EDITED)
                continue;
            m = &req->out.pending[i].msg; /* the row keeps the edit's time in sent_at */
            m->edited_at = m->sent_at;
            m->sent_at = 0;
        }
        op->i_items = 0;
        goto next;
    case PX_EXTRA:
        if ((rc = cs_q_status(op)) < 0)
            break;
        m = &req->out.pending[op->i_items].msg;
        if (r->n_rows > 0) {
            m->reply_to = cs_get_i64(cql_cell(r, 0, 0));
            m->forwarded = cs_get_flag(cql_cell(r, 0, 1));
            m->edited_at = cs_get_i64(cql_cell(r, 0, 2));
        }
        if (m->reply_to > 0) {
            cs_cv_read_msg(op, PX_QUOTE, &m->chat_id, m->reply_to);
            return;
        }
        op->i_items++;
        goto next;
    case PX_QUOTE:
        if ((rc = cs_q_status(op)) < 0 ||
            (rc = cs_cv_quote_from_row(op, &req->out.pending[op->i_items].msg)) < 0)
            break;
        op->i_items++;
    next:
        for (; op->i_items < req->out.n_pending; op->i_items++) {
            m = &req->out.pending[op->i_items].msg;
            if (req->out.pending[op->i_items].kind == PENDING_MESSAGE && m->deleted_at == 0) {
                cs_read(op, PX_EXTRA, CS_CV_EXTRA_GET, "ill", &m->chat_id, cs_bucket(m->sequence),
                        m->sequence);
                return;
            }
        }
        rc = 0;
        break;
    default:
        rc = -EINVAL;
        break;
    }
    cs_finish(op, rc);
}

void cs_conv_pending_done(cs_op *op)
{
    cv_run(op, cv_pending_fn, PX_START);
}

/* ---- the chat list: hidden messages are neither last nor unread ---- */

int cs_conv_hidden_load(cs_op *op)
{
    const struct cql_rows *r = &op->q.rows;
    op->n_marks = 0;
    for (int64_t i = 0; i < r->n_rows; i++) {
        int64_t *a = pool_grow(&op->pool, op->marks, op->n_marks, &op->cap_marks, sizeof(*a));
        if (a == NULL)
            return -ENOMEM;
        op->marks = a;
        a[op->n_marks++] = cs_get_i64(cql_cell(r, i, 0));
    }
    return 0;
}

int cs_conv_hidden_has(const cs_op *op, int64_t seq)
{
    size_t lo = 0, hi = op->n_marks; /* descending */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (op->marks[mid] == seq)
            return 1;
        if (op->marks[mid] > seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}
