/* proto_req.c - the WebSocket requests decoded and validated (proto_req.h).
 * The checks and their order are the protocol's: the first bad field is
 * the one reported. */
#include "proto_req.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/text.h"
#include "media_meta.h"
#include "proto.h"

struct req_spec {
    const char *type;
    enum proto_req_type kind;
};

static const struct req_spec req_specs[] = {
    {"send", PROTO_REQ_SEND},     {"ack", PROTO_REQ_ACK},
    {"seen", PROTO_REQ_SEEN},     {"typing", PROTO_REQ_TYPING},
    {"delete", PROTO_REQ_DELETE}, {"history", PROTO_REQ_HISTORY},
    {"ping", PROTO_REQ_PING},     {"visibility", PROTO_REQ_VISIBILITY},
    {"ping", PROTO_REQ_PING},     {"react", PROTO_REQ_REACT},
    {"edit", PROTO_REQ_EDIT},     {"hide", PROTO_REQ_HIDE},
};

static int fail(struct proto_req_error *e, int err, const char *code, const char *message)
{
    e->err = err;
    e->code = code;
    snprintf(e->message, sizeof(e->message), "%s", message);
    return -1;
}

/* A field's error: missing_field when absent, else bad_request (r is 0
 * when the field was read but its value is refused). */
static int field_fail(struct proto_req_error *e, int r, const char *missing, const char *bad)
{
    return fail(e, r < 0 ? r : -EINVAL, r == -ENOENT ? "missing_field" : "bad_request",
                r == -ENOENT ? missing : bad);
}

static int need_id(json_t *frame, const char *key, duet_id *id, struct proto_req_error *e)
{
    int r = proto_get_id(frame, key, id);
    if (r == 0)
        return 0;
    char missing[48], bad[48];
    snprintf(missing, sizeof(missing), "missing field '%s'", key);
    snprintf(bad, sizeof(bad), "'%s' must be a UUID", key);
    return field_fail(e, r, missing, bad);
}

static int need_seq(json_t *frame, const char *key, int64_t *v, int64_t min,
                    struct proto_req_error *e)
{
    int r = proto_get_int(frame, key, v);
    if (r == 0 && *v >= min)
        return 0;
    char missing[48], bad[64];
    snprintf(missing, sizeof(missing), "missing field '%s'", key);
    snprintf(bad, sizeof(bad), "'%s' must be an integer >= %lld", key, (long long)min);
    return field_fail(e, r, missing, bad);
}

/* A message text (send, edit): 1..max_chars characters. */
static int parse_text(struct proto_request *q, int64_t max_chars, struct proto_req_error *e)
{
    int r = proto_get_str(q->frame, "text", &q->text, &q->text_len);
    if (r < 0)
        return field_fail(e, r, "missing field 'text'", "'text' must be a string");
    json_t *media = json_object_get(q->frame, "media");
    if (media != NULL && !json_is_null(media)) {
        const char *bad;
        if (media_meta_parse(media, &q->media, &bad) < 0)
            return fail(e, -EINVAL, "bad_media", bad);
        q->has_media = 1;
    }
    if (q->text_len == 0 && !q->has_media) /* a caption may be empty */
        return fail(e, -EINVAL, "empty", "the text is empty");
    /* Bytes bound characters from above: count only when it can matter. */
    if ((int64_t)q->text_len > max_chars &&
        (int64_t)text_utf8_chars(q->text, q->text_len) > max_chars) {
        char msg[80];
        snprintf(msg, sizeof(msg), "text is longer than %lld characters", (long long)max_chars);
        return fail(e, -EINVAL, "too_long", msg);
    }
    return 0;
}

