/* sqlite_msgs.c - messages: send, ack, seen, delete, history, pending. */
#include "sqlite_int.h"

#include <errno.h>
#include <string.h>

#define SQ_HISTORY_MAX 100

const char *const sq_msgs_sql[SQ_STMT_COUNT] = {
    /* withheld follows the message columns (SQ_MSG_WITHHELD). */
    [SQ_MSG_BY_ID] = "SELECT " SQ_MSG_COLS("") ", withheld FROM messages"
                                               " WHERE chat_id = ?1 AND message_id = ?2",
    [SQ_MSG_BY_SEQ] = "SELECT " SQ_MSG_COLS("") ", withheld FROM messages"
                                                " WHERE chat_id = ?1 AND sequence = ?2",
    [SQ_MSG_INSERT] = "INSERT INTO messages (chat_id, sender, receiver, message_id, message,"
                      " type, preview, sent_at, received_at, seen_at, sequence, deleted_at,"
                      " withheld, media) VALUES (?1, ?2, ?3, ?4, ?5, ?9, ?10, ?6, 0, 0, ?7, 0, ?8,"
                      " ?11)",
    /* Only "seen" moves read positions: sending says nothing about what
     * the sender has read of the peer's messages. */
    [SQ_CHAT_SENT] = "UPDATE chats SET last_seq = ?2, last_activity = ?3 WHERE chat_id = ?1",
    /* The read position, and with ?4 the reported seen position (only
     * moved while both have receipts on): one write of the chat row for
     * both (round 7; they were two UPDATEs of the same row). */
    [SQ_CHAT_SET_READ] = "UPDATE chats SET"
                         " a_read_seq = iif(user_a = ?2, max(a_read_seq, ?3), a_read_seq),"
                         " b_read_seq = iif(user_b = ?2, max(b_read_seq, ?3), b_read_seq),"
                         " a_seen_seq = iif(?4 AND user_a = ?2, max(a_seen_seq, ?3), a_seen_seq),"
                         " b_seen_seq = iif(?4 AND user_b = ?2, max(b_seen_seq, ?3), b_seen_seq)"
                         " WHERE chat_id = ?1",
    /* A pending row of any kind for user ?1, copied from the message it is
     * about; only MESSAGE rows carry the text (the seed's denormalisation). */
    /* An upsert, not INSERT OR REPLACE: replacing deletes the old row
     * without firing the pending_counts delete trigger (sqlite.c, migration
     * 2), so the count would drift. */
    [SQ_PENDING_FROM_MSG] = "INSERT INTO pending (user_id, chat_id, sender, receiver,"
                            " service_type, message_id, message, type, preview, sent_at,"
                            " received_at, seen_at, sequence, deleted_at, media)"
                            " SELECT ?1, chat_id, sender, receiver, ?2, message_id,"
                            " iif(?2 = 0, message, ''), type, iif(?2 = 0, preview, ''), sent_at,"
                            " ?3, ?4, sequence, deleted_at, iif(?2 = 0, media, '') FROM messages"
                            " WHERE chat_id = ?5 AND sequence = ?6"
                            " ON CONFLICT (user_id, chat_id, service_type, message_id, sequence)"
                            " DO UPDATE SET sender = excluded.sender, receiver = excluded.receiver,"
                            " message = excluded.message, type = excluded.type,"
                            " preview = excluded.preview, sent_at = excluded.sent_at,"
                            " received_at = excluded.received_at, seen_at = excluded.seen_at,"
                            " deleted_at = excluded.deleted_at, media = excluded.media",
    /* The same row for a message just inserted, from the values in hand:
     * INSERT ... SELECT on a table with triggers goes through a temporary
     * b-tree (issue 18's profile), VALUES does not. */
    [SQ_PENDING_NEW_MSG] = "INSERT INTO pending (user_id, chat_id, sender, receiver,"
                           " service_type, message_id, message, type, preview, sent_at,"
                           " received_at, seen_at, sequence, deleted_at, media)"
                           " VALUES (?1, ?2, ?3, ?1, 0, ?4, ?5, ?6, ?7, ?8, 0, 0, ?9, 0, ?10)"
                           " ON CONFLICT (user_id, chat_id, service_type, message_id, sequence)"
                           " DO UPDATE SET sender = excluded.sender,"
                           " receiver = excluded.receiver, message = excluded.message,"
                           " type = excluded.type, preview = excluded.preview,"
                           " sent_at = excluded.sent_at, received_at = 0, seen_at = 0,"
                           " deleted_at = 0, media = excluded.media",
    [SQ_PENDING_DELETE_UPTO] = "DELETE FROM pending WHERE user_id = ?1 AND chat_id = ?2"
                               " AND service_type = ?3 AND sequence <= ?4",
    /* Only for two or more rows (sq_pending_delete_at): with the
     * pending_counts triggers it runs through a temporary b-tree. */
    [SQ_PENDING_DELETE_AT] = "DELETE FROM pending WHERE user_id = ?1 AND chat_id = ?2"
                             " AND service_type = ?3 AND sequence = ?4",
    /* Kept by triggers on pending (sqlite.c, migration 2): O(1) per send. */
    [SQ_PENDING_COUNT] = "SELECT n FROM pending_counts WHERE user_id = ?1",
    /* Receipts are cumulative, so a receiver's marked messages form a prefix:
     * the FLOOR query walks back from seq only to the newest marked one, and
     * MARK touches the rows above it, not the whole history. */
    [SQ_MSG_RECV_FLOOR] = "SELECT sequence FROM messages WHERE chat_id = ?1 AND sequence <= ?2"
                          " AND receiver = ?3 AND received_at <> 0"
                          " ORDER BY sequence DESC LIMIT 1",
    [SQ_MSG_MARK_RECV] = "UPDATE messages SET received_at = ?5 WHERE chat_id = ?1"
                         " AND sequence > ?4 AND sequence <= ?2 AND receiver = ?3"
                         " AND received_at = 0 AND withheld = 0",
    [SQ_MSG_SEEN_FLOOR] = "SELECT sequence FROM messages WHERE chat_id = ?1 AND sequence <= ?2"
                          " AND receiver = ?3 AND seen_at <> 0"
                          " ORDER BY sequence DESC LIMIT 1",
    [SQ_MSG_MARK_SEEN] = "UPDATE messages SET seen_at = ?5,"
                         " received_at = iif(received_at = 0, ?5, received_at)"
                         " WHERE chat_id = ?1 AND sequence > ?4 AND sequence <= ?2"
                         " AND receiver = ?3 AND seen_at = 0 AND withheld = 0",
    /* The newest message in (?4, ?2] that the user (?3) may see: a read
     * position never covers messages withheld from the user (the peer's
     * chat list shows it as peer_read_seq). Walks back from ?2, no further
     * than the withheld run. */
    [SQ_SEEN_CLAMP] = "SELECT sequence FROM messages WHERE chat_id = ?1 AND sequence <= ?2"
                      " AND sequence > ?4 AND NOT (withheld = 1 AND receiver = ?3)"
                      " ORDER BY sequence DESC LIMIT 1",
    [SQ_MSG_ERASE] = "UPDATE messages SET message = '', preview = '', media = '', deleted_at = ?3"
                     " WHERE chat_id = ?1 AND sequence = ?2",
    [SQ_HISTORY_AFTER] = "SELECT " SQ_MSG_COLS(
        "") ", withheld FROM messages"
            " WHERE chat_id = ?1 AND sequence > ?2 ORDER BY sequence LIMIT ?3",
    [SQ_HISTORY_BEFORE] = "SELECT " SQ_MSG_COLS("") ", withheld FROM messages"
                                                    " WHERE chat_id = ?1 AND sequence < ?2"
                                                    " ORDER BY sequence DESC LIMIT ?3",
    [SQ_PENDING_LIST] = "SELECT service_type, " SQ_MSG_COLS(
        "") " FROM pending"
            " WHERE user_id = ?1 ORDER BY chat_id, sequence, service_type",
    /* One page of the replay, on the pending_replay index (migration 4). */
    [SQ_PENDING_PAGE] = "SELECT service_type, " SQ_MSG_COLS(
        "") " FROM pending"
            " WHERE user_id = ?1 AND (chat_id, sequence, service_type) > (?2, ?3, ?4)"
            " ORDER BY chat_id, sequence, service_type LIMIT ?5",
    /* Two index lookups (chats_a, chats_b) rather than an OR scan. */
    [SQ_CHAT_CURSORS] = "SELECT chat_id, last_seq FROM chats WHERE user_a = ?1"
                        " UNION ALL SELECT chat_id, last_seq FROM chats WHERE user_b = ?1",
};

