/* cass_msgs.c - sending messages on Cassandra (deleting: cass_delete.c).
 *
 * Sequence numbers and exactly-once (docs/cassandra.md has the long form).
 * The chats partition of a chat holds, as static columns, last_seq, and as
 * rows, one "claim" per client message id (its sequence, sender, receiver,
 * text and time; TTL 30 days). A send is:
 *
 *  1. read the claim of (chat, message_id): if it exists and is ours, this
 *     is a retry: answer the stored message with duplicate = 1, or, if its
 *     rows were never written, write them now at the claimed sequence (then
 *     it is new to everyone: duplicate = 0);
 *  2. check membership, friendship, blocks (cached for a second:
 *     cass_access.h) and the receiver's backlog;
 *  3. one conditional batch on the chats partition: last_seq = N + 1 IF
 *     last_seq = N, and the claim row IF NOT EXISTS. Paxos makes it atomic
 *     across instances. Lost the race: retry with the current N;
 *  4. a LOGGED batch writes the private_chat row and the receiver's pending
 *     row: idempotent (one client timestamp), so the driver may retry it;
 *  5. only then the callback says "sent".
 *
 * A failure or timeout after 3 fails the request: the sender is not told
 * "sent" and retries with the same id, which lands in 1 and fills the rows
 * at the claimed sequence. Until then that sequence is a hole that readers
 * skip (history, and the hub's gap fill waits for it).
 */
#include "../../base/log.h"
#include "cass_int.h"

#include <errno.h>
#include <string.h>

