/* sqlite_conv.c - the conversation features of issue 17 on SQLite: reply
 * (a quote read from the original at each read), forward (a copy), reactions,
 * edit and delete for me. The ops run inside the batch's savepoint like the
 * others (sqlite_msgs.c). */
#include "sqlite_int.h"

#include <errno.h>
#include <string.h>

#include "../store_rules.h"

const char *const sq_conv_sql[SQ_STMT_COUNT] = {
    [SQ_CV_MSG_EXTRA] = "SELECT reply_to, forwarded, edited_at FROM messages"
                        " WHERE chat_id = ?1 AND sequence = ?2",
    [SQ_CV_MSG_SET_EXTRA] = "UPDATE messages SET reply_to = ?3, forwarded = ?4, type = ?5,"
                            " preview = ?6 WHERE chat_id = ?1 AND sequence = ?2",
    [SQ_CV_EXTRA_RANGE] = "SELECT sequence, reply_to, forwarded, edited_at FROM messages"
                          " WHERE chat_id = ?1 AND sequence BETWEEN ?2 AND ?3"
                          " AND (reply_to <> 0 OR forwarded <> 0 OR edited_at <> 0)",
    [SQ_CV_QUOTE] = "SELECT sender, message, type, deleted_at, withheld FROM messages"
                    " WHERE chat_id = ?1 AND sequence = ?2",
    [SQ_CV_REACT_GET] = "SELECT emoji FROM reactions"
                        " WHERE chat_id = ?1 AND sequence = ?2 AND user_id = ?3",
    [SQ_CV_REACT_PUT] = "INSERT INTO reactions (chat_id, sequence, user_id, emoji, at, withheld)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                        " ON CONFLICT (chat_id, sequence, user_id) DO UPDATE SET"
                        " emoji = excluded.emoji, at = excluded.at, withheld = excluded.withheld",
    [SQ_CV_REACT_DEL] = "DELETE FROM reactions WHERE chat_id = ?1 AND sequence = ?2"
                        " AND user_id = ?3",
    [SQ_CV_REACT_DEL_ALL] = "DELETE FROM reactions WHERE chat_id = ?1 AND sequence = ?2",
    /* A withheld reaction is shown to its author only. */
    [SQ_CV_REACT_RANGE] = "SELECT sequence, user_id, emoji, at FROM reactions"
                          " WHERE chat_id = ?1 AND sequence BETWEEN ?2 AND ?3"
                          " AND (withheld = 0 OR user_id = ?4) ORDER BY sequence, at",
    /* A latest-wins pending row (kinds 4-6): an upsert, never OR REPLACE
     * (the pending_counts triggers, migration 2). */
    [SQ_CV_PENDING_PUT] = "INSERT INTO pending (user_id, chat_id, sender, receiver, service_type,"
                          " message_id, message, sequence, sent_at)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                          " ON CONFLICT (user_id, chat_id, service_type, message_id, sequence)"
                          " DO UPDATE SET sender = excluded.sender, message = excluded.message,"
                          " sent_at = excluded.sent_at",
    /* An undelivered copy of an edited message: the old text must go. */
    [SQ_CV_PENDING_TEXT] = "UPDATE pending SET message = ?4 WHERE user_id = ?3 AND chat_id = ?1"
                           " AND sequence = ?2 AND service_type = 0",
    [SQ_CV_PENDING_DEL_CONV] = "DELETE FROM pending WHERE user_id = ?3 AND chat_id = ?1"
                               " AND sequence = ?2 AND service_type IN (4, 5)",
    [SQ_CV_MSG_EDIT] = "UPDATE messages SET message = ?3, edited_at = ?4"
                       " WHERE chat_id = ?1 AND sequence = ?2",
    [SQ_CV_HIDE_PUT] = "INSERT INTO hidden (user_id, chat_id, sequence) VALUES (?1, ?2, ?3)"
                       " ON CONFLICT DO NOTHING",
    [SQ_CV_HIDDEN_RANGE] = "SELECT sequence FROM hidden WHERE user_id = ?1 AND chat_id = ?2"
                           " AND sequence BETWEEN ?3 AND ?4",
};

