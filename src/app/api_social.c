/* api_social.c - friends, blocks, the conversation list and history. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/text.h"
#include "api_int.h"
#include "cache.h"
#include "presence.h"
#include "proto.h"
#include "proto_req.h"
#include "publish.h"

/* Tells one user's connections about a change with `other`. */
static void friends_tell(struct app *app, const duet_id *to, const char *reason,
                         const struct duet_user *other, const duet_id *chat)
{
    publish_event(app, to, proto_friends_event(reason, other, chat), NULL);
}

/* Tells both users' connections that their friendship state changed, so
 * clients refresh their lists. */
static void friends_changed(struct api_call *call, const char *reason, const struct duet_user *peer)
{
    friends_tell(call->app, &call->me.id, reason, peer, NULL);
    friends_tell(call->app, &peer->id, reason, &call->me, NULL);
}

/* The same for a change that comes with the pair's chat (accepted,
 * removed): both sides learn its id without reading the chat list. */
static void friends_changed_chat(struct api_call *call, const char *reason,
                                 const struct duet_user *peer, const duet_id *chat)
{
    friends_tell(call->app, &call->me.id, reason, peer, chat);
    friends_tell(call->app, &peer->id, reason, &call->me, chat);
}

static void peer_forgotten(void *data)
{
    struct api_call *call = data;
    call->after(call);
}

/* A friend or block change first makes the shared cache forget what it
 * affects (cache.c), then answers and tells: nobody sees a stale check. */
static void peer_done(struct api_call *call)
{
    cache_forget_pair(call->app, &call->me.id, &call->sreq.out.peer.id, peer_forgotten, call);
}

/* Prepares a friend/block op on the route's {username}; NULL after
 * answering a bad name. */
static store_req *peer_prepare(struct api_call *call, enum store_op op,
                               void (*then)(struct api_call *))
{
    if (api_arg_username(call) < 0)
        return NULL;
    /* Every request naming a user takes a token, whatever the answer:
     * a bound on probing names for existence (issue 14 item 8). */
    int64_t wait = limits_take_lookup(&call->app->limits, &call->me.id, uv_now(call->app->loop));
    if (wait > 0) {
        api_rate_limited(call, (wait + 999) / 1000, "too many requests naming users; try later");
        return NULL;
    }
    call->after = then;
    store_req *r = api_prepare(call, op, peer_done);
    r->in.user = call->me.id;
    r->in.name = call->name;
    return r;
}

static void peer_op(struct api_call *call, enum store_op op, void (*then)(struct api_call *))
{
    if (peer_prepare(call, op, then) != NULL)
        api_submit(call);
}

static json_t *requests_json(const struct duet_friend_req *reqs, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++)
        if (json_array_append_new(a, json_pack("{s:o, s:I}", "user", proto_user(&reqs[i].user),
                                               "created_at", (json_int_t)reqs[i].created_at)) < 0) {
            json_decref(a);
            a = NULL;
        }
    return a;
}

static void requests_listed(struct api_call *call)
{
    const store_req *r = &call->sreq;
    api_json(call, 200,
             json_pack("{s:o, s:o}", "incoming", requests_json(r->out.reqs_in, r->out.n_reqs_in),
                       "outgoing", requests_json(r->out.reqs_out, r->out.n_reqs_out)),
             NULL);
}

void api_requests_list(struct api_call *call)
{
    store_req *r = api_prepare(call, STORE_REQUESTS_LIST, requests_listed);
    r->in.user = call->me.id;
    api_submit(call);
}

static void now_friends(struct api_call *call, int status)
{
    const store_req *r = &call->sreq;
    friends_changed_chat(call, "accepted", &r->out.peer, &r->out.chat_id);
    api_json(call, status,
             json_pack("{s:s, s:o, s:o}", "status", "friends", "user", proto_user(&r->out.peer),
                       "chat_id", proto_id(&r->out.chat_id)),
             NULL);
}

static void request_sent(struct api_call *call)
{
    const store_req *r = &call->sreq;
    if (r->out.friend_result == FRIEND_ACCEPTED) {
        now_friends(call, 200);
        return;
    }
    /* Repeating a pending request changes nothing, so it tells nobody. A
     * request to someone who blocks the user tells only the user's
     * connections: the answer and the event are those of any request. */
    if (r->out.friend_result == FRIEND_REQUESTED && r->out.hidden)
        friends_tell(call->app, &call->me.id, "request", &r->out.peer, NULL);
    else if (r->out.friend_result == FRIEND_REQUESTED)
        friends_changed(call, "request", &r->out.peer);
    api_json(call, 201,
             json_pack("{s:s, s:o}", "status", "requested", "user", proto_user(&r->out.peer)),
             NULL);
}

