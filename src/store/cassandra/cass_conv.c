/* cass_conv.c - issue 17 on Cassandra, with the SQLite backend's semantics
 * (sqlite_conv.c): reactions, edit and delete for me as ops; a send's quote
 * and forwarded copy (checked before the send's claim, written after its
 * rows); and the extras of history pages and replayed messages (quotes read
 * from the original at each read, reactions, hidden, edited_at).
 *
 * Tables (cass_schema.c): private_chat gains reply_to, forwarded and
 * edited_at; reactions ((chat_id), sequence, user_id) and hidden
 * ((user_id, chat_id), sequence). Pending kinds 4-6 are latest-wins rows of
 * the pending table (its key is (user, chat, kind, seq)).
 *
 * The reads' side (history, replay, chat list) is in cass_conv_read.c. */
#include "cass_int.h"

#include <errno.h>
#include <string.h>

#include "../store_rules.h"

const char *const cs_conv_cql[CS_STMT_COUNT] = {
    [CS_CV_EXTRA_GET] = "SELECT reply_to, forwarded, edited_at FROM @.private_chat"
                        " WHERE chat_id = ? AND bucket = ? AND sequence = ?",
    [CS_CV_EXTRA_RANGE] = "SELECT sequence, reply_to, forwarded, edited_at FROM @.private_chat"
                          " WHERE chat_id = ? AND bucket = ? AND sequence >= ? AND sequence <= ?",
    [CS_CV_SET_EXTRA] = "UPDATE @.private_chat SET reply_to = ?, forwarded = ?"
                        " WHERE chat_id = ? AND bucket = ? AND sequence = ?",
    [CS_CV_EDIT] = "UPDATE @.private_chat SET message = ?, edited_at = ?"
                   " WHERE chat_id = ? AND bucket = ? AND sequence = ?",
    [CS_CV_PENDING_GET] = "SELECT sequence FROM @.pending WHERE user_id = ? AND chat_id = ?"
                          " AND service_type = 0 AND sequence = ?",
    [CS_CV_PENDING_TEXT] = "UPDATE @.pending SET message = ? WHERE user_id = ? AND chat_id = ?"
                           " AND service_type = 0 AND sequence = ?",
    [CS_CV_PENDING_PUT] = "INSERT INTO @.pending (user_id, chat_id, service_type, sequence,"
                          " sender, receiver, message_id, message, type, preview, sent_at,"
                          " received_at, seen_at, deleted_at)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, '', ?, 0, 0, 0)",
    [CS_CV_REACT_GET] = "SELECT emoji FROM @.reactions WHERE chat_id = ? AND sequence = ?"
                        " AND user_id = ?",
    [CS_CV_REACT_PUT] = "INSERT INTO @.reactions (chat_id, sequence, user_id, emoji, at, withheld)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
    [CS_CV_REACT_DEL] =
        "DELETE FROM @.reactions WHERE chat_id = ? AND sequence = ? AND user_id = ?",
    [CS_CV_REACT_DEL_ALL] = "DELETE FROM @.reactions WHERE chat_id = ? AND sequence = ?",
    [CS_CV_REACT_RANGE] = "SELECT sequence, user_id, emoji, at, withheld FROM @.reactions"
                          " WHERE chat_id = ? AND sequence >= ? AND sequence <= ?",
    [CS_CV_HIDE_GET] = "SELECT sequence FROM @.hidden WHERE user_id = ? AND chat_id = ?"
                       " AND sequence = ?",
    [CS_CV_HIDE_PUT] = "INSERT INTO @.hidden (user_id, chat_id, sequence) VALUES (?, ?, ?)",
    [CS_CV_HIDDEN_RANGE] = "SELECT sequence FROM @.hidden WHERE user_id = ? AND chat_id = ?"
                           " AND sequence >= ? AND sequence <= ?",
    /* The chat list skips the newest hidden ones (STORE_UNREAD_MAX of them). */
    [CS_CV_HIDDEN_TOP] = "SELECT sequence FROM @.hidden WHERE user_id = ? AND chat_id = ?"
                         " ORDER BY sequence DESC LIMIT 1000",
};

