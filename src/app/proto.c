#include "proto.h"

#include <errno.h>

json_t *proto_id(const duet_id *id)
{
    char s[DUET_ID_STRLEN + 1];
    duet_id_format(id, s);
    return json_stringn(s, DUET_ID_STRLEN);
}

json_t *proto_time(int64_t ms)
{
    return ms == 0 ? json_null() : json_integer(ms);
}

json_t *proto_user(const struct duet_user *u)
{
    return json_pack("{s:o, s:s, s:s}", "id", proto_id(&u->id), "username",
                     u->username ? u->username : "", "display_name",
                     u->display_name ? u->display_name : "");
}

json_t *proto_me(const struct duet_user *u)
{
    json_t *o = proto_user(u);
    if (o == NULL)
        return NULL;
    json_t *settings = json_pack("{s:s, s:b}", "last_seen",
                                 u->lastseen_vis == LASTSEEN_NOBODY ? "nobody" : "friends",
                                 "read_receipts", u->read_receipts != 0);
    if (settings == NULL || json_object_set_new(o, "settings", settings) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *message_fields(const struct duet_msg *m, const char *type_key)
{
    return json_pack("{s:o, s:I, s:s, s:o, s:o, s:i, s:s, s:o, s:o, s:o, s:o}", "chat_id",
                     proto_id(&m->chat_id), "seq", (json_int_t)m->sequence, "id",
                     m->message_id ? m->message_id : "", "from", proto_id(&m->sender), "to",
                     proto_id(&m->receiver), type_key, m->type, "text",
                     m->message ? m->message : "", "sent_at", proto_time(m->sent_at), "received_at",
                     proto_time(m->received_at), "seen_at", proto_time(m->seen_at), "deleted_at",
                     proto_time(m->deleted_at));
}

json_t *proto_message(const struct duet_msg *m)
{
    return message_fields(m, "type");
}

json_t *proto_event(const char *type, json_t *obj)
{
    if (obj == NULL)
        obj = json_object();
    if (obj == NULL)
        return NULL;
    if (json_object_set_new(obj, "type", json_string(type)) < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

json_t *proto_message_event(const struct duet_msg *m)
{
    json_t *o = message_fields(m, "msg_type");
    return o ? proto_event("message", o) : NULL;
}

json_t *proto_receipt_event(const duet_id *chat, int seen, int64_t seq, int64_t at)
{
    return json_pack("{s:s, s:o, s:s, s:I, s:I}", "type", "receipt", "chat_id", proto_id(chat),
                     "status", seen ? "seen" : "delivered", "seq", (json_int_t)seq, "at",
                     (json_int_t)at);
}

json_t *proto_deleted_event(const struct duet_msg *m)
{
    return json_pack("{s:s, s:o, s:I, s:s, s:o, s:o}", "type", "deleted", "chat_id",
                     proto_id(&m->chat_id), "seq", (json_int_t)m->sequence, "id",
                     m->message_id ? m->message_id : "", "from", proto_id(&m->sender), "deleted_at",
                     proto_time(m->deleted_at));
}

int proto_get_str(json_t *obj, const char *key, const char **s, size_t *len)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return -ENOENT;
    if (!json_is_string(v))
        return -EINVAL;
    *s = json_string_value(v);
    *len = json_string_length(v);
    return 0;
}

int proto_get_int(json_t *obj, const char *key, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return -ENOENT;
    if (!json_is_integer(v))
        return -EINVAL;
    *out = json_integer_value(v);
    return 0;
}

int proto_get_bool(json_t *obj, const char *key, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return -ENOENT;
    if (!json_is_boolean(v))
        return -EINVAL;
    *out = json_is_true(v);
    return 0;
}

int proto_get_id(json_t *obj, const char *key, duet_id *id)
{
    const char *s;
    size_t len;
    int r = proto_get_str(obj, key, &s, &len);
    if (r < 0)
        return r;
    return duet_id_parse(s, len, id);
}