/* Reads the message at (chat, seq) or with message_id into m, and whether
 * it is withheld from its receiver into *withheld. */
int sq_msg_get(sq_store *s, pool_t *p, sqlite3_stmt *st, struct duet_msg *m, int *withheld)
{
    if (st == NULL)
        return DUET_ESTORE;
    int rc = sq_step(s, st);
    if (rc <= 0)
        return rc == 0 ? DUET_ENOTFOUND : rc;
    rc = sq_read_msg(p, st, 0, m);
    *withheld = sqlite3_column_int(st, SQ_MSG_WITHHELD) != 0;
    sq_reset(st);
    return rc;
}

/* The receiver's view of a message withheld from them: a placeholder that
 * keeps its sequence number and says nothing else. */
static void sq_withhold(struct duet_msg *m)
{
    m->message = m->preview = m->message_id = m->media = "";
    m->sent_at = m->received_at = m->seen_at = m->deleted_at = 0;
    m->withheld = 1;
}

/* The privacy rule: seen_at shows only while both users have read
 * receipts on. */
static int sq_hide_seen(sq_store *s, const duet_id *user, struct duet_msg *m)
{
    if (m->seen_at == 0)
        return 0;
    int rc = sq_receipts_both(s, &m->sender, &m->receiver);
    if (rc == 0)
        m->seen_at = 0;
    return rc < 0 ? rc : 0;
}

