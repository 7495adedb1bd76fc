/* fuzz_json.c - protocol events from JSON, read the way the server reads
 * them: the WebSocket requests through the server's own decoder
 * (proto_parse_request, proto_req.c, which ws_requests_on_text runs) and the HTTP
 * API bodies of api.c (parse_body, api_body_str), with the same jansson
 * flags, the proto_get_* field readers and the text validators (text.h)
 * that decide what is stored.
 *
 * Oracles besides the sanitizers:
 *  - every string jansson hands out is valid UTF-8 (text_utf8_valid), so
 *    the text that gets stored is;
 *  - text_utf8_valid and the WebSocket's streaming validator
 *    (net__utf8_feed, fed in two pieces) agree on the raw input;
 *  - a client id that passes text_client_id_ok is 1..64 plain ASCII;
 *  - the fast decoder of ack, seen and send frames (proto_parse_fast)
 *    accepts only frames the full decoder accepts, at the server's text
 *    bound and at small ones, and decodes them alike (a send's id, text
 *    and ref byte for byte);
 *  - the direct JSON writer (jsonw.h): any bytes written as a string load
 *    back as a string (the same one when they are valid UTF-8), and the
 *    events it writes with the frame's ref and text are byte for byte what
 *    json_dumps makes of their jansson versions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/app/proto.h"
#include "../src/app/proto_req.h"
#include "../src/base/jsonw.h"
#include "../src/base/text.h"
#include "../src/net/net_int.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_json: oracle failed: %s\n", what);
        abort();
    }
}

static void str_field(json_t *obj, const char *key)
{
    const char *s;
    size_t len;
    if (proto_get_str(obj, key, &s, &len) == 0)
        check(text_utf8_valid(s, len), "jansson returned a string that is not UTF-8");
}

/* The longest text a send may carry here (the server's default). */
#define FUZZ_MAX_CHARS 4000

/* What a decoded request promises ws_requests.c. */
static void request_fields(const struct proto_request *q)
{
    /* the fast decoder of ack, seen and send keeps no frame */
    check(q->request != NULL && (q->frame != NULL || q->type == PROTO_REQ_ACK ||
                                 q->type == PROTO_REQ_SEEN || q->type == PROTO_REQ_SEND),
          "a request without its type or frame");
    switch (q->type) {
    case PROTO_REQ_SEND:
        check(text_client_id_ok(q->id, q->id_len), "client id passed unchecked");
        check(q->id_len >= 1 && q->id_len <= 64, "client id length");
        for (size_t i = 0; i < q->id_len; i++)
            check(q->id[i] > 32 && q->id[i] < 127, "client id characters");
        /* issue 17: a forward carries no text (nor reply_to); a reply_to is >= 1 */
        check(q->reply_to >= 0, "reply_to");
        if (q->has_forward) {
            check(q->text == NULL && q->reply_to == 0 && q->fwd_seq >= 1, "forward fields");
            break;
        }
        check(q->text_len > 0 && text_utf8_valid(q->text, q->text_len), "text is not UTF-8");
        check(text_utf8_chars(q->text, q->text_len) <= FUZZ_MAX_CHARS, "text too long");
        break;
    case PROTO_REQ_ACK:
        /* c-org: chat_state is kind 7 */
        check(((q->kind >= 0 && q->kind <= 6) || q->kind == PENDING_CHAT_STATE) && q->seq >= 0,
              "ack fields");
        break;
    case PROTO_REQ_REACT: {
        size_t n = q->emoji ? strlen(q->emoji) : 0;
        check(q->seq >= 1 && n <= 32 && text_utf8_valid(q->emoji ? q->emoji : "", n),
              "react fields");
        break;
    }
    case PROTO_REQ_EDIT:
        check(q->seq >= 1 && q->text_len > 0 && text_utf8_valid(q->text, q->text_len) &&
                  text_utf8_chars(q->text, q->text_len) <= FUZZ_MAX_CHARS,
              "edit fields");
        break;
    case PROTO_REQ_HIDE:
        check(q->seq >= 1, "hide seq");
        break;
    case PROTO_REQ_SEEN:
        check(q->seq >= 0, "seen seq");
        break;
    case PROTO_REQ_DELETE:
        check(q->seq >= 1, "delete seq");
        break;
    case PROTO_REQ_HISTORY:
        check(q->history.limit >= 1 && q->history.limit <= 100 && q->history.after >= 0 &&
                  q->history.before >= 0 && !(q->history.before && q->history.has_after),
              "history parameters out of range");
        break;
    default:
        break;
    }
}

