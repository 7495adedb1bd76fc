/* cass_group.c - group sequence claims: many sends of one chat, one LWT
 * (issue 19; docs/cassandra.md "Group claims").
 *
 * The sends of a chat queue behind each other (cass_sched.c). When one of
 * them starts, the plain new sends (no media, quote or forward) that wait
 * right behind it, and for nothing else, join its group: CS_GROUP_MAX of
 * them and CS_GROUP_BYTES of their text at most, so that one batch stays
 * small and one bad message delays few. The first (the leader) then runs
 * them as one:
 *
 *  1. one read of every id's claim (IN): a claimed id (a retry) and every
 *     send after it leave the group and run alone, as before;
 *  2. the chat (membership, friendship) and its blocks, read once: both
 *     members may be senders, and one relations partition answers for both;
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

static size_t cs_send_bytes(const store_req *req)
{
    return strlen(req->in.text) + (req->in.preview ? strlen(req->in.preview) : 0) +
           (req->in.media ? strlen(req->in.media) : 0) + strlen(req->in.message_id);
}

/* A send that may be grouped: new text (the claim read tells), no media,
 * quote or forward (their extra steps stay on the single path). */
static int cs_send_plain(const cs_op *op)
{
    const store_req *req = op->req;
    return req->op == STORE_MSG_SEND && !op->nogroup && req->in.message_id != NULL &&
           req->in.text != NULL && req->in.upload_id == NULL && req->in.reply_to <= 0 &&
           !req->in.has_forward;
}

static void cs_group_send(cs_op *op);

/* An ack of messages (kind MESSAGE) of the leader's chat: the sends behind
 * it may be moved ahead of it (docs/cassandra.md, "Group claims"). */
static int cs_ack_passable(const cs_op *a, const cs_op *leader)
{
    const store_req *req = a->req;
    return req->op == STORE_MSG_ACK && req->in.kind == PENDING_MESSAGE &&
           duet_id_eq(&req->in.chat_id, &leader->req->in.chat_id);
}

/* op leads m[0..n) (m[0] is op): the others run as part of it. */
static void cs_group_adopt(cs_op *op, cs_op **m, int n)
{
    for (int i = 0; i < n; i++) {
        op->group[i] = m[i];
        m[i]->gstatus = 0;
        if (i > 0) {
            m[i]->grouped = 1;
            m[i]->state = CS_RUNNING;
        }
    }
    op->n_group = n;
}

int cs_group_take(cs_store *s, cs_op *op)
{
    (void)s;
    if (!cs_send_plain(op) || op->barrier)
        return 0;
    cs_op *m[CS_GROUP_MAX], *acks[CS_GROUP_MAX];
    int n = 1, na = 0, passed = 0, pass = 0;
    size_t bytes = cs_send_bytes(op->req);
    m[0] = op;
    m[0]->gpass = 0;
    /* tail: the last op of the run behind the group: the last member, or
     * the last of the acks waiting behind it (acks[passed..na)). */
    cs_op *tail = op;
    while (n < CS_GROUP_MAX) {
        cs_op *b = cs_sched_behind(tail);
        if (b != NULL && na < CS_GROUP_MAX && cs_ack_passable(b, op)) {
            acks[na++] = b;
            tail = b;
            continue;
        }
        if (b == NULL || !cs_send_plain(b) ||
            !duet_id_eq(&b->req->in.chat_id, &op->req->in.chat_id))
            break;
        size_t nb = cs_send_bytes(b->req);
        if (bytes + nb > CS_GROUP_BYTES)
            break;
        /* The same id twice (a retry inside the burst): the second one
         * runs alone, after the group, and finds the first one's claim. */
        int dup = 0;
        for (int i = 0; i < n && !dup; i++)
            dup = strcmp(m[i]->req->in.message_id, b->req->in.message_id) == 0;
        if (dup)
            break;
        bytes += nb;
        if (tail != m[n - 1]) {
            /* b goes ahead of the acks in between. */
            cs_sched_move(m[n - 1], tail, b);
            for (; passed < na; passed++)
                pass |= duet_id_eq(&acks[passed]->req->in.user, &op->req->in.user) ? 1 : 2;
        } else {
            tail = b;
        }
        b->gpass = pass;
        m[n++] = b;
    }
    if (n < 2)
        return 0;
    op->group = pool_alloc(&op->pool, sizeof(*op->group) * (size_t)n);
    op->gacks = passed > 0 ? pool_alloc(&op->pool, sizeof(*op->gacks) * (size_t)passed) : NULL;
    if (op->group == NULL || (passed > 0 && op->gacks == NULL)) {
        /* Alone, as before, in the order of submission. */
        cs_sched_resort(op, n - 1 + passed);
        op->group = NULL;
        op->gacks = NULL;
        return 0;
    }
    cs_group_adopt(op, m, n);
    if (passed > 0)
        memcpy(op->gacks, acks, sizeof(*acks) * (size_t)passed);
    op->n_gacks = passed;
    op->fn = cs_group_send;
    return 1;
}

/* A MSG_ACK of messages, which may take the ones behind it. */
static int cs_ack_plain(const cs_op *op)
{
    return op->req->op == STORE_MSG_ACK && op->req->in.kind == PENDING_MESSAGE;
}

/* The sequence an ack acks: its own, no higher than the cap a group set. */
static int64_t cs_ack_seq(const cs_op *op)
{
    int64_t seq = op->req->in.seq;
    return op->has_acap && op->acap < seq ? op->acap : seq;
}

