/* ws_typing.c - the `typing` request: checked against the chat (a cached
 * peer, else a store read within the user's budget for chats that are not
 * theirs), throttled to one event a second per user and chat, and
 * published to the peer. Best effort: dropped on purpose when throttled. */
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "cache.h"
#include "proto.h"
#include "publish.h"
#include "ws_op.h"

/* The throttle's key: the typing user and the chat. */
static void typing_key(const struct client *cl, const duet_id *chat, uint8_t key[32])
{
    memcpy(key, cl->hub.user.b, 16);
    memcpy(key + 16, chat->b, 16);
}

/* Runs once the user is known to be in the chat: only then does the
 * throttle hold an entry for it, so chat ids a client makes up cost it an
 * error each and the server nothing that lasts (issue 14 item 6). */
static void typing_publish(struct chat_op *op, const duet_id *peer, const duet_id *chat)
{
    uint8_t key[32];
    typing_key(op->cl, chat, key);
    if (recent_mark(&op->cl->app->typing, key, sizeof(key), uv_now(op->cl->app->loop)))
        return; /* another connection's typing went out this second */
    publish_event(op->cl->app, peer,
                  json_pack("{s:s, s:o, s:o}", "type", "typing", "chat_id", proto_id(chat), "from",
                            proto_id(&op->cl->hub.user)),
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

/* A check the cache could not answer reads the store, unless the user's
 * typing to chats that are not theirs was refused too often of late
 * (limits.h): then it is refused without the read. 0, or -1 after
 * answering. */
static int typing_read(struct chat_op *op)
{
    struct limits *l = &op->cl->app->limits;
    uint64_t now = uv_now(op->cl->app->loop);
    duet_id user = op->cl->hub.user;
    int64_t wait = limits_typing_take(l, &user, now);
    if (wait > 0) {
        op_rate_limited(op, wait);
        return -1;
    }
    int r = op_submit(op);
    if (r < 0) /* answered; nothing was read */
        limits_typing_refund(l, &user, now);
    return r;
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
    if (typing_read(op) < 0)
        op_free(op);
}

int ws_typing_start(struct chat_op *op)
{
    const duet_id *chat = &op->req.chat_id;
    uint8_t key[32];
    typing_key(op->cl, chat, key);
    /* Forwarded less than a second ago (from any of the user's
     * connections): dropped on purpose, typing is best effort. */
    if (recent_seen(&op->cl->app->typing, key, sizeof(key), uv_now(op->cl->app->loop)))
        return -1;
    store_req *q = op_prepare(op, STORE_CHAT_PEER, typing_done);
    q->in.chat_id = *chat;
    cache_key_peer(op->cache_key, &op->cl->hub.user, chat);
    if (cache_get(op->cl->app, op->cache_key, typing_cached, op) == 0)
        return 0; /* typing_cached goes on */
    return typing_read(op);
}
