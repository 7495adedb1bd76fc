/* sqlite_defer.c - acks and receipts coalesced per batch (issue 18, round 4).
 *
 * Under load one writer batch holds several acks of one chat: the
 * recipient's `ack message` (delete its PENDING_MESSAGE rows up to seq, and
 * replace the sender's PENDING_DELIVERED row), the sender's `ack delivered`
 * (delete that row), a `seen` (replace the sender's PENDING_SEEN row). Each
 * ran two or three statements on `pending`, whose triggers (pending_counts)
 * make SQLite run them through temporary b-trees. Here those pending writes
 * are recorded per slot, the rows of one (user, chat, kind), and run once
 * per slot when the batch ends, or earlier when another request could see
 * the slot's rows.
 *
 * Why the answers and the committed rows are those of running every request
 * in turn (BENCHMARKS.md, section 14, has the longer proof):
 *  - The ops still run one at a time, in order, each in its savepoint; only
 *    their writes to a slot's rows wait. Every other write (the received /
 *    seen marks on messages, read positions) runs in place, so each answer
 *    (the receipt's changed, seq and at) is computed as before.
 *  - The writes to one slot compose: deletes "sequence <= b" merge into one
 *    with the largest b, and a replace (delete every row, insert one at T)
 *    cancels everything before it. So a slot keeps: the largest delete
 *    bound before its last replace, the last replace (T, at), and the
 *    largest delete bound after it; flushing runs the same final row set
 *    (and so the same pending_counts) as the ops in turn.
 *  - Nothing reads a slot's rows before its flush: a request that is not a
 *    send, ack or seen flushes every slot first (sqlite_writer.c); a send
 *    asks for a flush (SQ_EFLUSH: rolled back, flushed, run again) when its
 *    ceiling check is within reach of the deferred rows, or when a slot's
 *    deferred delete would cover the row it inserts; acks and seens only
 *    touch slots through this file.
 *  - A request's writes are staged while it runs and reach the slots only
 *    when its savepoint was released with success: a failed request defers
 *    nothing. A failed flush fails the whole transaction (as a failed COMMIT
 *    does); a lost transaction takes its slots with it.
 *
 * How a slot's writes run (round 6): at moderate rates a slot holds one
 * ack, so its flush is one DELETE (and for a receipt one INSERT) on
 * pending, and SQLite runs any DELETE of a range, or INSERT ... SELECT, on a
 * table with triggers through a temporary b-tree (EXPLAIN: OpenEphemeral),
 * which cost more than the row itself. So the slot's rows are looked up
 * first (at most two, on the covering index): none means no statement, one
 * is deleted by its primary key in one pass, and only two or more take the
 * range DELETE; the receipt's message is read, then inserted from VALUES.
 * The same rows go and come as with the range statements, so the triggers
 * count the same. Round 7: the acks of one row (a deletion, reaction,
 * edit, hide or chat state notice) and a delete for everyone's removal of
 * the peer's copy delete the same way (sq_pending_delete_at), in place.
 *
 * Ownership: struct sq_defer is embedded in sq_store (writer fields) and
 * owns its table v.
 */
#include "sqlite_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SQ_DEFER_NONE INT64_MIN /* no delete bound */

