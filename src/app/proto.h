/* proto.h - JSON encoding of the protocol's objects (docs/protocol.md). */
#ifndef DUET_PROTO_H
#define DUET_PROTO_H

#include <jansson.h>

#include "../store/store.h"

/* Each returns a new reference, or NULL when out of memory. */
json_t *proto_id(const duet_id *id);
json_t *proto_time(int64_t ms); /* null for 0 */
json_t *proto_user(const struct duet_user *u);
json_t *proto_me(const struct duet_user *u);
json_t *proto_message(const struct duet_msg *m); /* the message object */
/* A server event {"type": type, ...fields of obj} (steals obj; NULL obj ok). */
json_t *proto_event(const char *type, json_t *obj);
/* The WebSocket "message" event for m. */
json_t *proto_message_event(const struct duet_msg *m);
json_t *proto_receipt_event(const duet_id *chat, int seen, int64_t seq, int64_t at);
json_t *proto_deleted_event(const struct duet_msg *m);

/* Reads an optional string/int field. Return 0 when present and valid,
 * -ENOENT when absent (or null), -EINVAL when of the wrong type. */
int proto_get_str(json_t *obj, const char *key, const char **s, size_t *len);
int proto_get_int(json_t *obj, const char *key, int64_t *v);
int proto_get_bool(json_t *obj, const char *key, int *v);
int proto_get_id(json_t *obj, const char *key, duet_id *id);

#endif
