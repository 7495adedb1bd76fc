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

/* Steps of cs_rel_list. */
enum {
    RL_START = 0,
    RL_RELS,  /* my relations */
    RL_USERS, /* a slice of the users they name */
};

/* Steps shared by the request and block lists: 0 read relations, 1 collect
 * the other users, 2/3 read them; then done(op) builds the answer. */
static void cs_rel_list(cs_op *op, const int *kinds, int (*done)(cs_op *op))
{
    int rc;
    switch (op->step) {
    case RL_START:
        cs_read(op, RL_RELS, CS_REL_ALL, "i", &op->req->in.user);
        return;
    case RL_RELS: {
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
    default: /* RL_USERS */
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_read_users(op)) < 0)
            break;
    users:
        if ((rc = cs_in_next(op, RL_USERS, CS_USERS_IN)) != 0)
            return; /* sent, or failed and finished */
        rc = done(op);
        break;
    }
out:
    cs_finish(op, rc);
}

/* Leaves out the incoming requests from users the user blocks: they wait
 * unseen while the block lasts (store.h, STORE_FRIEND_REQUEST). */
static void cs_reqs_unblocked(cs_op *op, struct duet_friend_req *r, size_t *n)
{
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (cs_rel_find(op, REL_BLOCK_OUT, &r[i].user.id) == NULL)
            r[k++] = r[i];
    *n = k;
}

static int cs_requests_done(cs_op *op)
{
    store_req *req = op->req;
    int rc = cs_reqs_of(op, REL_REQ_IN, &req->out.reqs_in, &req->out.n_reqs_in);
    if (rc < 0)
        return rc;
    cs_reqs_unblocked(op, req->out.reqs_in, &req->out.n_reqs_in);
    return cs_reqs_of(op, REL_REQ_OUT, &req->out.reqs_out, &req->out.n_reqs_out);
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

int cs_chat_ids(cs_op *op, int skip_blocked)
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

/* Steps of cs_presence_peers. */
enum {
    PP_START = 0,
    PP_RELS,  /* my relations */
    PP_CHATS, /* a slice of the chats */
    PP_USERS, /* a slice of the peers' user rows */
};

void cs_presence_peers(cs_op *op)
{
    store_req *req = op->req;
    int rc;
    switch (op->step) {
    case PP_START:
        cs_read(op, PP_RELS, CS_REL_ALL, "i", &req->in.user);
        return;
    case PP_RELS:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_read_rels(op)) < 0 ||
            (rc = cs_chat_ids(op, 1)) < 0)
            break;
        op->n_items = 0; /* peers that are friends, as ids in items */
        goto chats;
    case PP_CHATS: {
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
        if ((rc = cs_in_next(op, PP_CHATS, CS_CHATS_IN)) != 0)
            return;
        /* Now the peers' user rows. */
        op->ids = op->items;
        op->n_ids = op->n_items;
        op->i_ids = 0;
        goto users;
    default: /* PP_USERS */
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_read_users(op)) < 0)
            break;
    users:
        if ((rc = cs_in_next(op, PP_USERS, CS_USERS_IN)) != 0)
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
/* Steps of cs_chats_list. */
enum {
    CL_START = 0,
    CL_RELS,   /* my relations: the chats' ids */
    CL_ME,     /* my user row (read receipts) */
    CL_CHATS,  /* a slice of the chats' statics */
    CL_USERS,  /* a slice of the peers' user rows */
    CL_HIDDEN, /* entry i_items' messages I hid (issue 17) */
    CL_LAST,   /* the newest message of entry i_items */
    CL_UNREAD, /* a chunk of entry i_items' messages after my read position */
    CL_STATE,  /* c-org: my pin/archive/mute rows */
};

/* Entry i of the op's list. */
static struct cs_cl *cs_cl_at(cs_op *op, size_t i)
{
    return &((struct cs_cl *)op->items)[i];
}

