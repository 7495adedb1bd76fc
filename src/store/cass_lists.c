/* cass_lists.c - the lists: requests, blocks, chats, presence peers.
 *
 * Each starts from the user's relations partition (one read), then reads
 * the chats and users it names with IN queries of up to CS_IN_MAX ids.
 */
#include "cass_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Appends id to op->ids (op pool). */
int cs_ids_add(cs_op *op, const duet_id *id, size_t *cap)
{
    duet_id *a = pool_grow(&op->pool, op->ids, op->n_ids, cap, sizeof(*a));
    if (a == NULL)
        return -ENOMEM;
    op->ids = a;
    a[op->n_ids++] = *id;
    return 0;
}

/* Sends the next IN query over op->ids (CS_USERS_IN or CS_CHATS_IN): 1 if
 * sent, 0 when every id was read, or an error (op finished). */
int cs_in_next(cs_op *op, int next, enum cs_stmt_id id)
{
    if (op->i_ids >= op->n_ids)
        return 0;
    size_t n = op->n_ids - op->i_ids;
    if (n > CS_IN_MAX)
        n = CS_IN_MAX;
    const duet_id *ids = op->ids + op->i_ids;
    op->i_ids += n;
    int rc = cs_read(op, next, id, "L", ids, n);
    return rc < 0 ? rc : 1;
}

static int cs_req_cmp(const void *pa, const void *pb)
{
    const struct duet_friend_req *a = pa, *b = pb;
    if (a->created_at != b->created_at)
        return a->created_at < b->created_at ? -1 : 1;
    return strcmp(a->user.username, b->user.username);
}

/* The relations of kind with their users, sorted by (created_at, name),
 * in req's pool. */
static int cs_reqs_of(cs_op *op, int kind, struct duet_friend_req **out, size_t *n)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < op->n_rels; i++) {
        if (op->rels[i].kind != kind)
            continue;
        const struct duet_user *u = cs_user_find(op, &op->rels[i].other);
        if (u == NULL)
            continue; /* cannot happen: accounts are never deleted */
        struct duet_friend_req *a = pool_grow(&op->req->pool, *out, *n, &cap, sizeof(*a));
        if (a == NULL)
            return -ENOMEM;
        *out = a;
        a[*n].user = *u;
        a[*n].created_at = op->rels[i].created_at;
        (*n)++;
    }
    if (*n > 1)
        qsort(*out, *n, sizeof(**out), cs_req_cmp);
    return 0;
}

/* Steps shared by the request and block lists: 0 read relations, 1 collect
 * the other users, 2/3 read them; then done(op) builds the answer. */
static void cs_rel_list(cs_op *op, const int *kinds, int (*done)(cs_op *op))
{
    int rc;
    switch (op->step) {
    case 0:
        cs_read(op, 1, CS_REL_ALL, "i", &op->req->in.user);
        return;
    case 1: {
        size_t cap = 0;
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_read_rels(op)) < 0)
            break;
        for (size_t i = 0; i < op->n_rels; i++) {
            if ((op->rels[i].kind == kinds[0] || op->rels[i].kind == kinds[1]) &&
                (rc = cs_ids_add(op, &op->rels[i].other, &cap)) < 0)
                goto out;
        }
        goto users;
    }
    default:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_read_users(op)) < 0)
            break;
    users:
        if ((rc = cs_in_next(op, 2, CS_USERS_IN)) != 0)
            return; /* sent, or failed and finished */
        rc = done(op);
        break;
    }
out:
    cs_finish(op, rc);
}

static int cs_requests_done(cs_op *op)
{
    store_req *req = op->req;
    int rc = cs_reqs_of(op, REL_REQ_IN, &req->out.reqs_in, &req->out.n_reqs_in);
    return rc < 0 ? rc : cs_reqs_of(op, REL_REQ_OUT, &req->out.reqs_out, &req->out.n_reqs_out);
}

void cs_requests_list(cs_op *op)
{
    static const int kinds[2] = {REL_REQ_IN, REL_REQ_OUT};
    cs_rel_list(op, kinds, cs_requests_done);
}

