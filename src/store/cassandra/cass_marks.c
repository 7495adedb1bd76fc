/* cass_marks.c - receipts (ack, seen) and history on Cassandra.
 *
 * Receipts are cumulative, so what a receiver has marked is a prefix of its
 * messages: the chat's statics keep, per member, how far marking went
 * (a_recv_seq / b_recv_seq for "received", a_seen_seq / b_seen_seq for
 * "seen"). A mark reads only the rows between that floor and the new
 * position, updates the unmarked ones, then in one LOGGED batch moves the
 * floor, deletes the user's acknowledged pending rows and replaces the
 * peer's receipt row. Each step is idempotent; a failure part way fails the
 * request and leaves some messages marked (the client acks again).
 */
#include "../../base/log.h"
#include "cass_int.h"

#include <errno.h>
#include <string.h>

/* Steps of the shared marking machine (after the op's own steps). */
enum {
    MARK_START = 100,
    MARK_SCAN,  /* a chunk of rows above the floor */
    MARK_BATCH, /* a batch of marks */
    MARK_FINAL, /* floor, pending rows, receipt row */
};

#define CS_MARKS_PER_BATCH 16

/* MARK_SCAN: the rows of a chunk that still need the mark (mine, not yet
 * marked) into op->marks and op->marks_at; the newest into op->msg. */
static int cs_mark_rows(cs_op *op)
{
    const duet_id *me = &op->req->in.user;
    int seen = op->flag;
    int64_t now = op->req->in.now;
    const struct cql_rows *r = &op->q.rows;
    for (int64_t i = 0; i < r->n_rows; i++) {
        duet_id receiver;
        cs_get_id(cql_cell(r, i, 1), &receiver);
        int64_t recv = cs_get_i64(cql_cell(r, i, 8)), seen_at = cs_get_i64(cql_cell(r, i, 9));
        /* A withheld message is never delivered nor seen (store.h). */
        if (!duet_id_eq(&receiver, me) || (seen ? seen_at : recv) != 0 || cs_row_withheld(r, i, 0))
            continue;
        /* Two arrays grown together from the same capacity. */
        size_t cap = op->cap_marks;
        int64_t *a = pool_grow(&op->pool, op->marks, op->n_marks, &cap, sizeof(*a));
        int64_t *b = pool_grow(&op->pool, op->marks_at, op->n_marks, &op->cap_marks, sizeof(*b));
        if (a == NULL || b == NULL)
            return -ENOMEM;
        op->marks = a;
        op->marks_at = b;
        a[op->n_marks] = cs_get_i64(cql_cell(r, i, CS_MSG_SEQ_COL));
        /* Seen implies received: keep an earlier received_at. */
        b[op->n_marks] = recv != 0 ? recv : now;
        if (a[op->n_marks] > op->top) {
            op->top = a[op->n_marks];
            if (cs_read_msg(&op->pool, r, i, 0, &op->chat.id, &op->msg) < 0)
                return -ENOMEM;
        }
        op->n_marks++;
    }
    return 0;
}

/* Acks taken together (cs_ack_take): each member gets the receipt it would
 * have got alone, in order: the newest of the marks above the floor its
 * predecessors left (floor: the one before the first), up to its own
 * sequence; none when it marked nothing. */
static void cs_ack_receipts(cs_op *op, int64_t floor)
{
    for (int i = 0; i < op->n_group; i++) {
        const cs_op *m = op->group[i];
        store_req *r = m->req;
        int64_t seq = m->has_acap && m->acap < r->in.seq ? m->acap : r->in.seq, top = 0;
        if (seq > op->chat.last_seq)
            seq = op->chat.last_seq;
        for (size_t j = 0; j < op->n_marks; j++)
            if (op->marks[j] > floor && op->marks[j] <= seq && op->marks[j] > top)
                top = op->marks[j];
        if (top > 0) {
            r->out.receipt.changed = 1;
            r->out.receipt.peer = op->chat.peer;
            r->out.receipt.seq = top;
            r->out.receipt.at = op->req->in.now;
        }
        if (seq > floor)
            floor = seq;
    }
}

