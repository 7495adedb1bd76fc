/* The fast decoder of send frames (src/app/proto_fast.c, issue 18 round 8):
 * the frames it takes decode exactly as jansson's full path decodes them;
 * every other frame is left to the full path, whose answer (request or
 * refusal) proto_parse_request then gives unchanged. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../src/app/proto_req.h"

#define CHAT "\"chat_id\":\"0b7d3c2e-1f4a-4c5b-9d6e-7f8a9b0c1d2e\""
#define SEND "{\"type\":\"send\"," CHAT ",\"id\":\"c-1\","
#define MAX  10

/* A frame with its length: some hold a NUL byte. */
struct frame {
    const char *s;
    size_t n;
};
#define F(lit)                                                                                     \
    {                                                                                              \
        lit, sizeof(lit) - 1                                                                       \
    }

TestSuite(proto_fast);

/* The two decodings of one frame are the same request. */
static void same_send(const struct proto_request *f, const struct proto_request *j)
{
    cr_assert_eq(f->type, PROTO_REQ_SEND);
    cr_assert_eq(j->type, PROTO_REQ_SEND);
    cr_assert_str_eq(f->request, j->request);
    cr_assert(duet_id_eq(&f->chat_id, &j->chat_id));
    cr_assert_eq(f->id_len, j->id_len);
    cr_assert_eq(memcmp(f->id, j->id, f->id_len + 1), 0); /* with the NUL */
    cr_assert_eq(f->text_len, j->text_len);
    cr_assert_eq(memcmp(f->text, j->text, f->text_len + 1), 0);
    cr_assert_eq(f->reply_to, j->reply_to);
    cr_assert_eq(f->has_media, j->has_media);
    cr_assert_eq(f->has_forward, j->has_forward);
    cr_assert((f->ref == NULL && j->ref == NULL) || json_equal(f->ref, j->ref));
    cr_assert_null(f->frame);
}

Test(proto_fast, plain_sends_skip_jansson)
{
    static const struct frame taken[] = {
        F(SEND "\"text\":\"hi\"}"),
        F(" {\n\"text\" : \"hi there\" ,\t\"id\":\"c-1\", " CHAT ", \"type\":\"send\" }\r\n"),
        F(SEND "\"text\":\"hi\",\"ref\":\"c-1\"}"),
        F(SEND "\"text\":\"hi\",\"ref\":0}"),
        F(SEND "\"text\":\"hi\",\"ref\":123456789012345678}"),
        F(SEND "\"text\":\"h\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80 \x7f\"}"),
        /* 10 characters in 20 bytes, at the limit of 10 */
        F(SEND "\"text\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
               "\xa9\xc3\xa9\"}"),
        F(SEND "\"text\":\"0123456789\",\"ref\":"
               "\"0123456789012345678901234567890123456789012345678901234567890123\"}"),
    };
    for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
        struct proto_request f, j;
        struct proto_req_error e;
        cr_assert_eq(proto_parse_fast(taken[i].s, taken[i].n, MAX, &f), 1, "%s", taken[i].s);
        cr_assert_eq(proto_parse_json(taken[i].s, taken[i].n, MAX, &j, &e), 0, "%s", taken[i].s);
        same_send(&f, &j);
        proto_request_free(&j);
        proto_request_free(&f);
    }
    /* proto_parse_request takes the same path: no frame kept */
    struct proto_request q;
    struct proto_req_error e;
    cr_assert_eq(proto_parse_request(taken[2].s, taken[2].n, MAX, &q, &e), 0);
    cr_assert_null(q.frame);
    cr_assert_str_eq(json_string_value(q.ref), "c-1");
    cr_assert_str_eq(q.text, "hi");
    proto_request_free(&q);
}

/* Left to jansson: escapes, NUL, malformed UTF-8, duplicates, wrong types,
 * bounds, other keys, trailing bytes. */