/* Replaces the peer's pending receipt of kind for the chat by one at seq;
 * the write waits for the batch's flush (sqlite_defer.c). */
static int sq_receipt_replace(sq_store *s, const struct sq_chat *c, int kind, int64_t seq,
                              int64_t now)
{
    return sq_defer_replace(s, &c->peer, &c->id, kind, seq, now);
}

/* The receiver's pending row for a message just sent. A quote or forward
 * rewrote the row's type and preview (sq_cv_send_apply): copied from it. */
static int sq_pending_new(sq_store *s, const store_req *req, const struct sq_chat *c,
                          const struct sq_cv_send *cv, int64_t seq)
{
    if (cv->reply_to != 0 || cv->forwarded)
        return sq_exec(s, SQ_PENDING_FROM_MSG, "idllil", &c->peer, PENDING_MESSAGE, (int64_t)0,
                       (int64_t)0, &c->id, seq);
    return sq_exec(s, SQ_PENDING_NEW_MSG, "iiissdslls", &c->peer, &c->id, &req->in.user,
                   req->in.message_id, cv->text, req->in.msg_type,
                   req->in.preview ? req->in.preview : "", req->in.now, seq,
                   req->in.media ? req->in.media : "");
}

int sq_msg_send(sq_store *s, store_req *req)
{
    const duet_id *me = &req->in.user;
    const char *mid = req->in.message_id, *text = req->in.text;
    struct duet_msg *m = &req->out.msg;
    struct sq_chat c;
    int64_t now = req->in.now;

    if (mid == NULL || (text == NULL && !req->in.has_forward))
        return -EINVAL;
    /* Dedupe first: a retry must succeed even if access changed since. */
    int rc = sq_msg_get(s, &req->pool, sq_bind(s, SQ_MSG_BY_ID, "is", &req->in.chat_id, mid), m,
                        &req->out.hidden);
    if (rc == 0) {
        if (duet_id_eq(&m->sender, me)) {
            req->out.duplicate = 1;
            if ((rc = sq_cv_decorate_one(s, &req->pool, m)) < 0)
                return rc;
            return sq_hide_seen(s, me, m);
        }
        /* Only a member learns that the id is taken. */
        rc = sq_chat_load(s, &req->in.chat_id, me, &c);
        return rc < 0 ? rc : DUET_ECONFLICT;
    }
    if (rc != DUET_ENOTFOUND)
        return rc;

    if ((rc = sq_chat_load(s, &req->in.chat_id, me, &c)) < 0)
        return rc;
    if (!c.friends)
        return DUET_ENOTFRIENDS;
    /* The user's own block refuses (even when the peer blocks too). */
    if ((rc = sq_blocks_me(s, &c.peer, me)) != 0)
        return rc > 0 ? DUET_EBLOCKED : rc;
    /* Blocked by the peer: stored and answered as any message, but withheld
     * from the peer for good (store.h), so the block does not show. */
    if ((rc = sq_blocks_me(s, me, &c.peer)) < 0)
        return rc;
    int withheld = rc > 0;
    /* The recipient's backlog has a ceiling: past it the message is not
     * stored (the sender is told), so one sender cannot grow another user's
     * reconnect replay and storage without bound. */
    if (req->in.max_pending > 0 && !withheld) {
        int64_t n = 0;
        if ((rc = sq_get_int(s, &n, SQ_PENDING_COUNT, "i", &c.peer)) < 0)
            return rc;
        /* Deferred acks may hold back deletes of the peer's rows and one
         * receipt row per slot: near the ceiling, flush them for the exact
         * count (sqlite_defer.c). */
        if (s->defer.n > 0 && n + (int64_t)s->defer.n >= req->in.max_pending)
            return SQ_EFLUSH;
        if (n >= req->in.max_pending)
            return DUET_EFULL;
    }

    /* A quote and a forwarded copy (sqlite_conv.c). */
    struct sq_cv_send cv;
    if ((rc = sq_cv_send_check(s, req, &c, &cv)) < 0)
        return rc;
    text = cv.text;

    memset(m, 0, sizeof(*m));
    /* Read last_seq inside the transaction: other processes may write too. */
    int64_t seq = c.last_seq + 1;
    /* An ack of a sequence not yet sent must not delete this row later. */
    if (!withheld && sq_defer_covers(s, &c.peer, &c.id, PENDING_MESSAGE, seq))
        return SQ_EFLUSH;
    if ((rc = sq_exec(s, SQ_MSG_INSERT, "iiissllddss", &c.id, me, &c.peer, mid, text, now, seq,
                      withheld, req->in.msg_type, req->in.preview ? req->in.preview : "",
                      req->in.media ? req->in.media : "")) < 0 ||
        (req->in.upload_id != NULL && (rc = sq_upload_attach(s, req, &c.id, seq)) < 0) ||
        (rc = sq_cv_send_apply(s, req, &c.id, seq, &cv)) < 0 ||
        (!withheld && (rc = sq_pending_new(s, req, &c, &cv, seq)) < 0) ||
        (rc = sq_exec(s, SQ_CHAT_SENT, "ill", &c.id, seq, now)) < 0)
        return rc;
    /* c-org: the index in the message's transaction; the peer's archive
     * ends with a message they can see. */
    if ((rc = sq_search_index(s, &c.id, seq, text)) < 0 ||
        (!withheld && (rc = sq_state_unarchive(s, &c.peer, &c.id)) < 0))
        return rc;
    req->out.hidden = withheld;

    m->chat_id = c.id;
    m->sender = *me;
    m->receiver = c.peer;
    m->message_id = pool_strdup(&req->pool, mid);
    m->message = pool_strdup(&req->pool, text);
    /* A forward copies text only (sqlite_conv.c refuses media): the
     * preview and type are the media send's, else the forwarded copy's. */
    m->preview = pool_strdup(&req->pool, req->in.preview ? req->in.preview : cv.preview);
    m->media = pool_strdup(&req->pool, req->in.media ? req->in.media : "");
    if (m->message_id == NULL || m->message == NULL || m->preview == NULL || m->media == NULL)
        return -ENOMEM;
    m->type = req->in.upload_id != NULL ? req->in.msg_type : cv.type;
    m->sequence = seq;
    m->sent_at = now;
    return 0;
}

