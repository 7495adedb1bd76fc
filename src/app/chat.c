/* chat.c - the WebSocket requests: send, ack, seen, typing, delete, history,
 * ping. Each request is validated here, then becomes one store request; its
 * completion answers the sender and fans events out through the hub. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/text.h"
#include "api_int.h"
#include "proto.h"

#define TYPING_INTERVAL_MS 1000

/* One WebSocket request in flight.
 * Ownership: holds a reference on its client and on the parsed frame (the
 * store borrows strings from it); freed by op_free. */
struct chat_op {
    struct client *cl;
    json_t *frame;
    json_t *ref;         /* borrowed from frame */
    const char *request; /* static type name */
    store_req sreq;
    uint64_t t0; /* uv_hrtime at receipt */
    void (*done)(struct chat_op *op);
    char cache_key[CACHE_KEY_MAX]; /* typing: the check's cache entry */
    char *cache_gen;               /* set on a miss: fill it after the read */
};

struct handler {
    const char *type;
    int (*start)(struct chat_op *op); /* 0, or -1 after answering an error */
};

static void op_free(struct chat_op *op)
{
    free(op->cache_gen);
    store_req_reset(&op->sreq);
    json_decref(op->frame);
    client_unref(op->cl);
    free(op);
}

static void op_error(struct chat_op *op, int err, const char *code, const char *message)
{
    client_send_error(op->cl, op->request, op->ref, err, code, message);
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
    return err_message(err);
}

static void op_store_done(store_req *r)
{
    struct chat_op *op = r->data;
    /* A typing to or from someone in a block is dropped without a word, as
     * the throttle drops: an error would tell the blocked user. */
    if (r->status == DUET_EBLOCKED && r->op == STORE_CHAT_PEER) {
        op_free(op);
        return;
    }
    if (r->status < 0) {
        if (r->status == DUET_ESTORE)
            op->cl->app->metrics.store_errors++;
        op_error(op, r->status, NULL, op_err_message(op, r->status));
    } else {
        /* Fan-out runs even if the requester has gone: others still need
         * the event. Answers to the requester are no-ops then. */
        op->done(op);
    }
    op_free(op);
}

static store_req *op_prepare(struct chat_op *op, enum store_op type, void (*done)(struct chat_op *))
{
    store_req_init(&op->sreq, type, op_store_done, op);
    op->sreq.in.user = op->cl->user;
    op->sreq.in.now = duet_now_ms();
    op->done = done;
    return &op->sreq;
}

static int op_submit(struct chat_op *op)
{
    int r = app_store(op->cl->app, &op->sreq);
    if (r < 0) {
        op_error(op, r, NULL, err_message(r));
        return -1;
    }
    return 0;
}

/* Field readers that answer the error themselves. */
static int need_id(struct chat_op *op, const char *key, duet_id *id)
{
    int r = proto_get_id(op->frame, key, id);
    if (r == 0)
        return 0;
    char msg[80];
    snprintf(msg, sizeof(msg), r == -ENOENT ? "missing field '%s'" : "'%s' must be a UUID", key);
    op_error(op, r, r == -ENOENT ? "missing_field" : "bad_request", msg);
    return -1;
}

static int need_seq(struct chat_op *op, const char *key, int64_t *v, int64_t min)
{
    int r = proto_get_int(op->frame, key, v);
    if (r == 0 && *v >= min)
        return 0;
    char msg[80];
    snprintf(msg, sizeof(msg),
             r == -ENOENT ? "missing field '%s'" : "'%s' must be an integer >= %lld", key,
             (long long)min);
    op_error(op, r, r == -ENOENT ? "missing_field" : "bad_request", msg);
    return -1;
}

/* ---- send ---- */

/* The connection stays open: the client waits retry_after_ms and resends
 * with the same id. */
