/* ws_requests.c - the WebSocket requests run: send, ack, seen, delete,
 * history, ping (typing: ws_typing.c). Each request arrives decoded and
 * validated (proto_req.c) and becomes one store request; its completion answers the sender and fans
 * events out through the hub. Every answer goes through the request's slot
 * in the session's pipe (ws_pipe.h), so answers keep the requests' order. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/media_sniff.h"
#include "../base/text.h"
#include "cache.h"
#include "proto.h"
#include "proto_req.h"
#include "publish.h"
#include "ws_pipe.h"
#include "uploads.h"
#include "ws_op.h"
#include "ws_requests.h"
#include "ws_visibility.h"
#include "push_hooks.h"

/* Output reserved for an answer beyond its frame (the ref is echoed), and
 * per history message: every character escaped (\u00XX) plus its fields. */
#define ANSWER_RESERVE      512u
#define HISTORY_MSG_RESERVE 512u

/* Answers the requester (text NULL: no answer); once per op. */
static void op_answer_text(struct chat_op *op, const char *text, size_t len)
{
    struct pipe_slot *s = op->slot;
    op->slot = NULL;
    pipe_answer(op->cl, s, text, len);
}

void op_answer(struct chat_op *op, json_t *ev)
{
    struct pipe_slot *s = op->slot;
    op->slot = NULL;
    pipe_answer_json(op->cl, s, ev);
}

void op_free(struct chat_op *op)
{
    if (op->slot != NULL) /* nothing to say (ack, typing): the next answer may go */
        op_answer_text(op, NULL, 0);
    free(op->cache_gen);
    free(op->media_json);
    store_req_reset(&op->sreq);
    proto_request_free(&op->req);
    client_unref(op->cl);
    free(op);
}

static void op_error(struct chat_op *op, int err, const char *code, const char *message)
{
    op_answer(op, client_error_event(op->cl, op->request, op->ref, err, code, message));
}

static const char *err_message(int err)
{
    switch (err) {
    case DUET_EFORBIDDEN:
        return "not a chat of yours";
    case DUET_ENOTFRIENDS:
        return "you are not friends with this user";
    case DUET_EBLOCKED:
        return "one of you blocks the other";
    case DUET_ENOTFOUND:
        return "no such message";
    case DUET_EEXPIRED:
        return "the delete window is over";
    case DUET_EDELETED:
        return "the message is already deleted";
    case DUET_ECONFLICT:
        return "this message id is used by the other participant";
    case DUET_ESTORE:
        return "the change could not be stored; nothing was changed";
    case DUET_EFULL:
        return "the recipient has too many undelivered messages; the message was not stored";
    default:
        return "internal error";
    }
}

/* The message of an error, where it depends on the request: a delete's
 * EFORBIDDEN is most often someone else's message in one's own chat. */
static const char *op_err_message(const struct chat_op *op, int err)
{
    if (err == DUET_EFORBIDDEN && op->sreq.op == STORE_MSG_DELETE)
        return "you can delete only your own messages, in your own chats";
    const char *m = ws_conv_err_message(op->sreq.op, err); /* issue 17's requests */
    return m != NULL ? m : err_message(err);
}

static void op_store_done(store_req *r)
{
    struct chat_op *op = r->data;
    /* A typing to or from someone in a block is dropped without a word, as
     * the throttle drops: an error would tell the blocked user. */
    /* A typing check took a token of the reads such typing may cost
     * (typing_read); only a refusal (not the user's chat, not friends)
     * keeps it. */
    if (r->op == STORE_CHAT_PEER && (r->status >= 0 || r->status == DUET_ESTORE ||
                                     r->status == DUET_EBUSY || r->status == DUET_EBLOCKED))
        limits_typing_refund(&op->cl->app->limits, &op->cl->hub.user, uv_now(op->cl->app->loop));
    if (r->status == DUET_EBLOCKED && r->op == STORE_CHAT_PEER) {
        op_free(op);
        return;
    }
    if (r->status < 0 && r->op == STORE_MSG_SEND && r->in.upload_id != NULL &&
        (r->status == DUET_ENOTFOUND || r->status == -ENOTSUP)) {
        /* the upload was attached meanwhile, or media is not on this store */
        op_error(op, r->status, r->status == -ENOTSUP ? "media_unavailable" : "upload_not_found",
                 r->status == -ENOTSUP ? "media is not available on this store"
                                       : "no such upload of yours");
    } else if (r->status < 0) {
        if (r->status == DUET_ESTORE)
            op->cl->app->metrics.store_errors++;
        op_error(op, r->status, ws_conv_err_code(r->op, r->status), op_err_message(op, r->status));
    } else {
        /* Fan-out runs even if the requester has gone: others still need
         * the event. Answers to the requester are no-ops then. */
        op->done(op);
        if (op->again) { /* a second step is under way (send with media) */
            op->again = 0;
            return;
        }
    }
    op_free(op);
}