/* send's reply_to and forward (issue 17): a forward carries no text. */
static int parse_send_conv(struct proto_request *q, struct proto_req_error *e)
{
    int r = proto_get_int(q->frame, "reply_to", &q->reply_to);
    if (r == -ENOENT)
        q->reply_to = 0;
    else if (r < 0 || q->reply_to < 1)
        return fail(e, -EINVAL, "bad_request", "'reply_to' must be an integer >= 1");
    json_t *fwd = json_object_get(q->frame, "forward");
    if (fwd == NULL || json_is_null(fwd))
        return 0;
    if (!json_is_object(fwd))
        return fail(e, -EINVAL, "bad_request", "'forward' is {chat_id, seq}");
    json_t *media = json_object_get(q->frame, "media");
    if (json_object_get(q->frame, "text") != NULL || q->reply_to > 0 ||
        (media != NULL && !json_is_null(media)))
        return fail(e, -EINVAL, "bad_request", "a forward has no 'text', 'reply_to' or 'media'");
    if (need_id(fwd, "chat_id", &q->fwd_chat, e) < 0 || need_seq(fwd, "seq", &q->fwd_seq, 1, e) < 0)
        return -1;
    q->has_forward = 1;
    return 0;
}

static int parse_send(struct proto_request *q, int64_t max_chars, struct proto_req_error *e)
{
    int r = proto_get_str(q->frame, "id", &q->id, &q->id_len);
    if (r < 0 || !text_client_id_ok(q->id, q->id_len))
        return field_fail(e, r, "missing field 'id'", "'id' is 1 to 64 of A-Z a-z 0-9 _ -");
    if (parse_send_conv(q, e) < 0)
        return -1;
    return q->has_forward ? 0 : parse_text(q, max_chars, e);
}

/* An emoji: 1..32 bytes, at most 10 code points, no ASCII control, space or
 * letter (a keycap's digit is allowed), no bidi control, C1 control or line
 * separator (the peer's screen and push show it: an override would reverse
 * the text after it), and a non-ASCII code point that draws something. */
static int emoji_ok(const char *s, size_t len)
{
    if (len == 0 || len > 32 || text_utf8_chars(s, len) > 10)
        return 0;
    int wide = 0;
    for (size_t i = 0, n; i < len; i += n) {
        uint32_t c;
        if ((n = text_utf8_seq((const unsigned char *)s, len, i, &c)) == 0)
            return 0;
        if (c < 0x80) {
            if (!(c == '#' || c == '*' || (c >= '0' && c <= '9')))
                return 0;
        } else if (c <= 0x9F || c == 0x2028 || c == 0x2029 || text_bidi_control(c)) {
            return 0;
        } else if (!text_invisible(c)) {
            wide = 1;
        }
    }
    return wide;
}

static int parse_react(struct proto_request *q, struct proto_req_error *e)
{
    size_t len = 0;
    if (need_seq(q->frame, "seq", &q->seq, 1, e) < 0)
        return -1;
    json_t *v = json_object_get(q->frame, "emoji");
    if (v == NULL)
        return fail(e, -EINVAL, "missing_field", "missing field 'emoji' (null removes)");
    if (json_is_null(v)) {
        q->emoji = "";
        return 0;
    }
    if (proto_get_str(q->frame, "emoji", &q->emoji, &len) < 0 ||
        (len > 0 && !emoji_ok(q->emoji, len)))
        return fail(e, -EINVAL, "bad_emoji", "'emoji' is one emoji (up to 32 bytes), or null");
    return 0;
}

static int parse_ack(struct proto_request *q, struct proto_req_error *e)
{
    static const char *kinds[] = {"message",  "delivered", "seen",  "deleted",
                                  "reaction", "edited",    "hidden"};
    const char *kind;
    size_t klen;
    if (need_seq(q->frame, "seq", &q->seq, 0, e) < 0)
        return -1;
    int r = proto_get_str(q->frame, "kind", &kind, &klen);
    q->kind = -1;
    for (int i = 0; r == 0 && i < (int)(sizeof(kinds) / sizeof(kinds[0])); i++)
        if (strcmp(kind, kinds[i]) == 0)
            q->kind = i;
    if (r == 0 && strcmp(kind, "chat_state") == 0) /* c-org */
        q->kind = PENDING_CHAT_STATE;
    if (q->kind < 0)
        return field_fail(e, r, "missing field 'kind'",
                          "'kind' is message, delivered, seen, deleted, reaction, edited or "
                          "hidden");
    return 0;
}