const char *const cs_msgs_cql[CS_STMT_COUNT] = {
    [CS_CLAIM_GET] = "SELECT sequence, sender, receiver, message, sent_at, mtype, mpreview, mmedia"
                     " FROM @.chats WHERE chat_id = ? AND message_id = ?",
    /* A group's dedupe (cass_group.c): its ids' claims, if any. */
    [CS_CLAIM_GET_IN] = "SELECT message_id, sender FROM @.chats WHERE chat_id = ?"
                        " AND message_id IN ?",
    [CS_CLAIM_SEQ] = "UPDATE @.chats SET last_seq = ?, last_activity = ? WHERE chat_id = ?"
                     " IF last_seq = ?",
    [CS_CLAIM_SEQ0] = "UPDATE @.chats SET last_seq = ?, last_activity = ? WHERE chat_id = ?"
                      " IF last_seq = null",
    [CS_CLAIM_ID] = "INSERT INTO @.chats (chat_id, message_id, sequence, sender, receiver, message,"
                    " sent_at, mtype, mpreview, mmedia) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " IF NOT EXISTS USING TTL 2592000",
    /* Deleting a cell never creates a row (an UPDATE would). */
    [CS_CLAIM_ERASE] = "DELETE message FROM @.chats WHERE chat_id = ? AND message_id = ?",
    [CS_MSG_INSERT] = "INSERT INTO @.private_chat (chat_id, bucket, sequence, sender, receiver,"
                      " message_id, message, type, preview, sent_at, received_at, seen_at,"
                      " deleted_at, media) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?)",
    [CS_MSG_GET] = "SELECT " CS_MSG_COLS " FROM @.private_chat"
                   " WHERE chat_id = ? AND bucket = ? AND sequence = ?",
    /* A void marker (CS_TYPE_VOID) at a hole; only the type cell, so a
     * real write later sets every cell it needs. */
    [CS_MSG_VOID] = "INSERT INTO @.private_chat (chat_id, bucket, sequence, type)"
                    " VALUES (?, ?, ?, -1)",
    /* The claim of a sequence: a filtered read of one chats partition,
     * only for a hole (rare). writetime = when the claim was applied. */
    [CS_CLAIM_BY_SEQ] = "SELECT writetime(sender) FROM @.chats WHERE chat_id = ? AND sequence = ?"
                        " ALLOW FILTERING",
    [CS_MSG_ERASE] =
        "UPDATE @.private_chat SET message = '', preview = '', media = '', deleted_at = ?"
        " WHERE chat_id = ? AND bucket = ? AND sequence = ?",
    [CS_MSG_MARK_RECV] = "UPDATE @.private_chat SET received_at = ?"
                         " WHERE chat_id = ? AND bucket = ? AND sequence = ?",
    [CS_MSG_MARK_SEEN] = "UPDATE @.private_chat SET seen_at = ?, received_at = ?"
                         " WHERE chat_id = ? AND bucket = ? AND sequence = ?",
    [CS_SCAN_ASC] = "SELECT " CS_MSG_COLS " FROM @.private_chat WHERE chat_id = ? AND bucket = ?"
                    " AND sequence > ? AND sequence <= ? ORDER BY sequence ASC LIMIT ?",
    [CS_SCAN_DESC] = "SELECT " CS_MSG_COLS " FROM @.private_chat WHERE chat_id = ? AND bucket = ?"
                     " AND sequence > ? AND sequence <= ? LIMIT ?",
    [CS_PENDING_MSG_INSERT] = "INSERT INTO @.pending (user_id, chat_id, service_type, sequence,"
                              " sender, receiver, message_id, message, type, preview, sent_at,"
                              " received_at, seen_at, deleted_at, media)"
                              " VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?)",
    /* Receipt and deletion rows: no text (the seed's denormalisation is for
     * MESSAGE rows). */
    [CS_PENDING_INSERT] = "INSERT INTO @.pending (user_id, chat_id, service_type, sequence,"
                          " sender, receiver, message_id, message, type, preview, sent_at,"
                          " received_at, seen_at, deleted_at)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, '', ?, ?, ?, ?)",
    [CS_PENDING_COUNT] = "SELECT COUNT(*) FROM @.pending WHERE user_id = ?",
    [CS_PENDING_DEL_UPTO] = "DELETE FROM @.pending WHERE user_id = ? AND chat_id = ?"
                            " AND service_type = ? AND sequence <= ?",
    [CS_PENDING_DEL_BELOW] = "DELETE FROM @.pending WHERE user_id = ? AND chat_id = ?"
                             " AND service_type = ? AND sequence < ?",
    [CS_PENDING_DEL_AT] = "DELETE FROM @.pending WHERE user_id = ? AND chat_id = ?"
                          " AND service_type = ? AND sequence = ?",
    [CS_PENDING_LIST] = "SELECT chat_id, service_type, " CS_MSG_COLS " FROM @.pending"
                        " WHERE user_id = ?",
    /* A replay's pages, in clustering order (chat, kind, seq): store.h. */
    [CS_PENDING_FIRST] = "SELECT chat_id, service_type, " CS_MSG_COLS " FROM @.pending"
                         " WHERE user_id = ? LIMIT ?",
    [CS_PENDING_AFTER] = "SELECT chat_id, service_type, " CS_MSG_COLS " FROM @.pending"
                         " WHERE user_id = ? AND (chat_id, service_type, sequence) > (?, ?, ?)"
                         " LIMIT ?",
    [CS_CHAT_READ_A] = "UPDATE @.chats SET a_read_seq = ? WHERE chat_id = ?",
    [CS_CHAT_READ_B] = "UPDATE @.chats SET b_read_seq = ? WHERE chat_id = ?",
    [CS_CHAT_RECV_A] = "UPDATE @.chats SET a_recv_seq = ? WHERE chat_id = ?",
    [CS_CHAT_RECV_B] = "UPDATE @.chats SET b_recv_seq = ? WHERE chat_id = ?",
    [CS_CHAT_SEEN_A] = "UPDATE @.chats SET a_seen_seq = ? WHERE chat_id = ?",
    [CS_CHAT_SEEN_B] = "UPDATE @.chats SET b_seen_seq = ? WHERE chat_id = ?",
};