const char *const sq_defer_sql[SQ_STMT_COUNT] = {
    /* At most two: one is deleted by its key, two or more by the range. */
    [SQ_DEFER_KEYS] = "SELECT message_id, sequence FROM pending WHERE user_id = ?1"
                      " AND chat_id = ?2 AND service_type = ?3 AND sequence <= ?4 LIMIT 2",
    /* The primary key named: left to itself the planner takes the covering
     * pending_replay index, which is not UNIQUE, so the delete would run in
     * two passes after all. */
    [SQ_DEFER_DELETE_KEY] = "DELETE FROM pending INDEXED BY sqlite_autoindex_pending_1"
                            " WHERE user_id = ?1 AND chat_id = ?2 AND service_type = ?3"
                            " AND message_id = ?4 AND sequence = ?5",
    /* The same for one sequence (sq_pending_delete_at, round 7). */
    [SQ_PENDING_KEYS_AT] = "SELECT message_id, sequence FROM pending WHERE user_id = ?1"
                           " AND chat_id = ?2 AND service_type = ?3 AND sequence = ?4 LIMIT 2",
    /* What SQ_PENDING_FROM_MSG copies from the message, for kind ?3. */
    [SQ_DEFER_RECEIPT_SRC] = "SELECT sender, receiver, message_id, iif(?3 = 0, message, ''), type,"
                             " iif(?3 = 0, preview, ''), sent_at, deleted_at,"
                             " iif(?3 = 0, media, ''), sequence FROM messages"
                             " WHERE chat_id = ?1 AND sequence = ?2",
    /* SQ_PENDING_FROM_MSG from VALUES (?6 on: SQ_DEFER_RECEIPT_SRC's row). */
    [SQ_DEFER_RECEIPT_PUT] =
        "INSERT INTO pending (user_id, chat_id, service_type, received_at,"
        " seen_at, sender, receiver, message_id, message, type, preview,"
        " sent_at, deleted_at, media, sequence)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
        " ?15)"
        " ON CONFLICT (user_id, chat_id, service_type, message_id, sequence)"
        " DO UPDATE SET sender = excluded.sender, receiver = excluded.receiver,"
        " message = excluded.message, type = excluded.type,"
        " preview = excluded.preview, sent_at = excluded.sent_at,"
        " received_at = excluded.received_at, seen_at = excluded.seen_at,"
        " deleted_at = excluded.deleted_at, media = excluded.media",
};
#define SQ_RECEIPT_COLS 10 /* columns of SQ_DEFER_RECEIPT_SRC */

static uint64_t sq_slot_hash(const duet_id *user, const duet_id *chat, int kind)
{
    /* Chat and user ids are uniform (random, or a keyed hash of the pair). */
    uint64_t a, b;
    memcpy(&a, chat->b, sizeof(a));
    memcpy(&b, user->b, sizeof(b));
    return (a ^ (b * 0x9e3779b97f4a7c15ULL)) + (uint64_t)kind * 0xbf58476d1ce4e5b9ULL;
}

static struct sq_slot *sq_slot_find(struct sq_defer *d, const duet_id *user, const duet_id *chat,
                                    int kind, int add)
{
    if (d->cap == 0)
        return NULL;
    size_t mask = d->cap - 1, i = sq_slot_hash(user, chat, kind) & mask;
    for (;; i = (i + 1) & mask) {
        struct sq_slot *e = &d->v[i];
        if (!e->used) {
            if (!add)
                return NULL;
            memset(e, 0, sizeof(*e));
            e->used = 1;
            e->user = *user;
            e->chat = *chat;
            e->kind = kind;
            e->del = e->del_after = SQ_DEFER_NONE;
            d->n++;
            return e;
        }
        if (e->kind == kind && duet_id_eq(&e->chat, chat) && duet_id_eq(&e->user, user))
            return e;
    }
}

int sq_defer_passes(enum store_op op)
{
    /* Acks and seens write slots only through this file; a send sees no
     * slot's rows except through SQ_EFLUSH. Any other op may read or write
     * them. */
    return op == STORE_MSG_SEND || op == STORE_MSG_ACK || op == STORE_MSG_SEEN;
}

int sq_defer_reserve(sq_store *s)
{
    struct sq_defer *d = &s->defer;
    d->n_staged = 0;
    /* At most SQ_DEFER_STAGED new slots per request; half full at most. */
    if ((d->n + SQ_DEFER_STAGED) * 2 <= d->cap)
        return 0;
    size_t cap = d->cap ? d->cap * 2 : 256;
    struct sq_slot *old = d->v, *v = calloc(cap, sizeof(*v));
    if (v == NULL)
        return -ENOMEM;
    size_t old_cap = d->cap;
    d->v = v;
    d->cap = cap;
    d->n = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].used)
            *sq_slot_find(d, &old[i].user, &old[i].chat, old[i].kind, 1) = old[i];
    free(old);
    return 0;
}