static int cs_blocks_done(cs_op *op)
{
    store_req *req = op->req;
    struct duet_friend_req *r;
    size_t n;
    int rc = cs_reqs_of(op, REL_BLOCK_OUT, &r, &n);
    if (rc < 0)
        return rc;
    req->out.users = n > 0 ? pool_alloc(&req->pool, n * sizeof(*req->out.users)) : NULL;
    if (n > 0 && req->out.users == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        req->out.users[i] = r[i].user;
    req->out.n_users = n;
    return 0;
}

void cs_blocks_list(cs_op *op)
{
    static const int kinds[2] = {REL_BLOCK_OUT, REL_BLOCK_OUT};
    cs_rel_list(op, kinds, cs_blocks_done);
}

/* ---- presence peers: friends with no block either way ---- */

static int cs_user_name_cmp(const void *pa, const void *pb)
{
    const struct duet_user *a = pa, *b = pb;
    return strcmp(a->username, b->username);
}

/* Collects the chats with the user's peers that no block separates. */
static int cs_chat_ids(cs_op *op, int skip_blocked)
{
    size_t cap = 0;
    op->n_ids = op->i_ids = 0;
    for (size_t i = 0; i < op->n_rels; i++) {
        const duet_id *peer = &op->rels[i].other;
        if (op->rels[i].kind != REL_CHAT)
            continue;
        if (skip_blocked && (cs_rel_find(op, REL_BLOCK_OUT, peer) != NULL ||
                             cs_rel_find(op, REL_BLOCK_IN, peer) != NULL))
            continue;
        duet_id chat;
        duet_chat_id(&op->req->in.user, peer, &chat);
        int rc = cs_ids_add(op, &chat, &cap);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void cs_presence_peers(cs_op *op)
{
    store_req *req = op->req;
    int rc;
    switch (op->step) {
    case 0:
        cs_read(op, 1, CS_REL_ALL, "i", &req->in.user);
        return;
    case 1:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_read_rels(op)) < 0 ||
            (rc = cs_chat_ids(op, 1)) < 0)
            break;
        op->n_items = 0; /* peers that are friends, as ids in items */
        goto chats;
    case 2: {
        if ((rc = cs_q_status(op)) < 0)
            break;
        for (int64_t i = 0; i < op->q.rows.n_rows; i++) {
            struct cs_chat c;
            if (cs_read_chat(op->s, &op->q.rows, i, &req->in.user, &c) < 0 || !c.friends)
                continue;
            duet_id *a = pool_grow(&op->pool, op->items, op->n_items, &op->cap_items, sizeof(*a));
            if (a == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            op->items = a;
            a[op->n_items++] = c.peer;
        }
    }
    chats:
        if ((rc = cs_in_next(op, 2, CS_CHATS_IN)) != 0)
            return;
        /* Now the peers' user rows. */
        op->ids = op->items;
        op->n_ids = op->n_items;
        op->i_ids = 0;
        goto users;
    default:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_read_users(op)) < 0)
            break;
    users:
        if ((rc = cs_in_next(op, 3, CS_USERS_IN)) != 0)
            return;
        if (op->n_users > 1)
            qsort(op->users, op->n_users, sizeof(*op->users), cs_user_name_cmp);
        req->out.users = op->users;
        req->out.n_users = op->n_users;
        rc = 0;
        break;
    }
out:
    cs_finish(op, rc);
}

/* ---- the chat list ---- */

/* One entry being built. Ownership: op's pool. */
struct cs_cl {
    struct duet_chat c;
    int64_t last_seq;
};

static int cs_chat_cmp(const void *pa, const void *pb)
{
    const struct duet_chat *a = pa, *b = pb;
    if (a->last_activity != b->last_activity)
        return a->last_activity > b->last_activity ? -1 : 1;
    return memcmp(a->chat_id.b, b->chat_id.b, sizeof(a->chat_id.b));
}

/* Steps: 0 relations, 1 my user row, 2 chats (IN), 3 peers (IN), 4 an
 * entry's newest message, 5 its unread count; then the next entry. */
