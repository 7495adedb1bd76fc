/* The WebSocket request decoder (src/app/proto_req.c): types, fields, limits
 * and which error each refusal carries. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../src/app/proto_req.h"

#define CHAT "\"chat_id\":\"0b7d3c2e-1f4a-4c5b-9d6e-7f8a9b0c1d2e\""

struct parsed {
    int r;
    struct proto_request q;
    struct proto_req_error e;
};

static struct parsed parse_max(const char *s, int64_t max)
{
    struct parsed p;
    p.r = proto_parse_request(s, strlen(s), max, &p.q, &p.e);
    return p;
}

static struct parsed parse(const char *s)
{
    return parse_max(s, 10);
}

/* Asserts a refusal with this code and message, then frees. */
static void refused(const char *frame, const char *code, const char *message)
{
    struct parsed p = parse(frame);
    cr_assert_eq(p.r, -1, "%s was accepted", frame);
    cr_assert(p.e.err < 0);
    cr_assert_str_eq(p.e.code, code, "%s", frame);
    cr_assert_str_eq(p.e.message, message, "%s", frame);
    proto_request_free(&p.q);
}

TestSuite(proto_req);

Test(proto_req, frames_that_are_not_objects)
{
    refused("", "bad_json", "each frame is one JSON object");
    refused("[1]", "bad_json", "each frame is one JSON object");
    refused("{\"type\":\"ping\",\"type\":\"ping\"}", "bad_json", "duplicate key 'type'");
}

/* Audit 10: a duplicated key is named, and the frame answered under its
 * type and ref unless the key is one of those; so is an integer too big. */
Test(proto_req, duplicate_keys_and_big_integers)
{
    struct parsed p = parse("{\"type\":\"send\",\"ref\":\"r\",\"text\":\"a\",\"text\":\"b\"}");
    cr_assert_eq(p.r, -1);
    cr_assert_str_eq(p.e.code, "bad_json");
    cr_assert_str_eq(p.e.message, "duplicate key 'text'");
    cr_assert_str_eq(p.q.request, "send");
    cr_assert_str_eq(json_string_value(p.q.ref), "r");
    proto_request_free(&p.q);
    p = parse("{\"type\":\"send\",\"ref\":\"r\",\"ref\":\"s\",\"text\":\"a\"}");
    cr_assert_str_eq(p.e.message, "duplicate key 'ref'");
    cr_assert_null(p.q.request);
    cr_assert_null(p.q.ref);
    proto_request_free(&p.q);
    refused("{\"type\":\"ping\",\"m\":{\"a\\\"b\\\\\":1,\"a\\\"b\\\\\":2}}", "bad_json",
            "duplicate key 'a\"b\\'");
    refused("{\"type\":\"ping\",\"a\\u0001\":1,\"a\\u0001\":2}", "bad_json",
            "duplicate key in an object");
    p = parse("{\"type\":\"history\",\"ref\":7,\"after\":9223372036854775808}");
    cr_assert_eq(p.r, -1);
    cr_assert_str_eq(p.e.code, "bad_request");
    cr_assert_str_eq(p.q.request, "history");
    cr_assert_eq(json_integer_value(p.q.ref), 7);
    proto_request_free(&p.q);
    p = parse("{\"type\":\"history\",\"ref\":9223372036854775808}");
    cr_assert_str_eq(p.e.code, "bad_request");
    cr_assert_null(p.q.ref);
    proto_request_free(&p.q);
    p = parse("{\"type\":\"history\"," CHAT ",\"after\":9223372036854775807}");
    cr_assert_eq(p.r, 0);
    cr_assert_eq(p.q.history.after, INT64_MAX);
    proto_request_free(&p.q);
}

