/* cass_friends.c - friend requests, friendships, blocks, chat access. */
#include "cass_int.h"

#include <errno.h>
#include <string.h>

const char *const cs_friends_cql[CS_STMT_COUNT] = {
    [CS_REL_ALL] = "SELECT kind, other, created_at FROM @.relations WHERE user_id = ?",
    [CS_REL_BLOCKED] = "SELECT kind FROM @.relations WHERE user_id = ? AND kind IN (3, 4)"
                       " AND other = ?",
    [CS_REL_INSERT] = "INSERT INTO @.relations (user_id, kind, other, created_at)"
                      " VALUES (?, ?, ?, ?)",
    [CS_REL_INSERT_DAY] = "INSERT INTO @.relations (user_id, kind, other, created_at)"
                          " VALUES (?, ?, ?, ?) USING TTL 86400",
    [CS_REL_DELETE] = "DELETE FROM @.relations WHERE user_id = ? AND kind = ? AND other = ?",
    [CS_CHAT_GET] = "SELECT DISTINCT " CS_CHAT_COLS " FROM @.chats WHERE chat_id = ?",
    [CS_CHATS_IN] = "SELECT DISTINCT " CS_CHAT_COLS " FROM @.chats WHERE chat_id IN ?",
    /* Never last_seq: only the send LWT writes it (cass_msgs.c). */
    [CS_CHAT_BEFRIEND] = "UPDATE @.chats SET user_a = ?, user_b = ?, friends = true, since = ?,"
                         " last_activity = ? WHERE chat_id = ?",
    [CS_CHAT_UNFRIEND] = "UPDATE @.chats SET friends = false WHERE chat_id = ?",
};

/* Both directions of a relation: (me, kind_me, peer) and (peer, kind_peer,
 * me). */
static void cs_rel_pair_delete(cs_op *op, const duet_id *me, int kind_me, const duet_id *peer,
                               int kind_peer)
{
    cs_batch_add(op, CS_REL_DELETE, "idi", me, kind_me, peer);
    cs_batch_add(op, CS_REL_DELETE, "idi", peer, kind_peer, me);
}

/* Withdraws the requests between the two, both ways. */
static void cs_requests_drop(cs_op *op, const duet_id *me, const duet_id *peer)
{
    cs_rel_pair_delete(op, me, REL_REQ_OUT, peer, REL_REQ_IN);
    cs_rel_pair_delete(op, me, REL_REQ_IN, peer, REL_REQ_OUT);
}

/* Adds the friendship to the batch: the chat's statics (a re-friended chat
 * keeps its history and sequence) and each side's chat relation. */
static void cs_befriend(cs_op *op, const duet_id *me, const duet_id *peer, int64_t now)
{
    store_req *req = op->req;
    int lo = duet_id_cmp(me, peer) < 0;
    const duet_id *a = lo ? me : peer, *b = lo ? peer : me;
    duet_chat_id(me, peer, &req->out.chat_id);
    int64_t activity = op->flag && op->chat.last_seq > 0 ? op->chat.last_activity : now;
    cs_batch_add(op, CS_CHAT_BEFRIEND, "iilli", a, b, now, activity, &req->out.chat_id);
    cs_batch_add(op, CS_REL_INSERT, "idil", me, REL_CHAT, peer, now);
    cs_batch_add(op, CS_REL_INSERT, "idil", peer, REL_CHAT, me, now);
    cs_members_put(op->s, &req->out.chat_id, a, b);
}

/* The decision of a friend or block op, once the peer, the user's
 * relations and the chat are known: queues the batch (returns 1) or
 * returns the answer (0 or an error). */
