/* Unit tests of the direct JSON writer (src/base/jsonw.c) and the protocol
 * events written with it (proto_write_*): the output must parse, escape
 * every string correctly, and be byte for byte what json_dumps makes of the
 * jansson versions of the same events. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/app/proto.h"
#include "../../src/base/jsonw.h"

/* The writer's text as a C string (asserting it did not fail). */
static const char *text_of(struct jsonw *w)
{
    size_t len;
    const char *s = jsonw_finish(w, &len);
    cr_assert_not_null(s);
    cr_assert_eq(strlen(s), len);
    return s;
}

/* s[0..n) written as a JSON string. */
static const char *str_json(struct jsonw *w, const char *s, size_t n)
{
    jsonw_reset(w, SIZE_MAX);
    jsonw_str(w, s, n);
    return text_of(w);
}

/* What json_dumps makes of the string s[0..n) (valid UTF-8 only). */
static char *jansson_str(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    cr_assert_not_null(j);
    char *out = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    cr_assert_not_null(out);
    return out;
}

TestSuite(jsonw);

Test(jsonw, escapes_like_jansson)
{
    static const char *const cases[] = {
        "",
        "hello",
        "quote \" backslash \\ slash /",
        "\b\f\n\r\t",
        "\x01\x02\x1f\x7f",
        "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80",
        "\xe2\x80\xa8 line separator",
        "<script>alert(1)</script>",
    };
    struct jsonw w;
    jsonw_init(&w);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *want = jansson_str(cases[i], strlen(cases[i]));
        cr_expect_str_eq(str_json(&w, cases[i], strlen(cases[i])), want, "case %zu", i);
        free(want);
    }
    /* Every control character, and NUL inside a counted string. */
    for (int c = 0; c < 0x20; c++) {
        char in[3] = {'a', (char)c, 'b'};
        char *want = jansson_str(in, 3);
        cr_expect_str_eq(str_json(&w, in, 3), want, "byte 0x%02x", c);
        free(want);
    }
    jsonw_free(&w);
}

Test(jsonw, exact_escape_forms)
{
    struct jsonw w;
    jsonw_init(&w);
    cr_assert_str_eq(str_json(&w, "a\"b\\c\n\x01", 7), "\"a\\\"b\\\\c\\n\\u0001\"");
    cr_assert_str_eq(str_json(&w, "\x1f", 1), "\"\\u001F\"");
    cr_assert_str_eq(str_json(&w, "\0", 1), "\"\\u0000\"");
    jsonw_free(&w);
}

Test(jsonw, malformed_utf8_becomes_replacement_characters)
{
    struct jsonw w;
    jsonw_init(&w);
    /* a lone continuation, an overlong '/', a truncated sequence at the end */
    const char in[] = "a\x80"
                      "b\xc0\xaf"
                      "c\xe2\x82";
    const char *out = str_json(&w, in, sizeof(in) - 1);
    cr_assert_str_eq(out, "\"a\xef\xbf\xbd"
                          "b\xef\xbf\xbd\xef\xbf\xbd"
                          "c\xef\xbf\xbd\xef\xbf\xbd\"");
    json_error_t err;
    json_t *j = json_loads(out, JSON_DECODE_ANY, &err);
    cr_assert_not_null(j, "%s", err.text);
    json_decref(j);
    jsonw_free(&w);
}

/* Random bytes: the output always parses, and for valid UTF-8 it reads back
 * as the input. */
Test(jsonw, random_strings_round_trip)
{
    struct jsonw w;
    jsonw_init(&w);
    uint64_t x = 88172645463325252u;
    for (int round = 0; round < 2000; round++) {
        char in[64];
        size_t n = (size_t)(round % 64);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* half of the rounds mostly ASCII, so that valid strings occur */
            in[i] = (char)(round % 2 ? x & 0xff : x & 0x7f);
        }
        const char *out = str_json(&w, in, n);
        json_error_t err;
        json_t *j = json_loads(out, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        cr_assert_not_null(j, "round %d: %s", round, err.text);
        cr_assert(json_is_string(j));
        json_t *again = json_stringn(in, n);
        if (again != NULL) { /* the input was valid UTF-8 */
            cr_assert(json_equal(j, again), "round %d", round);
            json_decref(again);
        }
        json_decref(j);
    }
    jsonw_free(&w);
}

Test(jsonw, integers)
{
    struct jsonw w;
    jsonw_init(&w);
    int64_t v[] = {0, 7, -1, 1764480000000, INT64_MAX, INT64_MIN};
    const char *want[] = {
        "0", "7", "-1", "1764480000000", "9223372036854775807", "-9223372036854775808"};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        jsonw_reset(&w, SIZE_MAX);
        jsonw_int(&w, v[i]);
        cr_expect_str_eq(text_of(&w), want[i]);
    }
    jsonw_free(&w);
}

Test(jsonw, grows_and_reset_keeps_or_drops_the_buffer)
{
    struct jsonw w;
    jsonw_init(&w);
    for (int i = 0; i < 10000; i++)
        jsonw_lit(&w, "0123456789");
    size_t len;
    const char *s = jsonw_finish(&w, &len);
    cr_assert_not_null(s);
    cr_assert_eq(len, 100000);
    cr_assert_eq(s[99999], '9');
    cr_assert_eq(s[100000], '\0');
    char *buf = w.buf;
    jsonw_reset(&w, SIZE_MAX);
    cr_assert_eq(w.len, 0);
    cr_assert_eq(w.buf, buf); /* kept */
    jsonw_reset(&w, 4096);
    cr_assert_null(w.buf); /* larger than keep: released */
    jsonw_lit(&w, "x");
    cr_assert_str_eq(text_of(&w), "x");
    jsonw_free(&w);
}