/* op->flag: 0 marks received (MSG_ACK), 1 marks seen (MSG_SEEN); op->seq:
 * up to where (clamped to last_seq); op->chat: the chat. */
static void cs_mark(cs_op *op)
{
    store_req *req = op->req;
    const duet_id *me = &req->in.user;
    const struct cs_chat *c = &op->chat;
    int seen = op->flag, rc;
    int64_t now = req->in.now, floor = seen ? c->my_seen : c->my_recv;
    switch (op->step) {
    case MARK_START:
        op->top = 0;
        op->n_marks = op->i_marks = 0;
        cs_scan_init(&op->scan, &c->id, floor, op->seq, 1);
        goto scan;
    case MARK_SCAN:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_mark_rows(op)) < 0)
            break;
        cs_scan_advance(op);
    scan:
        if ((rc = cs_scan_next(op, MARK_SCAN, CS_SCAN_CHUNK)) != 0)
            return;
        goto marks;
    case MARK_BATCH:
        if ((rc = cs_q_status(op)) < 0)
            break;
    marks:
        if (op->i_marks < op->n_marks) {
            cs_batch_begin(op);
            for (int n = 0; n < CS_MARKS_PER_BATCH && op->i_marks < op->n_marks; n++) {
                int64_t seq = op->marks[op->i_marks], at = op->marks_at[op->i_marks];
                op->i_marks++;
                if (seen)
                    cs_batch_add(op, CS_MSG_MARK_SEEN, "llill", now, at, &c->id, cs_bucket(seq),
                                 seq);
                else
                    cs_batch_add(op, CS_MSG_MARK_RECV, "lill", now, &c->id, cs_bucket(seq), seq);
            }
            cs_batch_submit(op, MARK_BATCH, 0);
            return;
        }
        cs_batch_begin(op);
        if (!seen)
            cs_batch_add(op, CS_PENDING_DEL_UPTO, "iidl", me, &c->id, PENDING_MESSAGE, op->aseq);
        if (op->seq > floor) {
            enum cs_stmt_id id = seen ? (c->me_is_a ? CS_CHAT_SEEN_A : CS_CHAT_SEEN_B)
                                      : (c->me_is_a ? CS_CHAT_RECV_A : CS_CHAT_RECV_B);
            cs_batch_add(op, id, "li", op->seq, &c->id);
        }
        if (op->top > 0) {
            /* The peer's receipt row of this kind now says "up to top". */
            int kind = seen ? PENDING_SEEN : PENDING_DELIVERED;
            const struct duet_msg *m = &op->msg;
            cs_batch_add(op, CS_PENDING_DEL_BELOW, "iidl", &c->peer, &c->id, kind, op->top);
            cs_batch_add(op, CS_PENDING_INSERT, "iidliisdllll", &c->peer, &c->id, kind, op->top,
                         &m->sender, &m->receiver, m->message_id, m->type, m->sent_at, now,
                         seen ? now : (int64_t)0, m->deleted_at);
        }
        if (op->q.n_batch == 0) {
            rc = 0;
            break;
        }
        cs_batch_submit(op, MARK_FINAL, 0);
        return;
    case MARK_FINAL:
        if ((rc = cs_q_status(op)) < 0)
            break;
        if (op->n_group > 1) {
            cs_ack_receipts(op, floor);
        } else if (op->top > 0) {
            req->out.receipt.changed = 1;
            req->out.receipt.peer = c->peer;
            req->out.receipt.seq = op->top;
            req->out.receipt.at = now;
        }
        rc = 0;
        break;
    default:
        rc = -EINVAL;
        break;
    }
    cs_finish(op, rc);
}