/* Steps of cs_msg_send. */
enum {
    SEND_START,
    SEND_CLAIM_READ,   /* the claim of (chat, message_id), if any */
    SEND_CHAT,         /* the chat's statics */
    SEND_BLOCKS,       /* blocks either way */
    SEND_BACKLOG,      /* the receiver's pending count */
    SEND_CLAIMED,      /* the conditional batch's outcome */
    SEND_WRITTEN,      /* the message and pending rows */
    SEND_DUP_ROW,      /* a retry: is its row there? */
    SEND_DUP_WRITTEN,  /* a retry: rows written again */
    SEND_DUP_SEEN,     /* a retry: may seen_at show? */
    SEND_OTHERS,       /* the id is another sender's: is the user a member? */
    SEND_CLAIM_CHECK,  /* the claim's outcome was unknown: read it at SERIAL */
    SEND_DUP_BLOCKS,   /* a retry writing its rows: is the receiver blocking? */
    SEND_ATTACHED,     /* media: the upload's attaching LWT */
    SEND_ATTACH_CHECK, /* media: not applied: attached to this message already? */
};

/* Media (issue 15): the upload is attached to (chat, message_id) by an LWT
 * on its row before the sequence is claimed: IF state = stored AND owner =
 * sender, so one upload goes with one message. A send that fails after it
 * leaves the upload attached to its id, and the client's retry with the same
 * id finds it so (SEND_ATTACH_CHECK). */
static void cs_send_claim(cs_op *op);

static void cs_send_attach(cs_op *op)
{
    store_req *req = op->req;
    if (req->in.upload_id == NULL || op->tries > 0) {
        cs_send_claim(op);
        return;
    }
    cs_lwt(op, SEND_ATTACHED, CS_UPLOAD_ATTACH, "isdssdi", &op->chat.id, req->in.message_id,
           req->in.msg_type, req->in.media_mime, req->in.upload_id, UPLOAD_STORED, &req->in.user);
}

/* op->flag in MSG_SEND and MSG_DELETE: the message is (to be) withheld from
 * its receiver, who blocks the sender (store.h). */

/* A failed step whose outcome is unknown (a timeout: the write may land
 * later) is retried inside the op for up to 2 request timeouts, rather
 * than failing at once. The op holds its chat (cass_sched.c) meanwhile, so
 * no later message of the chat is stored, announced or acknowledged before
 * this one is settled: a write that failed but landed would otherwise show
 * up behind later messages that the receiver already acknowledged. 1 while
 * within the budget (the first failure starts it), 0 when spent. */
int cs_send_again(cs_op *op)
{
    int64_t now = cs_ts(op->s);
    int64_t t = op->s->timeout_ms > 0 ? op->s->timeout_ms : 12000;
    if (op->retry_until == 0)
        op->retry_until = now + 2 * t * 1000;
    if (now >= op->retry_until)
        return 0;
    log_info("store: cassandra: MSG_SEND: outcome unknown; trying again");
    return 1;
}

/* The message and pending rows of a claimed message, in one LOGGED batch
 * with one client timestamp: the driver's retries of it are identical. A
 * rewrite by a later retry of the send happens only when the rows are
 * missing, so nothing (ack, erase) can have touched them yet; its newer
 * timestamp also lifts the pending row above an ack that went past the
 * hole meanwhile: that receiver does not have the message. */