static const struct frame left[] = {
    F(SEND "\"text\":\"a\\nb\"}"),
    F(SEND "\"text\":\"a\\\"b\"}"),
    F(SEND "\"text\":\"a\\\\b\"}"),
    F(SEND "\"text\":\"a\\/b\"}"),
    F(SEND "\"text\":\"\\u00e9\"}"),
    F(SEND "\"text\":\"a\\u0000b\"}"),
    F(SEND "\"text\":\"a\\ud83d\\ude00\"}"),
    F(SEND "\"text\":\"a\0b\"}"),
    F(SEND "\"text\":\"a\tb\"}"),
    F(SEND "\"text\":\"\xc0\x80\"}"),
    F(SEND "\"text\":\"\xc1\xbf\"}"),
    F(SEND "\"text\":\"\xe0\x80\xaf\"}"),
    F(SEND "\"text\":\"\xed\xa0\x80\"}"),
    F(SEND "\"text\":\"\xf4\x90\x80\x80\"}"),
    F(SEND "\"text\":\"\xf5\x80\x80\x80\"}"),
    F(SEND "\"text\":\"\xe2\x82\"}"),
    F(SEND "\"text\":\"\x80\"}"),
    F(SEND "\"text\":\"\xff\"}"),
    F(SEND "\"text\":\"\xe2\x82"),
    F(SEND "\"text\":\"a\",\"text\":\"b\"}"),
    F(SEND "\"text\":\"a\",\"id\":\"c-2\"}"),
    F(SEND "\"text\":\"a\",\"ref\":1,\"ref\":2}"),
    F(SEND "\"text\":\"a\"," CHAT "}"),
    F(SEND "\"text\":5}"),
    F(SEND "\"text\":null}"),
    F(SEND "\"text\":[\"a\"]}"),
    F("{\"type\":\"send\"," CHAT ",\"id\":7,\"text\":\"a\"}"),
    F("{\"type\":\"send\",\"chat_id\":5,\"id\":\"c\",\"text\":\"a\"}"),
    F(SEND "\"text\":\"a\",\"ref\":[1]}"),
    F(SEND "\"text\":\"a\",\"ref\":-1}"),
    F(SEND "\"text\":\"a\",\"ref\":1.5}"),
    F(SEND "\"text\":\"a\",\"ref\":1e3}"),
    F(SEND "\"text\":\"a\",\"ref\":true}"),
    F(SEND "\"text\":\"a\",\"ref\":null}"),
    F(SEND "\"text\":\"a\",\"ref\":1234567890123456789}"),
    F(SEND "\"text\":\"a\",\"ref\":\"r\\u0031\"}"),
    F(SEND "\"text\":\"a\",\"ref\":\"r\xc3\xa9\"}"),
    F(SEND "\"text\":\"a\",\"ref\":"
           "\"01234567890123456789012345678901234567890123456789012345678901234\"}"),
    F(SEND "\"text\":\"abcdefghijk\"}"),
    F(SEND "\"text\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
           "\xc3\xa9\xc3\xa9\"}"),
    F(SEND "\"text\":\"\"}"),
    F("{\"type\":\"send\"," CHAT ",\"id\":\"a b\",\"text\":\"a\"}"),
    F("{\"type\":\"send\"," CHAT ",\"id\":\"\",\"text\":\"a\"}"),
    F("{\"type\":\"send\"," CHAT ",\"id\":"
      "\"01234567890123456789012345678901234567890123456789012345678901234\",\"text\":\"a\"}"),
    F("{\"type\":\"send\",\"chat_id\":\"nope\",\"id\":\"c\",\"text\":\"a\"}"),
    F(SEND "\"text\":\"a\",\"reply_to\":3}"),
    F(SEND "\"text\":\"a\",\"media\":null}"),
    F(SEND "\"text\":\"a\",\"forward\":{}}"),
    F(SEND "\"text\":\"a\",\"x\":\"y\"}"),
    F(SEND "\"text\":\"a\",\"seq\":1}"),
    F(SEND "\"text\":\"a\",\"kind\":\"message\"}"),
    F(SEND "\"te\\u0078t\":\"a\"}"),
    F("{\"type\":\"send\"," CHAT ",\"text\":\"a\"}"),
    F(SEND "\"text\":\"a\"} x"),
    F(SEND "\"text\":\"a\"}}"),
    F(SEND "\"text\":\"a\",}"),
    F("{\"type\":\"ack\"," CHAT ",\"kind\":\"message\",\"seq\":1,\"text\":\"a\"}"),
    F("{\"type\":\"seen\"," CHAT ",\"seq\":1,\"id\":\"c\"}"),
};

/* The answer of proto_parse_request is the full decoder's. */
static void same_answer(const struct frame *fr)
{
    struct proto_request a, b;
    struct proto_req_error ea, eb;
    int ra = proto_parse_request(fr->s, fr->n, MAX, &a, &ea);
    int rb = proto_parse_json(fr->s, fr->n, MAX, &b, &eb);
    cr_assert_eq(ra, rb, "%s", fr->s);
    if (ra == 0) {
        cr_assert_not_null(a.frame, "%s", fr->s);
        cr_assert_eq(a.text_len, b.text_len);
        /* Frames without a text (ack, seen) have NULL there: memcmp must
         * not see it, even for 0 bytes. */
        cr_assert_eq(a.text == NULL, b.text == NULL, "%s", fr->s);
        if (a.text_len > 0)
            cr_assert_eq(memcmp(a.text, b.text, a.text_len), 0);
    } else {
        cr_assert_eq(ea.err, eb.err, "%s", fr->s);
        cr_assert_str_eq(ea.code, eb.code, "%s", fr->s);
        cr_assert_str_eq(ea.message, eb.message, "%s", fr->s);
    }
    proto_request_free(&a);
    proto_request_free(&b);
}

Test(proto_fast, everything_else_takes_the_full_path)
{
    for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
        struct proto_request f, untouched;
        memset(&f, 0x5a, sizeof(f));
        memset(&untouched, 0x5a, sizeof(untouched));
        cr_assert_eq(proto_parse_fast(left[i].s, left[i].n, MAX, &f), 0, "frame %zu: %s", i,
                     left[i].s);
        cr_assert_eq(memcmp(&f, &untouched, sizeof(f)), 0, "frame %zu set something", i);
        same_answer(&left[i]);
    }
}

Test(proto_fast, refusals_keep_their_codes)
{
    struct proto_request q;
    struct proto_req_error e;
    static const struct frame nul = F(SEND "\"text\":\"a\\u0000b\"}");
    cr_assert_eq(proto_parse_request(nul.s, nul.n, MAX, &q, &e), -1);
    cr_assert_str_eq(e.code, "bad_json");
    proto_request_free(&q);
    static const struct frame bad = F(SEND "\"text\":\"\xed\xa0\x80\"}");
    cr_assert_eq(proto_parse_request(bad.s, bad.n, MAX, &q, &e), -1);
    cr_assert_str_eq(e.code, "bad_json");
    proto_request_free(&q);
    static const struct frame lng = F(SEND "\"text\":\"abcdefghijk\",\"ref\":\"r\"}");
    cr_assert_eq(proto_parse_request(lng.s, lng.n, MAX, &q, &e), -1);
    cr_assert_str_eq(e.code, "too_long");
    cr_assert_str_eq(json_string_value(q.ref), "r");
    proto_request_free(&q);
}