/* Steps of cs_msg_ack. */
enum {
    ACK_START = 0,
    ACK_CHAT,    /* the chat's statics */
    ACK_DROPPED, /* pending rows deleted */
};

void cs_msg_ack(cs_op *op)
{
    store_req *req = op->req;
    const duet_id *me = &req->in.user;
    int rc;
    if (op->step >= MARK_START) {
        cs_mark(op);
        return;
    }
    switch (op->step) {
    case ACK_START:
        cs_read(op, ACK_CHAT, CS_CHAT_GET, "i", &req->in.chat_id);
        return;
    case ACK_CHAT:
        if ((rc = cs_load_member_chat(op)) < 0)
            break;
        switch (req->in.kind) {
        case PENDING_MESSAGE:
            /* aseq: the highest of the acks taken together, capped where
             * a send group went ahead (cass_group.c). */
            if (op->n_group < 2)
                op->aseq = op->has_acap && op->acap < req->in.seq ? op->acap : req->in.seq;
            op->flag = 0;
            op->seq = op->aseq < op->chat.last_seq ? op->aseq : op->chat.last_seq;
            op->step = MARK_START;
            cs_mark(op);
            return;
        case PENDING_DELIVERED:
        case PENDING_SEEN:
            cs_write(op, ACK_DROPPED, CS_PENDING_DEL_UPTO, "iidl", me, &op->chat.id, req->in.kind,
                     req->in.seq);
            return;
        case PENDING_DELETED:
        case PENDING_REACTION: /* issue 17 */
        case PENDING_EDITED:
        case PENDING_HIDDEN:
            cs_write(op, ACK_DROPPED, CS_PENDING_DEL_AT, "iidl", me, &op->chat.id, req->in.kind,
                     req->in.seq);
            return;
        case PENDING_CHAT_STATE: /* c-org: one row per chat, at sequence 0 */
            cs_write(op, ACK_DROPPED, CS_PENDING_DEL_AT, "iidl", me, &op->chat.id, req->in.kind,
                     (int64_t)0);
            return;
        default:
            rc = -EINVAL;
            break;
        }
        break;
    default: /* ACK_DROPPED */
        rc = cs_q_status(op);
        break;
    }
    cs_finish(op, rc);
}

/* Steps of cs_msg_seen. */
enum {
    SEEN_START = 0,
    SEEN_CHAT,  /* the chat's statics */
    SEEN_CLAMP, /* the newest message in range the user may see */
    SEEN_READ,  /* my read position written */
    SEEN_USERS, /* both users (read receipts) */
};

/* Rows per SEEN_CLAMP read: the newest row is almost always one the user
 * may see; only a run of withheld messages needs more. */
#define CS_SEEN_CLAMP_ROWS 16

/* SEEN_CLAMP's rows (newest first): 1 with op->seq at the first one the
 * user may see (not withheld from them), 0 if there is none among them. */
static int cs_seen_clamp(cs_op *op)
{
    const struct cql_rows *r = &op->q.rows;
    for (int64_t i = 0; i < r->n_rows; i++) {
        duet_id receiver;
        cs_get_id(cql_cell(r, i, 1), &receiver);
        if (cs_row_withheld(r, i, 0) && duet_id_eq(&receiver, &op->req->in.user))
            continue;
        op->seq = cs_get_i64(cql_cell(r, i, CS_MSG_SEQ_COL));
        return 1;
    }
    return 0;
}