static int cs_send_rows(cs_op *op, int next, const struct duet_msg *m)
{
    int64_t b = cs_bucket(m->sequence);
    /* One timestamp for every try of these rows: a retry is the same write. */
    if (op->rows_ts == 0)
        op->rows_ts = cs_ts(op->s);
    cs_batch_begin(op);
    /* The type cell marks a withheld message: CS_TYPE_WITHHELD - type, so
     * a withheld media message keeps its type (cs_read_msg). */
    const char *pv = m->preview ? m->preview : "", *md = m->media ? m->media : "";
    cs_batch_add(op, CS_MSG_INSERT, "illiissdsls", &m->chat_id, b, m->sequence, &m->sender,
                 &m->receiver, m->message_id, m->message,
                 op->flag ? CS_TYPE_WITHHELD - m->type : m->type, pv, m->sent_at, md);
    /* A withheld message has no pending row: the receiver never gets it. */
    if (!op->flag)
        cs_batch_add(op, CS_PENDING_MSG_INSERT, "iiliissdsls", &m->receiver, &m->chat_id,
                     m->sequence, &m->sender, &m->receiver, m->message_id, m->message, m->type, pv,
                     m->sent_at, md);
    /* c-org: a message the receiver sees ends their archive of the chat. */
    if (!op->flag)
        cs_batch_add(op, CS_STATE_UNARCHIVE, "ii", &m->receiver, &m->chat_id);
    op->req->out.hidden = op->flag;
    return cs_batch_submit_at(op, next, op->rows_ts);
}

/* Sends the conditional batch claiming sequence last_seq + 1 and the id. */
static void cs_send_claim(cs_op *op)
{
    store_req *req = op->req;
    const struct cs_chat *c = &op->chat;
    if (op->tries++ >= CS_CLAIM_TRIES) {
        log_warn("store: cassandra: MSG_SEND: lost the sequence race %d times", CS_CLAIM_TRIES);
        cs_finish(op, DUET_ESTORE);
        return;
    }
    op->seq = c->last_seq + 1;
    cs_batch_begin(op);
    if (c->seq_null)
        cs_batch_add(op, CS_CLAIM_SEQ0, "lli", op->seq, req->in.now, &c->id);
    else
        cs_batch_add(op, CS_CLAIM_SEQ, "llil", op->seq, req->in.now, &c->id, c->last_seq);
    cs_batch_add(op, CS_CLAIM_ID, "isliisldss", &c->id, req->in.message_id, op->seq, &req->in.user,
                 &c->peer, req->in.text, req->in.now, req->in.msg_type,
                 req->in.preview ? req->in.preview : "", req->in.media ? req->in.media : "");
    cs_batch_submit_lwt(op, SEND_CLAIMED);
}

/* The claim row of q (CS_CLAIM_GET columns) into op->msg. */
static int cs_claim_read(cs_op *op)
{
    const struct cql_rows *r = &op->q.rows;
    struct duet_msg *m = &op->msg;
    memset(m, 0, sizeof(*m));
    m->chat_id = op->req->in.chat_id;
    m->sequence = cs_get_i64(cql_cell(r, 0, 0));
    cs_get_id(cql_cell(r, 0, 1), &m->sender);
    cs_get_id(cql_cell(r, 0, 2), &m->receiver);
    m->sent_at = cs_get_i64(cql_cell(r, 0, 4));
    m->message_id = pool_strdup(&op->req->pool, op->req->in.message_id);
    m->type = cs_get_i32(cql_cell(r, 0, 5));
    if (m->message_id == NULL || cs_get_str(&op->req->pool, cql_cell(r, 0, 3), &m->message) < 0 ||
        cs_get_str(&op->req->pool, cql_cell(r, 0, 6), &m->preview) < 0 ||
        cs_get_str(&op->req->pool, cql_cell(r, 0, 7), &m->media) < 0)
        return -ENOMEM;
    return 0;
}

/* The blocks between sender and receiver (cs_blocks_bits): EBLOCKED when
 * the sender blocks the receiver (out); op->flag = 1 when only the receiver
 * blocks the sender (in: the message is stored withheld, so the block does
 * not show). */
static int cs_send_blocks(cs_op *op, int out, int in)
{
    op->flag = 0;
    if (out)
        return DUET_EBLOCKED;
    op->flag = in;
    return 0;
}

