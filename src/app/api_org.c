/* api_org.c - search and chat organisation over HTTP (c-org, issue 17):
 *
 *   GET /api/search?q=&chat_id=&before=&limit=   messages the user may read
 *   PUT /api/chats/{chat_id}/state                pin, archive, mute
 *
 * A search is a read with no place in the WebSocket's answer order, and its
 * answer's size is not known in advance (the pipe reserves room per
 * request), so it is an HTTP GET beside history. A state change answers the
 * caller and reaches the user's connections as a chat_state event (and the
 * offline ones as a pending row, store.h PENDING_CHAT_STATE).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/text.h"
#include "api_int.h"
#include "proto.h"
#include "publish.h"
#include "search_snip.h"

#define SEARCH_LIMIT_DEFAULT 20
#define MUTE_8H_MS           (8LL * 3600 * 1000)
#define MUTE_WEEK_MS         (7LL * 24 * 3600 * 1000)

/* Errors of the org ops, where the common mapping would mislead. */
static void org_fail(struct api_call *call, int err)
{
    if (err == DUET_ELIMIT)
        api_error(call, "pin_limit", "at most 3 chats can be pinned; unpin one first");
    else if (err == DUET_EFORBIDDEN)
        api_error(call, "forbidden", "not a chat of yours");
    else if (err == -ENOSYS)
        api_error(call, "not_implemented", "this store does not support it yet");
    else
        api_fail(call, err);
}

static void org_store_done(store_req *r)
{
    struct api_call *call = r->data;
    if (r->status < 0) {
        org_fail(call, r->status);
        return;
    }
    call->then(call);
}

/* ---- search ---- */

static json_t *hit_json(const struct duet_hit *h, const char *query)
{
    json_t *snip = snip_build(h->msg.message, query);
    if (snip == NULL)
        return NULL;
    json_t *j =
        json_pack("{s:o, s:I, s:I, s:o, s:O, s:O}", "chat_id", proto_id(&h->msg.chat_id), "seq",
                  (json_int_t)h->msg.sequence, "sent_at", (json_int_t)h->msg.sent_at, "from",
                  proto_id(&h->msg.sender), "snippet", json_object_get(snip, "snippet"), "matches",
                  json_object_get(snip, "matches"));
    json_decref(snip);
    return j;
}

static void search_read(struct api_call *call)
{
    const store_req *r = &call->sreq;
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < r->out.n_hits; i++)
        if (json_array_append_new(a, hit_json(&r->out.hits[i], r->out.search_words
                                                                   ? r->out.search_words
                                                                   : r->in.query)) < 0) {
            json_decref(a);
            a = NULL;
        }
    /* No hit but more: a bounded store read part of the history only. */
    /* A page may be cut before its end (SQLite: the shards scanned;
     * Cassandra: the rows read) and still carry a cursor, even with no hit. */
    json_t *next = !r->out.more             ? json_null()
                   : r->out.next_before > 0 ? json_integer(r->out.next_before) /* s-shard */
                   : r->out.n_hits > 0      ? json_integer(r->out.hits[r->out.n_hits - 1].cursor)
                   : r->out.search_next > 0 ? json_integer(r->out.search_next) /* s-cass */
                                            : json_null();
    api_json(call, 200, json_pack("{s:o, s:o}", "results", a, "next_before", next), NULL);
}

/* The query: valid UTF-8 with no NUL, up to STORE_QUERY_MAX bytes, with a
 * word; copied into the call's pool. NULL after answering. */
static const char *search_query(struct api_call *call)
{
    duet_slice q;
    int r = net_query(call->req, "q", &q);
    if (r == -ENOENT) {
        api_error(call, "missing_field", "missing parameter 'q'");
        return NULL;
    }
    int word = 0;
    for (size_t i = 0; r == 0 && i < q.len; i++)
        word |= snip_word_byte((unsigned char)q.base[i]);
    if (r < 0 || q.len > STORE_QUERY_MAX || memchr(q.base, '\0', q.len) != NULL ||
        !text_utf8_valid(q.base, q.len) || !word) {
        api_error(call, "bad_request", "'q' is 1 to 256 bytes of text with a letter or digit");
        return NULL;
    }
    char *s = pool_alloc(&call->pool, q.len + 1);
    if (s == NULL) {
        api_fail(call, -ENOMEM);
        return NULL;
    }
    memcpy(s, q.base, q.len);
    s[q.len] = '\0';
    return s;
}