void cs_msg_seen(cs_op *op)
{
    store_req *req = op->req;
    struct cs_chat *c = &op->chat;
    int rc;
    if (op->step >= MARK_START) {
        cs_mark(op);
        return;
    }
    switch (op->step) {
    case SEEN_START:
        cs_read(op, SEEN_CHAT, CS_CHAT_GET, "i", &req->in.chat_id);
        return;
    case SEEN_CHAT:
        if ((rc = cs_load_member_chat(op)) < 0)
            break;
        op->seq = req->in.seq < c->last_seq ? req->in.seq : c->last_seq;
        if (op->seq < 0)
            op->seq = 0;
        if (op->seq <= c->my_read)
            goto read;
        /* A read position never covers messages withheld from the user
         * (the peer sees it as peer_read_seq): walk back from seq. */
        cs_scan_init(&op->scan, &c->id, c->my_read, op->seq, 0);
        op->seq = c->my_read; /* unless a visible message is found */
        goto clamp;
    case SEEN_CLAMP:
        if ((rc = cs_q_status(op)) < 0)
            break;
        if (cs_seen_clamp(op))
            goto read;
        cs_scan_advance(op);
    clamp:
        if ((rc = cs_scan_next(op, SEEN_CLAMP, CS_SEEN_CLAMP_ROWS)) != 0)
            return; /* sent, or failed and finished */
    read:
        req->out.read_seq = op->seq > c->my_read ? op->seq : c->my_read;
        if (op->seq > c->my_read) {
            cs_write(op, SEEN_READ, c->me_is_a ? CS_CHAT_READ_A : CS_CHAT_READ_B, "li", op->seq,
                     &c->id);
            return;
        }
        goto receipts;
    case SEEN_READ:
        if ((rc = cs_q_status(op)) < 0)
            break;
    receipts : {
        duet_id ids[2] = {req->in.user, c->peer};
        cs_read(op, SEEN_USERS, CS_USERS_IN, "L", ids, (size_t)2);
        return;
    }
    default: /* SEEN_USERS */
        if ((rc = cs_receipts_both(op)) <= 0)
            break;
        op->flag = 1;
        op->step = MARK_START;
        cs_mark(op);
        return;
    }
    cs_finish(op, rc);
}

/* HIST_ROWS: the slice's messages (up to limit in all) into op->items; a
 * voided sequence right after `after` is reported in void_to. */
static int cs_hist_rows(cs_op *op, int limit)
{
    store_req *req = op->req;
    struct duet_msg *msgs = op->items;
    for (int64_t i = 0; i < op->q.rows.n_rows && op->n_items < (size_t)limit; i++) {
        struct duet_msg *m = &msgs[op->n_items];
        if (cs_row_void(&op->q.rows, i, 0)) {
            /* Voided earlier: reported when it directly follows `after`
             * (it is then the lowest row of the scan). */
            int64_t seq = cs_get_i64(cql_cell(&op->q.rows, i, CS_MSG_SEQ_COL));
            if (req->in.has_after && op->n_items == 0 &&
                seq == (req->out.void_to ? req->out.void_to : req->in.after) + 1)
                req->out.void_to = seq;
            continue;
        }
        if (cs_read_msg(&req->pool, &op->q.rows, i, 0, &op->chat.id, m) < 0)
            return -ENOMEM;
        if (!op->receipts)
            m->seen_at = 0;
        if (cs_row_withheld(&op->q.rows, i, 0) && duet_id_eq(&m->receiver, &req->in.user))
            cs_withhold(m);
        op->n_items++;
    }
    return 0;
}

/* The page into req->out, ascending (newest-first scans are reversed). */
static void cs_hist_result(cs_op *op)
{
    store_req *req = op->req;
    struct duet_msg *msgs = op->items;
    if (!req->in.has_after) {
        for (size_t i = 0, j = op->n_items; i + 1 < j; i++, j--) {
            struct duet_msg t = msgs[i];
            msgs[i] = msgs[j - 1];
            msgs[j - 1] = t;
        }
    }
    req->out.msgs = msgs;
    req->out.n_msgs = op->n_items;
}

/* Steps of cs_history. */
enum {
    HIST_START = 0,
    HIST_CHAT,   /* the chat's statics */
    HIST_USERS,  /* both users (read receipts) */
    HIST_ROWS,   /* a slice of rows */
    HIST_CLAIM,  /* the claim of a missing sequence */
    HIST_VOIDED, /* a hole voided */
};