Test(jsonw, errors_are_sticky)
{
    struct jsonw w;
    jsonw_init(&w);
    jsonw_lit(&w, "abc");
    w.err = -ENOMEM; /* as after a failed allocation */
    jsonw_lit(&w, "def");
    jsonw_int(&w, 5);
    size_t len;
    cr_assert_null(jsonw_finish(&w, &len));
    cr_assert_eq(w.len, 3);
    jsonw_reset(&w, SIZE_MAX);
    jsonw_lit(&w, "ok");
    cr_assert_str_eq(text_of(&w), "ok");
    jsonw_free(&w);
}

/* ---- protocol events against their jansson versions ---- */

static struct duet_msg sample(int variant)
{
    struct duet_msg m;
    memset(&m, 0, sizeof(m));
    for (int i = 0; i < 16; i++) {
        m.chat_id.b[i] = (uint8_t)(i * 17 + variant);
        m.sender.b[i] = (uint8_t)(0xf0 - i);
        m.receiver.b[i] = (uint8_t)(i * 3);
    }
    static const char *const texts[] = {"hello", "",
                                        "tab\there \"quoted\" \\ \x01 \xc3\xa9\xf0\x9f\x98\x80",
                                        "line\nbreak </script>"};
    m.message_id = variant % 2 ? "c-1" : "A_b-9";
    m.message = texts[variant % 4];
    m.preview = "";
    m.type = variant % 3;
    m.sequence = 1000000 + variant;
    m.sent_at = 1764480000000 + variant;
    m.received_at = variant % 2 ? 0 : 1764480000100;
    m.seen_at = variant % 3 ? 0 : 1764480000200;
    m.deleted_at = variant == 3 ? 1764480000300 : 0;
    return m;
}

/* json_dumps(j) compared with the writer's text; takes j. */
static void expect_same(json_t *j, struct jsonw *w, const char *what)
{
    cr_assert_not_null(j);
    char *want = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    cr_assert_not_null(want);
    const char *got = text_of(w);
    cr_expect_str_eq(got, want, "%s:\n got  %s\n want %s", what, got, want);
    free(want);
}

Test(jsonw, message_and_message_event_match_jansson)
{
    struct jsonw w;
    jsonw_init(&w);
    for (int v = 0; v < 8; v++) {
        struct duet_msg m = sample(v);
        jsonw_reset(&w, SIZE_MAX);
        proto_write_message(&w, &m);
        expect_same(proto_message(&m), &w, "message");
        jsonw_reset(&w, SIZE_MAX);
        proto_write_message_event(&w, &m, 0);
        expect_same(proto_message_event(&m), &w, "message event");
        /* a replay from the backlog, as client.c's pending_event */
        jsonw_reset(&w, SIZE_MAX);
        proto_write_message_event(&w, &m, 1);
        json_t *ev = proto_message_event(&m);
        cr_assert_not_null(ev);
        cr_assert_eq(json_object_set_new(ev, "pending", json_true()), 0);
        expect_same(ev, &w, "pending message event");
    }
    jsonw_free(&w);
}

/* The jansson history event, as chat.c built it before the writer. */
static json_t *history_json(json_t *ref, const duet_id *chat, const struct duet_msg *msgs, size_t n)
{
    json_t *a = json_array();
    cr_assert_not_null(a);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(json_array_append_new(a, proto_message(&msgs[i])), 0);
    return json_pack("{s:s, s:O?, s:o, s:o}", "type", "history", "ref", ref, "chat_id",
                     proto_id(chat), "messages", a);
}

Test(jsonw, history_matches_jansson)
{
    struct duet_msg msgs[8];
    for (int v = 0; v < 8; v++)
        msgs[v] = sample(v);
    json_t *refs[] = {NULL, json_integer(42), json_integer(-7), json_string("r\"1\\\n\xc3\xa9")};
    struct jsonw w;
    jsonw_init(&w);
    for (size_t r = 0; r < sizeof(refs) / sizeof(refs[0]); r++) {
        for (size_t n = 0; n <= 8; n += 4) {
            jsonw_reset(&w, SIZE_MAX);
            proto_write_history(&w, refs[r], &msgs[0].chat_id, msgs, n);
            expect_same(history_json(refs[r], &msgs[0].chat_id, msgs, n), &w, "history");
        }
        json_decref(refs[r]);
    }
    jsonw_free(&w);
}

Test(jsonw, sent_matches_jansson)
{
    json_t *refs[] = {NULL, json_integer(9), json_string("abc")};
    struct jsonw w;
    jsonw_init(&w);
    for (size_t r = 0; r < sizeof(refs) / sizeof(refs[0]); r++)
        for (int dup = 0; dup < 2; dup++) {
            struct duet_msg m = sample((int)r);
            jsonw_reset(&w, SIZE_MAX);
            proto_write_sent(&w, refs[r], &m, dup);
            json_t *j = json_pack("{s:s, s:O?, s:o, s:s, s:I, s:I, s:b}", "type", "sent", "ref",
                                  refs[r], "chat_id", proto_id(&m.chat_id), "id", m.message_id,
                                  "seq", (json_int_t)m.sequence, "sent_at", (json_int_t)m.sent_at,
                                  "duplicate", dup);
            expect_same(j, &w, "sent");
        }
    for (size_t r = 0; r < sizeof(refs) / sizeof(refs[0]); r++)
        json_decref(refs[r]);
    jsonw_free(&w);
}
