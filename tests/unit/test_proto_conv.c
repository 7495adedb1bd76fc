/* Issue 17's protocol (src/app/proto_conv.c, src/app/proto_req.c): the
 * optional message fields written directly match the jansson objects, and
 * react, edit, hide and send's reply_to/forward decode and refuse as
 * documented. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/app/proto.h"
#include "../../src/app/proto_conv.h"
#include "../../src/app/proto_req.h"

#define CHAT "\"chat_id\":\"0b7d3c2e-1f4a-4c5b-9d6e-7f8a9b0c1d2e\""

TestSuite(proto_conv);

Test(proto_conv, message_extras_match_jansson)
{
    struct duet_reaction rs[2] = {{.emoji = "\xf0\x9f\x91\x8d", .at = 5},
                                  {.emoji = "\xe2\x9d\xa4\xef\xb8\x8f", .at = 6}};
    rs[1].user.b[0] = 7;
    for (int v = 0; v < 6; v++) {
        struct duet_msg m;
        memset(&m, 0, sizeof(m));
        m.message_id = "c-1";
        m.message = "hi \"there\"";
        m.preview = "";
        m.sequence = 9;
        m.reply_to = v % 2 ? 3 : 0;
        m.reply_snippet = v == 3 ? "" : "first \\ line";
        m.reply_deleted = v == 3;
        m.forwarded = v >= 2;
        m.edited_at = v == 4 ? 1764480000000 : 0;
        m.hidden = v == 5;
        m.reactions = v == 1 || v == 4 ? rs : NULL;
        m.n_reactions = v == 1 ? 2 : v == 4 ? 1 : 0;
        struct jsonw w;
        jsonw_init(&w);
        proto_write_message_event(&w, &m, 0);
        size_t len;
        const char *got = jsonw_finish(&w, &len);
        cr_assert_not_null(got);
        json_t *j = proto_message_event(&m);
        cr_assert_not_null(j);
        char *want = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        cr_expect_str_eq(got, want, "variant %d:\n got  %s\n want %s", v, got, want);
        free(want);
        jsonw_free(&w);
    }
}

static int parse(const char *s, struct proto_request *q, struct proto_req_error *e)
{
    return proto_parse_request(s, strlen(s), 100, q, e);
}

static void refused(const char *frame, const char *code)
{
    struct proto_request q;
    struct proto_req_error e;
    cr_assert_eq(parse(frame, &q, &e), -1, "%s was accepted", frame);
    cr_expect_str_eq(e.code, code, "%s", frame);
    cr_expect_str_eq(q.request != NULL ? q.request : "", strstr(frame, "react")  ? "react"
                                                         : strstr(frame, "edit") ? "edit"
                                                         : strstr(frame, "hide") ? "hide"
                                                                                 : "send");
    proto_request_free(&q);
}

Test(proto_conv, react_takes_one_emoji_or_null)
{
    struct proto_request q;
    struct proto_req_error e;
    const char *ok[] = {"\"\xf0\x9f\x91\x8d\"", "\"\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd\"",
                        "\"1\xef\xb8\x8f\xe2\x83\xa3\"", "null", "\"\""};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char f[160];
        snprintf(f, sizeof(f), "{\"type\":\"react\"," CHAT ",\"seq\":2,\"emoji\":%s}", ok[i]);
        cr_assert_eq(parse(f, &q, &e), 0, "%s: %s", f, e.message);
        cr_assert_eq(q.type, PROTO_REQ_REACT);
        cr_assert_eq(q.seq, 2);
        proto_request_free(&q);
    }
    refused("{\"type\":\"react\"," CHAT ",\"seq\":2,\"emoji\":\"ok\"}", "bad_emoji");
    refused("{\"type\":\"react\"," CHAT ",\"seq\":2,\"emoji\":\" \xf0\x9f\x91\x8d\"}", "bad_emoji");
    refused("{\"type\":\"react\"," CHAT ",\"seq\":2,\"emoji\":1}", "bad_emoji");
    refused("{\"type\":\"react\"," CHAT ",\"seq\":2,\"emoji\":\"\xf0\x9f\x91\x8d\xf0\x9f\x91\x8d"
            "\xf0\x9f\x91\x8d\xf0\x9f\x91\x8d\xf0\x9f\x91\x8d\xf0\x9f\x91\x8d\xf0\x9f\x91\x8d"
            "\xf0\x9f\x91\x8d\xf0\x9f\x91\x8d\"}",
            "bad_emoji");
    refused("{\"type\":\"react\"," CHAT ",\"seq\":2}", "missing_field");
    refused("{\"type\":\"react\"," CHAT ",\"seq\":0,\"emoji\":null}", "bad_request");
}

Test(proto_conv, edit_and_hide)
{
    struct proto_request q;
    struct proto_req_error e;
    cr_assert_eq(parse("{\"type\":\"edit\"," CHAT ",\"seq\":4,\"text\":\"new\"}", &q, &e), 0);
    cr_assert_eq(q.type, PROTO_REQ_EDIT);
    cr_assert_str_eq(q.text, "new");
    proto_request_free(&q);
    cr_assert_eq(parse("{\"type\":\"hide\"," CHAT ",\"seq\":4}", &q, &e), 0);
    cr_assert_eq(q.type, PROTO_REQ_HIDE);
    proto_request_free(&q);
    refused("{\"type\":\"edit\"," CHAT ",\"seq\":4,\"text\":\"\"}", "empty");
    refused("{\"type\":\"edit\"," CHAT ",\"seq\":4}", "missing_field");
    refused("{\"type\":\"hide\"," CHAT "}", "missing_field");
}

Test(proto_conv, send_reply_and_forward)
{
    struct proto_request q;
    struct proto_req_error e;
    cr_assert_eq(
        parse("{\"type\":\"send\"," CHAT ",\"id\":\"a\",\"text\":\"x\",\"reply_to\":3}", &q, &e),
        0);
    cr_assert_eq(q.reply_to, 3);
    cr_assert_eq(q.has_forward, 0);
    proto_request_free(&q);
    cr_assert_eq(
        parse("{\"type\":\"send\"," CHAT ",\"id\":\"a\",\"forward\":{" CHAT ",\"seq\":5}}", &q, &e),
        0);
    cr_assert_eq(q.has_forward, 1);
    cr_assert_eq(q.fwd_seq, 5);
    cr_assert_null(q.text);
    proto_request_free(&q);
    refused("{\"type\":\"send\"," CHAT ",\"id\":\"a\",\"text\":\"x\",\"reply_to\":0}",
            "bad_request");
    refused("{\"type\":\"send\"," CHAT ",\"id\":\"a\",\"text\":\"x\",\"forward\":{" CHAT
            ",\"seq\":5}}",
            "bad_request");
    refused("{\"type\":\"send\"," CHAT ",\"id\":\"a\",\"forward\":{\"seq\":5}}", "missing_field");
    refused("{\"type\":\"send\"," CHAT ",\"id\":\"a\",\"forward\":[]}", "bad_request");
    refused("{\"type\":\"send\"," CHAT ",\"id\":\"a\"}", "missing_field");
}
