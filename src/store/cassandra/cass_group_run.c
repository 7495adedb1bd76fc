/* cass_group_run.c - a send group's steps (issue 19; docs/cassandra.md
 * "Group claims"). The leader (cass_group.c formed the group) runs its
 * members as one:
 *
 *  1. one read of every id's claim (IN): a claimed id (a retry) and every
 *     send after it leave the group and run alone, as before;
 *  2. the chat (membership, friendship) and its blocks, read once (or
 *     from the cache for a second: cass_access.h): both members may be
 *     senders, and one relations partition answers for both;
 *     the receivers' pending counts (one read each, at most two);
 *  3. each send is refused (blocked, backlog) or takes the next sequence, in
 *     order: a refused one takes none;
 *  4. ONE conditional batch on the chats partition: last_seq = n + k IF
 *     last_seq = n, and the k claims IF NOT EXISTS. Lost to another
 *     instance (last_seq moved): again from the new n. Any other outcome (a
 *     claim exists, a timeout) is settled by the single path: every send of
 *     the group runs alone from its first step, reading its claim at SERIAL
 *     (an applied claim of ours is then a retry whose rows are missing: it
 *     writes them at its sequence);
 *  5. ONE LOGGED batch for all the rows (the messages, the receivers' pending
 *     rows, their unarchive), one client timestamp, retried as the single
 *     path does; if it fails for good, every claimed send of the group
 *     fails (holes, filled by the senders' retries or voided as before);
 *  6. every send completes in order, the leader first, with the answers the
 *     single path gives.
 */
#include "../../base/log.h"
#include "cass_int.h"

#include <errno.h>
#include <string.h>

enum {
    G_START,
    G_DEDUPE,  /* the claims of the group's ids */
    G_CHAT,    /* the chat's statics */
    G_BLOCKS,  /* blocks between the members */
    G_BACKLOG, /* a receiver's pending count (gcount[op->i_items]) */
    G_CLAIMED, /* the conditional batch */
    G_WRITTEN, /* the rows */
};

/* The id list of the group, for the IN read. */
static int cs_group_ids(cs_op *op, const char ***out)
{
    const char **ids = pool_alloc(&op->pool, sizeof(*ids) * (size_t)op->n_group);
    if (ids == NULL)
        return -ENOMEM;
    for (int i = 0; i < op->n_group; i++)
        ids[i] = op->group[i]->req->in.message_id;
    *out = ids;
    return 0;
}

/* G_DEDUPE: a claimed id leaves the group with every send after it. */
static int g_dedupe(cs_op *op)
{
    int rc, cut = op->n_group;
    if ((rc = cs_q_status(op)) < 0)
        return rc;
    const struct cql_rows *r = &op->q.rows;
    for (int64_t j = 0; j < r->n_rows; j++) {
        const struct cql_cell *id = cql_cell(r, j, 0);
        if (cs_is_null(cql_cell(r, j, 1)) || cs_is_null(id))
            continue;
        for (int i = 0; i < cut; i++) {
            const char *mid = op->group[i]->req->in.message_id;
            if ((size_t)id->len == strlen(mid) && memcmp(id->value, mid, (size_t)id->len) == 0)
                cut = i;
        }
    }
    if (cut == 0) {
        cs_group_fall_back(op, 0);
        return 1;
    }
    cs_group_cut(op, cut, 0);
    cs_read(op, G_CHAT, CS_CHAT_GET, "i", &op->req->in.chat_id);
    return 1;
}

/* The blocks known (cached or read, cs_blocks_bits): each member refused
 * (blocked), withheld or not. They are the leader's: out is the leader
 * blocking the peer. */
static void g_blocks(cs_op *op, int out, int in)
{
    for (int i = 0; i < op->n_group; i++) {
        cs_op *m = op->group[i];
        int mine = duet_id_eq(&m->req->in.user, &op->req->in.user);
        int blocks = mine ? out : in, blocked = mine ? in : out;
        m->gstatus = blocks ? DUET_EBLOCKED : 0;
        m->flag = !blocks && blocked;
    }
}

/* The receiver index of member m: 0 the leader's peer, 1 the leader. */
static int g_recv(const cs_op *op, const cs_op *m)
{
    return duet_id_eq(&m->req->in.user, &op->req->in.user) ? 0 : 1;
}

/* The next pending count to read (i_items: 0 or 1), or 2 when none. */
static size_t g_next_count(cs_op *op, size_t from)
{
    for (size_t r = from; r < 2; r++)
        for (int i = 0; i < op->n_group; i++) {
            const cs_op *m = op->group[i];
            if (m->gstatus == 0 && !m->flag && m->req->in.max_pending > 0 &&
                g_recv(op, m) == (int)r)
                return r;
        }
    return 2;
}

