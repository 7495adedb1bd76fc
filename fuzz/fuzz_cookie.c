/* fuzz_cookie.c - cookie and header values: net_cookie (several Cookie
 * headers), net_header, net_query with percent-decoding, the token lists of
 * Connection/Upgrade (net__has_token), If-None-Match (net__etag_match),
 * Accept-Encoding (net__accepts_gzip), Sec-WebSocket-Key
 * (net__ws_accept_key), the Origin check (net_origin_ok), the session
 * token check (auth_token_hash), and the
 * ids and names that arrive in URLs (duet_id_parse, text_username).
 *
 * Input: lines. The first is the query string; each further line
 * "name:value" is a header (the value is used as it is, untrimmed, as the
 * odd shapes are the point). Oracles besides the sanitizers: results lie
 * inside the input, a cookie value holds no ';', an accepted session token
 * is 43 base64url characters, a parsed id formats back to the same id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/app/auth.h"
#include "../src/base/text.h"
#include "../src/net/net_int.h"

#define MAX_HEADERS 32

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_cookie: oracle failed: %s\n", what);
        abort();
    }
}

static const char *buf_lo, *buf_hi;

static int within(const duet_slice *s)
{
    return s->len == 0 || (s->base >= buf_lo && s->base + s->len <= buf_hi);
}

static void header_checks(const duet_slice *v)
{
    (void)net__has_token(v, "upgrade");
    (void)net__has_token(v, "websocket");
    (void)net__etag_match(v, "\"0123456789abcdef\"");
    (void)net__accepts_gzip(v);
    char accept[29];
    if (net__ws_accept_key(v->base, v->len, accept) == 0)
        check(strlen(accept) == 28, "accept key length");
    uint8_t hash[32];
    if (auth_token_hash(v->base, v->len, hash) == 0)
        check(v->len == AUTH_TOKEN_LEN, "token length");
    duet_id id;
    if (duet_id_parse(v->base, v->len, &id) == 0) {
        char s[DUET_ID_STRLEN + 1];
        duet_id id2;
        duet_id_format(&id, s);
        check(duet_id_parse(s, DUET_ID_STRLEN, &id2) == 0 && memcmp(&id, &id2, sizeof(id)) == 0,
              "id round trip");
    }
    char name[33];
    (void)text_username(v->base, v->len, name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: ASan catches any read past the end. */
    char *buf = malloc(size ? size : 1);
    check(buf != NULL, "out of memory");
    memcpy(buf, data, size);
    buf_lo = buf;
    buf_hi = buf + size;
    struct net_header hdrs[MAX_HEADERS];
    pool_t pool;
    pool_init(&pool);
    net_request req = {.method = "GET", .headers = hdrs, .pool = &pool};
    const char *p = buf, *end = buf + size;
    const char *nl = memchr(p, '\n', size);
    req.query = (duet_slice){p, (size_t)((nl ? nl : end) - p)};
    p = nl ? nl + 1 : end;
    while (p < end && req.n_headers < MAX_HEADERS) {
        nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        const char *colon = memchr(p, ':', (size_t)(stop - p));
        if (colon != NULL) {
            struct net_header *h = &hdrs[req.n_headers++];
            h->name = (duet_slice){p, (size_t)(colon - p)};
            h->value = (duet_slice){colon + 1, (size_t)(stop - colon - 1)};
            header_checks(&h->value);
        }
        p = nl ? nl + 1 : end;
    }
    static const char *const cookies[] = {"duet_session", "__Host-duet_session", "a", "",
                                          "duet_session2"};
    for (size_t i = 0; i < sizeof(cookies) / sizeof(cookies[0]); i++) {
        duet_slice v;
        if (net_cookie(&req, cookies[i], &v) == 0) {
            check(within(&v), "cookie value outside the input");
            check(memchr(v.base, ';', v.len) == NULL, "cookie value spans a ';'");
            header_checks(&v);
        }
    }
    /* The Origin check: an accepted Origin (no allowed origin given) is the
     * scheme and the Host header exactly, so it cannot be longer than both. */
    for (int https = 0; https < 2; https++) {
        const duet_slice *o = net_header(&req, "origin"), *host = net_header(&req, "host");
        if (net_origin_ok(&req, NULL, https) && o != NULL)
            check(host != NULL && o->len == host->len + (https ? 8u : 7u), "origin accepted");
        (void)net_origin_ok(&req, "https://chat.example", https);
    }
    static const char *const names[] = {"cookie", "origin", "host", "x-forwarded-for"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const duet_slice *v = net_header(&req, names[i]);
        if (v != NULL)
            check(within(v), "header value outside the input");
    }
    static const char *const params[] = {"before", "after", "limit", "", "a b"};
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        duet_slice v;
        if (net_query(&req, params[i], &v) == 0) {
            volatile char sink = 0; /* decoded values live in the pool */
            for (size_t k = 0; k < v.len; k++)
                sink ^= v.base[k];
            (void)sink;
            check(v.len <= req.query.len, "a decoded value grew");
        }
    }
    /* The request target: path decoding and the query split. */
    duet_slice path, query;
    if (net__parse_target(&pool, req.query.base, req.query.len, &path, &query) == 0 &&
        memchr(req.query.base, '\0', req.query.len) == NULL) /* http-parser refuses raw NULs */
        check(memchr(path.base, '\0', path.len) == NULL, "decoded path has a NUL");
    pool_destroy(&pool);
    free(buf);
    return 0;
}