/* ---- shared ---- */

int cs_cv_quote_from_row(cs_op *op, struct duet_msg *m)
{
    pool_t *p = &op->req->pool;
    const struct cql_rows *r = &op->q.rows;
    if (r->n_rows < 1 || cs_row_void(r, 0, 0)) {
        m->reply_snippet = "";
        m->reply_deleted = 1;
        return 0;
    }
    struct duet_msg o;
    if (cs_read_msg(p, r, 0, 0, &m->chat_id, &o) < 0)
        return -ENOMEM;
    m->reply_sender = o.sender;
    m->reply_type = o.type;
    m->reply_deleted = o.deleted_at != 0;
    m->reply_snippet = store_snippet(p, m->reply_deleted ? "" : o.message);
    return m->reply_snippet == NULL ? -ENOMEM : 0;
}

void cs_cv_read_msg(cs_op *op, int next, const duet_id *chat, int64_t seq)
{
    cs_read(op, next, CS_MSG_GET, "ill", chat, cs_bucket(seq), seq);
}

/* A CS_MSG_GET row (q) as the message a change is about: ENOTFOUND (none,
 * void, or withheld from me), EDELETED. *withheld: from its receiver. */
static int cv_loaded_msg(cs_op *op, struct duet_msg *m, int *withheld)
{
    const struct cql_rows *r = &op->q.rows;
    int rc = cs_q_status(op);
    if (rc < 0)
        return rc;
    if (r->n_rows < 1 || cs_row_void(r, 0, 0))
        return DUET_ENOTFOUND;
    if (cs_read_msg(&op->req->pool, r, 0, 0, &op->chat.id, m) < 0)
        return -ENOMEM;
    *withheld = cs_row_withheld(r, 0, 0);
    if (*withheld && duet_id_eq(&m->receiver, &op->req->in.user))
        return DUET_ENOTFOUND;
    return m->deleted_at != 0 ? DUET_EDELETED : 0;
}

/* CS_REL_BLOCKED rows (q): EBLOCKED when I block the peer; *withheld |= 1
 * when the peer blocks me. */
static int cv_blocks(cs_op *op, int *withheld)
{
    int rc = cs_q_status(op);
    if (rc < 0)
        return rc;
    for (int64_t i = 0; i < op->q.rows.n_rows; i++) {
        int kind = cs_get_i32(cql_cell(&op->q.rows, i, 0));
        if (kind == REL_BLOCK_OUT)
            return DUET_EBLOCKED;
        if (kind == REL_BLOCK_IN)
            *withheld = 1;
    }
    return 0;
}

/* ---- react ---- */

enum { RX_START = 0, RX_CHAT, RX_MSG, RX_BLOCKS, RX_OLD, RX_DONE };