Test(proto_req, type_and_ref)
{
    refused("{}", "missing_field", "'type' must be a string");
    refused("{\"type\":7}", "bad_request", "'type' must be a string");
    refused("{\"type\":\"dance\",\"ref\":1}", "unknown_type", "unknown request type");
    struct parsed p = parse("{\"type\":\"dance\",\"ref\":[1]}");
    cr_assert_eq(p.r, -1);
    cr_assert_str_eq(p.e.message, "'ref' is a string of up to 64 characters or an integer");
    cr_assert_str_eq(p.q.request, "dance"); /* answered under the given type */
    cr_assert_null(p.q.ref);                /* and without the bad ref */
    proto_request_free(&p.q);
    char big[128];
    snprintf(big, sizeof(big), "{\"type\":\"ping\",\"ref\":\"%065d\"}", 0);
    refused(big, "bad_request", "'ref' is a string of up to 64 characters or an integer");
}

Test(proto_req, ping_keeps_its_ref)
{
    struct parsed p = parse("{\"type\":\"ping\",\"ref\":\"r-1\"}");
    cr_assert_eq(p.r, 0);
    cr_assert_eq(p.q.type, PROTO_REQ_PING);
    cr_assert_str_eq(p.q.request, "ping");
    cr_assert_str_eq(json_string_value(p.q.ref), "r-1");
    proto_request_free(&p.q);
    cr_assert_null(p.q.frame);
}

Test(proto_req, send_fields)
{
    struct parsed p = parse("{\"type\":\"send\"," CHAT ",\"id\":\"c-1\",\"text\":\"h\\u00e9\"}");
    cr_assert_eq(p.r, 0);
    cr_assert_eq(p.q.type, PROTO_REQ_SEND);
    cr_assert_eq(p.q.id_len, 3);
    cr_assert_str_eq(p.q.id, "c-1");
    cr_assert_str_eq(p.q.text, "h\xc3\xa9");
    cr_assert_eq(p.q.chat_id.b[0], 0x0b);
    proto_request_free(&p.q);
    refused("{\"type\":\"send\",\"id\":\"c\",\"text\":\"x\"}", "missing_field",
            "missing field 'chat_id'");
    refused("{\"type\":\"send\",\"chat_id\":\"nope\"}", "bad_request", "'chat_id' must be a UUID");
    refused("{\"type\":\"send\"," CHAT ",\"text\":\"x\"}", "missing_field", "missing field 'id'");
    refused("{\"type\":\"send\"," CHAT ",\"id\":\"a b\",\"text\":\"x\"}", "bad_request",
            "'id' is 1 to 64 of A-Z a-z 0-9 _ -");
    refused("{\"type\":\"send\"," CHAT ",\"id\":\"c\"}", "missing_field", "missing field 'text'");
    refused("{\"type\":\"send\"," CHAT ",\"id\":\"c\",\"text\":5}", "bad_request",
            "'text' must be a string");
    refused("{\"type\":\"send\"," CHAT ",\"id\":\"c\",\"text\":\"\"}", "empty",
            "the text is empty");
}

Test(proto_req, send_text_limit_counts_characters)
{
    /* 10 characters in 20 bytes pass a limit of 10; 11 do not. */
    const char *ok = "{\"type\":\"send\"," CHAT
                     ",\"id\":\"c\",\"text\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
                     "\\u00e9\\u00e9\\u00e9\"}";
    struct parsed p = parse(ok);
    cr_assert_eq(p.r, 0);
    cr_assert_eq(p.q.text_len, 20);
    proto_request_free(&p.q);
    refused("{\"type\":\"send\"," CHAT ",\"id\":\"c\",\"text\":\"abcdefghijk\"}", "too_long",
            "text is longer than 10 characters");
}