static void rate_limited(struct chat_op *op, int64_t wait_ms)
{
    op->cl->app->metrics.ws_errors++;
    client_send(op->cl,
                json_pack("{s:s, s:s, s:O?, s:s, s:s, s:I}", "type", "error", "request",
                          op->request, "ref", op->ref, "code", "rate_limited", "message",
                          "too many messages; slow down", "retry_after_ms", (json_int_t)wait_ms));
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
    client_send_text(op->cl, s, len);
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
        app_publish_msg(app, &m->sender, op->cl, m, s, len, r->out.duplicate != 0);
    else
        app_publish_pair_msg(app, &m->receiver, NULL, &m->sender, op->cl, m, s, len,
                             r->out.duplicate != 0);
}

static int start_send(struct chat_op *op)
{
    duet_id chat;
    const char *id, *text;
    size_t idlen, tlen;
    if (need_id(op, "chat_id", &chat) < 0)
        return -1;
    int r = proto_get_str(op->frame, "id", &id, &idlen);
    if (r < 0 || !text_client_id_ok(id, idlen)) {
        op_error(op, r, r == -ENOENT ? "missing_field" : "bad_request",
                 r == -ENOENT ? "missing field 'id'" : "'id' is 1 to 64 of A-Z a-z 0-9 _ -");
        return -1;
    }
    r = proto_get_str(op->frame, "text", &text, &tlen);
    if (r < 0) {
        op_error(op, r, r == -ENOENT ? "missing_field" : "bad_request",
                 r == -ENOENT ? "missing field 'text'" : "'text' must be a string");
        return -1;
    }
    int64_t max = op->cl->app->cfg->max_message_chars;
    if (tlen == 0) {
        op_error(op, -EINVAL, "empty", "the text is empty");
        return -1;
    }
    if ((int64_t)tlen > max && (int64_t)text_utf8_chars(text, tlen) > max) {
        char msg[80];
        snprintf(msg, sizeof(msg), "text is longer than %lld characters", (long long)max);
        op_error(op, -EINVAL, "too_long", msg);
        return -1;
    }
    int64_t wait =
        limits_take_message(&op->cl->app->limits, &op->cl->user, uv_now(op->cl->app->loop));
    if (wait > 0) {
        rate_limited(op, wait);
        return -1;
    }
    store_req *q = op_prepare(op, STORE_MSG_SEND, send_done);
    q->in.chat_id = chat;
    q->in.message_id = id;
    q->in.text = text;
    q->in.max_pending = op->cl->app->cfg->max_pending;
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
    app_publish(app, &r->out.receipt.peer,
                proto_receipt_event(&r->in.chat_id, 0, r->out.receipt.seq, r->out.receipt.at),
                NULL);
}

static int start_ack(struct chat_op *op)
{
    static const char *kinds[] = {"message", "delivered", "seen", "deleted"};
    duet_id chat;
    int64_t seq;
    const char *kind;
    size_t klen;
    if (need_id(op, "chat_id", &chat) < 0 || need_seq(op, "seq", &seq, 0) < 0)
        return -1;
    int r = proto_get_str(op->frame, "kind", &kind, &klen);
    int k = -1;
    for (int i = 0; r == 0 && i < 4; i++)
        if (strcmp(kind, kinds[i]) == 0)
            k = i;
    if (k < 0) {
        op_error(op, r, r == -ENOENT ? "missing_field" : "bad_request",
                 r == -ENOENT ? "missing field 'kind'"
                              : "'kind' is message, delivered, seen or deleted");
        return -1;
    }
    store_req *q = op_prepare(op, STORE_MSG_ACK, ack_done);
    q->in.chat_id = chat;
    q->in.kind = k;
    q->in.seq = seq;
    return op_submit(op);
}

/* ---- seen ---- */