/* The HTTP API's bodies (api_users.c, api_social.c): usernames, display
 * names, passwords and settings. */
static void api_fields(json_t *body)
{
    const char *s;
    size_t len;
    char name[33];
    int b;
    if (proto_get_str(body, "username", &s, &len) == 0 && text_username(s, len, name) == 0)
        check(strlen(name) == len && len >= 3 && len <= 32, "folded username");
    if (proto_get_str(body, "display_name", &s, &len) == 0 && text_display_name_ok(s, len))
        check(text_utf8_valid(s, len) && text_utf8_chars(s, len) <= 64, "display name");
    str_field(body, "password");
    str_field(body, "last_seen");
    (void)proto_get_bool(body, "read_receipts", &b);
}

/* w's text, NUL-terminated (asserted). */
static const char *writer_text(struct jsonw *w)
{
    size_t len;
    const char *s = jsonw_finish(w, &len);
    check(s != NULL && strlen(s) == len, "jsonw_finish");
    return s;
}

static void writer_matches(json_t *j, struct jsonw *w, const char *what)
{
    check(j != NULL, what);
    char *want = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    check(want != NULL, what);
    check(strcmp(writer_text(w), want) == 0, what);
    free(want);
}

/* The raw input as a JSON string: always loads, as itself if it is UTF-8. */
static void writer_raw(struct jsonw *w, const uint8_t *data, size_t size)
{
    jsonw_reset(w, SIZE_MAX);
    jsonw_str(w, (const char *)data, size);
    json_error_t jerr;
    json_t *j = json_loads(writer_text(w), JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    check(j != NULL && json_is_string(j), "jsonw_str output does not load as a string");
    if (text_utf8_valid((const char *)data, size))
        check(json_string_length(j) == size && memcmp(json_string_value(j), data, size) == 0,
              "jsonw_str changed a valid string");
    json_decref(j);
}

/* The frame's ref and text in the events the server writes directly. */
static void writer_events(struct jsonw *w, json_t *ref, json_t *frame)
{
    struct duet_msg m;
    memset(&m, 0, sizeof(m));
    m.message_id = "c-1";
    m.message = "x";
    m.sequence = 7;
    m.sent_at = 1764480000000;
    const char *s;
    size_t len;
    if (proto_get_str(frame, "text", &s, &len) == 0 && strlen(s) == len)
        m.message = s;
    if (proto_get_str(frame, "id", &s, &len) == 0 && strlen(s) == len)
        m.message_id = s;
    jsonw_reset(w, SIZE_MAX);
    proto_write_message_event(w, &m, 0);
    writer_matches(proto_message_event(&m), w, "message event differs from jansson's");
    jsonw_reset(w, SIZE_MAX);
    proto_write_sent(w, ref, &m, 0);
    writer_matches(json_pack("{s:s, s:O?, s:o, s:s, s:I, s:I, s:b}", "type", "sent", "ref", ref,
                             "chat_id", proto_id(&m.chat_id), "id", m.message_id, "seq",
                             (json_int_t)m.sequence, "sent_at", (json_int_t)m.sent_at, "duplicate",
                             0),
                   w, "sent event differs from jansson's");
    jsonw_reset(w, SIZE_MAX);
    proto_write_history(w, ref, &m.chat_id, &m, 1);
    writer_matches(json_pack("{s:s, s:O?, s:o, s:[o]}", "type", "history", "ref", ref, "chat_id",
                             proto_id(&m.chat_id), "messages", proto_message(&m)),
                   w, "history event differs from jansson's");
}

static void utf8_agree(const uint8_t *data, size_t size)
{
    size_t cut = size ? data[0] % (size + 1) : 0;
    uint32_t st = net__utf8_feed(NET__UTF8_ACCEPT, data, cut);
    st = net__utf8_feed(st, data + cut, size - cut);
    check((st == NET__UTF8_ACCEPT) == (text_utf8_valid((const char *)data, size) != 0),
          "the two UTF-8 validators disagree");
}

/* A send as the fast decoder and jansson decoded it: the same bytes. */
static void same_send(const struct proto_request *f, const struct proto_request *j)
{
    check(f->id_len == j->id_len && memcmp(f->id, j->id, f->id_len + 1) == 0, "fast decoder: id");
    check(f->text_len == j->text_len && memcmp(f->text, j->text, f->text_len + 1) == 0,
          "fast decoder: text");
    check(j->reply_to == 0 && !j->has_media && !j->has_forward && f->reply_to == 0 &&
              !f->has_media && !f->has_forward,
          "fast decoder: a send with more than a text");
    check((f->ref == NULL && j->ref == NULL) || (f->ref != NULL && json_equal(f->ref, j->ref)),
          "fast decoder: ref");
}

/* The fast decoder (proto_parse_fast: ack, seen, send) accepts only what
 * the full one (jansson) accepts, and decodes it to the same request. */
static void fast_agrees(const uint8_t *data, size_t size, int64_t max_chars)
{
    struct proto_request f, j;
    struct proto_req_error e;
    if (!proto_parse_fast((const char *)data, size, max_chars, &f))
        return;
    check(proto_parse_json((const char *)data, size, max_chars, &j, &e) == 0,
          "the fast decoder took a frame the full one refuses");
    check(f.type == j.type &&
              (f.type == PROTO_REQ_ACK || f.type == PROTO_REQ_SEEN || f.type == PROTO_REQ_SEND),
          "fast decoder: type");
    check(strcmp(f.request, j.request) == 0, "fast decoder: request");
    check(duet_id_eq(&f.chat_id, &j.chat_id), "fast decoder: chat_id");
    check(f.frame == NULL, "fast decoder: a frame");
    if (f.type == PROTO_REQ_SEND) {
        same_send(&f, &j);
    } else {
        check(f.seq == j.seq, "fast decoder: seq");
        check(f.type != PROTO_REQ_ACK || f.kind == j.kind, "fast decoder: kind");
        check(f.ref == NULL && j.ref == NULL && f.own == NULL, "fast decoder: ref");
    }
    proto_request_free(&j);
    proto_request_free(&f);
}

/* The server's decoder on the raw frame; answers must be well formed. */
static void request_decode(struct jsonw *w, const uint8_t *data, size_t size)
{
    struct proto_request q;
    struct proto_req_error e;
    fast_agrees(data, size, FUZZ_MAX_CHARS);
    fast_agrees(data, size, (int64_t)(size % 8)); /* a text at, over, under the bound */
    if (proto_parse_request((const char *)data, size, FUZZ_MAX_CHARS, &q, &e) == 0)
        request_fields(&q);
    else
        check(e.err < 0 && e.message[0] != '\0', "a refusal without an error");
    /* q.ref is set only once it passed the ref check. */
    if (json_is_object(q.frame))
        writer_events(w, q.ref, q.frame);
    /* The server echoes request and ref in its error event: it must serialise. */
    json_t *ans =
        json_pack("{s:s, s:s?, s:O?}", "type", "error", "request", q.request, "ref", q.ref);
    check(ans != NULL, "packing an error event");
    char *out = json_dumps(ans, JSON_COMPACT);
    check(out != NULL, "serialising an error event");
    free(out);
    json_decref(ans);
    proto_request_free(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    utf8_agree(data, size);
    struct jsonw w;
    jsonw_init(&w);
    writer_raw(&w, data, size);
    request_decode(&w, data, size);
    jsonw_free(&w);
    json_error_t jerr;
    /* api.c's parse_body loads this way. */
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (body != NULL && json_is_object(body))
        api_fields(body);
    json_decref(body);
    return 0;
}