Test(proto_req, ack_seen_delete)
{
    struct parsed p = parse("{\"type\":\"ack\"," CHAT ",\"seq\":0,\"kind\":\"seen\"}");
    cr_assert_eq(p.r, 0);
    cr_assert_eq(p.q.type, PROTO_REQ_ACK);
    cr_assert_eq(p.q.kind, 2);
    cr_assert_eq(p.q.seq, 0);
    proto_request_free(&p.q);
    refused("{\"type\":\"ack\"," CHAT ",\"kind\":\"seen\"}", "missing_field",
            "missing field 'seq'");
    refused("{\"type\":\"ack\"," CHAT ",\"seq\":-1,\"kind\":\"seen\"}", "bad_request",
            "'seq' must be an integer >= 0");
    refused("{\"type\":\"ack\"," CHAT ",\"seq\":1}", "missing_field", "missing field 'kind'");
    refused("{\"type\":\"ack\"," CHAT ",\"seq\":1,\"kind\":\"read\"}", "bad_request",
            "'kind' is message, delivered, seen, deleted, reaction, edited or hidden");
    refused("{\"type\":\"seen\"," CHAT ",\"seq\":\"1\"}", "bad_request",
            "'seq' must be an integer >= 0");
    refused("{\"type\":\"delete\"," CHAT ",\"seq\":0}", "bad_request",
            "'seq' must be an integer >= 1");
    refused("{\"type\":\"typing\"}", "missing_field", "missing field 'chat_id'");
    p = parse("{\"type\":\"delete\"," CHAT ",\"seq\":3}");
    cr_assert_eq(p.r, 0);
    cr_assert_eq(p.q.type, PROTO_REQ_DELETE);
    cr_assert_eq(p.q.seq, 3);
    proto_request_free(&p.q);
}

Test(proto_req, history_params)
{
    struct parsed p = parse("{\"type\":\"history\"," CHAT "}");
    cr_assert_eq(p.r, 0);
    cr_assert_eq(p.q.history.limit, 50);
    cr_assert_eq(p.q.history.before, 0);
    cr_assert_eq(p.q.history.has_after, 0);
    proto_request_free(&p.q);
    p = parse("{\"type\":\"history\"," CHAT ",\"before\":0,\"limit\":100}");
    cr_assert_eq(p.r, 0);
    cr_assert_eq(p.q.history.before, 1); /* "before the first": an empty page */
    cr_assert_eq(p.q.history.limit, 100);
    proto_request_free(&p.q);
    refused("{\"type\":\"history\"," CHAT ",\"before\":-1}", "bad_request",
            "before must be a non-negative integer");
    refused("{\"type\":\"history\"," CHAT ",\"after\":\"x\"}", "bad_request",
            "after must be a non-negative integer");
    refused("{\"type\":\"history\"," CHAT ",\"after\":1,\"before\":5}", "bad_request",
            "give before or after, not both");
    refused("{\"type\":\"history\"," CHAT ",\"limit\":101}", "bad_request",
            "limit must be 1 to 100");
    refused("{\"type\":\"history\"," CHAT ",\"limit\":0}", "bad_request", "limit must be 1 to 100");
}

Test(proto_req, history_check_for_queries)
{
    struct proto_history h;
    const char *bad = NULL;
    struct proto_history_in in = {.has_after = 1, .after = 7, .has_limit = 1, .limit = 3};
    cr_assert_eq(proto_history_check(&in, &h, &bad), 0);
    cr_assert(h.has_after && h.after == 7 && h.limit == 3 && h.before == 0);
    in = (struct proto_history_in){.has_limit = -1};
    cr_assert_eq(proto_history_check(&in, &h, &bad), -1);
    cr_assert_str_eq(bad, "limit must be 1 to 100");
}

Test(proto_req, visibility)
{
    struct parsed p = parse("{\"type\":\"visibility\",\"visible\":false,\"ref\":3}");
    cr_assert_eq(p.r, 0);
    cr_assert_eq(p.q.type, PROTO_REQ_VISIBILITY);
    cr_assert_eq(p.q.visible, 0);
    proto_request_free(&p.q);
    p = parse("{\"type\":\"visibility\",\"visible\":true}");
    cr_assert_eq(p.r, 0);
    cr_assert_eq(p.q.visible, 1);
    proto_request_free(&p.q);
    refused("{\"type\":\"visibility\"}", "missing_field", "missing field 'visible'");
    refused("{\"type\":\"visibility\",\"visible\":1}", "bad_request",
            "'visible' must be true or false");
}

/* Issue 18, round 4: plain ack and seen frames skip jansson; what the fast
 * reader does not take goes to the full decoder unchanged. */
static int fast(const char *s, struct proto_request *q)
{
    return proto_parse_fast(s, strlen(s), 10, q);
}