int cs_ack_take(cs_store *s, cs_op *op)
{
    (void)s;
    op->aseq = cs_ack_seq(op);
    if (!cs_ack_plain(op) || op->barrier)
        return 0;
    cs_op *m[CS_GROUP_MAX];
    int n = 1;
    m[0] = op;
    while (n < CS_GROUP_MAX) {
        cs_op *b = cs_sched_behind(m[n - 1]);
        if (b == NULL || !cs_ack_plain(b) || !duet_id_eq(&b->req->in.user, &op->req->in.user) ||
            !duet_id_eq(&b->req->in.chat_id, &op->req->in.chat_id))
            break;
        m[n++] = b;
    }
    if (n < 2 || (op->group = pool_alloc(&op->pool, sizeof(*op->group) * (size_t)n)) == NULL)
        return 0;
    for (int i = 0; i < n; i++) {
        int64_t seq = cs_ack_seq(m[i]);
        if (seq > op->aseq)
            op->aseq = seq;
    }
    cs_group_adopt(op, m, n);
    return 1;
}

/* Members from..n_group-1 leave the group and run alone, after the ones
 * before them. serial: their claim reads settle a Paxos round first. */
static void cs_group_cut(cs_op *op, int from, int serial)
{
    if (from < op->n_group && op->n_gacks > 0) {
        /* The members that leave go back behind the acks submitted before
         * them; the acks before a member that stays remain passed. */
        int base = from > 0 ? from - 1 : 0;
        cs_sched_resort(op->group[base], op->n_group - base - 1 + op->n_gacks);
        int keep = 0;
        while (from > 0 && keep < op->n_gacks && op->gacks[keep]->ord < op->group[from - 1]->ord)
            keep++;
        op->n_gacks = keep;
    }
    for (int i = from; i < op->n_group; i++) {
        cs_op *m = op->group[i];
        m->nogroup = 1;
        m->serial = serial;
        if (i > 0)
            cs_sched_ungroup(&op->s->sched, m);
    }
    if (from < op->n_group)
        op->n_group = from;
}

/* Every send of the group runs alone from its start (the leader now). */
static void cs_group_fall_back(cs_op *op, int serial)
{
    log_info("store: cassandra: MSG_SEND: a group of %d falls back to single sends", op->n_group);
    cs_group_cut(op, 0, serial);
    op->n_group = 0;
    op->group = NULL;
    op->tries = 0;
    op->flag = 0;
    op->retry_until = 0;
    op->rows_ts = 0;
    op->fn = cs_msg_send;
    op->step = 0;
    cs_msg_send(op);
}

/* Finishes every member with its status (its refusal, else rc), in order,
 * the leader first. Completions run only after the last one. */
void cs_group_finish(cs_op *op, int rc)
{
    cs_store *s = op->s;
    cs_op *m[CS_GROUP_MAX];
    int n = op->n_group, guard = !s->pumping;
    memcpy(m, op->group, sizeof(*m) * (size_t)n);
    op->n_group = 0; /* the leader's own cs_finish is a plain one now */
    if (guard)
        s->pumping = 1; /* no op is freed before the last one finished */
    for (int i = 0; i < n; i++)
        cs_finish(m[i], m[i]->gstatus < 0 ? m[i]->gstatus : rc);
    if (guard) {
        s->pumping = 0;
        cs_pump_now(s);
    }
}

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

/* G_BLOCKS: each member refused (blocked), withheld or not. The rows are the
 * leader's: BLOCK_OUT is the leader blocking the peer. */
static void g_blocks(cs_op *op)
{
    int out = 0, in = 0;
    for (int64_t i = 0; i < op->q.rows.n_rows; i++) {
        int kind = cs_get_i32(cql_cell(&op->q.rows, i, 0));
        out |= kind == REL_BLOCK_OUT;
        in |= kind == REL_BLOCK_IN;
    }
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
    /* An ack the group went ahead of acks nothing above the chat's
     * last_seq before the claim, as it would have run first. */
    for (int i = 0; i < op->n_gacks; i++) {
        op->gacks[i]->acap = seq;
        op->gacks[i]->has_acap = 1;
    }
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

static void cs_group_send(cs_op *op)
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
        if ((rc = cs_load_member_chat(op)) < 0)
            break;
        if (!op->chat.friends) {
            rc = DUET_ENOTFRIENDS;
            break;
        }
        cs_read(op, G_BLOCKS, CS_REL_BLOCKED, "ii", &req->in.user, &op->chat.peer);
        return;
    case G_BLOCKS:
    case G_BACKLOG:
        if ((rc = cs_q_status(op)) < 0)
            break;
        if (op->step == G_BLOCKS) {
            g_blocks(op);
            op->i_items = g_next_count(op, 0);
        } else {
            op->gcount[op->i_items] =
                op->q.rows.n_rows > 0 ? cs_get_i64(cql_cell(&op->q.rows, 0, 0)) : 0;
            op->i_items = g_next_count(op, op->i_items + 1);
        }
        if (op->i_items < 2) {
            const duet_id *who = op->i_items == 0 ? &op->chat.peer : &req->in.user;
            cs_read(op, G_BACKLOG, CS_PENDING_COUNT, "i", who);
            return;
        }
        /* The backlog ceiling, counting the group's earlier messages. */
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
             * the count it would read then). */
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