/* What a step handler of cs_msg_send returns when a request went out (or
 * the op finished): anything else is the status to finish the op with. */
#define CS_GOON 1

/* SEND_CLAIM_READ: a retry of ours, another sender's id, or new. */
static int send_claim_read(cs_op *op)
{
    store_req *req = op->req;
    const duet_id *me = &req->in.user;
    int rc;
    /* Dedupe first: a retry must succeed even if access changed since. */
    if ((rc = cs_q_status(op)) < 0)
        return rc;
    if (op->q.rows.n_rows > 0 && !cs_is_null(cql_cell(&op->q.rows, 0, 1))) {
        if ((rc = cs_claim_read(op)) < 0)
            return rc;
        if (duet_id_eq(&op->msg.sender, me)) {
            cs_read(op, SEND_DUP_ROW, CS_MSG_GET, "ill", &req->in.chat_id,
                    cs_bucket(op->msg.sequence), op->msg.sequence);
            return CS_GOON;
        }
        /* Only a member learns that the id is taken. */
        cs_read(op, SEND_OTHERS, CS_CHAT_GET, "i", &req->in.chat_id);
        return CS_GOON;
    }
    cs_read(op, SEND_CHAT, CS_CHAT_GET, "i", &req->in.chat_id);
    return CS_GOON;
}

static int send_access(cs_op *op, int out, int in);

/* SEND_CHAT: the chat's statics; friends? Then the blocks, cached or read. */
static int send_chat(cs_op *op)
{
    int rc;
    if ((rc = cs_load_member_chat(op)) < 0)
        return rc;
    if (!op->chat.friends)
        return DUET_ENOTFRIENDS;
    if (op->tries > 0) {
        /* A retry after a lost race: access was checked already. */
        cs_send_claim(op);
        return CS_GOON;
    }
    int out, in;
    if (cs_blocks_cached(op, &out, &in))
        return send_access(op, out, in);
    cs_blocks_read(op, SEND_BLOCKS);
    return CS_GOON;
}

/* SEND_CLAIMED: the conditional batch's outcome. */
static int send_claimed(cs_op *op)
{
    store_req *req = op->req;
    const duet_id *me = &req->in.user;
    struct duet_msg *m = &req->out.msg;
    int rc;
    /* A timeout here may hide an applied claim: read the claim at
     * SERIAL (which settles the round) and go on from what it says;
     * never say sent unless the rows are written. */
    if ((rc = cs_q_status(op)) < 0) {
        if (!cs_send_again(op))
            return rc;
        op->serial = 1;
        cs_read(op, SEND_CLAIM_CHECK, CS_CLAIM_GET, "is", &req->in.chat_id, req->in.message_id);
        return CS_GOON;
    }
    if (op->q.applied == 1) {
        memset(m, 0, sizeof(*m));
        m->chat_id = op->chat.id;
        m->sender = *me;
        m->receiver = op->chat.peer;
        m->message_id = pool_strdup(&req->pool, req->in.message_id);
        m->message = pool_strdup(&req->pool, req->in.text);
        m->preview = pool_strdup(&req->pool, req->in.preview ? req->in.preview : "");
        m->media = pool_strdup(&req->pool, req->in.media ? req->in.media : "");
        m->type = req->in.msg_type;
        if (m->message_id == NULL || m->message == NULL || m->preview == NULL || m->media == NULL)
            return -ENOMEM;
        m->sequence = op->seq;
        m->sent_at = req->in.now;
        cs_send_rows(op, SEND_WRITTEN, m);
        return CS_GOON;
    }
    /* Not applied: the answer carries the partition's current values. */
    const struct cql_rows *r = &op->q.rows;
    int c_sender = cs_col(r, "sender"), c_seq = cs_col(r, "last_seq");
    op->serial = 1; /* from here on, read what Paxos decided */
    if (r->n_rows > 0 && c_sender >= 0 && !cs_is_null(cql_cell(r, 0, c_sender))) {
        /* The id was claimed meanwhile (another connection's retry). */
        cs_read(op, SEND_CLAIM_READ, CS_CLAIM_GET, "is", &req->in.chat_id, req->in.message_id);
        return CS_GOON;
    }
    if (r->n_rows > 0 && c_seq >= 0 && !cs_is_null(cql_cell(r, 0, c_seq))) {
        op->chat.last_seq = cs_get_i64(cql_cell(r, 0, c_seq));
        op->chat.seq_null = 0;
        cs_send_claim(op);
        return CS_GOON;
    }
    cs_read(op, SEND_CHAT, CS_CHAT_GET, "i", &req->in.chat_id);
    return CS_GOON;
}