Test(proto_req, fast_ack_and_seen)
{
    static const char *taken[] = {
        "{\"type\":\"ack\"," CHAT ",\"kind\":\"message\",\"seq\":12}",
        " {\n\"seq\" : 12 ,\t\"kind\":\"message\", " CHAT ", \"type\":\"ack\" }\r\n",
        "{\"type\":\"seen\"," CHAT ",\"seq\":12}",
        "{\"type\":\"ack\"," CHAT ",\"kind\":\"chat_state\",\"seq\":0}",
    };
    for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
        struct proto_request f;
        struct parsed j;
        cr_assert_eq(fast(taken[i], &f), 1, "%s", taken[i]);
        j.r = proto_parse_json(taken[i], strlen(taken[i]), 10, &j.q, &j.e);
        cr_assert_eq(j.r, 0, "%s", taken[i]);
        cr_assert_eq(f.type, j.q.type);
        cr_assert_str_eq(f.request, j.q.request);
        cr_assert(duet_id_eq(&f.chat_id, &j.q.chat_id));
        cr_assert_eq(f.seq, j.q.seq);
        if (f.type == PROTO_REQ_ACK)
            cr_assert_eq(f.kind, j.q.kind);
        cr_assert_null(f.frame);
        cr_assert_null(f.ref);
        proto_request_free(&j.q);
        proto_request_free(&f);
    }
    /* Left to jansson: a ref, other keys, escapes, non-ASCII, duplicates,
     * signs, fractions, exponents, 19 digits, leading zeros, null, a kind on
     * seen, an unknown kind or type, trailing bytes, a bad id. */
    static const char *left[] = {
        "{\"type\":\"ack\"," CHAT ",\"kind\":\"message\",\"seq\":1,\"ref\":\"r\"}",
        "{\"type\":\"ack\"," CHAT ",\"kind\":\"message\",\"seq\":1,\"x\":\"y\"}",
        "{\"type\":\"ack\"," CHAT ",\"kind\":\"mess\\u0061ge\",\"seq\":1}",
        "{\"type\":\"ack\"," CHAT ",\"kind\":\"m\xc3\xa9ssage\",\"seq\":1}",
        "{\"type\":\"ack\"," CHAT ",\"kind\":\"message\",\"seq\":1,\"seq\":2}",
        "{\"type\":\"ack\"," CHAT ",\"kind\":\"message\",\"seq\":-1}",
        "{\"type\":\"ack\"," CHAT ",\"kind\":\"message\",\"seq\":1.0}",
        "{\"type\":\"ack\"," CHAT ",\"kind\":\"message\",\"seq\":1e2}",
        "{\"type\":\"ack\"," CHAT ",\"kind\":\"message\",\"seq\":1234567890123456789}",
        "{\"type\":\"ack\"," CHAT ",\"kind\":\"message\",\"seq\":01}",
        "{\"type\":\"ack\"," CHAT ",\"kind\":\"message\",\"seq\":null}",
        "{\"type\":\"seen\"," CHAT ",\"kind\":\"message\",\"seq\":1}",
        "{\"type\":\"ack\"," CHAT ",\"kind\":\"nope\",\"seq\":1}",
        "{\"type\":\"send\"," CHAT ",\"seq\":1}",
        "{\"type\":\"ack\"," CHAT ",\"kind\":\"message\",\"seq\":1} x",
        "{\"type\":\"ack\",\"chat_id\":\"not-a-uuid\",\"kind\":\"message\",\"seq\":1}",
        "{\"type\":\"ack\"," CHAT ",\"kind\":\"message\"}",
        "{}",
        "",
    };
    for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
        struct proto_request f;
        cr_assert_eq(fast(left[i], &f), 0, "%s", left[i]);
    }
    /* ... and the full decoder still answers them as before. */
    refused("{\"type\":\"ack\"," CHAT ",\"kind\":\"message\",\"seq\":-1}", "bad_request",
            "'seq' must be an integer >= 0");
    struct parsed p = parse("{\"type\":\"ack\"," CHAT ",\"kind\":\"message\",\"seq\":1,\"ref\":7}");
    cr_assert_eq(p.r, 0);
    cr_assert_not_null(p.q.ref);
    proto_request_free(&p.q);
}