/* Marks the peer's messages to user up to seq (received or seen, per the
 * floor/mark pair); *top is the highest newly marked sequence, or 0. */
static int sq_mark(sq_store *s, enum sq_stmt_id floor_id, enum sq_stmt_id mark_id,
                   const struct sq_chat *c, const duet_id *user, int64_t seq, int64_t now,
                   int64_t *top)
{
    int64_t floor = 0;
    int rc = sq_get_int(s, &floor, floor_id, "ili", &c->id, seq, user);
    if (rc < 0)
        return rc;
    /* No RETURNING: with it, an UPDATE of this WITHOUT ROWID table runs
     * through two temporary b-trees (EXPLAIN: OpenEphemeral); without, in
     * one pass. Every row it marks is above floor, so the newest marked
     * one is the floor query's answer afterwards. */
    *top = 0;
    if ((rc = sq_exec(s, mark_id, "ilill", &c->id, seq, user, floor, now)) <= 0)
        return rc;
    rc = sq_get_int(s, top, floor_id, "ili", &c->id, seq, user);
    return rc < 0 ? rc : 0;
}

static int sq_ack_messages(sq_store *s, store_req *req, const struct sq_chat *c)
{
    const duet_id *me = &req->in.user;
    int64_t top, now = req->in.now;
    int rc = sq_mark(s, SQ_MSG_RECV_FLOOR, SQ_MSG_MARK_RECV, c, me, req->in.seq, now, &top);
    if (rc < 0)
        return rc;
    rc = sq_defer_delete(s, me, &c->id, PENDING_MESSAGE, req->in.seq);
    if (rc < 0)
        return rc;
    if (top == 0)
        return 0;
    if ((rc = sq_receipt_replace(s, c, PENDING_DELIVERED, top, now)) < 0)
        return rc;
    req->out.receipt.changed = 1;
    req->out.receipt.peer = c->peer;
    req->out.receipt.seq = top;
    req->out.receipt.at = now;
    return 0;
}