void cs_chats_list(cs_op *op)
{
    store_req *req = op->req;
    struct cs_cl *items = op->items, *it;
    int rc;
    switch (op->step) {
    case 0:
        cs_read(op, 1, CS_REL_ALL, "i", &req->in.user);
        return;
    case 1:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_read_rels(op)) < 0 ||
            (rc = cs_chat_ids(op, 0)) < 0)
            break;
        if (op->n_ids == 0)
            goto build;
        cs_read(op, 2, CS_USER_BY_ID, "i", &req->in.user);
        return;
    case 2:
        if ((rc = cs_q_status(op)) < 0)
            break;
        op->receipts = op->q.rows.n_rows > 0 && cs_get_i32(cql_cell(&op->q.rows, 0, 6)) != 0;
        op->n_items = op->cap_items = 0;
        goto chats;
    case 3:
        if ((rc = cs_q_status(op)) < 0)
            break;
        for (int64_t i = 0; i < op->q.rows.n_rows; i++) {
            struct cs_chat c;
            if (cs_read_chat(op->s, &op->q.rows, i, &req->in.user, &c) < 0 || !c.friends)
                continue;
            items = pool_grow(&op->pool, op->items, op->n_items, &op->cap_items, sizeof(*items));
            if (items == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            op->items = items;
            it = memset(&items[op->n_items++], 0, sizeof(*it));
            it->c.chat_id = c.id;
            it->c.peer.id = c.peer;
            it->c.last_activity = c.last_activity;
            it->c.my_read_seq = c.my_read;
            /* The seen floor moves only with a seen made while both have
             * receipts on: reads made with receipts off stay unreported. */
            it->c.peer_read_seq = c.peer_seen;
            it->c.blocked_by_me = cs_rel_find(op, REL_BLOCK_OUT, &c.peer) != NULL;
            it->c.blocked_me = cs_rel_find(op, REL_BLOCK_IN, &c.peer) != NULL;
            it->last_seq = c.last_seq;
        }
    chats:
        if ((rc = cs_in_next(op, 3, CS_CHATS_IN)) != 0)
            return;
        /* The peers' user rows. */
        op->n_ids = op->i_ids = 0;
        {
            size_t cap = 0;
            for (size_t i = 0; i < op->n_items; i++)
                if ((rc = cs_ids_add(op, &items[i].c.peer.id, &cap)) < 0)
                    goto out;
        }
        goto users;
    case 4:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_read_users(op)) < 0)
            break;
    users:
        if ((rc = cs_in_next(op, 4, CS_USERS_IN)) != 0)
            return;
        for (size_t i = 0; i < op->n_items; i++) {
            const struct duet_user *u = cs_user_find(op, &items[i].c.peer.id);
            if (u != NULL)
                items[i].c.peer = *u;
            int both = op->receipts && u != NULL && u->read_receipts;
            if (!both)
                items[i].c.peer_read_seq = 0;
        }
        op->i_items = 0;
        goto entry;
    case 5:
        /* The newest message of entry i_items. */
        if ((rc = cs_q_status(op)) < 0)
            break;
        it = &items[op->i_items];
        /* A void marker (docs/cassandra.md "Holes") is no message: look
         * further down. */
        if (op->q.rows.n_rows > 0 && !cs_row_void(&op->q.rows, 0, 0)) {
            if (cs_read_msg(&req->pool, &op->q.rows, 0, 0, &it->c.chat_id, &it->c.last) < 0) {
                rc = -ENOMEM;
                break;
            }
            it->c.has_last = 1;
            /* The privacy rule of seen_at, as in HISTORY. */
            if (!(op->receipts && it->c.peer.read_receipts))
                it->c.last.seen_at = 0;
        } else {
            cs_scan_advance(op);
            if ((rc = cs_scan_next(op, 5, 1)) != 0)
                return; /* an older bucket */
        }
        /* Unread: the peer's messages after my read position. */
        cs_scan_init(&op->scan, &it->c.chat_id, it->c.my_read_seq, it->last_seq, 0);
        op->count = 0;
        goto unread;
    case 6:
        if ((rc = cs_q_status(op)) < 0)
            break;
        it = &items[op->i_items];
        for (int64_t i = 0; i < op->q.rows.n_rows; i++) {
            duet_id sender;
            cs_get_id(cql_cell(&op->q.rows, i, 0), &sender);
            if (duet_id_eq(&sender, &it->c.peer.id) &&
                cs_get_i64(cql_cell(&op->q.rows, i, 10)) == 0)
                it->c.unread++;
        }
        op->count += op->q.rows.n_rows;
        cs_scan_advance(op);
    unread:
        if (op->count < CS_UNREAD_MAX && (rc = cs_scan_next(op, 6, CS_SCAN_CHUNK)) != 0)
            return;
        op->i_items++;
    entry:
        if (op->i_items < op->n_items) {
            it = &items[op->i_items];
            cs_scan_init(&op->scan, &it->c.chat_id, 0, it->last_seq, 0);
            if ((rc = cs_scan_next(op, 5, 1)) != 0)
                return;
            op->count = 0;
            goto unread; /* no message at all: nothing unread either */
        }
    build:
        req->out.n_chats = op->n_items;
        req->out.chats =
            op->n_items > 0 ? pool_alloc(&req->pool, op->n_items * sizeof(struct duet_chat)) : NULL;
        if (op->n_items > 0 && req->out.chats == NULL) {
            rc = -ENOMEM;
            break;
        }
        for (size_t i = 0; i < op->n_items; i++)
            req->out.chats[i] = items[i].c;
        if (op->n_items > 1)
            qsort(req->out.chats, op->n_items, sizeof(struct duet_chat), cs_chat_cmp);
        rc = 0;
        break;
    default:
        rc = -EINVAL;
        break;
    }