static void seen_done(struct chat_op *op)
{
    struct app *app = op->cl->app;
    const store_req *r = &op->sreq;
    app_publish(app, &op->cl->user,
                json_pack("{s:s, s:o, s:I}", "type", "read", "chat_id", proto_id(&r->in.chat_id),
                          "seq", (json_int_t)r->out.read_seq),
                op->cl);
    if (r->out.receipt.changed)
        app_publish(app, &r->out.receipt.peer,
                    proto_receipt_event(&r->in.chat_id, 1, r->out.receipt.seq, r->out.receipt.at),
                    NULL);
}

static int start_seen(struct chat_op *op)
{
    duet_id chat;
    int64_t seq;
    if (need_id(op, "chat_id", &chat) < 0 || need_seq(op, "seq", &seq, 0) < 0)
        return -1;
    store_req *q = op_prepare(op, STORE_MSG_SEEN, seen_done);
    q->in.chat_id = chat;
    q->in.seq = seq;
    return op_submit(op);
}

/* ---- typing ---- */

static void typing_publish(struct chat_op *op, const duet_id *peer, const duet_id *chat)
{
    app_publish(op->cl->app, peer,
                json_pack("{s:s, s:o, s:o}", "type", "typing", "chat_id", proto_id(chat), "from",
                          proto_id(&op->cl->user)),
                NULL);
}

static void typing_done(struct chat_op *op)
{
    const store_req *r = &op->sreq;
    if (op->cache_gen != NULL) {
        char v[DUET_ID_STRLEN + 1];
        duet_id_format(&r->out.peer.id, v);
        cache_set(op->cl->app, op->cache_key, v, strlen(v), op->cache_gen);
    }
    typing_publish(op, &r->out.peer.id, &r->in.chat_id);
}

/* The cached check: a hit is the peer's id; a miss reads the store. */
static void typing_cached(void *data, const char *value, size_t len, const char *gen)
{
    struct chat_op *op = data;
    duet_id peer;
    if (value != NULL && duet_id_parse(value, len, &peer) == 0) {
        typing_publish(op, &peer, &op->sreq.in.chat_id);
        op_free(op);
        return;
    }
    if (gen != NULL && (op->cache_gen = strdup(gen)) == NULL)
        log_warn("chat: out of memory; not caching a typing check");
    if (op_submit(op) < 0)
        op_free(op);
}

static int typing_stale(void *value, void *ctx)
{
    uint64_t *at = value;
    if (*(const uint64_t *)ctx - *at < TYPING_INTERVAL_MS)
        return 0;
    free(at);
    return 1;
}

/* 1 if this user's typing in chat was forwarded less than a second ago
 * (from any of their connections). */
static int typing_throttled(struct client *cl, const duet_id *chat)
{
    map_t *m = &cl->app->typing;
    uint64_t now = uv_now(cl->app->loop);
    uint8_t key[32];
    memcpy(key, cl->user.b, 16);
    memcpy(key + 16, chat->b, 16);
    uint64_t *at = map_get(m, key, sizeof(key));
    if (at != NULL) {
        if (now - *at < TYPING_INTERVAL_MS)
            return 1;
        *at = now;
        return 0;
    }
    if (m->count >= 4096) /* only recent entries matter */
        map_filter(m, typing_stale, &now);
    at = malloc(sizeof(*at));
    if (at == NULL)
        return 0; /* forward unthrottled rather than drop */
    *at = now;
    if (map_put(m, key, sizeof(key), at) < 0)
        free(at);
    return 0;
}

static int start_typing(struct chat_op *op)
{
    duet_id chat;
    if (need_id(op, "chat_id", &chat) < 0)
        return -1;
    if (typing_throttled(op->cl, &chat))
        return -1; /* dropped on purpose: typing is best effort */
    store_req *q = op_prepare(op, STORE_CHAT_PEER, typing_done);
    q->in.chat_id = chat;
    cache_key_peer(op->cache_key, &op->cl->user, &chat);
    if (cache_get(op->cl->app, op->cache_key, typing_cached, op) == 0)
        return 0; /* typing_cached goes on */
    return op_submit(op);
}

/* ---- delete ---- */

