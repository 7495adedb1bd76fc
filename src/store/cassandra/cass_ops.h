/* cass_ops.h - the Cassandra store's ops, one function per store.h request
 * (or family), and the pure helpers of some of them. Each is a state
 * machine (cass_int.h); cass.c dispatches to them by request kind.
 */
#ifndef DUET_STORE_CASS_OPS_H
#define DUET_STORE_CASS_OPS_H

#include "../../base/pool.h"
#include "../store.h"

typedef struct cs_op cs_op;

typedef void (*cs_op_fn)(cs_op *op);
void cs_user_create(cs_op *op);
void cs_user_get_by_name(cs_op *op);
void cs_user_get(cs_op *op);
void cs_user_update(cs_op *op);
void cs_user_set_password(cs_op *op);
void cs_user_set_last_seen(cs_op *op);
void cs_session_create(cs_op *op);
void cs_session_get(cs_op *op);
void cs_session_delete(cs_op *op);
void cs_friend_op(cs_op *op); /* every friend and block op */
void cs_requests_list(cs_op *op);
void cs_blocks_list(cs_op *op);
void cs_chats_list(cs_op *op);
void cs_presence_peers(cs_op *op);
void cs_chat_peer(cs_op *op);
void cs_msg_send(cs_op *op);
void cs_msg_ack(cs_op *op);
void cs_msg_seen(cs_op *op);
void cs_msg_delete(cs_op *op);
void cs_history(cs_op *op);
void cs_pending_list(cs_op *op);
/* cass_org.c (c-org) */
void cs_chat_state_set(cs_op *op);
/* After a CS_STATE_ALL read: the user's pin/archive/mute into chats[]. */
void cs_state_apply(const cs_op *op, struct duet_chat *chats, size_t n);
/* A PENDING_CHAT_STATE row: its time columns into p->state (as SQLite). */
void cs_state_from_row(struct duet_pending *p);
/* cass_push.c: Web Push. */
void cs_push_sub_add(cs_op *op);
void cs_push_sub_list(cs_op *op);
void cs_push_sub_delete(cs_op *op); /* SUB_DELETE and SUB_LOGOUT */
void cs_push_prefs(cs_op *op);
void cs_push_enqueue(cs_op *op);
void cs_push_jobs_list(cs_op *op);
void cs_push_job_done(cs_op *op);
/* cass_search.c: STORE_SEARCH, and its word matching (pure, unit-tested). */
void cs_search(cs_op *op);
#define CS_SEARCH_WORDS 8 /* query words used at most, as SQLite */
/* A query word. Ownership: points into the query. */
struct cs_word {
    const char *s;
    size_t len;
};
/* The words of q (split as SQLite splits them) into w[CS_SEARCH_WORDS]:
 * their count. */
size_t cs_search_words(const char *q, struct cs_word *w);
/* 1 if every word matches a word of text (case and Latin diacritics
 * folded; from two bytes on a word also matches a word start), else 0. */
int cs_search_match(const char *text, size_t len, const struct cs_word *w, size_t nw);
/* cass_uploads.c (issue 15): the upload ops. */
void cs_upload_op(cs_op *op);
/* MSG_SEND, after a refused attach (a row of CS_UPLOAD_GET in q): 0 when the
 * upload is attached to this send's chat and message id, else
 * DUET_ENOTFOUND. */
int cs_upload_attached_here(cs_op *op);
/* The upload id in a message's media JSON ("{\"id\":\"<32 hex>\",...",
 * media_meta.c), copied into p; NULL when there is none. */
const char *cs_media_upload_id(pool_t *p, const char *media);
/* cass_conv.c (issue 17): the ops, and the steps other ops hand over to.
 * cs_conv_send_start: at a send's start, checks its quote and forward
 * first (1: handed over; the send starts again after). cs_conv_send_done:
 * after a stored send, writes them (1: handed over, finishes the op). The
 * _done ones take a finished history / pending read and finish the op. */
void cs_msg_react(cs_op *op);
void cs_msg_edit(cs_op *op);
void cs_msg_hide(cs_op *op);
int cs_conv_send_start(cs_op *op);
int cs_conv_send_done(cs_op *op);
void cs_conv_history_done(cs_op *op);
void cs_conv_pending_done(cs_op *op);
/* The chat list: the user's hidden sequences of a chat (CS_CV_HIDDEN_TOP
 * rows in q, newest first) into op->marks; whether seq is one of them. */
int cs_conv_hidden_load(cs_op *op);
int cs_conv_hidden_has(const cs_op *op, int64_t seq);
/* Shared by cass_conv.c and cass_conv_read.c: reads message seq of chat
 * (CS_MSG_GET, then step next); a CS_MSG_GET row (q) as m's quote (the
 * original's sender, type, first line; deleted or missing: erased): 0 or
 * -ENOMEM. */
void cs_cv_read_msg(cs_op *op, int next, const duet_id *chat, int64_t seq);
int cs_cv_quote_from_row(cs_op *op, struct duet_msg *m);

#endif