int sq_msg_ack(sq_store *s, store_req *req)
{
    const duet_id *me = &req->in.user;
    struct sq_chat c;
    int rc = sq_chat_load(s, &req->in.chat_id, me, &c);
    if (rc < 0)
        return rc;
    switch (req->in.kind) {
    case PENDING_MESSAGE:
        return sq_ack_messages(s, req, &c);
    case PENDING_DELIVERED:
    case PENDING_SEEN:
        rc = sq_defer_delete(s, me, &c.id, req->in.kind, req->in.seq);
        break;
    case PENDING_DELETED:
    case PENDING_REACTION:
    case PENDING_EDITED:
    case PENDING_HIDDEN:
        rc = sq_pending_delete_at(s, me, &c.id, req->in.kind, req->in.seq);
        break;
    case PENDING_CHAT_STATE: /* c-org: one row per chat, at sequence 0 */
        rc = sq_pending_delete_at(s, me, &c.id, req->in.kind, 0);
        break;
    default:
        return -EINVAL;
    }
    return rc < 0 ? rc : 0;
}

int sq_msg_seen(sq_store *s, store_req *req)
{
    const duet_id *me = &req->in.user;
    struct sq_chat c;
    int64_t top, now = req->in.now;
    int rc = sq_chat_load(s, &req->in.chat_id, me, &c);
    if (rc < 0)
        return rc;

    int64_t seq = req->in.seq < c.last_seq ? req->in.seq : c.last_seq;
    if (seq < 0)
        seq = 0;
    if (seq > c.my_read_seq) {
        int64_t seen = c.my_read_seq; /* stays there if only withheld ones are above */
        if ((rc = sq_get_int(s, &seen, SQ_SEEN_CLAMP, "ilil", &c.id, seq, me, c.my_read_seq)) < 0)
            return rc;
        seq = seen;
    }
    req->out.read_seq = seq > c.my_read_seq ? seq : c.my_read_seq;
    /* The read position moves when seq passes it; the seen position, up to
     * seq, only while both have receipts on: one UPDATE for both. */
    int both = sq_receipts_both(s, me, &c.peer);
    if (both < 0)
        return both;
    if ((seq > c.my_read_seq || both) &&
        (rc = sq_exec(s, SQ_CHAT_SET_READ, "iild", &c.id, me, seq, both)) < 0)
        return rc;
    if (!both)
        return 0;
    rc = sq_mark(s, SQ_MSG_SEEN_FLOOR, SQ_MSG_MARK_SEEN, &c, me, seq, now, &top);
    if (rc < 0 || top == 0)
        return rc;
    if ((rc = sq_receipt_replace(s, &c, PENDING_SEEN, top, now)) < 0)
        return rc;
    req->out.receipt.changed = 1;
    req->out.receipt.peer = c.peer;
    req->out.receipt.seq = top;
    req->out.receipt.at = now;
    return 0;
}