/* The conditional batch for the accepted members, from op->chat.last_seq. */
static void g_claim(cs_op *op)
{
    const struct cs_chat *c = &op->chat;
    int64_t seq = c->last_seq, now = 0;
    if (op->tries++ >= CS_CLAIM_TRIES) {
        log_warn("store: cassandra: MSG_SEND: lost the sequence race %d times", CS_CLAIM_TRIES);
        cs_finish(op, DUET_ESTORE);
        return;
    }
    /* Every read of the group is done: the acks behind it run beside it
     * from now on (they depend on none of its effects). */
    if (op->tries == 1 && cs_group_release(op, seq))
        cs_pump_soon(op->s);
    cs_batch_begin(op);
    for (int i = 0; i < op->n_group; i++) {
        cs_op *m = op->group[i];
        const store_req *q = m->req;
        if (m->gstatus < 0)
            continue;
        m->seq = ++seq;
        now = q->in.now > now ? q->in.now : now;
        const duet_id *peer = duet_id_eq(&q->in.user, &c->peer) ? &op->req->in.user : &c->peer;
        cs_batch_add(op, CS_CLAIM_ID, "isliisldss", &c->id, q->in.message_id, m->seq, &q->in.user,
                     peer, q->in.text, q->in.now, q->in.msg_type,
                     q->in.preview ? q->in.preview : "", q->in.media ? q->in.media : "");
    }
    /* The static column's condition last: the items' order does not matter
     * to Cassandra, and seq is known only now. */
    if (c->seq_null)
        cs_batch_add(op, CS_CLAIM_SEQ0, "lli", seq, now, &c->id);
    else
        cs_batch_add(op, CS_CLAIM_SEQ, "llil", seq, now, &c->id, c->last_seq);
    cs_batch_submit_lwt(op, G_CLAIMED);
}

/* Each member's message in its req->out.msg (the single path's answer). */
static int g_messages(cs_op *op)
{
    for (int i = 0; i < op->n_group; i++) {
        cs_op *m = op->group[i];
        store_req *q = m->req;
        struct duet_msg *g = &q->out.msg;
        if (m->gstatus < 0)
            continue;
        memset(g, 0, sizeof(*g));
        g->chat_id = op->chat.id;
        g->sender = q->in.user;
        g->receiver = duet_id_eq(&q->in.user, &op->chat.peer) ? op->req->in.user : op->chat.peer;
        g->message_id = pool_strdup(&q->pool, q->in.message_id);
        g->message = pool_strdup(&q->pool, q->in.text);
        g->preview = pool_strdup(&q->pool, q->in.preview ? q->in.preview : "");
        g->media = pool_strdup(&q->pool, q->in.media ? q->in.media : "");
        g->type = q->in.msg_type;
        if (g->message_id == NULL || g->message == NULL || g->preview == NULL || g->media == NULL)
            return -ENOMEM;
        g->sequence = m->seq;
        g->sent_at = q->in.now;
        q->out.hidden = m->flag;
    }
    return 0;
}

/* The rows of every accepted member in one LOGGED batch, one timestamp for
 * every try (as cs_send_rows in cass_msgs.c). */
static void g_rows(cs_op *op)
{
    int unarch[2] = {0, 0};
    if (op->rows_ts == 0)
        op->rows_ts = cs_ts(op->s);
    cs_batch_begin(op);
    for (int i = 0; i < op->n_group; i++) {
        const cs_op *m = op->group[i];
        const struct duet_msg *g = &m->req->out.msg;
        if (m->gstatus < 0)
            continue;
        cs_batch_add(op, CS_MSG_INSERT, "illiissdsls", &g->chat_id, cs_bucket(g->sequence),
                     g->sequence, &g->sender, &g->receiver, g->message_id, g->message,
                     m->flag ? CS_TYPE_WITHHELD - g->type : g->type, g->preview, g->sent_at,
                     g->media);
        if (m->flag)
            continue; /* withheld: no pending row, the archive stays */
        cs_batch_add(op, CS_PENDING_MSG_INSERT, "iiliissdsls", &g->receiver, &g->chat_id,
                     g->sequence, &g->sender, &g->receiver, g->message_id, g->message, g->type,
                     g->preview, g->sent_at, g->media);
        int r = g_recv(op, m);
        if (!unarch[r]++)
            cs_batch_add(op, CS_STATE_UNARCHIVE, "ii", &g->receiver, &g->chat_id);
    }
    cs_batch_submit_at(op, G_WRITTEN, op->rows_ts);
}