void cs_msg_react(cs_op *op)
{
    store_req *req = op->req;
    const duet_id *me = &req->in.user;
    struct duet_msg *m = &req->out.msg;
    const char *emoji = req->in.emoji != NULL ? req->in.emoji : "";
    int rc, w = 0;
    switch (op->step) {
    case RX_START:
        cs_read(op, RX_CHAT, CS_CHAT_GET, "i", &req->in.chat_id);
        return;
    case RX_CHAT:
        if ((rc = cs_load_member_chat(op)) < 0)
            break;
        cs_cv_read_msg(op, RX_MSG, &op->chat.id, req->in.seq);
        return;
    case RX_MSG:
        if ((rc = cv_loaded_msg(op, m, &w)) < 0)
            break;
        op->flag = w;
        if (!op->chat.friends) {
            rc = DUET_ENOTFRIENDS;
            break;
        }
        cs_read(op, RX_BLOCKS, CS_REL_BLOCKED, "ii", me, &op->chat.peer);
        return;
    case RX_BLOCKS:
        if ((rc = cv_blocks(op, &op->flag)) < 0)
            break;
        cs_read(op, RX_OLD, CS_CV_REACT_GET, "ili", &op->chat.id, m->sequence, me);
        return;
    case RX_OLD: {
        if ((rc = cs_q_status(op)) < 0)
            break;
        const char *old = "";
        if (op->q.rows.n_rows > 0 &&
            cs_get_str(&req->pool, cql_cell(&op->q.rows, 0, 0), &old) < 0) {
            rc = -ENOMEM;
            break;
        }
        req->out.reaction.user = *me;
        req->out.reaction.emoji = emoji;
        req->out.reaction.at = req->in.now;
        req->out.hidden = op->flag;
        if (strcmp(old, emoji) == 0) {
            rc = 0; /* unchanged: nobody is told */
            break;
        }
        req->out.changed = 1;
        cs_batch_begin(op);
        if (emoji[0] == '\0')
            cs_batch_add(op, CS_CV_REACT_DEL, "ili", &op->chat.id, m->sequence, me);
        else
            cs_batch_add(op, CS_CV_REACT_PUT, "ilislb", &op->chat.id, m->sequence, me, emoji,
                         req->in.now, op->flag);
        if (!op->flag)
            cs_batch_add(op, CS_CV_PENDING_PUT, "iidliissl", &op->chat.peer, &op->chat.id,
                         PENDING_REACTION, m->sequence, me, &op->chat.peer, m->message_id, emoji,
                         req->in.now);
        cs_batch_submit(op, RX_DONE, 0);
        return;
    }
    default: /* RX_DONE */
        if ((rc = cs_q_status(op)) < 0)
            break;
        /* Push (issue 16): the author hears of a new reaction by the other. */
        req->out.notify = !op->flag && emoji[0] != '\0' && !duet_id_eq(&m->sender, me);
        rc = 0;
        break;
    }
    cs_finish(op, rc);
}

/* ---- edit ---- */

enum { ED_START = 0, ED_CHAT, ED_MSG, ED_BLOCKS, ED_PENDING, ED_DONE };

void cs_msg_edit(cs_op *op)
{
    store_req *req = op->req;
    const duet_id *me = &req->in.user;
    struct duet_msg *m = &req->out.msg;
    int rc, w = 0;
    switch (op->step) {
    case ED_START:
        if (req->in.text == NULL) {
            rc = -EINVAL;
            break;
        }
        cs_read(op, ED_CHAT, CS_CHAT_GET, "i", &req->in.chat_id);
        return;
    case ED_CHAT:
        if ((rc = cs_load_member_chat(op)) < 0)
            break;
        cs_cv_read_msg(op, ED_MSG, &op->chat.id, req->in.seq);
        return;
    case ED_MSG:
        if ((rc = cv_loaded_msg(op, m, &w)) < 0)
            break;
        op->flag = w;
        if (!duet_id_eq(&m->sender, me)) {
            rc = -EPERM; /* not_sender */
            break;
        }
        if (m->type != 0) {
            rc = -EINVAL;
            break;
        }
        if (req->in.window_ms <= 0 || req->in.now - m->sent_at > req->in.window_ms) {
            rc = DUET_EEXPIRED;
            break;
        }
        if (!op->chat.friends) {
            rc = DUET_ENOTFRIENDS;
            break;
        }
        cs_read(op, ED_BLOCKS, CS_REL_BLOCKED, "ii", me, &op->chat.peer);
        return;
    case ED_BLOCKS:
        if ((rc = cv_blocks(op, &op->flag)) < 0)
            break;
        /* An undelivered copy is rewritten, never created: read it first. */
        cs_read(op, ED_PENDING, CS_CV_PENDING_GET, "iil", &op->chat.peer, &op->chat.id,
                m->sequence);
        return;
    case ED_PENDING: {
        if ((rc = cs_q_status(op)) < 0)
            break;
        int copy = op->q.rows.n_rows > 0;
        int64_t seq = m->sequence;
        cs_batch_begin(op);
        cs_batch_add(op, CS_CV_EDIT, "slill", req->in.text, req->in.now, &op->chat.id,
                     cs_bucket(seq), seq);
        /* The claim keeps the text a retry would see: it goes too. */
        cs_batch_add(op, CS_CLAIM_ERASE, "is", &op->chat.id, m->message_id);
        if (copy)
            cs_batch_add(op, CS_CV_PENDING_TEXT, "siil", req->in.text, &op->chat.peer, &op->chat.id,
                         seq);
        if (!op->flag)
            cs_batch_add(op, CS_CV_PENDING_PUT, "iidliissl", &op->chat.peer, &op->chat.id,
                         PENDING_EDITED, seq, me, &op->chat.peer, m->message_id, req->in.text,
                         req->in.now);
        cs_batch_submit(op, ED_DONE, 0);
        return;
    }
    default: /* ED_DONE */
        if ((rc = cs_q_status(op)) < 0)
            break;
        req->out.hidden = op->flag;
        if ((m->message = pool_strdup(&req->pool, req->in.text)) == NULL) {
            rc = -ENOMEM;
            break;
        }
        m->edited_at = req->in.now;
        rc = 0;
        break;
    }
    cs_finish(op, rc);
}