store_req *op_prepare(struct chat_op *op, enum store_op type, void (*done)(struct chat_op *))
{
    store_req_init(&op->sreq, type, op_store_done, op);
    op->sreq.in.user = op->cl->hub.user;
    op->sreq.in.now = duet_now_ms();
    op->done = done;
    return &op->sreq;
}

int op_submit(struct chat_op *op)
{
    int r = app_store(op->cl->app, &op->sreq);
    if (r < 0) {
        op_error(op, r, NULL, err_message(r));
        return -1;
    }
    return 0;
}

/* ---- send ---- */

/* The connection stays open: the client waits retry_after_ms and resends
 * with the same id. */
void op_rate_limited(struct chat_op *op, int64_t wait_ms)
{
    const char *rq = op->request != NULL ? op->request : "";
    const char *what = strcmp(rq, "delete") == 0  ? "too many deletes; slow down"
                       : strcmp(rq, "edit") == 0  ? "too many edits; slow down"
                       : strcmp(rq, "react") == 0 ? "too many reactions; slow down"
                       : strcmp(rq, "hide") == 0  ? "too many messages hidden; slow down"
                       : strcmp(rq, "typing") == 0
                           ? "too many typing notices for chats that are not yours; slow down"
                           : "too many messages; slow down";
    op->cl->app->metrics.ws_errors++;
    op_answer(op, json_pack("{s:s, s:s, s:O?, s:s, s:s, s:I}", "type", "error", "request",
                            op->request, "ref", op->ref, "code", "rate_limited", "message", what,
                            "retry_after_ms", (json_int_t)wait_ms));
}

/* One token of the budget take keeps for op's user: 0, or -1 after
 * answering rate_limited. */
static int op_take(struct chat_op *op, int64_t (*take)(struct limits *, const duet_id *, uint64_t))
{
    int64_t wait = take(&op->cl->app->limits, &op->cl->hub.user, uv_now(op->cl->app->loop));
    if (wait > 0) {
        op_rate_limited(op, wait);
        return -1;
    }
    return 0;
}

int op_take_message(struct chat_op *op)
{
    return op_take(op, limits_take_message);
}

int op_take_erase(struct chat_op *op)
{
    return op_take(op, limits_take_erase);
}

static void send_done(struct chat_op *op)
{
    struct app *app = op->cl->app;
    const store_req *r = &op->sreq;
    const struct duet_msg *m = &r->out.msg;
    size_t len;
    const char *s;
    /* Both events are written directly into the loop's buffer (jsonw.h),
     * each sent (copied) before the next one is written. */
    struct jsonw *w = app_writer(app);
    proto_write_sent(w, op->ref, m, r->out.duplicate);
    s = jsonw_finish(w, &len);
    if (s == NULL)
        log_error("chat: out of memory encoding sent");
    op_answer_text(op, s, len);
    metrics_observe(&app->metrics.send_latency, (double)(uv_hrtime() - op->t0) / 1e9);
    /* A duplicate's first publish may have died with its instance (a client
     * retries after a crash): repeat it; hubs drop what was delivered. */
    if (r->out.duplicate)
        app->metrics.messages_duplicate++;
    else
        app->metrics.messages_sent++;
    w = app_writer(app);
    proto_write_message_event(w, m, 0);
    s = jsonw_finish(w, &len);
    /* the recipient, and the sender's other connections (tabs); a message
     * withheld from the recipient (they block the sender) to the tabs only */
    if (r->out.hidden)
        publish_msg(app, &m->sender, op->cl, m, s, len, r->out.duplicate != 0);
    else
        publish_pair_msg(app, &m->receiver, NULL, &m->sender, op->cl, m, s, len,
                         r->out.duplicate != 0);
    if (!r->out.hidden && !r->out.duplicate) /* a withheld message pushes nothing */
        push_on_message(app, m);
}

