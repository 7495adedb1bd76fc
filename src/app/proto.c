#include "proto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proto_conv.h"

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
    json_t *o =
        json_pack("{s:o, s:I, s:s, s:o, s:o, s:i, s:s, s:o, s:o, s:o, s:o}", "chat_id",
                  proto_id(&m->chat_id), "seq", (json_int_t)m->sequence, "id",
                  m->message_id ? m->message_id : "", "from", proto_id(&m->sender), "to",
                  proto_id(&m->receiver), type_key, m->type, "text", m->message ? m->message : "",
                  "sent_at", proto_time(m->sent_at), "received_at", proto_time(m->received_at),
                  "seen_at", proto_time(m->seen_at), "deleted_at", proto_time(m->deleted_at));
    if (o != NULL && ((m->withheld && json_object_set_new(o, "withheld", json_true()) < 0) ||
                      proto_conv_msg_extra(o, m) < 0)) {
        json_decref(o);
        return NULL;
    }
    if (o != NULL && m->media != NULL && m->media[0] != '\0') {
        /* The stored media object (server-written JSON) and its thumb. */
        json_t *md = json_loads(m->media, 0, NULL);
        if (md != NULL && json_object_set_new(md, "thumb",
                                              m->preview && m->preview[0] ? json_string(m->preview)
                                                                          : json_null()) < 0) {
            json_decref(md); /* set_new took only the thumb */
            md = NULL;
        }
        if (md == NULL || json_object_set_new(o, "media", md) < 0) { /* takes md */
            json_decref(o);
            return NULL;
        }
    }
    return o;
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

json_t *proto_friends_event(const char *reason, const struct duet_user *other, const duet_id *chat)
{
    json_t *ev = json_pack("{s:s, s:s, s:o}", "type", "friends_changed", "reason", reason, "user",
                           proto_user(other));
    if (ev != NULL && chat != NULL && json_object_set_new(ev, "chat_id", proto_id(chat)) < 0) {
        json_decref(ev);
        return NULL;
    }
    return ev;
}

json_t *proto_deleted_event(const struct duet_msg *m)
{
    return json_pack("{s:s, s:o, s:I, s:s, s:o, s:o}", "type", "deleted", "chat_id",
                     proto_id(&m->chat_id), "seq", (json_int_t)m->sequence, "id",
                     m->message_id ? m->message_id : "", "from", proto_id(&m->sender), "deleted_at",
                     proto_time(m->deleted_at));
}

/* ---- direct writers ---- */

static void write_id(struct jsonw *w, const duet_id *id)
{
    char s[DUET_ID_STRLEN + 2];
    s[0] = '"';
    duet_id_format(id, s + 1); /* hex and dashes: nothing to escape */
    s[DUET_ID_STRLEN + 1] = '"';
    jsonw_raw(w, s, sizeof(s));
}

static void write_time(struct jsonw *w, int64_t ms)
{
    if (ms == 0)
        jsonw_lit(w, "null");
    else
        jsonw_int(w, ms);
}

/* ',"ref":…', null without one (as json_pack's "O?"). */
static void write_ref(struct jsonw *w, json_t *ref)
{
    jsonw_lit(w, ",\"ref\":");
    if (ref == NULL)
        jsonw_lit(w, "null");
    else if (json_is_integer(ref))
        jsonw_int(w, json_integer_value(ref));
    else
        jsonw_str(w, json_string_value(ref), json_string_length(ref));
}

/* message_fields' keys in its order, after the opening brace. */
static void write_message_fields(struct jsonw *w, const struct duet_msg *m, const char *type_key)
{
    jsonw_lit(w, "\"chat_id\":");
    write_id(w, &m->chat_id);
    jsonw_lit(w, ",\"seq\":");
    jsonw_int(w, m->sequence);
    jsonw_lit(w, ",\"id\":");
    jsonw_cstr(w, m->message_id);
    jsonw_lit(w, ",\"from\":");
    write_id(w, &m->sender);
    jsonw_lit(w, ",\"to\":");
    write_id(w, &m->receiver);
    jsonw_raw(w, type_key, strlen(type_key));
    jsonw_int(w, m->type);
    jsonw_lit(w, ",\"text\":");
    jsonw_cstr(w, m->message);
    jsonw_lit(w, ",\"sent_at\":");
    write_time(w, m->sent_at);
    jsonw_lit(w, ",\"received_at\":");
    write_time(w, m->received_at);
    jsonw_lit(w, ",\"seen_at\":");
    write_time(w, m->seen_at);
    jsonw_lit(w, ",\"deleted_at\":");
    write_time(w, m->deleted_at);
    if (m->withheld) /* a placeholder in the receiver's view (store.h) */
        jsonw_lit(w, ",\"withheld\":true");
    size_t ml = m->media != NULL ? strlen(m->media) : 0;
    if (ml > 1 && m->media[ml - 1] == '}') {
        /* The stored media object is JSON the server wrote (media_meta.c):
         * copied as it is, with the thumb (the message's preview) added. */
        jsonw_lit(w, ",\"media\":");
        jsonw_raw(w, m->media, ml - 1);
        jsonw_lit(w, ",\"thumb\":");
        if (m->preview != NULL && m->preview[0] != '\0')
            jsonw_cstr(w, m->preview);
        else
            jsonw_lit(w, "null");
        jsonw_lit(w, "}");
    }
    proto_conv_write_msg_extra(w, m); /* issue 17's optional fields */
}

