/* cass_delete.c - delete for everyone on Cassandra: the text leaves the
 * message row and its claim in one batch with the peer's DELETED row (the
 * statements are cass_msgs.c's); what the cluster's files keep until
 * compaction is in docs/cassandra.md.
 */
#include "cass_int.h"

#include <errno.h>
#include <string.h>

/* Steps of cs_msg_delete. */
enum {
    DEL_START = 0,
    DEL_CHAT,     /* the chat's statics */
    DEL_ROW,      /* the message row */
    DEL_WRITTEN,  /* the erasing batch */
    DEL_RECEIPTS, /* both users (read receipts) */
};

void cs_msg_delete(cs_op *op)
{
    store_req *req = op->req;
    const duet_id *me = &req->in.user;
    struct duet_msg *m = &req->out.msg;
    int64_t now = req->in.now, seq = req->in.seq;
    int rc;
    switch (op->step) {
    case DEL_START:
        cs_read(op, DEL_CHAT, CS_CHAT_GET, "i", &req->in.chat_id);
        return;
    case DEL_CHAT:
        if ((rc = cs_load_member_chat(op)) < 0)
            break;
        cs_read(op, DEL_ROW, CS_MSG_GET, "ill", &op->chat.id, cs_bucket(seq), seq);
        return;
    case DEL_ROW: {
        if ((rc = cs_q_status(op)) < 0)
            break;
        if (op->q.rows.n_rows < 1) {
            rc = DUET_ENOTFOUND;
            break;
        }
        if (cs_read_msg(&req->pool, &op->q.rows, 0, 0, &op->chat.id, m) < 0) {
            rc = -ENOMEM;
            break;
        }
        if (!duet_id_eq(&m->sender, me)) {
            rc = DUET_EFORBIDDEN;
            break;
        }
        if (m->deleted_at != 0) {
            rc = DUET_EDELETED;
            break;
        }
        if (now - m->sent_at > req->in.window_ms) {
            rc = DUET_EEXPIRED;
            break;
        }
        /* The text goes from the message and from its claim; an undelivered
         * copy goes away; the DELETED row tells the peer's devices (not
         * for a withheld message: the peer never had it). */
        const duet_id *peer = &op->chat.peer;
        req->out.hidden = cs_row_withheld(&op->q.rows, 0, 0);
        cs_batch_begin(op);
        cs_batch_add(op, CS_MSG_ERASE, "lill", now, &op->chat.id, cs_bucket(seq), seq);
        cs_batch_add(op, CS_CLAIM_ERASE, "is", &op->chat.id, m->message_id);
        cs_batch_add(op, CS_PENDING_DEL_AT, "iidl", peer, &op->chat.id, PENDING_MESSAGE, seq);
        cs_batch_add(op, CS_PENDING_INSERT, "iidliisdllll", peer, &op->chat.id, PENDING_DELETED,
                     seq, &m->sender, &m->receiver, m->message_id, m->type, m->sent_at, (int64_t)0,
                     (int64_t)0, now);
        /* Media: the upload is marked deleted; its blob goes (store.h). */
        if ((req->out.deleted_upload = cs_media_upload_id(&req->pool, m->media)) != NULL)
            cs_batch_add(op, CS_UPLOAD_MARK_DELETED, "dls", UPLOAD_DELETED, now,
                         req->out.deleted_upload);
        /* issue 17: its reactions and the peer's reaction and edit rows go too */
        cs_batch_add(op, CS_CV_REACT_DEL_ALL, "il", &op->chat.id, seq);
        cs_batch_add(op, CS_PENDING_DEL_AT, "iidl", peer, &op->chat.id, PENDING_REACTION, seq);
        cs_batch_add(op, CS_PENDING_DEL_AT, "iidl", peer, &op->chat.id, PENDING_EDITED, seq);
        cs_batch_submit(op, DEL_WRITTEN, 0);
        return;
    }
    case DEL_WRITTEN:
        if ((rc = cs_q_status(op)) < 0)
            break;
        m->message = m->preview = m->media = "";
        m->deleted_at = now;
        if ((rc = cs_want_receipts(op, DEL_RECEIPTS, m)) != 0)
            return; /* sent, or failed and finished */
        break;
    default: /* DEL_RECEIPTS */
        rc = cs_receipts_apply(op, m);
        break;
    }
    cs_finish(op, rc);
}