/* The rows of a CS_CHATS_IN slice, as entries (friends only). */
static int cs_cl_add_chats(cs_op *op)
{
    const duet_id *me = &op->req->in.user;
    for (int64_t i = 0; i < op->q.rows.n_rows; i++) {
        struct cs_chat c;
        if (cs_read_chat(op->s, &op->q.rows, i, me, &c) < 0)
            continue; /* former friends too: the chat stays, read-only */
        struct cs_cl *items =
            pool_grow(&op->pool, op->items, op->n_items, &op->cap_items, sizeof(*items));
        if (items == NULL)
            return -ENOMEM;
        op->items = items;
        struct cs_cl *it = memset(&items[op->n_items++], 0, sizeof(*it));
        it->c.chat_id = c.id;
        it->c.peer.id = c.peer;
        it->c.last_activity = c.last_activity;
        it->c.my_read_seq = c.my_read;
        /* The seen floor moves only with a seen made while both have
         * receipts on: reads made with receipts off stay unreported. */
        it->c.peer_read_seq = c.peer_seen;
        it->c.blocked_by_me = cs_rel_find(op, REL_BLOCK_OUT, &c.peer) != NULL;
        it->c.blocked_me = cs_rel_find(op, REL_BLOCK_IN, &c.peer) != NULL;
        it->c.friends = c.friends != 0;
        it->last_seq = c.last_seq;
    }
    return 0;
}

/* The peers' ids, for their user rows. */
static int cs_cl_peer_ids(cs_op *op)
{
    struct cs_cl *items = op->items;
    size_t cap = 0;
    int rc;
    op->n_ids = op->i_ids = 0;
    for (size_t i = 0; i < op->n_items; i++)
        if ((rc = cs_ids_add(op, &items[i].c.peer.id, &cap)) < 0)
            return rc;
    return 0;
}

/* The peers' user rows into the entries, and the privacy rule of read
 * positions (both must send read receipts). */
static void cs_cl_apply_users(cs_op *op)
{
    struct cs_cl *items = op->items;
    for (size_t i = 0; i < op->n_items; i++) {
        const struct duet_user *u = cs_user_find(op, &items[i].c.peer.id);
        if (u != NULL)
            items[i].c.peer = *u;
        int both = op->receipts && u != NULL && u->read_receipts;
        if (!both)
            items[i].c.peer_read_seq = 0;
    }
}

/* Whether the message row (CS_MSG_COLS at 0) is withheld from user. */
static int cs_withheld_from(const struct cql_rows *r, int64_t row, const duet_id *user)
{
    duet_id receiver;
    if (!cs_row_withheld(r, row, 0))
        return 0;
    cs_get_id(cql_cell(r, row, 1), &receiver);
    return duet_id_eq(&receiver, user);
}

/* CL_LAST's answer: the entry's last message, or (a void marker, docs/
 * cassandra.md "Holes", is no message, and a message withheld from the
 * user is not theirs to see) a look further down. 1 when a read went out or
 * the op finished, 0 to go on (to the unread count). */
static int cs_cl_last(cs_op *op, struct cs_cl *it)
{
    store_req *req = op->req;
    if (op->q.rows.n_rows > 0 && !cs_row_void(&op->q.rows, 0, 0) &&
        !cs_withheld_from(&op->q.rows, 0, &req->in.user) &&
        !cs_conv_hidden_has(op, cs_get_i64(cql_cell(&op->q.rows, 0, CS_MSG_SEQ_COL)))) {
        if (cs_read_msg(&req->pool, &op->q.rows, 0, 0, &it->c.chat_id, &it->c.last) < 0) {
            cs_finish(op, -ENOMEM);
            return 1;
        }
        it->c.has_last = 1;
        /* The privacy rule of seen_at, as in HISTORY. */
        if (!(op->receipts && it->c.peer.read_receipts))
            it->c.last.seen_at = 0;
        return 0;
    }
    cs_scan_advance(op);
    return cs_scan_next(op, CL_LAST, 1) != 0; /* an older bucket, or finished */
}

/* CL_UNREAD's answer: counts the peer's messages not yet seen by anyone. */
static void cs_cl_count_unread(cs_op *op, struct cs_cl *it)
{
    for (int64_t i = 0; i < op->q.rows.n_rows; i++) {
        duet_id sender;
        cs_get_id(cql_cell(&op->q.rows, i, 0), &sender);
        if (duet_id_eq(&sender, &it->c.peer.id) && cs_get_i64(cql_cell(&op->q.rows, i, 10)) == 0 &&
            !cs_row_withheld(&op->q.rows, i, 0) &&
            !cs_conv_hidden_has(op, cs_get_i64(cql_cell(&op->q.rows, i, CS_MSG_SEQ_COL))))
            it->c.unread++;
    }
    op->count += op->q.rows.n_rows;
    cs_scan_advance(op);
}