static int sq_defer_stage(sq_store *s, const duet_id *user, const duet_id *chat, int kind,
                          int replace, int64_t seq, int64_t now)
{
    struct sq_defer *d = &s->defer;
    if (d->n_staged >= SQ_DEFER_STAGED)
        return DUET_ESTORE; /* an op stages at most two: a bug */
    struct sq_defer_op *o = &d->staged[d->n_staged++];
    o->user = *user;
    o->chat = *chat;
    o->kind = kind;
    o->replace = replace;
    o->seq = seq;
    o->now = now;
    return 0;
}

int sq_defer_delete(sq_store *s, const duet_id *user, const duet_id *chat, int kind, int64_t upto)
{
    return sq_defer_stage(s, user, chat, kind, 0, upto, 0);
}

int sq_defer_replace(sq_store *s, const duet_id *user, const duet_id *chat, int kind, int64_t seq,
                     int64_t now)
{
    return sq_defer_stage(s, user, chat, kind, 1, seq, now);
}

void sq_defer_commit(sq_store *s)
{
    struct sq_defer *d = &s->defer;
    for (int i = 0; i < d->n_staged; i++) {
        const struct sq_defer_op *o = &d->staged[i];
        /* sq_defer_reserve made room for every staged op. */
        struct sq_slot *e = sq_slot_find(d, &o->user, &o->chat, o->kind, 1);
        if (o->replace) {
            e->rep = 1;
            e->rep_seq = o->seq;
            e->rep_now = o->now;
            e->del_after = SQ_DEFER_NONE; /* the replace deletes every row */
        } else if (e->rep) {
            if (o->seq > e->del_after)
                e->del_after = o->seq;
        } else if (o->seq > e->del) {
            e->del = o->seq;
        }
    }
    d->n_staged = 0;
}

void sq_defer_unstage(sq_store *s)
{
    s->defer.n_staged = 0;
}

int sq_defer_covers(sq_store *s, const duet_id *user, const duet_id *chat, int kind, int64_t seq)
{
    struct sq_slot *e = sq_slot_find(&s->defer, user, chat, kind, 0);
    if (e == NULL)
        return 0;
    return (e->del != SQ_DEFER_NONE && e->del >= seq) ||
           (e->del_after != SQ_DEFER_NONE && e->del_after >= seq);
}

/* Binds column col of src to parameter i of dst (a copy). */
static int sq_bind_col(sq_store *s, sqlite3_stmt *dst, int i, sqlite3_stmt *src, int col)
{
    int rc = sqlite3_bind_value(dst, i, sqlite3_column_value(src, col));
    if (rc == SQLITE_OK)
        return 0;
    sq_log(s, sqlite3_sql(dst), rc);
    return DUET_ESTORE;
}

/* Deletes user's rows of chat and kind that keys_id selects with seq (at
 * most two, looked up first; see the top of the file): none runs no
 * statement, one is deleted by its key in one pass, two or more by range_id,
 * which takes the same parameters and selects the same rows. */
