/* test_net.c - the pure parts of the network layer: request helpers,
 * percent-decoding, the WebSocket accept key, the UTF-8 validator, and the
 * frame header written for parked WebSockets (the HTTP parser wrapper:
 * test_net_hparse.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/net/net_int.h"

/* ---- request helpers ----------------------------------------------------- */

#define HDR(n, v)                                                                                  \
    {                                                                                              \
        DUET_SLICE_LIT(n), DUET_SLICE_LIT(v)                                                       \
    }

static int slice_is(duet_slice s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.base, want, s.len) == 0;
}

Test(net_request, cookies)
{
    struct net_header h[] = {
        HDR("Host", "x"),
        HDR("Cookie", "a=1; sid2=nope;  sid = \"q v\" ;last=z"),
        HDR("cookie", "other=2;sid=late"),
        HDR("COOKIE", "flag; empty="),
    };
    net_request req = {.headers = h, .n_headers = 4};
    duet_slice v;
    cr_assert_eq(net_cookie(&req, "a", &v), 0);
    cr_assert(slice_is(v, "1"));
    cr_assert_eq(net_cookie(&req, "sid", &v), -EEXIST, "two values: neither is trusted");
    cr_assert_eq(net_cookie(&req, "last", &v), 0);
    cr_assert(slice_is(v, "z"));
    cr_assert_eq(net_cookie(&req, "other", &v), 0);
    cr_assert(slice_is(v, "2"), "second Cookie header");
    cr_assert_eq(net_cookie(&req, "empty", &v), 0);
    cr_assert_eq(v.len, 0);
    cr_assert_eq(net_cookie(&req, "flag", &v), -ENOENT);
    cr_assert_eq(net_cookie(&req, "si", &v), -ENOENT);
    cr_assert_eq(net_cookie(&req, "missing", &v), -ENOENT);
    net_request none = {0};
    cr_assert_eq(net_cookie(&none, "a", &v), -ENOENT);
}

Test(net_request, cookie_repeated)
{
    struct net_header same[] = {HDR("Cookie", "s=1; t=2; s=\"1\""), HDR("Cookie", "s=1")};
    net_request req = {.headers = same, .n_headers = 2};
    duet_slice v;
    cr_assert_eq(net_cookie(&req, "s", &v), 0, "the same value again is no conflict");
    cr_assert(slice_is(v, "1"));
    struct net_header two[] = {HDR("Cookie", "s=planted; s=mine")};
    net_request req2 = {.headers = two, .n_headers = 1};
    cr_assert_eq(net_cookie(&req2, "s", &v), -EEXIST);
    struct net_header split[] = {HDR("Cookie", "s=mine"), HDR("Cookie", "x=1; s=planted")};
    net_request req3 = {.headers = split, .n_headers = 2};
    cr_assert_eq(net_cookie(&req3, "s", &v), -EEXIST);
}