static int cs_friend_decide(cs_op *op)
{
    store_req *req = op->req;
    const duet_id *me = &req->in.user, *peer = &req->out.peer.id;
    int64_t now = req->in.now;
    int friends = op->flag && op->chat.friends;
    int blocks_peer = cs_rel_find(op, REL_BLOCK_OUT, peer) != NULL;
    int blocks_me = cs_rel_find(op, REL_BLOCK_IN, peer) != NULL;
    int req_in = cs_rel_find(op, REL_REQ_IN, peer) != NULL;
    int req_out = cs_rel_find(op, REL_REQ_OUT, peer) != NULL;

    switch (req->op) {
    case STORE_FRIEND_REQUEST:
        if (blocks_peer)
            return DUET_EBLOCKED;
        if (friends)
            return DUET_EALREADY;
        /* The peer blocks the user: answered and stored as any request, so
         * the block does not show; the peer sees it once they unblock. */
        req->out.hidden = blocks_me;
        if (req_in) {
            /* Their request to me crossed mine: a yes from both. */
            cs_batch_begin(op);
            cs_requests_drop(op, me, peer);
            cs_befriend(op, me, peer, now);
            req->out.friend_result = FRIEND_ACCEPTED;
            return 1;
        }
        req->out.friend_result = req_out ? FRIEND_PENDING : FRIEND_REQUESTED;
        if (req_out)
            return 0; /* already asked: the first request stands */
        if (req->in.max_per_day > 0) {
            int64_t sent = 0;
            for (size_t i = 0; i < op->n_rels; i++)
                sent += op->rels[i].kind == REL_SENT;
            if (sent >= req->in.max_per_day)
                return DUET_ELIMIT;
        }
        duet_id log_id;
        duet_id_random(&log_id);
        cs_batch_begin(op);
        cs_batch_add(op, CS_REL_INSERT, "idil", me, REL_REQ_OUT, peer, now);
        cs_batch_add(op, CS_REL_INSERT, "idil", peer, REL_REQ_IN, me, now);
        cs_batch_add(op, CS_REL_INSERT_DAY, "idil", me, REL_SENT, &log_id, now);
        return 1;
    case STORE_FRIEND_ACCEPT:
        if (!req_in)
            return DUET_ENOTFOUND;
        cs_batch_begin(op);
        cs_requests_drop(op, me, peer);
        cs_befriend(op, me, peer, now);
        return 1;
    case STORE_FRIEND_DECLINE:
    case STORE_FRIEND_CANCEL: {
        int mine = req->op == STORE_FRIEND_CANCEL;
        if (!(mine ? req_out : req_in))
            return DUET_ENOTFOUND;
        cs_batch_begin(op);
        if (mine)
            cs_rel_pair_delete(op, me, REL_REQ_OUT, peer, REL_REQ_IN);
        else
            cs_rel_pair_delete(op, me, REL_REQ_IN, peer, REL_REQ_OUT);
        return 1;
    }
    case STORE_FRIEND_REMOVE:
        duet_chat_id(me, peer, &req->out.chat_id);
        if (!friends)
            return DUET_ENOTFOUND; /* as a missing user: no enumeration */
        cs_batch_begin(op);
        cs_batch_add(op, CS_CHAT_UNFRIEND, "i", &req->out.chat_id);
        return 1;
    case STORE_BLOCK:
        /* Blocking again changes nothing: no batch, nobody is told. */
        if (cs_rel_find(op, REL_BLOCK_OUT, peer) != NULL && !req_in && !req_out) {
            req->out.unchanged = 1;
            return 0;
        }
        /* The friendship stays: a block suspends it, unblocking restores. */
        req->out.friends = friends;
        cs_batch_begin(op);
        if (cs_rel_find(op, REL_BLOCK_OUT, peer) == NULL) {
            cs_batch_add(op, CS_REL_INSERT, "idil", me, REL_BLOCK_OUT, peer, now);
            cs_batch_add(op, CS_REL_INSERT, "idil", peer, REL_BLOCK_IN, me, now);
        }
        cs_requests_drop(op, me, peer);
        return 1;
    case STORE_UNBLOCK:
        if (cs_rel_find(op, REL_BLOCK_OUT, peer) == NULL)
            return DUET_ENOTFOUND; /* nothing to lift: nobody is told */
        req->out.friends = friends && !blocks_me;
        cs_batch_begin(op);
        cs_rel_pair_delete(op, me, REL_BLOCK_OUT, peer, REL_BLOCK_IN);
        return 1;
    default:
        return -EINVAL;
    }
}

/* What naming oneself means for each op (as the SQLite backend). */
static int cs_self_error(enum store_op op)
{
    switch (op) {
    case STORE_FRIEND_REQUEST:
    case STORE_BLOCK:
        return DUET_ESELF;
    default: /* FRIEND_REMOVE and UNBLOCK too: nothing to remove */
        return DUET_ENOTFOUND;
    }
}