void api_request_send(struct api_call *call)
{
    const char *name;
    size_t len;
    if (api_body_str(call, "username", &name, &len) < 0)
        return;
    call->arg = (duet_slice){name, len};
    store_req *r = peer_prepare(call, STORE_FRIEND_REQUEST, request_sent);
    if (r == NULL)
        return;
    r->in.max_per_day = call->app->cfg->max_friend_req_day;
    api_submit(call);
}

static void request_accepted(struct api_call *call)
{
    now_friends(call, 200);
}

void api_request_accept(struct api_call *call)
{
    peer_op(call, STORE_FRIEND_ACCEPT, request_accepted);
}

/* Completion of the ops whose answer is "204, and tell both sides". */
static void peer_changed(struct api_call *call)
{
    /* An op that changed nothing (blocking again) tells nobody. */
    if (!call->sreq.out.unchanged)
        friends_changed(call, call->reason, &call->sreq.out.peer);
    api_no_content(call, NULL);
}

static void peer_change(struct api_call *call, enum store_op op, const char *reason)
{
    call->reason = reason;
    peer_op(call, op, peer_changed);
}

void api_request_decline(struct api_call *call)
{
    peer_change(call, STORE_FRIEND_DECLINE, "declined");
}

void api_request_cancel(struct api_call *call)
{
    peer_change(call, STORE_FRIEND_CANCEL, "cancelled");
}

static void friend_removed(struct api_call *call)
{
    const store_req *r = &call->sreq;
    friends_changed_chat(call, "removed", &r->out.peer, &r->out.chat_id);
    api_no_content(call, NULL);
}

void api_friend_remove(struct api_call *call)
{
    peer_op(call, STORE_FRIEND_REMOVE, friend_removed);
}

/* The blocker's presence as the blocked friend may see it again after an
 * unblock (the hub says whether the blocker is online). */
static void unblocked_online(void *data, const uint8_t *online)
{
    struct api_call *call = data;
    const struct duet_user *peer = &call->sreq.out.peer;
    json_t *ev = json_pack("{s:s, s:o}", "type", "presence", "user", proto_id(&call->me.id));
    if (ev != NULL && presence_view(peer, &call->me, 0, online != NULL && online[0], ev) < 0) {
        json_decref(ev);
        ev = NULL; /* publish_event logs it */
    }
    publish_event(call->app, &peer->id, ev, NULL);
    api_no_content(call, NULL);
}

/* A block is told to the blocker's connections only. A blocked friend's
 * see the blocker go offline with no last seen, as anyone who hides it
 * (docs/security.md, "Blocking"), and after an unblock the blocker's
 * presence again; nothing else changes for them, and someone who is not a
 * friend gets nothing (they never see presence). */
static void block_changed(struct api_call *call)
{
    const store_req *r = &call->sreq;
    const struct duet_user *peer = &r->out.peer;
    if (r->out.unchanged) { /* blocking again changes nothing: nobody is told */
        api_no_content(call, NULL);
        return;
    }
    friends_tell(call->app, &call->me.id, call->reason, peer, NULL);
    if (!r->out.friends || duet_id_eq(&peer->id, &call->me.id)) {
        api_no_content(call, NULL);
        return;
    }
    if (r->op == STORE_UNBLOCK) {
        hub_online(call->app->hub, &call->me.id, 1, unblocked_online, call);
        return;
    }
    publish_event(call->app, &peer->id,
                  json_pack("{s:s, s:o, s:b, s:n}", "type", "presence", "user",
                            proto_id(&call->me.id), "online", 0, "last_seen"),
                  NULL);
    api_no_content(call, NULL);
}

void api_block(struct api_call *call)
{
    call->reason = "blocked";
    peer_op(call, STORE_BLOCK, block_changed);
}

void api_unblock(struct api_call *call)
{
    call->reason = "unblocked";
    peer_op(call, STORE_UNBLOCK, block_changed);
}

static void blocks_listed(struct api_call *call)
{
    const store_req *r = &call->sreq;
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < r->out.n_users; i++)
        if (json_array_append_new(a, proto_user(&r->out.users[i])) < 0) {
            json_decref(a);
            a = NULL;
        }
    api_json(call, 200, json_pack("{s:o}", "blocked", a), NULL);
}