/* SEND_CLAIM_CHECK: the claim read at SERIAL after an unknown outcome. */
static int send_claim_check(cs_op *op)
{
    store_req *req = op->req;
    int rc;
    if ((rc = cs_q_status(op)) < 0) {
        if (!cs_send_again(op))
            return rc;
        cs_read(op, SEND_CLAIM_CHECK, CS_CLAIM_GET, "is", &req->in.chat_id, req->in.message_id);
        return CS_GOON;
    }
    if (op->q.rows.n_rows > 0 && !cs_is_null(cql_cell(&op->q.rows, 0, 1))) {
        /* Claimed: ours from this attempt (or an earlier one), or
         * another sender's; SEND_CLAIM_READ sorts it out. */
        op->step = SEND_CLAIM_READ;
        cs_msg_send(op);
        return CS_GOON;
    }
    /* Not applied: claim again from the current last_seq. */
    cs_read(op, SEND_CHAT, CS_CHAT_GET, "i", &req->in.chat_id);
    return CS_GOON;
}

/* SEND_DUP_ROW: a retry; its row, written or not. */
static int send_dup_row(cs_op *op)
{
    store_req *req = op->req;
    struct duet_msg *m = &req->out.msg;
    int rc;
    if ((rc = cs_q_status(op)) < 0)
        return rc;
    if (op->q.rows.n_rows < 1 || cs_row_void(&op->q.rows, 0, 0)) {
        /* The first attempt claimed the sequence but its rows were
         * never written (or a reader has voided it since): write them
         * now, at the claimed sequence (SEND_DUP_BLOCKS), withheld if the
         * receiver blocks the sender now. Nobody could see the message
         * before, so it is not a duplicate: the caller announces it as
         * new. */
        cs_read(op, SEND_DUP_BLOCKS, CS_REL_BLOCKED, "ii", &req->in.user, &op->msg.receiver);
        return CS_GOON;
    }
    req->out.duplicate = 1;
    req->out.hidden = cs_row_withheld(&op->q.rows, 0, 0);
    if (cs_read_msg(&req->pool, &op->q.rows, 0, 0, &req->in.chat_id, m) < 0)
        return -ENOMEM;
    if (cs_want_receipts(op, SEND_DUP_SEEN, m) != 0)
        return CS_GOON; /* sent, or failed and finished */
    return 0;
}

/* The blocks known (cached or read): refused, or on to the receiver's
 * pending count, or to the media attach and the claim. */
static int send_access(cs_op *op, int out, int in)
{
    int rc;
    if ((rc = cs_send_blocks(op, out, in)) < 0)
        return rc;
    if (op->req->in.max_pending > 0 && !op->flag) {
        cs_read(op, SEND_BACKLOG, CS_PENDING_COUNT, "i", &op->chat.peer);
        return CS_GOON;
    }
    cs_send_attach(op);
    return CS_GOON;
}

/* SEND_BLOCKS (the blocks read) and SEND_BACKLOG (the receiver's pending
 * count): refused, or on to the media attach and the claim. */
