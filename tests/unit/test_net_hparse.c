/* test_net_hparse.c - the HTTP parser wrapper (hparse): callbacks, pipelining,
 * chunked bodies, strict refusals and the header limit. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/net/net_int.h"

/* What the callbacks saw, flattened: "U:<url>|F:<name>|V:<value>|H|B:<body>|M". */
struct seen {
    char log[4096];
    size_t len;
    int abort_on_body;
};

static void note(struct seen *s, const char *tag, const char *at, size_t len)
{
    int n = snprintf(s->log + s->len, sizeof(s->log) - s->len, "%s%.*s", tag, (int)len, at);
    cr_assert(n >= 0 && (size_t)n < sizeof(s->log) - s->len);
    s->len += (size_t)n;
}

static int t_url(void *ud, const char *at, size_t len)
{
    note(ud, "U:", at, len);
    return 0;
}

static int t_field(void *ud, const char *at, size_t len)
{
    note(ud, "F:", at, len);
    return 0;
}

static int t_value(void *ud, const char *at, size_t len)
{
    note(ud, "V:", at, len);
    return 0;
}

static int t_headers(void *ud)
{
    note(ud, "H", "", 0);
    return 0;
}

static int t_body(void *ud, const char *at, size_t len)
{
    struct seen *s = ud;
    note(s, "B:", at, len);
    return s->abort_on_body;
}

static int t_done(void *ud)
{
    note(ud, "M", "", 0);
    return 0;
}

static const struct hparse_cb tcb = {t_url, t_field, t_value, t_headers, t_body, t_done};

static hparse *new_parser(struct seen *s, size_t max_header)
{
    memset(s, 0, sizeof(*s));
    hparse *p;
    cr_assert_eq(hparse_new(&tcb, s, max_header, &p), 0);
    return p;
}

Test(net_hparse, simple_get)
{
    struct seen s;
    hparse *p = new_parser(&s, 16384);
    const char *req = "GET /a?b=1 HTTP/1.1\r\nHost: x\r\nCookie: k=v\r\n\r\n";
    size_t used;
    cr_assert_eq(hparse_feed(p, req, strlen(req), &used), HPARSE_DONE);
    cr_assert_eq(used, strlen(req));
    cr_assert_str_eq(s.log, "U:/a?b=1F:HostV:xF:CookieV:k=vHM");
    cr_assert_str_eq(hparse_method(p), "GET");
    cr_assert_eq(hparse_version(p), 11);
    cr_assert(hparse_keep_alive(p));
    cr_assert(!hparse_upgrade(p));
    hparse_free(p);
}

Test(net_hparse, split_byte_by_byte)
{
    struct seen s;
    hparse *p = new_parser(&s, 16384);
    const char *req = "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
    size_t n = strlen(req), used;
    for (size_t i = 0; i < n; i++) {
        int r = hparse_feed(p, req + i, 1, &used);
        cr_assert_eq(used, 1);
        cr_assert_eq(r, i + 1 == n ? HPARSE_DONE : HPARSE_MORE, "at byte %zu", i);
    }
    /* Split pieces arrive as several callbacks of the same element. */
    cr_assert(strstr(s.log, "U:/U:x") != NULL);
    cr_assert(strstr(s.log, "B:hB:eB:lB:lB:o") != NULL);
    cr_assert(strstr(s.log, "HB:") != NULL && s.log[s.len - 1] == 'M');
    hparse_free(p);
}

Test(net_hparse, pipelined_pauses_after_each)
{
    struct seen s;
    hparse *p = new_parser(&s, 16384);
    const char *one = "GET /1 HTTP/1.1\r\n\r\n", *two = "GET /2 HTTP/1.1\r\n\r\n";
    char both[128];
    snprintf(both, sizeof(both), "%s%s", one, two);
    size_t used;
    cr_assert_eq(hparse_feed(p, both, strlen(both), &used), HPARSE_DONE);
    cr_assert_eq(used, strlen(one));
    cr_assert_str_eq(s.log, "U:/1HM");
    hparse_resume(p);
    size_t used2;
    cr_assert_eq(hparse_feed(p, both + used, strlen(both) - used, &used2), HPARSE_DONE);
    cr_assert_eq(used + used2, strlen(both));
    cr_assert_str_eq(s.log, "U:/1HMU:/2HM");
    hparse_free(p);
}

Test(net_hparse, chunked_body)
{
    struct seen s;
    hparse *p = new_parser(&s, 16384);
    const char *req = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    size_t used;
    cr_assert_eq(hparse_feed(p, req, strlen(req), &used), HPARSE_DONE);
    cr_assert_eq(used, strlen(req));
    cr_assert(strstr(s.log, "HB:abcB:deM") != NULL, "%s", s.log);
    hparse_free(p);
}

Test(net_hparse, invalid_input)
{
    const char *bad[] = {
        "GARBAGE\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "GET / XTTP/1.1\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct seen s;
        hparse *p = new_parser(&s, 16384);
        size_t used;
        cr_assert_eq(hparse_feed(p, bad[i], strlen(bad[i]), &used), -EBADMSG, "case %zu", i);
        cr_assert(strlen(hparse_errstr(p)) > 0);
        hparse_free(p);
    }
}

/* Strict mode, enforced by the wrapper (issue 14 item 12): each case is
 * refused with its own reason, fed whole and fed byte by byte. */