int sq_msg_delete(sq_store *s, store_req *req)
{
    const duet_id *me = &req->in.user;
    struct duet_msg *m = &req->out.msg;
    struct sq_chat c;
    int64_t now = req->in.now, seq = req->in.seq;
    int rc = sq_chat_load(s, &req->in.chat_id, me, &c);
    if (rc < 0)
        return rc;
    rc =
        sq_msg_get(s, &req->pool, sq_bind(s, SQ_MSG_BY_SEQ, "il", &c.id, seq), m, &req->out.hidden);
    if (rc < 0)
        return rc;
    if (!duet_id_eq(&m->sender, me))
        return DUET_EFORBIDDEN;
    if (m->deleted_at != 0)
        return DUET_EDELETED;
    if (now - m->sent_at > req->in.window_ms)
        return DUET_EEXPIRED;

    /* An undelivered copy goes away; the DELETED row still tells a device
     * that may have seen the message through history. */
    if ((rc = sq_search_unindex(s, &c.id, seq)) < 0 || /* c-org */
        (rc = sq_push_erase(s, &c.id, seq)) < 0 ||
        (rc = sq_exec(s, SQ_MSG_ERASE, "ill", &c.id, seq, now)) < 0 ||
        (rc = sq_upload_detach(s, req, &c.id, seq)) < 0 ||
        (rc = sq_cv_on_delete(s, &c, seq)) < 0) /* c-msg */
        return rc;
    /* The receiver of a withheld message never had it: nothing to tell. */
    if (!req->out.hidden &&
        ((rc = sq_pending_delete_at(s, &c.peer, &c.id, PENDING_MESSAGE, seq)) < 0 ||
         (rc = sq_exec(s, SQ_PENDING_FROM_MSG, "idllil", &c.peer, PENDING_DELETED, (int64_t)0,
                       (int64_t)0, &c.id, seq)) < 0))
        return rc;
    m->message = m->preview = "";
    m->deleted_at = now;
    return sq_hide_seen(s, me, m);
}