void cs_history(cs_op *op)
{
    store_req *req = op->req;
    struct cs_chat *c = &op->chat;
    struct duet_msg *msgs = op->items;
    int limit = req->in.limit < 1                ? 1
                : req->in.limit > CS_HISTORY_MAX ? CS_HISTORY_MAX
                                                 : req->in.limit;
    int rc;
    switch (op->step) {
    case HIST_START:
        cs_read(op, HIST_CHAT, CS_CHAT_GET, "i", &req->in.chat_id);
        return;
    case HIST_CHAT: {
        if ((rc = cs_load_member_chat(op)) < 0)
            break;
        duet_id ids[2] = {req->in.user, c->peer};
        cs_read(op, HIST_USERS, CS_USERS_IN, "L", ids, (size_t)2);
        return;
    }
    case HIST_USERS:
        if ((rc = cs_receipts_both(op)) < 0)
            break;
        op->receipts = rc;
        msgs = op->items = pool_alloc(&req->pool, (size_t)limit * sizeof(*msgs));
        if (msgs == NULL) {
            rc = -ENOMEM;
            break;
        }
        op->n_items = 0;
        if (req->in.has_after) {
            cs_scan_init(&op->scan, &c->id, req->in.after, c->last_seq, 1);
        } else {
            int64_t hi = c->last_seq;
            if (req->in.before > 0 && req->in.before - 1 < hi)
                hi = req->in.before - 1;
            cs_scan_init(&op->scan, &c->id, 0, hi, 0);
        }
        goto scan;
    case HIST_ROWS:
        if ((rc = cs_q_status(op)) < 0)
            break;
        if ((rc = cs_hist_rows(op, limit)) < 0)
            break;
        cs_scan_advance(op);
    scan:
        if (op->n_items < (size_t)limit &&
            (rc = cs_scan_next(op, HIST_ROWS, limit - (int)op->n_items)) != 0)
            return;
        cs_hist_result(op);
        op->count = 0;
        goto holes;
    case HIST_CLAIM:
        /* The claim of the hole op->seq (writetime of its cells, µs). */
        if ((rc = cs_q_status(op)) < 0)
            break;
        if (op->q.rows.n_rows > 0) {
            const struct cql_cell *w = cql_cell(&op->q.rows, 0, 0);
            /* A claim applied recently: its sender may still write it. */
            if (!cs_is_null(w) && cs_ts(op->s) - cs_get_i64(w) < cs_void_age_us(op->s)) {
                rc = 0;
                break;
            }
        }
        /* An old claim, or none (its TTL ran out): void the sequence. */
        log_info("store: cassandra: chat sequence %lld was claimed but never written; voided",
                 (long long)op->seq);
        cs_write_at(op, HIST_VOIDED, CS_MSG_VOID, CS_VOID_TS, "ill", &c->id, cs_bucket(op->seq),
                    op->seq);
        return;
    case HIST_VOIDED:
        if ((rc = cs_q_status(op)) < 0)
            break;
        req->out.void_to = op->seq;
    holes:
        /* A hole right after `after` (only gap fills and forward paging
         * ask with after): a sequence up to last_seq that has no row,
         * while rows above it may exist. */
        op->seq = (req->out.void_to ? req->out.void_to : req->in.after) + 1;
        if (req->in.has_after && op->count++ < CS_VOID_BATCH && op->seq <= c->last_seq &&
            (op->n_items == 0 || msgs[0].sequence > op->seq)) {
            cs_read(op, HIST_CLAIM, CS_CLAIM_BY_SEQ, "il", &c->id, op->seq);
            return;
        }
        rc = 0;
        break;
    default:
        rc = -EINVAL;
        break;
    }
    if (rc == 0) {
        cs_conv_history_done(op); /* issue 17's fields; finishes the op */
        return;
    }
    cs_finish(op, rc);
}
