/* sqlite_org.c - pin, archive and mute of a chat, per user (c-org, issue 17).
 *
 * chat_state holds one row per user and chat that was ever organised. The
 * user's other devices learn a change live (chat_state event) or from one
 * PENDING_CHAT_STATE row per chat (latest wins: an upsert at sequence 0),
 * which keeps the state in the row's time columns: sent_at = pinned_at,
 * received_at = archived, seen_at = muted_until.
 */
#include "sqlite_int.h"

#include <errno.h>
#include <string.h>

const char *const sq_org_sql[SQ_STMT_COUNT] = {
    [SQ_STATE_GET] = "SELECT pinned_at, archived, muted_until FROM chat_state"
                     " WHERE user_id = ?1 AND chat_id = ?2",
    [SQ_STATE_PUT] = "INSERT INTO chat_state (user_id, chat_id, pinned_at, archived, muted_until)"
                     " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (user_id, chat_id) DO UPDATE SET"
                     " pinned_at = excluded.pinned_at, archived = excluded.archived,"
                     " muted_until = excluded.muted_until",
    [SQ_STATE_PINNED] = "SELECT count(*) FROM chat_state WHERE user_id = ?1 AND pinned_at <> 0"
                        " AND chat_id <> ?2",
    [SQ_STATE_UNARCHIVE] = "UPDATE chat_state SET archived = 0 WHERE user_id = ?1"
                           " AND chat_id = ?2 AND archived <> 0",
    /* An upsert, never INSERT OR REPLACE (pending_counts, migration 2). */
    [SQ_STATE_PENDING] = "INSERT INTO pending (user_id, chat_id, sender, receiver, service_type,"
                         " message_id, message, type, preview, sent_at, received_at, seen_at,"
                         " sequence, deleted_at)"
                         " VALUES (?1, ?2, ?1, ?1, 7, '', '', 0, '', ?3, ?4, ?5, 0, 0)"
                         " ON CONFLICT (user_id, chat_id, service_type, message_id, sequence)"
                         " DO UPDATE SET sent_at = excluded.sent_at,"
                         " received_at = excluded.received_at, seen_at = excluded.seen_at",
};

static int sq_state_get(sq_store *s, const duet_id *user, const duet_id *chat,
                        struct duet_chat_state *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = sq_bind(s, SQ_STATE_GET, "ii", user, chat);
    if (st == NULL)
        return DUET_ESTORE;
    int rc = sq_step(s, st);
    if (rc <= 0)
        return rc;
    out->pinned_at = sqlite3_column_int64(st, 0);
    out->pinned = out->pinned_at != 0;
    out->archived = sqlite3_column_int(st, 1) != 0;
    out->muted_until = sqlite3_column_int64(st, 2);
    sq_reset(st);
    return 0;
}

int sq_state_fill(sq_store *s, const duet_id *user, struct duet_chat *c)
{
    return sq_state_get(s, user, &c->chat_id, &c->state);
}

int sq_state_unarchive(sq_store *s, const duet_id *user, const duet_id *chat)
{
    int rc = sq_exec(s, SQ_STATE_UNARCHIVE, "ii", user, chat);
    return rc < 0 ? rc : 0;
}

void sq_state_from_row(struct duet_pending *p)
{
    p->state.pinned_at = p->msg.sent_at;
    p->state.pinned = p->msg.sent_at != 0;
    p->state.archived = p->msg.received_at != 0;
    p->state.muted_until = p->msg.seen_at;
    p->msg.sent_at = p->msg.received_at = p->msg.seen_at = 0;
}

int sq_chat_state_set(sq_store *s, store_req *req)
{
    const duet_id *me = &req->in.user;
    const struct duet_chat_state *in = &req->in.state;
    struct duet_chat_state st;
    struct sq_chat c;
    int rc = sq_chat_load(s, &req->in.chat_id, me, &c);
    if (rc < 0 || (rc = sq_state_get(s, me, &c.id, &st)) < 0)
        return rc;
    struct duet_chat_state old = st;
    if ((req->in.state_set & STATE_SET_PIN) && (in->pinned != 0) != st.pinned) {
        if (in->pinned) {
            int64_t n = 0;
            if ((rc = sq_get_int(s, &n, SQ_STATE_PINNED, "ii", me, &c.id)) < 0)
                return rc;
            if (n >= STORE_MAX_PINNED)
                return DUET_ELIMIT;
        }
        st.pinned = in->pinned != 0;
        st.pinned_at = st.pinned ? (req->in.now > 0 ? req->in.now : 1) : 0;
    }
    if (req->in.state_set & STATE_SET_ARCHIVE)
        st.archived = in->archived != 0;
    if (req->in.state_set & STATE_SET_MUTE)
        st.muted_until = in->muted_until > 0 ? in->muted_until : 0;
    req->out.state = st;
    if (old.pinned_at == st.pinned_at && old.archived == st.archived &&
        old.muted_until == st.muted_until) {
        req->out.unchanged = 1; /* nothing written, nobody told */
        return 0;
    }
    if ((rc = sq_exec(s, SQ_STATE_PUT, "iildl", me, &c.id, st.pinned_at, st.archived,
                      st.muted_until)) < 0 ||
        (rc = sq_exec(s, SQ_STATE_PENDING, "iildl", me, &c.id, st.pinned_at, st.archived,
                      st.muted_until)) < 0)
        return rc;
    return 0;
}
