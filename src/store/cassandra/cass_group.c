/* cass_group.c - which queued ops of one chat run as one (issue 19;
 * docs/cassandra.md "Group claims" and "Acks between the sends"): the sends
 * that join a starting send's group (the leader; cass_group_run.c runs
 * it), the acks of messages that join a starting ack, and how members leave
 * a group again, back in their order.
 *
 * The sends of a chat queue behind each other (cass_sched.c). When one of
 * them starts, the plain new sends (no media, quote or forward) that wait
 * right behind it, and for nothing else, join its group: CS_GROUP_MAX of
 * them and CS_GROUP_BYTES of their text at most, so that one batch stays
 * small and one bad message delays few.
 */
#include "../../base/log.h"
#include "cass_int.h"

#include <errno.h>
#include <string.h>

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
    op->gacks = na > 0 ? pool_alloc(&op->pool, sizeof(*op->gacks) * (size_t)na) : NULL;
    if (op->group == NULL || (na > 0 && op->gacks == NULL)) {
        /* Alone, as before, in the order of submission. */
        cs_sched_resort(op, n - 1 + passed);
        op->group = NULL;
        op->gacks = NULL;
        return 0;
    }
    cs_group_adopt(op, m, n);
    if (na > 0)
        memcpy(op->gacks, acks, sizeof(*acks) * (size_t)na);
    op->n_gacks = passed;
    op->n_gall = na; /* the passed acks and those right behind the group */
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
        /* Beside a send group, only acks capped by it: an uncapped one
         * could ack the group's sequences while they are being written. */
        if (op->has_acap && !b->has_acap)
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
void cs_group_cut(cs_op *op, int from, int serial)
{
    if (from < op->n_group && op->n_gacks > 0) {
        /* The members that leave go back behind the acks submitted before
         * them (those still in the lists: an ack that ran beside the group
         * and finished left them); the acks before a member that stays
         * remain passed. */
        int base = from > 0 ? from - 1 : 0, listed = 0;
        for (int i = 0; i < op->n_gacks; i++)
            listed += op->gacks[i]->state != CS_DONE;
        cs_sched_resort(op->group[base], op->n_group - base - 1 + listed);
        int keep = 0;
        while (from > 0 && keep < op->n_gacks && op->gacks[keep]->ord < op->group[from - 1]->ord)
            keep++;
        op->n_gacks = keep;
    }
    /* Acks behind a member that left are behind it again: not beside. */
    if (from < op->n_group)
        op->n_gall = op->n_gacks;
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

int cs_group_release(cs_op *op, int64_t last_seq)
{
    if (op->n_gall <= 0)
        return 0;
    /* Each acks exactly what it would have acked running first: an honest
     * ack names messages delivered before it was submitted, all at or
     * below last_seq (read after it was submitted); the group's are
     * above. The count the group checked its ceiling against was read
     * before any of them started (docs/cassandra.md, "Acks beside the
     * group", says why it stays a safe bound). */
    for (int i = 0; i < op->n_gall; i++) {
        op->gacks[i]->acap = last_seq;
        op->gacks[i]->has_acap = 1;
    }
    cs_op *k = op->gacks[0];
    if (k->state != CS_QUEUED || k->grouped)
        return 0; /* cannot be: nothing else hands out an ack behind a group */
    cs_sched_early(&op->s->sched, k);
    return 1;
}

/* Every send of the group runs alone from its start (the leader now). */
void cs_group_fall_back(cs_op *op, int serial)
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