/* A JSON integer parameter as proto_history_in counts it. */
static int history_param(json_t *frame, const char *key, int64_t *v)
{
    int r = proto_get_int(frame, key, v);
    return r == 0 ? 1 : r == -ENOENT ? 0 : -1;
}

static int parse_history(struct proto_request *q, struct proto_req_error *e)
{
    struct proto_history_in in = {0};
    const char *bad;
    in.has_before = history_param(q->frame, "before", &in.before);
    in.has_after = history_param(q->frame, "after", &in.after);
    in.has_limit = history_param(q->frame, "limit", &in.limit);
    if (proto_history_check(&in, &q->history, &bad) < 0)
        return fail(e, -EINVAL, "bad_request", bad);
    return 0;
}

/* The fields of a request whose type is known. */
static int parse_fields(struct proto_request *q, int64_t max_chars, struct proto_req_error *e)
{
    json_t *media;
    if (q->type == PROTO_REQ_PING)
        return 0;
    if (q->type == PROTO_REQ_VISIBILITY) {
        json_t *v = json_object_get(q->frame, "visible");
        if (v == NULL)
            return fail(e, -EINVAL, "missing_field", "missing field 'visible'");
        if (!json_is_boolean(v))
            return fail(e, -EINVAL, "bad_request", "'visible' must be true or false");
        q->visible = json_is_true(v);
        return 0;
    }
    if (need_id(q->frame, "chat_id", &q->chat_id, e) < 0)
        return -1;
    switch (q->type) {
    case PROTO_REQ_SEND:
        return parse_send(q, max_chars, e);
    case PROTO_REQ_ACK:
        return parse_ack(q, e);
    case PROTO_REQ_SEEN:
        return need_seq(q->frame, "seq", &q->seq, 0, e);
    case PROTO_REQ_DELETE:
        return need_seq(q->frame, "seq", &q->seq, 1, e);
    case PROTO_REQ_HISTORY:
        return parse_history(q, e);
    case PROTO_REQ_REACT:
        return parse_react(q, e);
    case PROTO_REQ_EDIT:
        if (need_seq(q->frame, "seq", &q->seq, 1, e) < 0)
            return -1;
        /* The text only: with media, parse_text would let an empty one by. */
        media = json_object_get(q->frame, "media");
        if (media != NULL && !json_is_null(media))
            return fail(e, -EINVAL, "bad_request", "an edit changes the text only: no 'media'");
        return parse_text(q, max_chars, e);
    case PROTO_REQ_HIDE:
        return need_seq(q->frame, "seq", &q->seq, 1, e);
    default:
        return 0;
    }
}

int proto_parse_request(const char *data, size_t len, int64_t max_chars, struct proto_request *out,
                        struct proto_req_error *e)
{
    memset(e, 0, sizeof(*e));
    if (proto_parse_fast(data, len, max_chars, out))
        return 0;
    return proto_parse_json(data, len, max_chars, out, e);
}

static int ref_ok(json_t *ref)
{
    return json_is_integer(ref) || (json_is_string(ref) && json_string_length(ref) <= 64);
}

static const struct req_spec *find_spec(const char *type)
{
    for (size_t i = 0; i < sizeof(req_specs) / sizeof(req_specs[0]); i++)
        if (strcmp(req_specs[i].type, type) == 0)
            return &req_specs[i];
    return NULL;
}

/* A frame refused for an integer out of range (a history cursor past
 * INT64_MAX...) or a duplicated key is still answered under its type and
 * ref: read again with integers as reals (and, for a duplicate, duplicates
 * let by: the last wins), out->ref its own (frame NULL, as after
 * proto_parse_fast). Either is left NULL when not known. */