/* ---- send with media (issue 15) ----
 * First STORE_UPLOAD_GET: the upload must be the sender's, complete, its
 * length the declared size, its sniffed bytes the declared type
 * (media_sniff.h). Then STORE_MSG_SEND attaches it atomically (the store
 * refuses an upload attached meanwhile). An upload already attached goes
 * straight to the send: a retry with the same id is the usual duplicate. */

static void media_send(struct chat_op *op, const char *serve_mime)
{
    const struct proto_request *rq = &op->req;
    /* serve_mime may point into sreq's results, which the reset frees. */
    snprintf(op->media_mime, sizeof(op->media_mime), "%s", serve_mime);
    serve_mime = op->media_mime;
    op->media_json = media_meta_stored(&rq->media, serve_mime);
    if (op->media_json == NULL) {
        op_error(op, -ENOMEM, NULL, "out of memory");
        return;
    }
    store_req_reset(&op->sreq);
    store_req *q = op_prepare(op, STORE_MSG_SEND, send_done);
    q->in.chat_id = rq->chat_id;
    q->in.message_id = rq->id;
    q->in.text = rq->text;
    q->in.max_pending = op->cl->app->cfg->max_pending;
    q->in.upload_id = rq->media.upload;
    q->in.msg_type = rq->media.type;
    q->in.preview = rq->media.thumb;
    q->in.media = op->media_json;
    q->in.media_mime = serve_mime;
    if (op_submit(op) == 0)
        op->again = 1;
}

static void media_checked(struct chat_op *op)
{
    const struct media_meta *mm = &op->req.media;
    const struct duet_upload *up = &op->sreq.out.upload;
    struct media_sniffed sn;
    const char *serve = NULL;
    if (up->state == UPLOAD_ATTACHED) {
        media_send(op, up->mime); /* a duplicate, or refused by the store */
        return;
    }
    if (up->state != UPLOAD_STORED) {
        op_error(op, -EINVAL,
                 up->state == UPLOAD_STAGING ? "upload_incomplete" : "upload_not_found",
                 up->state == UPLOAD_STAGING ? "the upload is not complete" : "no such upload");
        return;
    }
    if (up->length != mm->size) {
        op_error(op, -EINVAL, "size_mismatch", "'media.size' is not the upload's length");
        return;
    }
    media_sniffed_from_mime(up->mime, &sn);
    if (!media_agrees(mm->type, &sn, &serve)) {
        op_error(op, -EINVAL, "type_mismatch", "the upload's bytes are not of the declared type");
        return;
    }
    media_send(op, serve);
}

static void media_get_done(store_req *r)
{
    struct chat_op *op = r->data;
    if (r->status == DUET_ENOTFOUND) {
        op_error(op, r->status, "upload_not_found", "no such upload of yours");
        op_free(op);
        return;
    }
    if (r->status == -ENOTSUP) {
        op_error(op, r->status, "media_unavailable", "media is not available on this store");
        op_free(op);
        return;
    }
    op_store_done(r);
}

static int ws_media_check(struct chat_op *op)
{
    store_req *q = op_prepare(op, STORE_UPLOAD_GET, media_checked);
    q->cb = media_get_done;
    q->in.upload_id = op->req.media.upload;
    return op_submit(op);
}

