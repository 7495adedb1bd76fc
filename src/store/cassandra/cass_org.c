/* cass_org.c - pin, archive and mute on Cassandra (c-org, issue 17), with
 * the SQLite backend's semantics (sqlite_org.c): chat_state holds one row
 * per user and organised chat in the user's partition; a change writes it
 * and the user's PENDING_CHAT_STATE row for the chat (sequence 0, latest
 * wins: the same key is overwritten) in one LOGGED batch. The pin ceiling
 * is read from the same partition first; the scheduler runs one such op
 * per user at a time (cass_sched.c), so two pins of one instance cannot
 * both pass it (across instances they can: docs/cassandra.md).
 *
 * Search is in cass_search.c.
 */
#include <errno.h>
#include <string.h>

#include "cass_int.h"

const char *const cs_org_cql[CS_STMT_COUNT] = {
    [CS_STATE_ALL] = "SELECT chat_id, pinned_at, archived, muted_until FROM @.chat_state"
                     " WHERE user_id = ?",
    [CS_STATE_PUT] = "INSERT INTO @.chat_state (user_id, chat_id, pinned_at, archived, muted_until)"
                     " VALUES (?, ?, ?, ?, ?)",
    [CS_STATE_UNARCHIVE] = "UPDATE @.chat_state SET archived = false WHERE user_id = ?"
                           " AND chat_id = ?",
};

/* The state of chat in a CS_STATE_ALL row set; *pinned_others counts the
 * other pinned chats. */
static void cs_state_find(const struct cql_rows *r, const duet_id *chat, struct duet_chat_state *st,
                          int *pinned_others)
{
    memset(st, 0, sizeof(*st));
    *pinned_others = 0;
    for (int64_t i = 0; i < r->n_rows; i++) {
        duet_id id;
        cs_get_id(cql_cell(r, i, 0), &id);
        int64_t pinned_at = cs_get_i64(cql_cell(r, i, 1));
        if (!duet_id_eq(&id, chat)) {
            *pinned_others += pinned_at != 0;
            continue;
        }
        st->pinned_at = pinned_at;
        st->pinned = pinned_at != 0;
        st->archived = cs_get_flag(cql_cell(r, i, 2));
        st->muted_until = cs_get_i64(cql_cell(r, i, 3));
    }
}

void cs_state_apply(const cs_op *op, struct duet_chat *chats, size_t n)
{
    int others;
    for (size_t i = 0; i < n; i++)
        cs_state_find(&op->q.rows, &chats[i].chat_id, &chats[i].state, &others);
}

void cs_state_from_row(struct duet_pending *p)
{
    p->state.pinned_at = p->msg.sent_at;
    p->state.pinned = p->msg.sent_at != 0;
    p->state.archived = p->msg.received_at != 0;
    p->state.muted_until = p->msg.seen_at;
    p->msg.sent_at = p->msg.received_at = p->msg.seen_at = 0;
}

/* Steps of cs_chat_state_set. */
enum {
    ST_START = 0,
    ST_CHAT,    /* the chat's statics: membership */
    ST_STATE,   /* the user's chat_state partition */
    ST_WRITTEN, /* the row and the pending row */
};

/* The new state from the old and the request: 0, or DUET_ELIMIT. */
static int cs_state_next(const store_req *req, const struct duet_chat_state *old, int others,
                         struct duet_chat_state *st)
{
    const struct duet_chat_state *in = &req->in.state;
    *st = *old;
    if ((req->in.state_set & STATE_SET_PIN) && (in->pinned != 0) != st->pinned) {
        if (in->pinned && others >= STORE_MAX_PINNED)
            return DUET_ELIMIT;
        st->pinned = in->pinned != 0;
        st->pinned_at = st->pinned ? (req->in.now > 0 ? req->in.now : 1) : 0;
    }
    if (req->in.state_set & STATE_SET_ARCHIVE)
        st->archived = in->archived != 0;
    if (req->in.state_set & STATE_SET_MUTE)
        st->muted_until = in->muted_until > 0 ? in->muted_until : 0;
    return 0;
}

void cs_chat_state_set(cs_op *op)
{
    store_req *req = op->req;
    const duet_id *me = &req->in.user;
    int rc;
    switch (op->step) {
    case ST_START:
        cs_read(op, ST_CHAT, CS_CHAT_GET, "i", &req->in.chat_id);
        return;
    case ST_CHAT:
        if ((rc = cs_load_member_chat(op)) < 0)
            break;
        cs_read(op, ST_STATE, CS_STATE_ALL, "i", me);
        return;
    case ST_STATE: {
        if ((rc = cs_q_status(op)) < 0)
            break;
        struct duet_chat_state old, *st = &req->out.state;
        int others;
        cs_state_find(&op->q.rows, &op->chat.id, &old, &others);
        if ((rc = cs_state_next(req, &old, others, st)) < 0)
            break;
        if (old.pinned_at == st->pinned_at && old.archived == st->archived &&
            old.muted_until == st->muted_until) {
            req->out.unchanged = 1; /* nothing written, nobody told */
            rc = 0;
            break;
        }
        cs_batch_begin(op);
        cs_batch_add(op, CS_STATE_PUT, "iilbl", me, &op->chat.id, st->pinned_at, st->archived,
                     st->muted_until);
        /* The pending row keeps the state in its time columns (as SQLite). */
        cs_batch_add(op, CS_PENDING_INSERT, "iidliisdllll", me, &op->chat.id, PENDING_CHAT_STATE,
                     (int64_t)0, me, me, "", 0, st->pinned_at, (int64_t)st->archived,
                     st->muted_until, (int64_t)0);
        cs_batch_submit(op, ST_WRITTEN, 0);
        return;
    }
    default: /* ST_WRITTEN */
        rc = cs_q_status(op);
        break;
    }
    cs_finish(op, rc);
}