void api_search(struct api_call *call)
{
    const char *q = search_query(call);
    if (q == NULL)
        return;
    int64_t before = 0, limit = SEARCH_LIMIT_DEFAULT;
    int hb = net_query_int(call->req, "before", &before);
    int hl = net_query_int(call->req, "limit", &limit);
    if (hb < 0 || hl < 0 || limit < 1 || limit > STORE_SEARCH_MAX) {
        api_error(call, "bad_request", "before is a cursor (next_before); limit is 1 to 50");
        return;
    }
    duet_slice cs;
    duet_id chat;
    int has_chat = net_query(call->req, "chat_id", &cs) == 0;
    if (has_chat && duet_id_parse(cs.base, cs.len, &chat) < 0) {
        api_error(call, "bad_request", "chat ids are UUIDs");
        return;
    }
    store_req *r = api_prepare(call, STORE_SEARCH, search_read);
    r->cb = org_store_done;
    r->in.user = call->me.id;
    r->in.query = q;
    r->in.has_chat = has_chat;
    if (has_chat)
        r->in.chat_id = chat;
    r->in.before = before;
    r->in.limit = (int)limit;
    api_submit(call);
}

/* ---- pin, archive, mute ---- */

static void state_set(struct api_call *call)
{
    const store_req *r = &call->sreq;
    if (!r->out.unchanged) /* every connection of the user, the tabs included */
        publish_event(call->app, &call->me.id,
                      proto_chat_state_event(&r->in.chat_id, &r->out.state), NULL);
    api_json(call, 200,
             json_pack("{s:o, s:b, s:b, s:o}", "chat_id", proto_id(&r->in.chat_id), "pinned",
                       r->out.state.pinned != 0, "archived", r->out.state.archived != 0,
                       "muted_until", proto_time(r->out.state.muted_until)),
             NULL);
}

/* mute: "8h", "1w", "always" or "off" into *until (from the server's clock). */
static int mute_until(const char *s, int64_t now, int64_t *until)
{
    if (strcmp(s, "8h") == 0)
        *until = now + MUTE_8H_MS;
    else if (strcmp(s, "1w") == 0)
        *until = now + MUTE_WEEK_MS;
    else if (strcmp(s, "always") == 0)
        *until = STORE_MUTE_ALWAYS;
    else if (strcmp(s, "off") == 0)
        *until = 0;
    else
        return -1;
    return 0;
}

void api_chat_state(struct api_call *call)
{
    duet_id chat;
    if (duet_id_parse(call->arg.base, call->arg.len, &chat) < 0) {
        api_error(call, "bad_request", "chat ids are UUIDs");
        return;
    }
    int pinned = 0, archived = 0, set = 0, r1, r2;
    const char *mute;
    size_t mlen;
    int64_t now = duet_now_ms(), until = 0;
    r1 = proto_get_bool(call->body, "pinned", &pinned);
    r2 = proto_get_bool(call->body, "archived", &archived);
    int r3 = proto_get_str(call->body, "mute", &mute, &mlen);
    if (r1 == -EINVAL || r2 == -EINVAL || r3 == -EINVAL ||
        (r3 == 0 && mute_until(mute, now, &until) < 0)) {
        api_error(call, "bad_request",
                  "pinned and archived are booleans; mute is 8h, 1w, always or off");
        return;
    }
    set = (r1 == 0 ? STATE_SET_PIN : 0) | (r2 == 0 ? STATE_SET_ARCHIVE : 0) |
          (r3 == 0 ? STATE_SET_MUTE : 0);
    if (set == 0) {
        api_error(call, "missing_field", "give pinned, archived or mute");
        return;
    }
    store_req *r = api_prepare(call, STORE_CHAT_STATE_SET, state_set);
    r->cb = org_store_done;
    r->in.user = call->me.id;
    r->in.chat_id = chat;
    r->in.state_set = set;
    r->in.state.pinned = pinned;
    r->in.state.archived = archived;
    r->in.state.muted_until = until;
    api_submit(call);
}

json_t *api_org_chat_fields(json_t *j, const struct duet_chat_state *st)
{
    if (j == NULL)
        return NULL;
    if (json_object_set_new(j, "pinned", json_boolean(st->pinned)) < 0 ||
        json_object_set_new(j, "archived", json_boolean(st->archived)) < 0 ||
        json_object_set_new(j, "muted_until", proto_time(st->muted_until)) < 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}