void proto_write_message(struct jsonw *w, const struct duet_msg *m)
{
    jsonw_lit(w, "{");
    write_message_fields(w, m, ",\"type\":");
    jsonw_lit(w, "}");
}

void proto_write_message_event(struct jsonw *w, const struct duet_msg *m, int pending)
{
    /* proto_event adds "type" last, and the replay "pending" after it. */
    jsonw_lit(w, "{");
    write_message_fields(w, m, ",\"msg_type\":");
    if (pending)
        jsonw_lit(w, ",\"type\":\"message\",\"pending\":true}");
    else
        jsonw_lit(w, ",\"type\":\"message\"}");
}

void proto_write_history(struct jsonw *w, json_t *ref, const duet_id *chat,
                         const struct duet_msg *msgs, size_t n)
{
    jsonw_lit(w, "{\"type\":\"history\"");
    write_ref(w, ref);
    jsonw_lit(w, ",\"chat_id\":");
    write_id(w, chat);
    jsonw_lit(w, ",\"messages\":[");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            jsonw_lit(w, ",");
        proto_write_message(w, &msgs[i]);
    }
    jsonw_lit(w, "]}");
}

void proto_write_sent(struct jsonw *w, json_t *ref, const struct duet_msg *m, int duplicate)
{
    jsonw_lit(w, "{\"type\":\"sent\"");
    write_ref(w, ref);
    jsonw_lit(w, ",\"chat_id\":");
    write_id(w, &m->chat_id);
    jsonw_lit(w, ",\"id\":");
    jsonw_cstr(w, m->message_id);
    jsonw_lit(w, ",\"seq\":");
    jsonw_int(w, m->sequence);
    jsonw_lit(w, ",\"sent_at\":");
    jsonw_int(w, m->sent_at);
    if (duplicate)
        jsonw_lit(w, ",\"duplicate\":true}");
    else
        jsonw_lit(w, ",\"duplicate\":false}");
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

/* c-org: the user's pin/archive/mute of a chat (docs/protocol.md). */
json_t *proto_chat_state_event(const duet_id *chat, const struct duet_chat_state *st)
{
    return json_pack("{s:s, s:o, s:b, s:b, s:o}", "type", "chat_state", "chat_id", proto_id(chat),
                     "pinned", st->pinned != 0, "archived", st->archived != 0, "muted_until",
                     proto_time(st->muted_until));
}

json_t *proto_json_dup_key(const char *data, size_t len, const json_error_t *jerr)
{
    /* The JSON string that ends just before the error's position. */
    int pos = jerr->position;
    if (json_error_code(jerr) != json_error_duplicate_key)
        return NULL;
    if (pos < 2 || (size_t)pos > len || data[pos - 1] != '"')
        return NULL;
    size_t i = (size_t)pos - 1;
    while (i > 0) {
        i--;
        size_t bs = 0;
        while (bs < i && data[i - 1 - bs] == '\\')
            bs++;
        if (data[i] == '"' && bs % 2 == 0)
            break; /* an unescaped quote: the key's opening one */
    }
    if (data[i] != '"')
        return NULL;
    json_t *k = json_loadb(data + i, (size_t)pos - i, JSON_DECODE_ANY, NULL);
    if (!json_is_string(k)) {
        json_decref(k);
        return NULL;
    }
    return k;
}

const char *proto_json_refusal(const char *data, size_t len, const json_error_t *jerr,
                               const char *otherwise, char *msg, size_t n)
{
    if (json_error_code(jerr) == json_error_numeric_overflow) {
        snprintf(msg, n, "integers are -9223372036854775808 to 9223372036854775807");
        return "bad_request";
    }
    if (json_error_code(jerr) != json_error_duplicate_key) {
        snprintf(msg, n, "%s", otherwise);
        return "bad_json";
    }
    json_t *k = proto_json_dup_key(data, len, jerr);
    const char *ks = json_string_value(k);
    /* Named when short and printable whole (valid UTF-8, so never cut). */
    size_t klen = ks ? json_string_length(k) : 0;
    int show = ks != NULL && klen <= 40 && klen == strlen(ks);
    for (size_t i = 0; show && i < klen; i++)
        if ((unsigned char)ks[i] < 0x20 || ks[i] == '\'' || ks[i] == 0x7f)
            show = 0;
    if (show)
        snprintf(msg, n, "duplicate key '%s'", ks);
    else
        snprintf(msg, n, "duplicate key in an object");
    json_decref(k);
    return "bad_json";
}