Test(net_request, origin)
{
    struct net_header h[] = {HDR("Host", "chat.example:8443"), HDR("Origin", "")};
    net_request req = {.headers = h, .n_headers = 2};
    const char *cases[][2] = {
        {"https://chat.example:8443", "1"},
        {"HTTPS://chat.example:8443", "1"},
        {"http://chat.example:8443", "0"},
        {"ftp://chat.example:8443", "0"},
        {"https://chat.example", "0"},
        {"https://evil.example", "0"},
        {"chat.example:8443", "0"},
        {"null", "0"},
        {"https://", "0"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        h[1].value = (duet_slice){cases[i][0], strlen(cases[i][0])};
        cr_assert_eq(net_origin_ok(&req, NULL, 1), cases[i][1][0] == '1', "%s", cases[i][0]);
    }
    h[1].value = DUET_SLICE_LIT("http://chat.example:8443");
    cr_assert(net_origin_ok(&req, NULL, 0));
    cr_assert_not(net_origin_ok(&req, NULL, 1));
    cr_assert(net_origin_ok(&req, "http://chat.example:8443", 1), "the allowed origin, exactly");
    net_request no_origin = {.headers = h, .n_headers = 1};
    cr_assert(net_origin_ok(&no_origin, NULL, 1));
}

Test(net_request, addr_group)
{
    const char *cases[][2] = {
        {"203.0.113.7", "203.0.113.7"},
        {"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
        {"2001:db8:1:2::99", "2001:db8:1:2::/64"},
        {"::ffff:198.51.100.4", "198.51.100.4"},
        {"::1", "::/64"},
        {"unknown", "unknown"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[NET_ADDR_GROUP_LEN];
        net_addr_group(cases[i][0], out);
        cr_assert_str_eq(out, cases[i][1], "%s", cases[i][0]);
    }
    char long_in[200], out[NET_ADDR_GROUP_LEN];
    memset(long_in, 'x', sizeof(long_in) - 1);
    long_in[sizeof(long_in) - 1] = '\0';
    net_addr_group(long_in, out);
    cr_assert_eq(strlen(out), NET_ADDR_GROUP_LEN - 1);
}

Test(net_request, headers_case_insensitive)
{
    struct net_header h[] = {HDR("Content-Type", "text/plain"), HDR("X-A", "1"), HDR("x-a", "2")};
    net_request req = {.headers = h, .n_headers = 3};
    cr_assert(slice_is(*net_header(&req, "content-type"), "text/plain"));
    cr_assert(slice_is(*net_header(&req, "X-a"), "1"));
    cr_assert_null(net_header(&req, "x-b"));
}

Test(net_request, query)
{
    pool_t pool;
    pool_init(&pool);
    net_request req = {.query = DUET_SLICE_LIT("a=1&b=x+y%21&flag&c%20d=e&empty=&bad=%zz"),
                       .pool = &pool};
    duet_slice v;
    cr_assert_eq(net_query(&req, "a", &v), 0);
    cr_assert(slice_is(v, "1"));
    cr_assert_eq(net_query(&req, "b", &v), 0);
    cr_assert(slice_is(v, "x y!"));
    cr_assert_eq(net_query(&req, "flag", &v), 0);
    cr_assert_eq(v.len, 0);
    cr_assert_eq(net_query(&req, "c d", &v), 0);
    cr_assert(slice_is(v, "e"));
    cr_assert_eq(net_query(&req, "empty", &v), 0);
    cr_assert_eq(v.len, 0);
    cr_assert_eq(net_query(&req, "bad", &v), -EINVAL);
    cr_assert_eq(net_query(&req, "zzz", &v), -ENOENT);
    cr_assert_eq(net_query(&req, "fla", &v), -ENOENT);
    net_request empty = {.query = DUET_SLICE_LIT(""), .pool = &pool};
    cr_assert_eq(net_query(&empty, "a", &v), -ENOENT);
    pool_destroy(&pool);
}

Test(net_request, percent_decoding)
{
    char out[64];
    size_t n;
    cr_assert_eq(net__pct_decode("a%20b%2Fc%e2%82%ac", 18, out, &n, 0), 0);
    cr_assert_eq(n, 8);
    cr_assert_eq(memcmp(out, "a b/c\xe2\x82\xac", 8), 0);
    cr_assert_eq(net__pct_decode("a+b", 3, out, &n, 0), 0);
    cr_assert_eq(memcmp(out, "a+b", 3), 0);
    cr_assert_eq(net__pct_decode("a+b", 3, out, &n, 1), 0);
    cr_assert_eq(memcmp(out, "a b", 3), 0);
    cr_assert_eq(net__pct_decode("%00", 3, out, &n, 0), -EINVAL);
    cr_assert_eq(net__pct_decode("%G1", 3, out, &n, 0), -EINVAL);
    cr_assert_eq(net__pct_decode("%1", 2, out, &n, 0), -EINVAL);
    cr_assert_eq(net__pct_decode("abc%", 4, out, &n, 0), -EINVAL);
    /* Decoding in place is allowed. */
    char buf[] = "x%41y";
    cr_assert_eq(net__pct_decode(buf, 5, buf, &n, 0), 0);
    cr_assert_eq(n, 3);
    cr_assert_eq(memcmp(buf, "xAy", 3), 0);
}

Test(net_request, target)
{
    pool_t pool;
    pool_init(&pool);
    duet_slice path, query;
    const char *t = "/a%20b/c?x=%20&y#frag";
    cr_assert_eq(net__parse_target(&pool, t, strlen(t), &path, &query), 0);
    cr_assert(slice_is(path, "/a b/c"));
    cr_assert(slice_is(query, "x=%20&y"), "the query stays raw");
    t = "http://host:8080/p?q";
    cr_assert_eq(net__parse_target(&pool, t, strlen(t), &path, &query), 0);
    cr_assert(slice_is(path, "/p"));
    cr_assert(slice_is(query, "q"));
    t = "https://host";
    cr_assert_eq(net__parse_target(&pool, t, strlen(t), &path, &query), 0);
    cr_assert(slice_is(path, "/"));
    t = "/x%00y";
    cr_assert_eq(net__parse_target(&pool, t, strlen(t), &path, &query), -EINVAL);
    t = "/x%zz";
    cr_assert_eq(net__parse_target(&pool, t, strlen(t), &path, &query), -EINVAL);
    t = "relative";
    cr_assert_eq(net__parse_target(&pool, t, strlen(t), &path, &query), -EINVAL);
    pool_destroy(&pool);
}

Test(net_request, tokens)
{
    duet_slice v = DUET_SLICE_LIT("keep-alive, Upgrade");
    cr_assert(net__has_token(&v, "upgrade"));
    cr_assert(net__has_token(&v, "keep-alive"));
    cr_assert(!net__has_token(&v, "upgrad"));
    duet_slice w = DUET_SLICE_LIT("upgrades,\tfoo ");
    cr_assert(!net__has_token(&w, "upgrade"));
    cr_assert(net__has_token(&w, "foo"));
}

Test(net_request, json_error)
{
    char buf[128];
    int n = net__json_error(buf, sizeof(buf), "bad_request", "no");
    cr_assert_str_eq(buf, "{\"error\":\"bad_request\",\"message\":\"no\"}");
    cr_assert_eq(n, (int)strlen(buf));
    cr_assert_eq(net__json_error(buf, 8, "bad_request", "no"), -ENOSPC);
}

/* ---- WebSocket ---------------------------------------------------------------- */

/* RFC 6455, section 1.3 (checked against Python's hashlib as well). */
Test(net_ws, accept_key_rfc6455_example)
{
    char out[29];
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    cr_assert_eq(net__ws_accept_key(key, strlen(key), out), 0);
    cr_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

Test(net_ws, accept_key_rejects_bad_keys)
{
    char out[29];
    const char *bad[] = {"", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ===",
                         "dGhlIHNhbXBsZSBub25jZ!==", "dGhlIHNhbXBsZSBub25jZQAA"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(net__ws_accept_key(bad[i], strlen(bad[i]), out), -EINVAL, "%s", bad[i]);
}

/* What wslay's event layer writes for one queued message: the oracle for
 * the frames ws.c writes itself to a parked connection. */
struct wire {
    uint8_t *buf;
    size_t len, cap;
};

static ssize_t wire_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                         void *ud)
{
    struct wire *w = ud;
    (void)ctx;
    (void)flags;
    cr_assert_leq(w->len + len, w->cap);
    memcpy(w->buf + w->len, data, len);
    w->len += len;
    return (ssize_t)len;
}

static ssize_t wire_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
    (void)buf;
    (void)len;
    (void)flags;
    (void)ud;
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
}

Test(net_ws, frame_header_matches_wslay)
{
    /* each length form and both ends of it (RFC 6455 5.2) */
    const size_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 70000};
    enum { MAX = 70000 + 16 };
    uint8_t *payload = malloc(MAX), *mine = malloc(MAX), *theirs = malloc(MAX);
    cr_assert(payload != NULL && mine != NULL && theirs != NULL);
    for (size_t i = 0; i < MAX; i++)
        payload[i] = (uint8_t)('a' + i % 26);
    const struct wslay_event_callbacks cbs = {.recv_callback = wire_recv,
                                              .send_callback = wire_send};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        struct wire w = {theirs, 0, MAX};
        wslay_event_context_ptr ctx;
        cr_assert_eq(wslay_event_context_server_init(&ctx, &cbs, &w), 0);
        struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, payload, lens[i]};
        cr_assert_eq(wslay_event_queue_msg(ctx, &msg), 0);
        cr_assert_eq(wslay_event_send(ctx), 0);
        wslay_event_context_free(ctx);
        size_t hlen = net__ws_frame_header(mine, WSLAY_TEXT_FRAME, lens[i]);
        memcpy(mine + hlen, payload, lens[i]);
        cr_assert_eq(hlen + lens[i], w.len, "length %zu: %zu bytes, wslay wrote %zu", lens[i],
                     hlen + lens[i], w.len);
        cr_assert_eq(memcmp(mine, theirs, w.len), 0, "length %zu: frames differ", lens[i]);
    }
    free(payload);
    free(mine);
    free(theirs);
}