static int sq_delete_looked_up(sq_store *s, enum sq_stmt_id keys_id, enum sq_stmt_id range_id,
                               const duet_id *user, const duet_id *chat, int kind, int64_t seq)
{
    sqlite3_stmt *keys = sq_bind(s, keys_id, "iidl", user, chat, kind, seq);
    int rc = keys != NULL ? sq_step(s, keys) : DUET_ESTORE;
    if (rc <= 0)
        return rc; /* no row, or an error */
    sqlite3_stmt *del = sq_bind(s, SQ_DEFER_DELETE_KEY, "iid", user, chat, kind);
    if (del == NULL || sq_bind_col(s, del, 4, keys, 0) < 0 || sq_bind_col(s, del, 5, keys, 1) < 0)
        rc = DUET_ESTORE;
    else
        rc = sq_step(s, keys); /* 0: that row was the only one */
    if (rc != 0) {
        sq_reset(keys);
        if (del != NULL)
            sq_reset(del);
        if (rc < 0)
            return rc;
        s->defer.ranges++;
        rc = sq_exec(s, range_id, "iidl", user, chat, kind, seq);
        return rc < 0 ? rc : 0;
    }
    while ((rc = sq_step(s, del)) == 1) {
    }
    return rc;
}

/* Deletes the slot's rows at sequence <= upto. */
static int sq_slot_delete(sq_store *s, const struct sq_slot *e, int64_t upto)
{
    return sq_delete_looked_up(s, SQ_DEFER_KEYS, SQ_PENDING_DELETE_UPTO, &e->user, &e->chat,
                               e->kind, upto);
}

int sq_pending_delete_at(sq_store *s, const duet_id *user, const duet_id *chat, int kind,
                         int64_t seq)
{
    return sq_delete_looked_up(s, SQ_PENDING_KEYS_AT, SQ_PENDING_DELETE_AT, user, chat, kind, seq);
}

/* The receipt row of a replace, copied from its message (none if there is
 * no such message, as with INSERT ... SELECT). */
static int sq_slot_receipt(sq_store *s, const struct sq_slot *e)
{
    sqlite3_stmt *src = sq_bind(s, SQ_DEFER_RECEIPT_SRC, "ild", &e->chat, e->rep_seq, e->kind);
    int rc = src != NULL ? sq_step(s, src) : DUET_ESTORE;
    if (rc <= 0)
        return rc;
    int64_t seen = e->kind == PENDING_SEEN ? e->rep_now : 0;
    sqlite3_stmt *put =
        sq_bind(s, SQ_DEFER_RECEIPT_PUT, "iidll", &e->user, &e->chat, e->kind, e->rep_now, seen);
    rc = put != NULL ? 0 : DUET_ESTORE;
    for (int i = 0; rc == 0 && i < SQ_RECEIPT_COLS; i++)
        rc = sq_bind_col(s, put, 6 + i, src, i);
    sq_reset(src); /* the values were copied */
    if (rc < 0) {
        if (put != NULL)
            sq_reset(put);
        return rc;
    }
    while ((rc = sq_step(s, put)) == 1) {
    }
    return rc;
}

static int sq_slot_flush(sq_store *s, const struct sq_slot *e)
{
    int rc;
    if (e->rep) {
        /* The replace and what followed it; earlier deletes are subsumed. */
        rc = sq_slot_delete(s, e, INT64_MAX);
        if (rc >= 0 && e->rep_seq > e->del_after)
            rc = sq_slot_receipt(s, e);
    } else {
        rc = sq_slot_delete(s, e, e->del);
    }
    return rc < 0 ? rc : 0;
}

int sq_defer_flush(sq_store *s)
{
    struct sq_defer *d = &s->defer;
    int rc = 0;
    if (d->n == 0)
        return 0;
    for (size_t i = 0; i < d->cap; i++) {
        if (!d->v[i].used)
            continue;
        if (rc == 0)
            rc = sq_slot_flush(s, &d->v[i]);
        d->v[i].used = 0;
    }
    d->n = 0;
    d->flushes++;
    return rc;
}

void sq_defer_clear(sq_store *s)
{
    struct sq_defer *d = &s->defer;
    if (d->n > 0)
        for (size_t i = 0; i < d->cap; i++)
            d->v[i].used = 0;
    d->n = 0;
    d->n_staged = 0;
}

void sq_defer_free(sq_store *s)
{
    free(s->defer.v);
    memset(&s->defer, 0, sizeof(s->defer));
}
