/* cass_pending.c - the pending rows of a user: the backlog a connecting
 * device is replayed (PENDING_LIST), with its chats' cursors. */
#include "cass_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- the pending rows (the backlog of a connecting device) ---- */

#define CS_PENDING_PAGE  1000
#define CS_CURSOR_WINDOW 64 /* newest sequences checked for holes */

static int cs_pending_cmp(const void *pa, const void *pb)
{
    const struct duet_pending *a = pa, *b = pb;
    int c = memcmp(a->msg.chat_id.b, b->msg.chat_id.b, sizeof(a->msg.chat_id.b));
    if (c != 0)
        return c;
    if (a->msg.sequence != b->msg.sequence)
        return a->msg.sequence < b->msg.sequence ? -1 : 1;
    return a->kind - b->kind;
}

/* Raises each cursor over the backlog's messages that directly follow it,
 * so the live copies of what the backlog delivers are dropped
 * (hub_order.c). Pending rows are sorted by chat, then sequence. */
static void cs_cursors_raise(store_req *req)
{
    for (size_t i = 0; i < req->out.n_cursors; i++) {
        struct duet_cursor *c = &req->out.cursors[i];
        for (size_t j = 0; j < req->out.n_pending; j++) {
            const struct duet_pending *p = &req->out.pending[j];
            if (p->kind == PENDING_MESSAGE && duet_id_eq(&p->msg.chat_id, &c->chat_id) &&
                p->msg.sequence == c->last_seq + 1)
                c->last_seq = p->msg.sequence;
        }
    }
}

/* A cursor must not pass a sequence whose rows are not written yet (claimed
 * by a send still in flight, or whose write failed until the sender's
 * retry): live delivery would drop that message as "in the backlog". So the
 * newest CS_CURSOR_WINDOW sequences are checked, and the cursor stops below
 * the lowest missing one. */
static void cs_cursor_window(cs_op *op)
{
    struct duet_cursor *c = &op->req->out.cursors[op->i_items];
    int64_t lo = op->scan.lo; /* the window is (lo, last_seq] */
    for (int64_t s = lo + 1; s <= c->last_seq; s++) {
        if (!(op->mask & ((uint64_t)1 << (s - lo - 1)))) {
            c->last_seq = s - 1;
            return;
        }
    }
}

/* Steps of cs_pending_list. */
enum {
    PL_START = 0,
    PL_RELS,    /* my relations */
    PL_CHATS,   /* a slice of the chats */
    PL_CURSORS, /* the newest sequences of a chat (holes) */
    PL_ROWS,    /* the pending rows */
};

/* PL_CHATS: a slice of the user's chats, as cursors. */
static int cs_pl_add_cursors(cs_op *op)
{
    store_req *req = op->req;
    for (int64_t i = 0; i < op->q.rows.n_rows; i++) {
        struct cs_chat c;
        if (cs_read_chat(op->s, &op->q.rows, i, &req->in.user, &c) < 0)
            continue;
        struct duet_cursor *a =
            pool_grow(&req->pool, req->out.cursors, req->out.n_cursors, &op->cap_items, sizeof(*a));
        if (a == NULL)
            return -ENOMEM;
        req->out.cursors = a;
        a[req->out.n_cursors].chat_id = c.id;
        a[req->out.n_cursors].last_seq = c.last_seq;
        req->out.n_cursors++;
    }
    return 0;
}

/* Whether a paged read (store.h) ends with the row just added: the row
 * limit, or the text bound (a page is a few dozen rows: summed each time). */
static int cs_pl_page_full(const store_req *req)
{
    if ((int)req->out.n_pending >= req->in.limit)
        return 1;
    if (req->in.page_bytes <= 0)
        return 0;
    int64_t bytes = 0;
    for (size_t i = 0; i < req->out.n_pending; i++)
        bytes += (int64_t)strlen(req->out.pending[i].msg.message);
    return bytes >= req->in.page_bytes;
}

/* PL_ROWS: a page of pending rows into req->out.pending. */
static int cs_pl_add_rows(cs_op *op)
{
    store_req *req = op->req;
    const struct cql_rows *r = &op->q.rows;
    for (int64_t i = 0; i < r->n_rows; i++) {
        struct duet_pending *a =
            pool_grow(&req->pool, req->out.pending, req->out.n_pending, &op->cap_items, sizeof(*a));
        if (a == NULL)
            return -ENOMEM;
        req->out.pending = a;
        struct duet_pending *p = &a[req->out.n_pending];
        duet_id chat;
        cs_get_id(cql_cell(r, i, 0), &chat);
        p->kind = cs_get_i32(cql_cell(r, i, 1));
        if (cs_read_msg(&req->pool, r, i, 2, &chat, &p->msg) < 0)
            return -ENOMEM;
        if (p->kind == PENDING_CHAT_STATE) /* c-org */
            cs_state_from_row(p);
        req->out.n_pending++;
        if (req->in.limit > 0 && cs_pl_page_full(req)) {
            req->out.more = 1;
            break;
        }
    }
    return 0;
}