static int send_backlog(cs_op *op)
{
    store_req *req = op->req;
    int rc;
    if ((rc = cs_q_status(op)) < 0)
        return rc;
    if (op->step == SEND_BLOCKS) {
        int out, in;
        cs_blocks_got(op, &out, &in);
        return send_access(op, out, in);
    }
    if (op->q.rows.n_rows > 0 && cs_get_i64(cql_cell(&op->q.rows, 0, 0)) >= req->in.max_pending)
        return DUET_EFULL;
    cs_send_attach(op);
    return CS_GOON;
}

/* SEND_ATTACHED (the upload's LWT) and SEND_ATTACH_CHECK (it was not
 * applied: attached already by an earlier try of this send?). */
static int send_attached(cs_op *op)
{
    int rc;
    if ((rc = cs_q_status(op)) < 0)
        return rc;
    if (op->step == SEND_ATTACHED && op->q.applied != 1) {
        op->serial = 1;
        cs_read(op, SEND_ATTACH_CHECK, CS_UPLOAD_GET, "s", op->req->in.upload_id);
        return CS_GOON;
    }
    if (op->step == SEND_ATTACH_CHECK && (rc = cs_upload_attached_here(op)) < 0)
        return rc;
    cs_send_claim(op);
    return CS_GOON;
}

void cs_msg_send(cs_op *op)
{
    store_req *req = op->req;
    struct duet_msg *m = &req->out.msg;
    int rc;
    switch (op->step) {
    case SEND_START:
        if (cs_conv_send_start(op)) /* issue 17: a quote or forward first */
            return;
        if (req->in.message_id == NULL || req->in.text == NULL) {
            cs_finish(op, -EINVAL);
            return;
        }
        cs_read(op, SEND_CLAIM_READ, CS_CLAIM_GET, "is", &req->in.chat_id, req->in.message_id);
        return;
    case SEND_CLAIM_READ:
        rc = send_claim_read(op);
        if (rc == CS_GOON)
            return;
        break;
    case SEND_CHAT:
        rc = send_chat(op);
        if (rc == CS_GOON)
            return;
        break;
    case SEND_BLOCKS:
    case SEND_BACKLOG:
        rc = send_backlog(op);
        if (rc == CS_GOON)
            return;
        break;
    case SEND_ATTACHED:
    case SEND_ATTACH_CHECK:
        rc = send_attached(op);
        if (rc == CS_GOON)
            return;
        break;
    case SEND_CLAIMED:
        rc = send_claimed(op);
        if (rc == CS_GOON)
            return;
        break;
    case SEND_CLAIM_CHECK:
        rc = send_claim_check(op);
        if (rc == CS_GOON)
            return;
        break;
    case SEND_WRITTEN:
    case SEND_DUP_WRITTEN:
        if ((rc = cs_q_status(op)) < 0 && cs_send_again(op)) {
            /* The same rows with the same timestamp (m holds them). */
            cs_send_rows(op, op->step, m);
            return;
        }
        break;
    case SEND_DUP_ROW:
        rc = send_dup_row(op);
        if (rc == CS_GOON)
            return;
        break;
    case SEND_DUP_BLOCKS: {
        /* Read fresh, never cached: a retry is rare. */
        int out, in;
        if ((rc = cs_q_status(op)) < 0)
            break;
        cs_blocks_bits(&op->q.rows, &out, &in);
        if ((rc = cs_send_blocks(op, out, in)) < 0)
            break;
        *m = op->msg;
        cs_send_rows(op, SEND_DUP_WRITTEN, m);
        return;
    }
    case SEND_DUP_SEEN:
        rc = cs_receipts_apply(op, m);
        break;
    case SEND_OTHERS:
        if ((rc = cs_load_member_chat(op)) == 0)
            rc = DUET_ECONFLICT;
        break;
    default:
        rc = -EINVAL;
        break;
    }
    if (rc == 0 && cs_conv_send_done(op)) /* issue 17: the quote, forwarded */
        return;
    cs_finish(op, rc);
}