static int start_send(struct chat_op *op)
{
    const struct proto_request *rq = &op->req;
    if (op_take_message(op) < 0)
        return -1;
    if (rq->has_media) /* the upload is checked first (ws_media.c) */
        return ws_media_check(op);
    store_req *q = op_prepare(op, STORE_MSG_SEND, send_done);
    q->in.chat_id = rq->chat_id;
    q->in.message_id = rq->id;
    q->in.text = rq->text;
    q->in.max_pending = op->cl->app->cfg->max_pending;
    q->in.reply_to = rq->reply_to; /* issue 17: a quote, or a forward */
    q->in.has_forward = rq->has_forward;
    q->in.fwd_chat = rq->fwd_chat;
    q->in.fwd_seq = rq->fwd_seq;
    return op_submit(op);
}

/* ---- ack ---- */

static void ack_done(struct chat_op *op)
{
    struct app *app = op->cl->app;
    const store_req *r = &op->sreq;
    if (r->in.kind != PENDING_MESSAGE || !r->out.receipt.changed)
        return;
    app->metrics.messages_delivered++;
    publish_event(app, &r->out.receipt.peer,
                  proto_receipt_event(&r->in.chat_id, 0, r->out.receipt.seq, r->out.receipt.at),
                  NULL);
}

static int start_ack(struct chat_op *op)
{
    store_req *q = op_prepare(op, STORE_MSG_ACK, ack_done);
    q->in.chat_id = op->req.chat_id;
    q->in.kind = op->req.kind;
    q->in.seq = op->req.seq;
    return op_submit(op);
}

/* ---- seen ---- */

static void seen_done(struct chat_op *op)
{
    struct app *app = op->cl->app;
    const store_req *r = &op->sreq;
    publish_event(app, &op->cl->hub.user,
                  json_pack("{s:s, s:o, s:I}", "type", "read", "chat_id", proto_id(&r->in.chat_id),
                            "seq", (json_int_t)r->out.read_seq),
                  op->cl);
    if (r->out.receipt.changed)
        publish_event(app, &r->out.receipt.peer,
                      proto_receipt_event(&r->in.chat_id, 1, r->out.receipt.seq, r->out.receipt.at),
                      NULL);
    push_on_read(app, &op->cl->hub.user, &r->in.chat_id);
}

static int start_seen(struct chat_op *op)
{
    store_req *q = op_prepare(op, STORE_MSG_SEEN, seen_done);
    q->in.chat_id = op->req.chat_id;
    q->in.seq = op->req.seq;
    return op_submit(op);
}

/* ---- delete ---- */

static void delete_done(struct chat_op *op)
{
    struct app *app = op->cl->app;
    const struct duet_msg *m = &op->sreq.out.msg;
    json_t *mine = proto_deleted_event(m);
    if (mine != NULL && op->ref != NULL && json_object_set(mine, "ref", op->ref) < 0) {
        json_decref(mine);
        mine = NULL; /* an answer the client cannot match: pipe_answer_json closes */
    }
    op_answer(op, mine);
    publish_event(app, &m->sender, proto_deleted_event(m), op->cl);
    if (!op->sreq.out.hidden) /* a withheld message: the receiver never had it */
        publish_event(app, &m->receiver, proto_deleted_event(m), NULL);
    push_on_delete(app, m);
    if (op->sreq.out.deleted_upload != NULL) /* media: its blob goes too */
        uploads_forget(app, op->sreq.out.deleted_upload);
}

static int start_delete(struct chat_op *op)
{
    if (op_take_erase(op) < 0)
        return -1;
    store_req *q = op_prepare(op, STORE_MSG_DELETE, delete_done);
    q->in.chat_id = op->req.chat_id;
    q->in.seq = op->req.seq;
    q->in.window_ms = op->cl->app->cfg->delete_window_s * 1000;
    return op_submit(op);
}

/* ---- history ---- */