/* G_CLAIMED: applied, lost to another instance, or for the single path. */
static int g_claimed(cs_op *op)
{
    if (cs_q_status(op) < 0) {
        cs_group_fall_back(op, 1); /* unknown outcome: SERIAL reads settle it */
        return 1;
    }
    if (op->q.applied == 1) {
        int rc = g_messages(op);
        if (rc < 0)
            return rc;
        g_rows(op);
        return 1;
    }
    const struct cql_rows *r = &op->q.rows;
    int c_sender = cs_col(r, "sender"), c_seq = cs_col(r, "last_seq");
    int64_t last = -1;
    for (int64_t j = 0; j < r->n_rows; j++) {
        if (c_sender >= 0 && !cs_is_null(cql_cell(r, j, c_sender))) {
            cs_group_fall_back(op, 1); /* an id was claimed meanwhile */
            return 1;
        }
        if (c_seq >= 0 && !cs_is_null(cql_cell(r, j, c_seq)))
            last = cs_get_i64(cql_cell(r, j, c_seq));
    }
    if (last < 0) {
        cs_group_fall_back(op, 1);
        return 1;
    }
    op->serial = 1; /* from here on, read what Paxos decided */
    op->chat.last_seq = last;
    op->chat.seq_null = 0;
    g_claim(op);
    return 1;
}

/* After the blocks and each pending count: the next count to read, or the
 * backlog ceiling, counting the group's earlier messages, then the claim. */
static void g_counted(cs_op *op)
{
    if (op->i_items < 2) {
        const duet_id *who = op->i_items == 0 ? &op->chat.peer : &op->req->in.user;
        cs_read(op, G_BACKLOG, CS_PENDING_COUNT, "i", who);
        return;
    }
    int64_t added[2] = {0, 0}, taking = 0;
    for (int i = 0; i < op->n_group; i++) {
        cs_op *m = op->group[i];
        if (m->gstatus < 0)
            continue;
        int r = g_recv(op, m);
        /* A member moved ahead of acks counts one row more (an ack by
         * its sender replaces the receiver's receipt row); refused so,
         * it leaves the group with the members after it and runs after
         * those acks, as submitted (an ack by the receiver only lowers
         * the count it would read then). No ack behind the group has
         * started yet: they run beside it only from the claim on. */
        if (!m->flag && m->req->in.max_pending > 0 && m->gpass != 0 &&
            op->gcount[r] + added[r] + 1 >= m->req->in.max_pending) {
            cs_group_cut(op, i, 0);
            break;
        }
        if (!m->flag && m->req->in.max_pending > 0 &&
            op->gcount[r] + added[r] >= m->req->in.max_pending) {
            m->gstatus = DUET_EFULL;
            continue;
        }
        added[r] += !m->flag;
        taking++;
    }
    if (taking == 0) {
        cs_finish(op, 0);
        return;
    }
    g_claim(op);
}

/* G_CHAT: member and friends? Then the blocks, cached or read. */
static int g_chat(cs_op *op)
{
    int rc, out, in;
    if ((rc = cs_load_member_chat(op)) < 0)
        return rc;
    if (!op->chat.friends)
        return DUET_ENOTFRIENDS;
    if (!cs_blocks_cached(op, &out, &in)) {
        cs_blocks_read(op, G_BLOCKS);
        return 1;
    }
    g_blocks(op, out, in);
    op->i_items = g_next_count(op, 0);
    g_counted(op);
    return 1;
}

void cs_group_send(cs_op *op)
{
    store_req *req = op->req;
    int rc = 0;
    switch (op->step) {
    case G_START: {
        const char **ids;
        if ((rc = cs_group_ids(op, &ids)) < 0)
            break;
        cs_read(op, G_DEDUPE, CS_CLAIM_GET_IN, "iS", &req->in.chat_id, ids, (size_t)op->n_group);
        return;
    }
    case G_DEDUPE:
        if ((rc = g_dedupe(op)) > 0)
            return;
        break;
    case G_CHAT:
        if ((rc = g_chat(op)) > 0)
            return;
        break;
    case G_BLOCKS:
    case G_BACKLOG:
        if ((rc = cs_q_status(op)) < 0)
            break;
        if (op->step == G_BLOCKS) {
            int out, in;
            cs_blocks_got(op, &out, &in);
            g_blocks(op, out, in);
            op->i_items = g_next_count(op, 0);
        } else {
            op->gcount[op->i_items] =
                op->q.rows.n_rows > 0 ? cs_get_i64(cql_cell(&op->q.rows, 0, 0)) : 0;
            op->i_items = g_next_count(op, op->i_items + 1);
        }
        g_counted(op);
        return;
    case G_CLAIMED:
        if ((rc = g_claimed(op)) > 0)
            return;
        break;
    case G_WRITTEN:
        if ((rc = cs_q_status(op)) < 0 && cs_send_again(op)) {
            g_rows(op); /* the same rows, the same timestamp */
            return;
        }
        break;
    default:
        rc = -EINVAL;
        break;
    }
    cs_finish(op, rc);
}
