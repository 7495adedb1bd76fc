/* proto.h - JSON encoding of the protocol's objects (docs/protocol.md). */
#ifndef DUET_PROTO_H
#define DUET_PROTO_H

#include <jansson.h>

#include "../base/jsonw.h"
#include "../store/store.h"

/* Each returns a new reference, or NULL when out of memory. */
json_t *proto_id(const duet_id *id);
json_t *proto_time(int64_t ms); /* null for 0 */
json_t *proto_user(const struct duet_user *u);
json_t *proto_me(const struct duet_user *u);
json_t *proto_message(const struct duet_msg *m); /* the message object */
/* A server event {"type": type, ...fields of obj} (steals obj; NULL obj ok). */
json_t *proto_event(const char *type, json_t *obj);
/* The WebSocket "message" event for m, as jansson builds it: the reference
 * that the unit tests and fuzz_json hold proto_write_message_event to; the
 * server writes the event with proto_write_message_event only. */
json_t *proto_message_event(const struct duet_msg *m);
json_t *proto_receipt_event(const duet_id *chat, int seen, int64_t seq, int64_t at);
json_t *proto_deleted_event(const struct duet_msg *m);
/* friends_changed: reason, the other party, and the pair's chat (NULL:
 * no chat_id field). */
json_t *proto_friends_event(const char *reason, const struct duet_user *other, const duet_id *chat);
/* c-org: chat_state {chat_id, pinned, archived, muted_until}. */
json_t *proto_chat_state_event(const duet_id *chat, const struct duet_chat_state *st);

/* Direct writers (jsonw.h) of the hot events, byte for byte what
 * json_dumps(..., JSON_COMPACT) makes of the jansson versions above; errors
 * are the writer's (sticky). ref as ws_requests.c keeps it: NULL (written as null), an
 * integer or a string. */
void proto_write_message(struct jsonw *w, const struct duet_msg *m);
/* pending: a replay from the backlog ("pending": true, as client.c adds). */
void proto_write_message_event(struct jsonw *w, const struct duet_msg *m, int pending);
/* {"type":"history","ref","chat_id","messages":[message...]} */
void proto_write_history(struct jsonw *w, json_t *ref, const duet_id *chat,
                         const struct duet_msg *msgs, size_t n);
/* {"type":"sent","ref","chat_id","id","seq","sent_at","duplicate"} */
void proto_write_sent(struct jsonw *w, json_t *ref, const struct duet_msg *m, int duplicate);

/* Reads an optional string/int field. Return 0 when present and valid,
 * -ENOENT when absent (or null), -EINVAL when of the wrong type. */
int proto_get_str(json_t *obj, const char *key, const char **s, size_t *len);
int proto_get_int(json_t *obj, const char *key, int64_t *v);
int proto_get_bool(json_t *obj, const char *key, int *v);
int proto_get_id(json_t *obj, const char *key, duet_id *id);

/* The key a JSON_REJECT_DUPLICATES load of data found twice (jerr its
 * error), a new JSON string; NULL for another error or when not told. */
json_t *proto_json_dup_key(const char *data, size_t len, const json_error_t *jerr);
/* Why json_loadb refused data (an HTTP body or a WebSocket frame), for
 * its error: the code ("bad_json", or "bad_request" for an integer out of
 * the 64-bit range) and, into msg (n bytes), the message: one naming a
 * duplicated key, or what otherwise. */
const char *proto_json_refusal(const char *data, size_t len, const json_error_t *jerr,
                               const char *otherwise, char *msg, size_t n);

#endif