/* ---- hide ---- */

enum { HD_START = 0, HD_CHAT, HD_MSG, HD_OLD, HD_DONE };

void cs_msg_hide(cs_op *op)
{
    store_req *req = op->req;
    const duet_id *me = &req->in.user;
    struct duet_msg *m = &req->out.msg;
    const struct cql_rows *r = &op->q.rows;
    int rc;
    switch (op->step) {
    case HD_START:
        cs_read(op, HD_CHAT, CS_CHAT_GET, "i", &req->in.chat_id);
        return;
    case HD_CHAT:
        if ((rc = cs_load_member_chat(op)) < 0)
            break;
        cs_cv_read_msg(op, HD_MSG, &op->chat.id, req->in.seq);
        return;
    case HD_MSG:
        /* Any message of the chat, deleted or withheld too: hiding is the
         * user's own business (no friendship or block rule). */
        if ((rc = cs_q_status(op)) < 0)
            break;
        if (r->n_rows < 1 || cs_row_void(r, 0, 0)) {
            rc = DUET_ENOTFOUND;
            break;
        }
        if (cs_read_msg(&req->pool, r, 0, 0, &op->chat.id, m) < 0) {
            rc = -ENOMEM;
            break;
        }
        cs_read(op, HD_OLD, CS_CV_HIDE_GET, "iil", me, &op->chat.id, m->sequence);
        return;
    case HD_OLD:
        if ((rc = cs_q_status(op)) < 0)
            break;
        if (r->n_rows > 0) {
            req->out.unchanged = 1;
            rc = 0;
            break;
        }
        cs_batch_begin(op);
        cs_batch_add(op, CS_CV_HIDE_PUT, "iil", me, &op->chat.id, m->sequence);
        cs_batch_add(op, CS_CV_PENDING_PUT, "iidliissl", me, &op->chat.id, PENDING_HIDDEN,
                     m->sequence, &m->sender, &m->receiver, m->message_id, "", req->in.now);
        cs_batch_submit(op, HD_DONE, 0);
        return;
    default: /* HD_DONE */
        rc = cs_q_status(op) < 0 ? DUET_ESTORE : 0;
        break;
    }
    cs_finish(op, rc);
}

/* ---- send: the quote and the forwarded copy ---- */

enum { SP_START = 0, SP_FCHAT, SP_FMSG, SP_RCHAT, SP_RMSG };

/* Before a send's claim (cs_msg_send's SEND_START hands over while
 * op->conv is 0): the forwarded message is read (the user must be able to
 * read it; its text becomes the send's) and the quoted one checked (of this
 * chat, not withheld). Then the send starts over, op->conv = 1. */