/* cs_friend_op's steps. */
enum {
    FRIEND_START = 0,
    FRIEND_NAME,   /* the name's id */
    FRIEND_PEER,   /* the peer's user row */
    FRIEND_RELS,   /* my relations partition */
    FRIEND_CHAT,   /* the pair's chat, then decide */
    FRIEND_WRITTEN /* the LOGGED batch */
};

/* Every friend and block op: resolve the name, read the user's relations
 * partition and the pair's chat, decide, write one LOGGED batch. These ops
 * are barriers (cass_sched.c), so nothing of this instance runs beside them. */
void cs_friend_op(cs_op *op)
{
    store_req *req = op->req;
    const duet_id *me = &req->in.user;
    int rc;
    switch (op->step) {
    case FRIEND_START:
        cs_name_read(op, FRIEND_NAME, req->in.name);
        return;
    case FRIEND_NAME:
        if ((rc = cs_name_id(op)) < 0)
            break;
        cs_read(op, FRIEND_PEER, CS_USER_BY_ID, "i", &op->id);
        return;
    case FRIEND_PEER:
        if ((rc = cs_q_status(op)) < 0)
            break;
        if (op->q.rows.n_rows < 1 || cs_is_null(cql_cell(&op->q.rows, 0, 1))) {
            rc = DUET_ENOTFOUND;
            break;
        }
        if (cs_read_user(&req->pool, &op->q.rows, 0, 0, &req->out.peer) < 0) {
            rc = -ENOMEM;
            break;
        }
        if (duet_id_eq(&req->out.peer.id, me) && (rc = cs_self_error(req->op)) < 0)
            break;
        cs_read(op, FRIEND_RELS, CS_REL_ALL, "i", me);
        return;
    case FRIEND_RELS: {
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_read_rels(op)) < 0)
            break;
        duet_id chat;
        duet_chat_id(me, &req->out.peer.id, &chat);
        /* The pair's cached blocks go before this op is answered: a barrier,
         * so no send of this instance runs (or fills the entry) until it is
         * done, and every later one reads the blocks again. */
        cs_access_forget(&op->s->access, &chat);
        cs_read(op, FRIEND_CHAT, CS_CHAT_GET, "i", &chat);
        return;
    }
    case FRIEND_CHAT:
        if ((rc = cs_q_status(op)) < 0)
            break;
        op->flag = op->q.rows.n_rows > 0 && cs_read_chat(op->s, &op->q.rows, 0, me, &op->chat) == 0;
        rc = cs_friend_decide(op);
        if (rc == 1) {
            cs_batch_submit(op, FRIEND_WRITTEN, 0);
            return;
        }
        break;
    default: /* FRIEND_WRITTEN */
        rc = cs_q_status(op);
        break;
    }
    cs_finish(op, rc);
}

/* Steps of cs_chat_peer. */
enum {
    PEER_START = 0,
    PEER_CHAT,   /* the chat's statics */
    PEER_BLOCKS, /* blocks either way */
    PEER_USER,   /* the peer's user row */
};

void cs_chat_peer(cs_op *op)
{
    store_req *req = op->req;
    int rc;
    switch (op->step) {
    case PEER_START:
        cs_read(op, PEER_CHAT, CS_CHAT_GET, "i", &req->in.chat_id);
        return;
    case PEER_CHAT:
        if ((rc = cs_load_member_chat(op)) < 0)
            break;
        if (!op->chat.friends) {
            rc = DUET_ENOTFRIENDS;
            break;
        }
        cs_read(op, PEER_BLOCKS, CS_REL_BLOCKED, "ii", &req->in.user, &op->chat.peer);
        return;
    case PEER_BLOCKS:
        if ((rc = cs_q_status(op)) < 0)
            break;
        if (op->q.rows.n_rows > 0) {
            rc = DUET_EBLOCKED;
            break;
        }
        cs_read(op, PEER_USER, CS_USER_BY_ID, "i", &op->chat.peer);
        return;
    default: /* PEER_USER */
        if ((rc = cs_q_status(op)) < 0)
            break;
        if (op->q.rows.n_rows < 1 || cs_is_null(cql_cell(&op->q.rows, 0, 1))) {
            rc = DUET_EFORBIDDEN;
            break;
        }
        if (cs_read_user(&req->pool, &op->q.rows, 0, 0, &req->out.peer) < 0) {
            rc = -ENOMEM;
            break;
        }
        req->out.chat_id = op->chat.id;
        rc = 0;
        break;
    }
    cs_finish(op, rc);
}