Test(net_ws_pure, ping_ids_and_the_pongs_that_answer_them)
{
    uint8_t f[NET__WS_PING_LEN];
    net__ws_ping_frame(f, 0x01020304u);
    const uint8_t want[] = {0x89, 0x04, 0x01, 0x02, 0x03, 0x04};
    cr_assert_eq(memcmp(f, want, sizeof(want)), 0, "a final ping with the id, unmasked");
    const uint8_t echo[] = {1, 2, 3, 4}, other[] = {1, 2, 3, 5};
    cr_assert(net__ws_pong_matches(0x01020304u, echo, 4));
    cr_assert(!net__ws_pong_matches(0x01020304u, other, 4), "another ping's id");
    cr_assert(!net__ws_pong_matches(0x01020304u, echo, 3), "a short payload");
    cr_assert(!net__ws_pong_matches(0x01020304u, NULL, 0), "an empty (blind) pong");
    const uint8_t mask[] = {0xaa, 0x55, 0x0f, 0xf0};
    uint8_t masked[4];
    for (int i = 0; i < 4; i++)
        masked[i] = echo[i] ^ mask[i];
    cr_assert(net__ws_pong_matches_masked(0x01020304u, mask, masked, 4));
    cr_assert(!net__ws_pong_matches_masked(0x01020305u, mask, masked, 4));
    cr_assert(!net__ws_pong_matches_masked(0x01020304u, mask, masked, 5));
}