static void cv_send_pre(cs_op *op)
{
    store_req *req = op->req;
    struct duet_msg m;
    int rc, w = 0;
    switch (op->step) {
    case SP_START:
        if (req->in.has_forward) {
            cs_read(op, SP_FCHAT, CS_CHAT_GET, "i", &req->in.fwd_chat);
            return;
        }
        goto reply;
    case SP_FCHAT:
        /* Not a member of the source chat: as if there were no message. */
        if ((rc = cs_load_member_chat(op)) < 0) {
            rc = rc == DUET_EFORBIDDEN ? DUET_ENOTFOUND : rc;
            break;
        }
        cs_cv_read_msg(op, SP_FMSG, &op->chat.id, req->in.fwd_seq);
        return;
    case SP_FMSG:
        if ((rc = cv_loaded_msg(op, &m, &w)) < 0)
            break;
        if (m.type != 0) { /* media is not forwarded yet (sqlite_conv.c) */
            rc = -EOPNOTSUPP;
            break;
        }
        /* The one place a forward copies a message (as sqlite_conv.c). */
        req->in.text = m.message;
    reply:
        if (req->in.reply_to > 0) {
            cs_read(op, SP_RCHAT, CS_CHAT_GET, "i", &req->in.chat_id);
            return;
        }
        goto go;
    case SP_RCHAT:
        /* A member only learns whether a sequence exists. */
        if ((rc = cs_load_member_chat(op)) < 0)
            break;
        cs_cv_read_msg(op, SP_RMSG, &req->in.chat_id, req->in.reply_to);
        return;
    case SP_RMSG:
        if ((rc = cs_q_status(op)) < 0)
            break;
        if (op->q.rows.n_rows < 1 || cs_row_void(&op->q.rows, 0, 0) ||
            cs_row_withheld(&op->q.rows, 0, 0)) {
            rc = DUET_ENOTFOUND;
            break;
        }
    go:
        memset(&op->chat, 0, sizeof(op->chat));
        op->conv = 1;
        op->fn = cs_msg_send;
        op->step = 0;
        cs_msg_send(op);
        return;
    default:
        rc = -EINVAL;
        break;
    }
    cs_finish(op, rc);
}

int cs_conv_send_start(cs_op *op)
{
    const store_req *req = op->req;
    if (op->conv || (req->in.reply_to <= 0 && !req->in.has_forward))
        return 0;
    op->fn = cv_send_pre;
    op->step = SP_START;
    cv_send_pre(op);
    return 1;
}

enum { SQ_START = 0, SQ_WRITTEN, SQ_QUOTE };

/* After a send stored its rows: its reply_to and forwarded, then its quote
 * in req->out.msg. A crash in between leaves the message without them (an
 * op of several steps may fail part way: docs/cassandra.md). */
static void cv_send_post(cs_op *op)
{
    store_req *req = op->req;
    struct duet_msg *m = &req->out.msg;
    int rc;
    switch (op->step) {
    case SQ_START:
        cs_write(op, SQ_WRITTEN, CS_CV_SET_EXTRA, "lbill", req->in.reply_to, req->in.has_forward,
                 &m->chat_id, cs_bucket(m->sequence), m->sequence);
        return;
    case SQ_WRITTEN:
        if ((rc = cs_q_status(op)) < 0)
            break;
        m->reply_to = req->in.reply_to;
        m->forwarded = req->in.has_forward;
        if (m->reply_to > 0) {
            cs_cv_read_msg(op, SQ_QUOTE, &m->chat_id, m->reply_to);
            return;
        }
        rc = 0;
        break;
    default: /* SQ_QUOTE */
        if ((rc = cs_q_status(op)) < 0)
            break;
        rc = cs_cv_quote_from_row(op, m);
        break;
    }
    cs_finish(op, rc);
}

int cs_conv_send_done(cs_op *op)
{
    if (!op->conv)
        return 0;
    op->fn = cv_send_post;
    op->step = SQ_START;
    op->page_size = 0;
    cv_send_post(op);
    return 1;
}