/* The message at (chat, seq) with its withheld flag. */
static int cv_msg_get(sq_store *s, pool_t *p, const duet_id *chat, int64_t seq, struct duet_msg *m)
{
    int withheld = 0;
    int rc = sq_msg_get(s, p, sq_bind(s, SQ_MSG_BY_SEQ, "il", chat, seq), m, &withheld);
    m->withheld = withheld;
    return rc;
}

/* A message the user may see: not one withheld from them. */
static int cv_visible(const struct duet_msg *m, const duet_id *me)
{
    return !(m->withheld && duet_id_eq(&m->receiver, me));
}

/* Fills m's quote from the original at m->reply_to. */
static int cv_quote(sq_store *s, pool_t *p, struct duet_msg *m)
{
    sqlite3_stmt *st = sq_bind(s, SQ_CV_QUOTE, "il", &m->chat_id, m->reply_to);
    if (st == NULL)
        return DUET_ESTORE;
    int rc = sq_step(s, st);
    if (rc <= 0) { /* cannot happen: messages are never removed */
        m->reply_snippet = "";
        m->reply_deleted = 1;
        return rc;
    }
    sq_col_id(st, 0, &m->reply_sender);
    m->reply_type = sqlite3_column_int(st, 2);
    m->reply_deleted = sqlite3_column_int64(st, 3) != 0;
    const char *text = (const char *)sqlite3_column_text(st, 1);
    m->reply_snippet = store_snippet(p, m->reply_deleted || text == NULL ? "" : text);
    sq_reset(st);
    return m->reply_snippet == NULL ? -ENOMEM : 0;
}

int sq_cv_send_check(sq_store *s, store_req *req, const struct sq_chat *c, struct sq_cv_send *cv)
{
    const duet_id *me = &req->in.user;
    struct duet_msg m;
    int rc;
    memset(cv, 0, sizeof(*cv));
    cv->text = req->in.text;
    cv->preview = "";
    if (req->in.reply_to > 0) {
        /* Only a message of this chat that both may see can be quoted. */
        if ((rc = cv_msg_get(s, &req->pool, &c->id, req->in.reply_to, &m)) < 0)
            return rc;
        if (m.withheld)
            return DUET_ENOTFOUND;
        cv->reply_to = req->in.reply_to;
    }
    if (req->in.has_forward) {
        struct sq_chat src;
        /* Not a member of the source chat: as if there were no message. */
        if ((rc = sq_chat_load(s, &req->in.fwd_chat, me, &src)) < 0)
            return rc == DUET_EFORBIDDEN ? DUET_ENOTFOUND : rc;
        if ((rc = cv_msg_get(s, &req->pool, &src.id, req->in.fwd_seq, &m)) < 0)
            return rc;
        if (!cv_visible(&m, me))
            return DUET_ENOTFOUND;
        if (m.deleted_at != 0)
            return DUET_EDELETED;
        /* Media is not forwarded yet: its blob would then belong to two
         * messages, and delete for everyone of one would remove it for
         * both (the upload row has one owner message). */
        if (m.type != 0)
            return -EOPNOTSUPP;
        /* The one place a forward copies a message: text, type and preview. */
        cv->text = m.message;
        cv->type = m.type;
        cv->preview = m.preview;
        cv->forwarded = 1;
    }
    return cv->text == NULL ? -EINVAL : 0;
}