static void history_done(struct chat_op *op)
{
    const store_req *r = &op->sreq;
    /* Written directly: jansson objects for 100 messages cost most of a
     * page's CPU in malloc/free (BENCHMARKS.md). */
    struct jsonw *w = app_writer(op->cl->app);
    proto_write_history(w, op->ref, &r->in.chat_id, r->out.msgs, r->out.n_msgs);
    size_t len;
    const char *s = jsonw_finish(w, &len);
    if (s == NULL) {
        log_error("chat: out of memory encoding a history page");
        op_error(op, -ENOMEM, NULL, "out of memory");
        return;
    }
    op_answer_text(op, s, len);
}

static int start_history(struct chat_op *op)
{
    const struct proto_history *h = &op->req.history;
    store_req *q = op_prepare(op, STORE_HISTORY, history_done);
    q->in.chat_id = op->req.chat_id;
    q->in.before = h->before;
    q->in.after = h->after;
    q->in.has_after = h->has_after;
    q->in.limit = h->limit;
    return op_submit(op);
}

/* ---- ping ---- */

static int start_ping(struct chat_op *op)
{
    op_answer(op, json_pack("{s:s, s:O?, s:I}", "type", "pong", "ref", op->ref, "time",
                            (json_int_t)duet_now_ms()));
    return -1; /* answered; nothing in flight */
}

/* ---- visibility (Web Push: ws_visibility.c) ---- */

static int start_visibility(struct chat_op *op)
{
    op_answer(op, ws_visibility(op->cl, op->ref, op->req.visible));
    return -1; /* answered; nothing in flight */
}

/* Indexed by enum proto_req_type; each returns 0, or -1 when nothing is in
 * flight (answered, or dropped on purpose). */
static int (*const starts[])(struct chat_op *op) = {
    [PROTO_REQ_SEND] = start_send,
    [PROTO_REQ_ACK] = start_ack,
    [PROTO_REQ_SEEN] = start_seen,
    [PROTO_REQ_TYPING] = ws_typing_start,
    [PROTO_REQ_DELETE] = start_delete,
    [PROTO_REQ_HISTORY] = start_history,
    [PROTO_REQ_PING] = start_ping,
    [PROTO_REQ_VISIBILITY] = start_visibility,
    /* issue 17 (c-msg) */
    [PROTO_REQ_REACT] = ws_conv_start_react,
    [PROTO_REQ_EDIT] = ws_conv_start_edit,
    [PROTO_REQ_HIDE] = ws_conv_start_hide,
};

/* The output an answer to rq may take, reserved before it is built. */
static size_t answer_reserve(const struct client *cl, const struct proto_request *rq, size_t len)
{
    size_t n = len + ANSWER_RESERVE;
    if (rq->type == PROTO_REQ_HISTORY)
        n += (size_t)rq->history.limit *
             ((size_t)cl->app->cfg->max_message_chars * 6 + HISTORY_MSG_RESERVE);
    return n;
}

void ws_requests_on_text(struct client *cl, const char *data, size_t len)
{
    struct proto_request rq;
    struct proto_req_error e;
    int bad = proto_parse_request(data, len, cl->app->cfg->max_message_chars, &rq, &e) < 0;
    struct pipe_slot *slot =
        pipe_open(cl, bad ? len + ANSWER_RESERVE : answer_reserve(cl, &rq, len));
    struct chat_op *op = NULL;
    if (slot == NULL || (!bad && (op = calloc(1, sizeof(*op))) == NULL)) {
        /* Without its answer the client would wait forever: let it resume. */
        log_error("chat: out of memory taking a request");
        pipe_answer(cl, slot, NULL, 0);
        net_ws_close(cl->hub.conn, 1011, "try again");
        proto_request_free(&rq);
        return;
    }
    if (bad) {
        pipe_answer_json(cl, slot,
                         client_error_event(cl, rq.request, rq.ref, e.err, e.code, e.message));
        proto_request_free(&rq);
        return;
    }
    op->slot = slot;
    op->req = rq; /* the op owns the frame from here */
    op->cl = cl;
    op->ref = op->req.ref;
    op->request = op->req.request;
    op->t0 = uv_hrtime();
    store_req_init(&op->sreq, STORE_USER_GET, NULL, op);
    client_ref(cl);
    if (starts[op->req.type](op) < 0)
        op_free(op);
}