int sq_history(sq_store *s, store_req *req)
{
    const duet_id *me = &req->in.user;
    struct sq_chat c;
    int limit = req->in.limit, rc;
    size_t n = 0;

    if ((rc = sq_chat_load(s, &req->in.chat_id, me, &c)) < 0)
        return rc;
    if (limit < 1)
        limit = 1;
    if (limit > SQ_HISTORY_MAX)
        limit = SQ_HISTORY_MAX;
    int receipts = sq_receipts_both(s, me, &c.peer);
    if (receipts < 0)
        return receipts;
    struct duet_msg *msgs = pool_alloc(&req->pool, (size_t)limit * sizeof(*msgs));
    if (msgs == NULL)
        return -ENOMEM;

    int asc = req->in.has_after;
    int64_t before = req->in.before > 0 ? req->in.before : INT64_MAX;
    sqlite3_stmt *st = asc ? sq_bind(s, SQ_HISTORY_AFTER, "ild", &c.id, req->in.after, limit)
                           : sq_bind(s, SQ_HISTORY_BEFORE, "ild", &c.id, before, limit);
    if (st == NULL)
        return DUET_ESTORE;
    while ((rc = sq_step(s, st)) == 1) {
        struct duet_msg *m = &msgs[asc ? n : (size_t)limit - 1 - n];
        if (sq_read_msg(&req->pool, st, 0, m) < 0) {
            sq_reset(st);
            return -ENOMEM;
        }
        if (!receipts)
            m->seen_at = 0;
        if (sqlite3_column_int(st, SQ_MSG_WITHHELD) != 0 && duet_id_eq(&m->receiver, me))
            sq_withhold(m);
        n++;
    }
    if (rc < 0)
        return rc;
    /* Newest-first rows were stored from the end; the result is ascending. */
    req->out.msgs = asc ? msgs : msgs + (limit - (int)n);
    req->out.n_msgs = n;
    return sq_cv_decorate(s, &req->pool, me, &c.id, req->out.msgs, n);
}

/* The pending rows of req: all of them, or one page (store.h). */
static sqlite3_stmt *sq_pending_stmt(sq_store *s, store_req *req)
{
    if (req->in.limit <= 0)
        return sq_bind(s, SQ_PENDING_LIST, "i", &req->in.user);
    /* The first page starts below every key: sequences start at 1. */
    static const duet_id zero;
    const duet_id *chat = req->in.has_after ? &req->in.chat_id : &zero;
    int64_t seq = req->in.has_after ? req->in.seq : -1;
    int kind = req->in.has_after ? req->in.kind : -1;
    return sq_bind(s, SQ_PENDING_PAGE, "iildd", &req->in.user, chat, seq, kind, req->in.limit);
}

int sq_pending_list(sq_store *s, store_req *req)
{
    size_t cap = 0;
    int rc;
    int64_t bytes = 0;
    sqlite3_stmt *st = sq_pending_stmt(s, req);
    if (st == NULL)
        return DUET_ESTORE;
    while ((rc = sq_step(s, st)) == 1) {
        struct duet_pending *a =
            pool_grow(&req->pool, req->out.pending, req->out.n_pending, &cap, sizeof(*a));
        if (a == NULL || sq_read_msg(&req->pool, st, 1, &a[req->out.n_pending].msg) < 0) {
            sq_reset(st);
            return -ENOMEM;
        }
        a[req->out.n_pending].kind = sqlite3_column_int(st, 0);
        if (a[req->out.n_pending].kind == PENDING_CHAT_STATE) /* c-org */
            sq_state_from_row(&a[req->out.n_pending]);
        req->out.pending = a;
        req->out.n_pending++;
        if (req->in.limit <= 0)
            continue;
        bytes += (int64_t)strlen(a[req->out.n_pending - 1].msg.message);
        if ((int)req->out.n_pending == req->in.limit ||
            (req->in.page_bytes > 0 && bytes >= req->in.page_bytes)) {
            req->out.more = 1;
            sq_reset(st);
            rc = 0;
            break;
        }
    }
    if (rc < 0 ||
        (rc = sq_cv_decorate_pending(s, &req->pool, req->out.pending, req->out.n_pending)) < 0)
        return rc;
    if (!req->in.cursors)
        return rc;
    /* Read in the same transaction as the rows above: one snapshot. */
    cap = 0;
    st = sq_bind(s, SQ_CHAT_CURSORS, "i", &req->in.user);
    if (st == NULL)
        return DUET_ESTORE;
    while ((rc = sq_step(s, st)) == 1) {
        struct duet_cursor *a =
            pool_grow(&req->pool, req->out.cursors, req->out.n_cursors, &cap, sizeof(*a));
        if (a == NULL) {
            sq_reset(st);
            return -ENOMEM;
        }
        sq_col_id(st, 0, &a[req->out.n_cursors].chat_id);
        a[req->out.n_cursors].last_seq = sqlite3_column_int64(st, 1);
        req->out.cursors = a;
        req->out.n_cursors++;
    }
    return rc;
}