static void refusal_names(const char *data, size_t len, size_t flags, struct proto_request *out)
{
    json_t *f = json_loadb(data, len, flags | JSON_DECODE_INT_AS_REAL, NULL);
    json_t *type = json_object_get(f, "type");
    json_t *ref = json_object_get(f, "ref");
    if (json_is_real(ref)) { /* an integer ref, read as a real */
        double d = json_real_value(ref);
        ref = d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (double)(int64_t)d
                  ? json_integer((json_int_t)d)
                  : NULL;
    } else if (ref != NULL) {
        ref = ref_ok(ref) ? json_incref(ref) : NULL;
    }
    const struct req_spec *spec = json_is_string(type) ? find_spec(json_string_value(type)) : NULL;
    out->request = spec ? spec->type : NULL;
    out->ref = ref;
    json_decref(f);
}

int proto_parse_json(const char *data, size_t len, int64_t max_chars, struct proto_request *out,
                     struct proto_req_error *e)
{
    memset(out, 0, sizeof(*out));
    memset(e, 0, sizeof(*e));
    json_error_t jerr;
    out->frame = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (out->frame == NULL) {
        e->err = -EINVAL;
        e->code = proto_json_refusal(data, len, &jerr, "each frame is one JSON object", e->message,
                                     sizeof(e->message));
        if (json_error_code(&jerr) == json_error_numeric_overflow)
            refusal_names(data, len, JSON_REJECT_DUPLICATES, out);
        if (json_error_code(&jerr) == json_error_duplicate_key) {
            /* Not for a duplicated type or ref (or an unknown key): which
             * of the two to answer under is not known. */
            json_t *k = proto_json_dup_key(data, len, &jerr);
            const char *ks = json_string_value(k);
            if (ks != NULL && strcmp(ks, "type") != 0 && strcmp(ks, "ref") != 0)
                refusal_names(data, len, 0, out);
            json_decref(k);
        }
        return -1;
    }
    if (!json_is_object(out->frame))
        return fail(e, -EINVAL, "bad_json", "each frame is one JSON object");
    json_t *type = json_object_get(out->frame, "type");
    json_t *ref = json_object_get(out->frame, "ref");
    /* A bad ref is answered without one, under whatever type was given. */
    out->request = json_string_value(type);
    if (ref != NULL && !ref_ok(ref))
        return fail(e, -EINVAL, "bad_request",
                    "'ref' is a string of up to 64 characters or an integer");
    out->ref = ref;
    if (!json_is_string(type))
        return fail(e, -EINVAL, type ? "bad_request" : "missing_field", "'type' must be a string");
    const struct req_spec *spec = find_spec(out->request);
    if (spec == NULL)
        return fail(e, -EINVAL, "unknown_type", "unknown request type");
    out->request = spec->type;
    out->type = spec->kind;
    return parse_fields(out, max_chars, e);
}

void proto_request_free(struct proto_request *r)
{
    if (r->frame == NULL) /* decoded by proto_parse_fast: the ref is its own */
        json_decref(r->ref);
    json_decref(r->frame);
    free(r->own);
    memset(r, 0, sizeof(*r));
}

int proto_history_check(const struct proto_history_in *in, struct proto_history *out,
                        const char **bad)
{
    if (in->has_before < 0 || (in->has_before && in->before < 0)) {
        *bad = "before must be a non-negative integer";
        return -1;
    }
    if (in->has_after < 0 || (in->has_after && in->after < 0)) {
        *bad = "after must be a non-negative integer";
        return -1;
    }
    if (in->has_before && in->has_after) {
        *bad = "give before or after, not both";
        return -1;
    }
    int64_t lim = in->has_limit ? in->limit : 50;
    if (in->has_limit < 0 || lim < 1 || lim > 100) {
        *bad = "limit must be 1 to 100";
        return -1;
    }
    out->before = in->has_before ? (in->before == 0 ? 1 : in->before) : 0;
    out->after = in->has_after ? in->after : 0;
    out->has_after = in->has_after;
    out->limit = (int)lim;
    return 0;
}