static void delete_done(struct chat_op *op)
{
    struct app *app = op->cl->app;
    const struct duet_msg *m = &op->sreq.out.msg;
    json_t *mine = proto_deleted_event(m);
    if (mine != NULL && op->ref != NULL)
        json_object_set(mine, "ref", op->ref);
    client_send(op->cl, mine);
    app_publish(app, &m->sender, proto_deleted_event(m), op->cl);
    if (!op->sreq.out.hidden) /* a withheld message: the receiver never had it */
        app_publish(app, &m->receiver, proto_deleted_event(m), NULL);
}

static int start_delete(struct chat_op *op)
{
    duet_id chat;
    int64_t seq;
    if (need_id(op, "chat_id", &chat) < 0 || need_seq(op, "seq", &seq, 1) < 0)
        return -1;
    store_req *q = op_prepare(op, STORE_MSG_DELETE, delete_done);
    q->in.chat_id = chat;
    q->in.seq = seq;
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
    client_send_text(op->cl, s, len);
}

static int start_history(struct chat_op *op)
{
    duet_id chat;
    const char *bad;
    if (need_id(op, "chat_id", &chat) < 0)
        return -1;
    store_req *q = op_prepare(op, STORE_HISTORY, history_done);
    if (api_history_params(op->frame, NULL, q, &bad) < 0) {
        op_error(op, -EINVAL, "bad_request", bad);
        return -1;
    }
    q->in.chat_id = chat;
    return op_submit(op);
}

/* ---- ping ---- */

static int start_ping(struct chat_op *op)
{
    client_send(op->cl, json_pack("{s:s, s:O?, s:I}", "type", "pong", "ref", op->ref, "time",
                                  (json_int_t)duet_now_ms()));
    return -1; /* answered; nothing in flight */
}

static const struct handler handlers[] = {
    {"send", start_send},     {"ack", start_ack},       {"seen", start_seen},
    {"typing", start_typing}, {"delete", start_delete}, {"history", start_history},
    {"ping", start_ping},
};

static int ref_ok(json_t *ref)
{
    if (ref == NULL || json_is_integer(ref))
        return 1;
    return json_is_string(ref) && json_string_length(ref) <= 64;
}

void chat_on_text(struct client *cl, const char *data, size_t len)
{
    json_error_t jerr;
    json_t *frame = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (frame == NULL || !json_is_object(frame)) {
        json_decref(frame);
        client_send_error(cl, NULL, NULL, -EINVAL, "bad_json", "each frame is one JSON object");
        return;
    }
    json_t *type = json_object_get(frame, "type");
    json_t *ref = json_object_get(frame, "ref");
    if (!ref_ok(ref)) {
        client_send_error(cl, json_string_value(type), NULL, -EINVAL, "bad_request",
                          "'ref' is a string of up to 64 characters or an integer");
        json_decref(frame);
        return;
    }
    if (!json_is_string(type)) {
        client_send_error(cl, NULL, ref, -EINVAL, type ? "bad_request" : "missing_field",
                          "'type' must be a string");
        json_decref(frame);
        return;
    }
    const struct handler *h = NULL;
    for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
        if (strcmp(handlers[i].type, json_string_value(type)) == 0)
            h = &handlers[i];
    if (h == NULL) {
        client_send_error(cl, json_string_value(type), ref, -EINVAL, "unknown_type",
                          "unknown request type");
        json_decref(frame);
        return;
    }
    struct chat_op *op = calloc(1, sizeof(*op));
    if (op == NULL) {
        client_send_error(cl, h->type, ref, -ENOMEM, NULL, "out of memory");
        json_decref(frame);
        return;
    }
    op->cl = cl;
    op->frame = frame;
    op->ref = ref;
    op->request = h->type;
    op->t0 = uv_hrtime();
    store_req_init(&op->sreq, STORE_USER_GET, NULL, op);
    client_ref(cl);
    if (h->start(op) < 0)
        op_free(op);
}