Test(net_hparse, strict_refusals)
{
    const char *bad[][2] = {
        {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", "header name"},
        {"GET / HTTP/1.1\r\nX(y): x\r\n\r\n", "header"},
        {"GET / HTTP/1.1\r\nX-A: y\r\n folded\r\n\r\n", "folding"},
        {"GET / HTTP/1.1\r\nX-A: y\r\n\tfolded\r\n\r\n", "folding"},
        {"GET / HTTP/1.1\r\nX-A:\r\n folded\r\n\r\n", "folding"},
        {"GET / HTTP/1.1\r\n Host: x\r\n\r\n", "folding"},
        {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HTTP/1.0"},
        {"POST / HTTP/1.0\r\ntransfer-encoding: gzip\r\n\r\n", "HTTP/1.0"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            struct seen s;
            hparse *p = new_parser(&s, 16384);
            size_t len = strlen(bad[i][0]), off = 0, used;
            int r = HPARSE_MORE;
            while (r == HPARSE_MORE && off < len) {
                r = hparse_feed(p, bad[i][0] + off, bytewise ? 1 : len - off, &used);
                off += used;
            }
            cr_assert_eq(r, -EBADMSG, "case %zu (%s)", i, bytewise ? "bytewise" : "whole");
            cr_assert(strstr(hparse_errstr(p), bad[i][1]) != NULL, "case %zu: %s", i,
                      hparse_errstr(p));
            hparse_free(p);
        }
    }
}

/* What strict mode must not refuse: a body that looks like folding, and a
 * second pipelined request after one with a body. */
Test(net_hparse, strict_keeps_good_requests)
{
    const char *req = "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\na\n bc"
                      "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n";
    struct seen s;
    hparse *p = new_parser(&s, 16384);
    size_t len = strlen(req), used;
    cr_assert_eq(hparse_feed(p, req, len, &used), HPARSE_DONE);
    hparse_resume(p);
    cr_assert_eq(hparse_feed(p, req + used, len - used, &used), HPARSE_DONE);
    cr_assert(strstr(s.log, "B:a\n bc") != NULL, "%s", s.log);
    cr_assert(strstr(s.log, "U:/2") != NULL, "%s", s.log);
    hparse_free(p);
}

Test(net_hparse, header_limit_is_exact)
{
    const char *req = "GET / HTTP/1.1\r\nX: 0123456789\r\n\r\n"; /* 34 bytes */
    struct seen s;
    size_t used;
    hparse *p = new_parser(&s, strlen(req));
    cr_assert_eq(hparse_feed(p, req, strlen(req), &used), HPARSE_DONE);
    hparse_free(p);
    p = new_parser(&s, strlen(req) - 1);
    cr_assert_eq(hparse_feed(p, req, strlen(req), &used), -EMSGSIZE);
    cr_assert_str_eq(hparse_errstr(p), "request headers too large");
    hparse_free(p);
    /* The limit counts across feeds too. */
    p = new_parser(&s, 20);
    cr_assert_eq(hparse_feed(p, req, 10, &used), HPARSE_MORE);
    cr_assert_eq(hparse_feed(p, req + 10, strlen(req) - 10, &used), -EMSGSIZE);
    hparse_free(p);
}

Test(net_hparse, body_does_not_count_as_headers)
{
    const char *req = "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n";
    char buf[256];
    snprintf(buf, sizeof(buf), "%s%0100d", req, 0);
    struct seen s;
    size_t used;
    hparse *p = new_parser(&s, strlen(req));
    cr_assert_eq(hparse_feed(p, buf, strlen(buf), &used), HPARSE_DONE);
    cr_assert_eq(used, strlen(buf));
    hparse_free(p);
}

Test(net_hparse, callback_abort)
{
    struct seen s;
    hparse *p = new_parser(&s, 16384);
    s.abort_on_body = 1;
    const char *req = "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi";
    size_t used;
    cr_assert_eq(hparse_feed(p, req, strlen(req), &used), -ECANCELED);
    hparse_free(p);
}

Test(net_hparse, upgrade_leaves_the_rest)
{
    struct seen s;
    hparse *p = new_parser(&s, 16384);
    const char *head = "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    char buf[256];
    snprintf(buf, sizeof(buf), "%s\x81\x85rest", head);
    size_t used;
    cr_assert_eq(hparse_feed(p, buf, strlen(buf), &used), HPARSE_DONE);
    cr_assert_eq(used, strlen(head));
    cr_assert(hparse_upgrade(p));
    hparse_free(p);
}

Test(net_hparse, http10_keep_alive)
{
    struct seen s;
    size_t used;
    hparse *p = new_parser(&s, 16384);
    const char *a = "GET / HTTP/1.0\r\n\r\n";
    cr_assert_eq(hparse_feed(p, a, strlen(a), &used), HPARSE_DONE);
    cr_assert_eq(hparse_version(p), 10);
    cr_assert(!hparse_keep_alive(p));
    hparse_free(p);
    p = new_parser(&s, 16384);
    const char *b = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    cr_assert_eq(hparse_feed(p, b, strlen(b), &used), HPARSE_DONE);
    cr_assert(hparse_keep_alive(p));
    hparse_free(p);
    p = new_parser(&s, 16384);
    const char *c = "GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
    cr_assert_eq(hparse_feed(p, c, strlen(c), &used), HPARSE_DONE);
    cr_assert(!hparse_keep_alive(p));
    hparse_free(p);
}