int sq_cv_send_apply(sq_store *s, store_req *req, const duet_id *chat, int64_t seq,
                     const struct sq_cv_send *cv)
{
    struct duet_msg *m = &req->out.msg;
    if (cv->reply_to == 0 && !cv->forwarded)
        return 0;
    int rc = sq_exec(s, SQ_CV_MSG_SET_EXTRA, "illdds", chat, seq, cv->reply_to, cv->forwarded,
                     cv->type, cv->preview);
    if (rc < 0)
        return rc;
    m->chat_id = *chat;
    m->reply_to = cv->reply_to;
    m->forwarded = cv->forwarded;
    m->type = cv->type;
    return cv->reply_to > 0 ? cv_quote(s, &req->pool, m) : 0;
}

int sq_cv_decorate_one(sq_store *s, pool_t *p, struct duet_msg *m)
{
    if (m->withheld)
        return 0;
    sqlite3_stmt *st = sq_bind(s, SQ_CV_MSG_EXTRA, "il", &m->chat_id, m->sequence);
    if (st == NULL)
        return DUET_ESTORE;
    int rc = sq_step(s, st);
    if (rc <= 0)
        return rc;
    m->reply_to = sqlite3_column_int64(st, 0);
    m->forwarded = sqlite3_column_int(st, 1);
    m->edited_at = sqlite3_column_int64(st, 2);
    sq_reset(st);
    return m->reply_to > 0 && m->deleted_at == 0 ? cv_quote(s, p, m) : 0;
}

/* Adds the page's visible reactions to its messages. */
static int cv_reactions(sq_store *s, pool_t *p, const duet_id *me, const duet_id *chat,
                        struct duet_msg *msgs, size_t n)
{
    sqlite3_stmt *st =
        sq_bind(s, SQ_CV_REACT_RANGE, "illi", chat, msgs[0].sequence, msgs[n - 1].sequence, me);
    if (st == NULL)
        return DUET_ESTORE;
    struct duet_msg *cur = NULL;
    size_t cap = 0;
    int rc;
    while ((rc = sq_step(s, st)) == 1) {
        struct duet_msg *m = store_msg_find(msgs, n, sqlite3_column_int64(st, 0));
        if (m == NULL || m->withheld)
            continue;
        if (m != cur) { /* rows come by sequence: a new message */
            cur = m;
            cap = 0;
        }
        struct duet_reaction *a = pool_grow(p, m->reactions, m->n_reactions, &cap, sizeof(*a));
        if (a == NULL || sq_col_str(p, st, 2, &a[m->n_reactions].emoji) < 0) {
            sq_reset(st);
            return -ENOMEM;
        }
        sq_col_id(st, 1, &a[m->n_reactions].user);
        a[m->n_reactions].at = sqlite3_column_int64(st, 3);
        m->reactions = a;
        m->n_reactions++;
    }
    return rc;
}