void api_blocks_list(struct api_call *call)
{
    store_req *r = api_prepare(call, STORE_BLOCKS_LIST, blocks_listed);
    r->in.user = call->me.id;
    api_submit(call);
}

/* ---- conversations ---- */

static json_t *chat_json(struct api_call *call, const struct duet_chat *c, int online)
{
    json_t *peer = proto_user(&c->peer);
    if (peer == NULL)
        return NULL;
    /* blocked_me hides the peer's presence and is never shown: to the
     * blocked user the blocker looks like someone who hides last seen. */
    if (presence_view(&call->me, &c->peer, c->blocked_by_me || c->blocked_me || !c->friends, online,
                      peer) < 0) {
        json_decref(peer);
        return NULL;
    }
    json_t *j = json_pack(
        "{s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:b, s:b}", "chat_id", proto_id(&c->chat_id), "peer",
        peer, "last_message", c->has_last ? proto_message(&c->last) : json_null(), "unread",
        (json_int_t)c->unread, "last_activity", (json_int_t)c->last_activity, "read_seq",
        (json_int_t)c->my_read_seq, "peer_read_seq", (json_int_t)c->peer_read_seq, "blocked_by_me",
        c->blocked_by_me != 0, "friends", c->friends != 0);
    return api_org_chat_fields(j, &c->state); /* c-org */
}

/* The hub answered which peers are online (cluster-wide); online is NULL
 * when it ran out of memory. */
static void chats_online(void *data, const uint8_t *online)
{
    struct api_call *call = data;
    const store_req *r = &call->sreq;
    if (online == NULL && r->out.n_chats > 0) {
        api_fail(call, -ENOMEM);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < r->out.n_chats; i++)
        if (json_array_append_new(a, chat_json(call, &r->out.chats[i], online[i])) < 0) {
            json_decref(a);
            a = NULL;
        }
    api_json(call, 200, json_pack("{s:o}", "chats", a), NULL);
}

static void chats_listed(struct api_call *call)
{
    const store_req *r = &call->sreq;
    struct hub *hub = call->app->hub;
    duet_id *ids = pool_alloc(&call->pool, (r->out.n_chats + 1) * sizeof(*ids));
    if (ids == NULL) {
        api_fail(call, -ENOMEM);
        return;
    }
    for (size_t i = 0; i < r->out.n_chats; i++)
        ids[i] = r->out.chats[i].peer.id;
    hub_online(hub, ids, r->out.n_chats, chats_online, call);
}

void api_chats_list(struct api_call *call)
{
    store_req *r = api_prepare(call, STORE_CHATS_LIST, chats_listed);
    r->in.user = call->me.id;
    api_submit(call);
}

/* Fills q's before/after/limit from the query, checked as the WebSocket's
 * history request is (proto_history_check). */
static int history_params(const net_request *req, store_req *q, const char **bad)
{
    struct proto_history_in in = {0};
    struct proto_history h;
    in.has_before = net_query_int(req, "before", &in.before);
    in.has_after = net_query_int(req, "after", &in.after);
    in.has_limit = net_query_int(req, "limit", &in.limit);
    if (proto_history_check(&in, &h, bad) < 0)
        return -1;
    q->in.before = h.before;
    q->in.after = h.after;
    q->in.has_after = h.has_after;
    q->in.limit = h.limit;
    return 0;
}

static void history_read(struct api_call *call)
{
    /* Written directly, as the WebSocket's history event (ws_requests.c). */
    const store_req *r = &call->sreq;
    struct jsonw *w = app_writer(call->app);
    jsonw_lit(w, "{\"messages\":[");
    for (size_t i = 0; i < r->out.n_msgs; i++) {
        if (i > 0)
            jsonw_lit(w, ",");
        proto_write_message(w, &r->out.msgs[i]);
    }
    jsonw_lit(w, "]}");
    size_t len;
    const char *s = jsonw_finish(w, &len);
    api_json_text(call, s, len);
}

void api_history(struct api_call *call)
{
    duet_id chat;
    const char *bad;
    if (duet_id_parse(call->arg.base, call->arg.len, &chat) < 0) {
        api_error(call, "bad_request", "chat ids are UUIDs");
        return;
    }
    store_req *r = api_prepare(call, STORE_HISTORY, history_read);
    if (history_params(call->req, r, &bad) < 0) {
        api_error(call, "bad_request", bad);
        return;
    }
    r->in.user = call->me.id;
    r->in.chat_id = chat;
    api_submit(call);
}