/* Reads one page of a paged replay (store.h): LIMIT rows after the key, in
 * clustering order (chat, kind, seq). */
static void cs_pl_read_page(cs_op *op)
{
    store_req *req = op->req;
    op->page_size = req->in.limit;
    if (req->in.has_after)
        cs_read(op, PL_ROWS, CS_PENDING_AFTER, "iidld", &req->in.user, &req->in.chat_id,
                req->in.kind, req->in.seq, req->in.limit);
    else
        cs_read(op, PL_ROWS, CS_PENDING_FIRST, "id", &req->in.user, req->in.limit);
}

/* Steps: 0 relations, 1 chats (IN) -> cursors, 2 the newest rows of each
 * cursor's chat, 3 pages of pending rows. The cursors are read before the
 * rows: a message written between the two reads is in the backlog and
 * above its cursor, and cs_cursors_raise() covers it. */
void cs_pending_list(cs_op *op)
{
    store_req *req = op->req;
    int rc;
    switch (op->step) {
    case PL_START:
        if (!req->in.cursors)
            goto rows;
        cs_read(op, PL_RELS, CS_REL_ALL, "i", &req->in.user);
        return;
    case PL_RELS:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_read_rels(op)) < 0 ||
            (rc = cs_chat_ids(op, 0)) < 0)
            break;
        op->cap_items = 0;
        goto chats;
    case PL_CHATS:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_pl_add_cursors(op)) < 0)
            break;
    chats:
        if ((rc = cs_in_next(op, PL_CHATS, CS_CHATS_IN)) != 0)
            return;
        op->i_items = 0;
        goto window;
    case PL_CURSORS:
        if ((rc = cs_q_status(op)) < 0)
            break;
        for (int64_t i = 0; i < op->q.rows.n_rows; i++) {
            int64_t s = cs_get_i64(cql_cell(&op->q.rows, i, CS_MSG_SEQ_COL)) - op->scan.lo - 1;
            if (s >= 0 && s < CS_CURSOR_WINDOW)
                op->mask |= (uint64_t)1 << s;
        }
        cs_scan_advance(op);
        if ((rc = cs_scan_next(op, PL_CURSORS, CS_CURSOR_WINDOW)) != 0)
            return;
        cs_cursor_window(op);
        op->i_items++;
    window:
        while (op->i_items < req->out.n_cursors) {
            const struct duet_cursor *c = &req->out.cursors[op->i_items];
            if (c->last_seq > 0) {
                int64_t lo = c->last_seq > CS_CURSOR_WINDOW ? c->last_seq - CS_CURSOR_WINDOW : 0;
                cs_scan_init(&op->scan, &c->chat_id, lo, c->last_seq, 0);
                op->mask = 0;
                if ((rc = cs_scan_next(op, PL_CURSORS, CS_CURSOR_WINDOW)) != 0)
                    return;
            }
            op->i_items++;
        }
    rows:
        op->page_size = CS_PENDING_PAGE;
        op->cap_items = 0;
        if (req->in.limit > 0)
            cs_pl_read_page(op);
        else
            cs_read(op, PL_ROWS, CS_PENDING_LIST, "i", &req->in.user);
        return;
    default: { /* PL_ROWS */
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_pl_add_rows(op)) < 0)
            break;
        const struct cql_rows *r = &op->q.rows;
        if (req->in.limit <= 0 && r->paging_state != NULL && r->paging_state_len > 0) {
            /* The state lives in q, which the next read replaces. */
            uint8_t *ps = pool_alloc(&op->pool, r->paging_state_len);
            if (ps == NULL) {
                rc = -ENOMEM;
                break;
            }
            memcpy(ps, r->paging_state, r->paging_state_len);
            op->paging = ps;
            op->paging_len = r->paging_state_len;
            cs_read(op, PL_ROWS, CS_PENDING_LIST, "i", &req->in.user);
            return;
        }
        if (req->in.limit <= 0 && req->out.n_pending > 1)
            qsort(req->out.pending, req->out.n_pending, sizeof(*req->out.pending), cs_pending_cmp);
        cs_cursors_raise(req);
        cs_conv_pending_done(op); /* issue 17's fields; finishes the op */
        return;
    }
    }
    cs_finish(op, rc);
}