int sq_cv_decorate(sq_store *s, pool_t *p, const duet_id *me, const duet_id *chat,
                   struct duet_msg *msgs, size_t n)
{
    if (n == 0)
        return 0;
    int64_t lo = msgs[0].sequence, hi = msgs[n - 1].sequence;
    sqlite3_stmt *st = sq_bind(s, SQ_CV_EXTRA_RANGE, "ill", chat, lo, hi);
    if (st == NULL)
        return DUET_ESTORE;
    int rc;
    while ((rc = sq_step(s, st)) == 1) {
        struct duet_msg *m = store_msg_find(msgs, n, sqlite3_column_int64(st, 0));
        if (m == NULL || m->withheld)
            continue;
        m->reply_to = sqlite3_column_int64(st, 1);
        m->forwarded = sqlite3_column_int(st, 2);
        m->edited_at = sqlite3_column_int64(st, 3);
    }
    if (rc < 0)
        return rc;
    if ((st = sq_bind(s, SQ_CV_HIDDEN_RANGE, "iill", me, chat, lo, hi)) == NULL)
        return DUET_ESTORE;
    while ((rc = sq_step(s, st)) == 1) {
        struct duet_msg *m = store_msg_find(msgs, n, sqlite3_column_int64(st, 0));
        if (m != NULL)
            m->hidden = 1;
    }
    if (rc < 0 || (rc = cv_reactions(s, p, me, chat, msgs, n)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        struct duet_msg *m = &msgs[i];
        if (m->hidden) { /* delete for me: the sequence stays, nothing else */
            m->message = m->preview = "";
            m->reply_to = 0;
            m->reactions = NULL;
            m->n_reactions = 0;
        } else if (m->reply_to > 0 && m->deleted_at == 0 && (rc = cv_quote(s, p, m)) < 0) {
            return rc;
        }
    }
    return 0;
}

int sq_cv_decorate_pending(sq_store *s, pool_t *p, struct duet_pending *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct duet_msg *m = &rows[i].msg;
        int rc = 0;
        if (rows[i].kind == PENDING_MESSAGE)
            rc = sq_cv_decorate_one(s, p, m);
        else if (rows[i].kind == PENDING_EDITED) {
            m->edited_at = m->sent_at; /* the row keeps the edit's time there */
            m->sent_at = 0;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

int sq_cv_on_delete(sq_store *s, const struct sq_chat *c, int64_t seq)
{
    int rc = sq_exec(s, SQ_CV_REACT_DEL_ALL, "il", &c->id, seq);
    if (rc >= 0)
        rc = sq_exec(s, SQ_CV_PENDING_DEL_CONV, "ili", &c->id, seq, &c->peer);
    return rc < 0 ? rc : 0;
}

/* The access rules of a change to message m of chat c: a former friend's
 * chat is read-only, and the user's own block refuses. *withheld: the
 * peer blocks the user (or never had the message), so nothing reaches them. */
static int cv_may_change(sq_store *s, const duet_id *me, const struct sq_chat *c,
                         const struct duet_msg *m, int *withheld)
{
    if (!c->friends)
        return DUET_ENOTFRIENDS;
    int rc = sq_blocks_me(s, &c->peer, me);
    if (rc != 0)
        return rc > 0 ? DUET_EBLOCKED : rc;
    if ((rc = sq_blocks_me(s, me, &c->peer)) < 0)
        return rc;
    *withheld = rc > 0 || m->withheld;
    return 0;
}

/* Loads chat and message for a change by me: EFORBIDDEN, ENOTFOUND
 * (also for a message withheld from me), EDELETED. */
static int cv_load(sq_store *s, store_req *req, struct sq_chat *c, struct duet_msg *m)
{
    int rc = sq_chat_load(s, &req->in.chat_id, &req->in.user, c);
    if (rc < 0 || (rc = cv_msg_get(s, &req->pool, &c->id, req->in.seq, m)) < 0)
        return rc;
    if (!cv_visible(m, &req->in.user))
        return DUET_ENOTFOUND;
    return m->deleted_at != 0 ? DUET_EDELETED : 0;
}

int sq_msg_react(sq_store *s, store_req *req)
{
    const duet_id *me = &req->in.user;
    struct duet_msg *m = &req->out.msg;
    struct sq_chat c;
    int withheld, rc;
    const char *emoji = req->in.emoji != NULL ? req->in.emoji : "";
    if ((rc = cv_load(s, req, &c, m)) < 0 || (rc = cv_may_change(s, me, &c, m, &withheld)) < 0)
        return rc;
    const char *old = "";
    sqlite3_stmt *st = sq_bind(s, SQ_CV_REACT_GET, "ili", &c.id, m->sequence, me);
    if (st == NULL)
        return DUET_ESTORE;
    if ((rc = sq_step(s, st)) < 0)
        return rc;
    if (rc == 1) {
        rc = sq_col_str(&req->pool, st, 0, &old);
        sq_reset(st);
        if (rc < 0)
            return rc;
    }
    req->out.reaction.user = *me;
    req->out.reaction.emoji = emoji;
    req->out.reaction.at = req->in.now;
    req->out.hidden = withheld;
    if (strcmp(old, emoji) == 0)
        return 0; /* unchanged: nobody is told */
    req->out.changed = 1;
    rc = emoji[0] == '\0' ? sq_exec(s, SQ_CV_REACT_DEL, "ili", &c.id, m->sequence, me)
                          : sq_exec(s, SQ_CV_REACT_PUT, "ilisld", &c.id, m->sequence, me, emoji,
                                    req->in.now, withheld);
    if (rc < 0)
        return rc;
    if (withheld)
        return 0;
    rc = sq_exec(s, SQ_CV_PENDING_PUT, "iiiidssll", &c.peer, &c.id, me, &c.peer, PENDING_REACTION,
                 m->message_id, emoji, m->sequence, req->in.now);
    if (rc < 0)
        return rc;
    /* Push (issue 16): the author hears of a new reaction by the other. */
    req->out.notify = emoji[0] != '\0' && !duet_id_eq(&m->sender, me);
    return 0;
}

int sq_msg_edit(sq_store *s, store_req *req)
{
    const duet_id *me = &req->in.user;
    struct duet_msg *m = &req->out.msg;
    struct sq_chat c;
    int withheld, rc;
    const char *text = req->in.text;
    if (text == NULL)
        return -EINVAL;
    if ((rc = cv_load(s, req, &c, m)) < 0)
        return rc;
    if (!duet_id_eq(&m->sender, me))
        return -EPERM; /* not_sender; EFORBIDDEN stays "not your chat" */
    if (m->type != 0)
        return -EINVAL;
    if (req->in.window_ms <= 0 || req->in.now - m->sent_at > req->in.window_ms)
        return DUET_EEXPIRED;
    if ((rc = cv_may_change(s, me, &c, m, &withheld)) < 0)
        return rc;
    /* The old text is overwritten (secure_delete: its bytes are zeroed),
     * in the message and in an undelivered copy, and leaves the search
     * index as a deleted one does (unindexed while still stored, then
     * indexed again: c-org's sqlite_search.c). */
    if ((rc = sq_search_unindex(s, &c.id, m->sequence)) < 0 ||
        (rc = sq_exec(s, SQ_CV_MSG_EDIT, "ilsl", &c.id, m->sequence, text, req->in.now)) < 0 ||
        (rc = sq_exec(s, SQ_CV_PENDING_TEXT, "ilis", &c.id, m->sequence, &c.peer, text)) < 0 ||
        (rc = sq_search_index(s, &c.id, m->sequence, text)) < 0)
        return rc;
    if (!withheld &&
        (rc = sq_exec(s, SQ_CV_PENDING_PUT, "iiiidssll", &c.peer, &c.id, me, &c.peer,
                      PENDING_EDITED, m->message_id, text, m->sequence, req->in.now)) < 0)
        return rc;
    req->out.hidden = withheld;
    if ((m->message = pool_strdup(&req->pool, text)) == NULL)
        return -ENOMEM;
    m->edited_at = req->in.now;
    return 0;
}

int sq_msg_hide(sq_store *s, store_req *req)
{
    const duet_id *me = &req->in.user;
    struct duet_msg *m = &req->out.msg;
    struct sq_chat c;
    int rc = sq_chat_load(s, &req->in.chat_id, me, &c);
    if (rc < 0 || (rc = cv_msg_get(s, &req->pool, &c.id, req->in.seq, m)) < 0)
        return rc;
    /* Hiding is the user's own business: no friendship or block rule. */
    if ((rc = sq_exec(s, SQ_CV_HIDE_PUT, "iil", me, &c.id, m->sequence)) < 0)
        return rc;
    if (rc == 0) {
        req->out.unchanged = 1;
        return 0;
    }
    rc = sq_exec(s, SQ_CV_PENDING_PUT, "iiiidssll", me, &c.id, &m->sender, &m->receiver,
                 PENDING_HIDDEN, m->message_id, "", m->sequence, req->in.now);
    return rc < 0 ? rc : 0;
}