/* The entries into req->out.chats, newest activity first. */
static int cs_cl_build(cs_op *op)
{
    store_req *req = op->req;
    req->out.n_chats = op->n_items;
    req->out.chats =
        op->n_items > 0 ? pool_alloc(&req->pool, op->n_items * sizeof(struct duet_chat)) : NULL;
    if (op->n_items > 0 && req->out.chats == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < op->n_items; i++)
        req->out.chats[i] = cs_cl_at(op, i)->c;
    if (op->n_items > 1)
        qsort(req->out.chats, op->n_items, sizeof(struct duet_chat), cs_chat_cmp);
    return 0;
}

void cs_chats_list(cs_op *op)
{
    store_req *req = op->req;
    struct cs_cl *it;
    int rc;
    switch (op->step) {
    case CL_START:
        cs_read(op, CL_RELS, CS_REL_ALL, "i", &req->in.user);
        return;
    case CL_RELS:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_read_rels(op)) < 0 ||
            (rc = cs_chat_ids(op, 0)) < 0)
            break;
        if (op->n_ids == 0)
            goto build;
        cs_read(op, CL_ME, CS_USER_BY_ID, "i", &req->in.user);
        return;
    case CL_ME:
        if ((rc = cs_q_status(op)) < 0)
            break;
        op->receipts = op->q.rows.n_rows > 0 && cs_get_i32(cql_cell(&op->q.rows, 0, 6)) != 0;
        op->n_items = op->cap_items = 0;
        goto chats;
    case CL_CHATS:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_cl_add_chats(op)) < 0)
            break;
    chats:
        if ((rc = cs_in_next(op, CL_CHATS, CS_CHATS_IN)) != 0)
            return;
        if ((rc = cs_cl_peer_ids(op)) < 0)
            break;
        goto users;
    case CL_USERS:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_read_users(op)) < 0)
            break;
    users:
        if ((rc = cs_in_next(op, CL_USERS, CS_USERS_IN)) != 0)
            return;
        cs_cl_apply_users(op);
        op->i_items = 0;
        goto entry;
    case CL_LAST:
        if ((rc = cs_q_status(op)) < 0)
            break;
        it = cs_cl_at(op, op->i_items);
        if (cs_cl_last(op, it))
            return;
        /* Unread: the peer's messages after my read position. */
        cs_scan_init(&op->scan, &it->c.chat_id, it->c.my_read_seq, it->last_seq, 0);
        op->count = 0;
        goto unread;
    case CL_UNREAD:
        if ((rc = cs_q_status(op)) < 0)
            break;
        cs_cl_count_unread(op, cs_cl_at(op, op->i_items));
    unread:
        /* The newest STORE_UNREAD_MAX messages at most, as on SQLite. */
        if (op->count < STORE_UNREAD_MAX &&
            (rc = cs_scan_next(op, CL_UNREAD,
                               (int)(STORE_UNREAD_MAX - op->count < CS_SCAN_CHUNK
                                         ? STORE_UNREAD_MAX - op->count
                                         : CS_SCAN_CHUNK))) != 0)
            return;
        op->i_items++;
    entry:
        if (op->i_items < op->n_items) {
            it = cs_cl_at(op, op->i_items);
            op->page_size = 0;
            cs_read(op, CL_HIDDEN, CS_CV_HIDDEN_TOP, "ii", &req->in.user, &it->c.chat_id);
            return;
        }
        goto build;
    case CL_HIDDEN:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_conv_hidden_load(op)) < 0)
            break;
        it = cs_cl_at(op, op->i_items);
        cs_scan_init(&op->scan, &it->c.chat_id, 0, it->last_seq, 0);
        if ((rc = cs_scan_next(op, CL_LAST, 1)) != 0)
            return;
        op->count = 0;
        goto unread; /* no message at all: nothing unread either */
    build:
        if ((rc = cs_cl_build(op)) < 0 || op->n_items == 0)
            break;
        cs_read(op, CL_STATE, CS_STATE_ALL, "i", &req->in.user); /* c-org */
        return;
    case CL_STATE:
        if ((rc = cs_q_status(op)) == 0)
            cs_state_apply(op, req->out.chats, req->out.n_chats);
        break;
    default:
        rc = -EINVAL;
        break;
    }
    cs_finish(op, rc);
}