static uint32_t utf8(const char *s, size_t len)
{
    return net__utf8_feed(NET__UTF8_ACCEPT, (const uint8_t *)s, len);
}

#define U8(lit) utf8(lit, sizeof(lit) - 1)

Test(net_utf8, valid)
{
    cr_assert_eq(U8(""), NET__UTF8_ACCEPT);
    cr_assert_eq(U8("hello"), NET__UTF8_ACCEPT);
    cr_assert_eq(U8("\xc2\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), NET__UTF8_ACCEPT);
    cr_assert_eq(U8("\xed\x9f\xbf"), NET__UTF8_ACCEPT);     /* U+D7FF */
    cr_assert_eq(U8("\xee\x80\x80"), NET__UTF8_ACCEPT);     /* U+E000 */
    cr_assert_eq(U8("\xf4\x8f\xbf\xbf"), NET__UTF8_ACCEPT); /* U+10FFFF */
    cr_assert_eq(U8("\xef\xbf\xbf"), NET__UTF8_ACCEPT);     /* U+FFFF */
}

Test(net_utf8, overlongs)
{
    cr_assert_eq(U8("\xc0\x80"), NET__UTF8_REJECT);
    cr_assert_eq(U8("\xc1\xbf"), NET__UTF8_REJECT);
    cr_assert_eq(U8("\xe0\x80\x80"), NET__UTF8_REJECT);
    cr_assert_eq(U8("\xe0\x9f\xbf"), NET__UTF8_REJECT);
    cr_assert_eq(U8("\xf0\x80\x80\x80"), NET__UTF8_REJECT);
    cr_assert_eq(U8("\xf0\x8f\xbf\xbf"), NET__UTF8_REJECT);
}

Test(net_utf8, surrogates_and_range)
{
    cr_assert_eq(U8("\xed\xa0\x80"), NET__UTF8_REJECT);     /* U+D800 */
    cr_assert_eq(U8("\xed\xbf\xbf"), NET__UTF8_REJECT);     /* U+DFFF */
    cr_assert_eq(U8("\xf4\x90\x80\x80"), NET__UTF8_REJECT); /* U+110000 */
    cr_assert_eq(U8("\xf5\x80\x80\x80"), NET__UTF8_REJECT);
    cr_assert_eq(U8("\xff"), NET__UTF8_REJECT);
    cr_assert_eq(U8("\x80"), NET__UTF8_REJECT); /* lone continuation */
    cr_assert_eq(U8("\xe2\x82"
                    "a"),
                 NET__UTF8_REJECT); /* cut short */
}

Test(net_utf8, incomplete_is_not_accept)
{
    uint32_t st = U8("ok\xe2\x82");
    cr_assert_neq(st, NET__UTF8_ACCEPT);
    cr_assert_neq(st, NET__UTF8_REJECT);
}

Test(net_utf8, split_across_fragments)
{
    const char *msg = "a\xf0\x9f\x98\x80\xe2\x82\xac";
    size_t n = strlen(msg);
    /* Every split point, as if the message came in two frames. */
    for (size_t cut = 0; cut <= n; cut++) {
        uint32_t st = utf8(msg, cut);
        cr_assert_neq(st, NET__UTF8_REJECT);
        st = net__utf8_feed(st, (const uint8_t *)msg + cut, n - cut);
        cr_assert_eq(st, NET__UTF8_ACCEPT, "cut at %zu", cut);
    }
    /* A surrogate split over two fragments is still caught. */
    uint32_t st = U8("\xed");
    cr_assert_neq(st, NET__UTF8_REJECT);
    cr_assert_eq(net__utf8_feed(st, (const uint8_t *)"\xa0\x80", 2), NET__UTF8_REJECT);
}