out:
    cs_finish(op, rc);
}

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

/* Steps: 0 relations, 1 chats (IN) -> cursors, 2 the newest rows of each
 * cursor's chat, 3 pages of pending rows. The cursors are read before the
 * rows: a message written between the two reads is in the backlog and
 * above its cursor, and cs_cursors_raise() covers it. */
void cs_pending_list(cs_op *op)
{
    store_req *req = op->req;
    int rc;
    switch (op->step) {
    case 0:
        if (!req->in.cursors)
            goto rows;
        cs_read(op, 1, CS_REL_ALL, "i", &req->in.user);
        return;
    case 1:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_read_rels(op)) < 0 ||
            (rc = cs_chat_ids(op, 0)) < 0)
            break;
        op->cap_items = 0;
        goto chats;
    case 2:
        if ((rc = cs_q_status(op)) < 0)
            break;
        for (int64_t i = 0; i < op->q.rows.n_rows; i++) {
            struct cs_chat c;
            if (cs_read_chat(op->s, &op->q.rows, i, &req->in.user, &c) < 0)
                continue;
            struct duet_cursor *a = pool_grow(&req->pool, req->out.cursors, req->out.n_cursors,
                                              &op->cap_items, sizeof(*a));
            if (a == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            req->out.cursors = a;
            a[req->out.n_cursors].chat_id = c.id;
            a[req->out.n_cursors].last_seq = c.last_seq;
            req->out.n_cursors++;
        }
    chats:
        if ((rc = cs_in_next(op, 2, CS_CHATS_IN)) != 0)
            return;
        op->i_items = 0;
        goto window;
    case 3:
        if ((rc = cs_q_status(op)) < 0)
            break;
        for (int64_t i = 0; i < op->q.rows.n_rows; i++) {
            int64_t s = cs_get_i64(cql_cell(&op->q.rows, i, CS_MSG_SEQ_COL)) - op->scan.lo - 1;
            if (s >= 0 && s < CS_CURSOR_WINDOW)
                op->mask |= (uint64_t)1 << s;
        }
        cs_scan_advance(op);
        if ((rc = cs_scan_next(op, 3, CS_CURSOR_WINDOW)) != 0)
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
                if ((rc = cs_scan_next(op, 3, CS_CURSOR_WINDOW)) != 0)
                    return;
            }
            op->i_items++;
        }
    rows:
        op->page_size = CS_PENDING_PAGE;
        op->cap_items = 0;
        cs_read(op, 4, CS_PENDING_LIST, "i", &req->in.user);
        return;
    default: {
        if ((rc = cs_q_status(op)) < 0)
            break;
        const struct cql_rows *r = &op->q.rows;
        for (int64_t i = 0; i < r->n_rows; i++) {
            struct duet_pending *a = pool_grow(&req->pool, req->out.pending, req->out.n_pending,
                                               &op->cap_items, sizeof(*a));
            if (a == NULL) {
                rc = -ENOMEM;
                goto out;
            }
            req->out.pending = a;
            struct duet_pending *p = &a[req->out.n_pending];
            duet_id chat;
            cs_get_id(cql_cell(r, i, 0), &chat);
            p->kind = cs_get_i32(cql_cell(r, i, 1));
            if (cs_read_msg(&req->pool, r, i, 2, &chat, &p->msg) < 0) {
                rc = -ENOMEM;
                goto out;
            }
            req->out.n_pending++;
        }
        if (r->paging_state != NULL && r->paging_state_len > 0) {
            /* The state lives in q, which the next read replaces. */
            uint8_t *ps = pool_alloc(&op->pool, r->paging_state_len);
            if (ps == NULL) {
                rc = -ENOMEM;
                break;
            }
            memcpy(ps, r->paging_state, r->paging_state_len);
            op->paging = ps;
            op->paging_len = r->paging_state_len;
            cs_read(op, 4, CS_PENDING_LIST, "i", &req->in.user);
            return;
        }
        if (req->out.n_pending > 1)
            qsort(req->out.pending, req->out.n_pending, sizeof(*req->out.pending), cs_pending_cmp);
        cs_cursors_raise(req);
        rc = 0;
        break;
    }
    }
out:
    cs_finish(op, rc);
}
