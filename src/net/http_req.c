/* http_req.c - reading a request: the target (path and query), header
 * token lists, cookies, query parameters, the Origin check, and the JSON
 * error body. Pure functions over a parsed request; unit-tested and fuzzed
 * (fuzz_cookie). */
#include "net_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- pure helpers ----------------------------------------------------- */

int net__pct_decode(const char *in, size_t len, char *out, size_t *out_len, int plus_is_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = in[i];
        if (ch == '%') {
            if (len - i < 3)
                return -EINVAL;
            int hi = duet_hexval(in[i + 1]), lo = duet_hexval(in[i + 2]);
            if (hi < 0 || lo < 0 || (hi | lo) == 0)
                return -EINVAL; /* a bad escape, or an encoded NUL */
            ch = (char)(hi << 4 | lo);
            i += 2;
        } else if (ch == '+' && plus_is_space) {
            ch = ' ';
        }
        out[o++] = ch;
    }
    *out_len = o;
    return 0;
}

int net__parse_target(pool_t *pool, const char *url, size_t len, duet_slice *path,
                      duet_slice *query)
{
    const char *p = url, *end = url + len;
    if (len == 0)
        return -EINVAL;
    if (len == 1 && *p == '*') { /* OPTIONS * */
        *path = DUET_SLICE_LIT("*");
        *query = DUET_SLICE_LIT("");
        return 0;
    }
    if (*p != '/') {
        /* absolute-form: keep only what follows the authority */
        size_t skip = len >= 7 && strncasecmp(p, "http://", 7) == 0    ? 7
                      : len >= 8 && strncasecmp(p, "https://", 8) == 0 ? 8
                                                                       : 0;
        if (skip == 0)
            return -EINVAL;
        p += skip;
        while (p < end && *p != '/' && *p != '?')
            p++;
    }
    const char *hash = memchr(p, '#', (size_t)(end - p));
    if (hash != NULL)
        end = hash;
    const char *q = memchr(p, '?', (size_t)(end - p));
    const char *pend = q ? q : end;
    size_t plen = (size_t)(pend - p);
    char *dp = pool_alloc(pool, plen + 2);
    if (dp == NULL)
        return -ENOMEM;
    size_t dlen = 0;
    if (plen == 0) {
        dp[dlen++] = '/';
    } else {
        int r = net__pct_decode(p, plen, dp, &dlen, 0);
        if (r < 0)
            return r;
    }
    dp[dlen] = '\0';
    *path = (duet_slice){dp, dlen};
    if (q == NULL) {
        *query = DUET_SLICE_LIT("");
        return 0;
    }
    char *dq = pool_strndup(pool, q + 1, (size_t)(end - q - 1));
    if (dq == NULL)
        return -ENOMEM;
    *query = (duet_slice){dq, (size_t)(end - q - 1)};
    return 0;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

duet_slice net__trim(const char *p, const char *end)
{
    while (p < end && is_ows(*p))
        p++;
    while (end > p && is_ows(end[-1]))
        end--;
    return (duet_slice){p, (size_t)(end - p)};
}

int net__has_token(const duet_slice *value, const char *token)
{
    size_t tlen = strlen(token);
    const char *p = value->base, *end = value->base + value->len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        duet_slice t = net__trim(p, stop);
        if (t.len == tlen && strncasecmp(t.base, token, tlen) == 0)
            return 1;
        p = comma ? comma + 1 : end;
    }
    return 0;
}

int net__json_error(char *out, size_t size, const char *code, const char *message)
{
    int n = snprintf(out, size, "{\"error\":\"%s\",\"message\":\"%s\"}", code, message);
    if (n < 0 || (size_t)n >= size)
        return -ENOSPC;
    return n;
}

/* ---- request lookup helpers ------------------------------------------------ */

const duet_slice *net_header(const net_request *req, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < req->n_headers; i++) {
        const duet_slice *n = &req->headers[i].name;
        if (n->len == len && strncasecmp(n->base, name, len) == 0)
            return &req->headers[i].value;
    }
    return NULL;
}

/* Looks for name=value in one Cookie header value ("a=1; b=\"2\""). */
static int cookie_in(const duet_slice *v, const char *name, size_t nlen, duet_slice *out)
{
    const char *p = v->base, *end = v->base + v->len;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *stop = semi ? semi : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq != NULL) {
            duet_slice k = net__trim(p, eq);
            duet_slice val = net__trim(eq + 1, stop);
            if (val.len >= 2 && val.base[0] == '"' && val.base[val.len - 1] == '"') {
                val.base++;
                val.len -= 2;
            }
            if (k.len == nlen && memcmp(k.base, name, nlen) == 0) {
                *out = val;
                return 0;
            }
        }
        p = semi ? semi + 1 : end;
    }
    return -ENOENT;
}

int net_cookie(const net_request *req, const char *name, duet_slice *out)
{
    size_t nlen = strlen(name);
    int found = 0;
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct net_header *h = &req->headers[i];
        if (h->name.len != 6 || strncasecmp(h->name.base, "cookie", 6) != 0)
            continue;
        /* Every occurrence, in this header and the next ones. */
        duet_slice rest = h->value, v;
        while (cookie_in(&rest, name, nlen, &v) == 0) {
            if (found && (v.len != out->len || memcmp(v.base, out->base, v.len) != 0))
                return -EEXIST;
            *out = v;
            found = 1;
            const char *next = v.base + v.len;
            rest = (duet_slice){next, (size_t)(h->value.base + h->value.len - next)};
        }
    }
    return found ? 0 : -ENOENT;
}

int net_origin_ok(const net_request *req, const char *allowed, int https)
{
    const duet_slice *o = net_header(req, "Origin");
    if (o == NULL)
        return 1;
    if (allowed != NULL && strlen(allowed) == o->len && memcmp(allowed, o->base, o->len) == 0)
        return 1;
    const duet_slice *host = net_header(req, "Host");
    if (host == NULL)
        return 0;
    /* The scheme counts: a page on http:// (any network attacker can
     * forge one) is another origin than the site on https://. */
    const char *scheme = https ? "https://" : "http://";
    size_t slen = strlen(scheme);
    if (o->len <= slen || strncasecmp(o->base, scheme, slen) != 0)
        return 0;
    const char *oh = o->base + slen;
    size_t ohlen = o->len - slen;
    return ohlen == host->len && strncasecmp(oh, host->base, ohlen) == 0;
}

/* Decodes s into the request pool when it has escapes; 0, -EINVAL, -ENOMEM. */
static int query_decode(const net_request *req, duet_slice s, duet_slice *out)
{
    if (memchr(s.base, '%', s.len) == NULL && memchr(s.base, '+', s.len) == NULL) {
        *out = s;
        return 0;
    }
    char *d = pool_alloc(req->pool, s.len + 1);
    if (d == NULL)
        return -ENOMEM;
    size_t dlen;
    int r = net__pct_decode(s.base, s.len, d, &dlen, 1);
    if (r < 0)
        return r;
    d[dlen] = '\0';
    *out = (duet_slice){d, dlen};
    return 0;
}

int net_query(const net_request *req, const char *name, duet_slice *out)
{
    size_t nlen = strlen(name);
    const char *p = req->query.base, *end = p + req->query.len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        duet_slice k = {p, (size_t)((eq ? eq : stop) - p)}, dk;
        if (query_decode(req, k, &dk) == 0 && dk.len == nlen && memcmp(dk.base, name, nlen) == 0) {
            if (eq == NULL) {
                *out = DUET_SLICE_LIT("");
                return 0;
            }
            return query_decode(req, (duet_slice){eq + 1, (size_t)(stop - eq - 1)}, out);
        }
        p = amp ? amp + 1 : end;
    }
    return -ENOENT;
}

int net_query_int(const net_request *req, const char *name, int64_t *v)
{
    duet_slice s;
    if (net_query(req, name, &s) < 0)
        return 0;
    /* No leading zero, as in a frame's JSON: one value, one spelling over
     * HTTP and the WebSocket. */
    if (s.len == 0 || (s.len > 1 && s.base[0] == '0'))
        return -1;
    int64_t x = 0; /* 0 to INT64_MAX, as a JSON integer in a frame may be */
    for (size_t i = 0; i < s.len; i++) {
        if (s.base[i] < '0' || s.base[i] > '9')
            return -1;
        int d = s.base[i] - '0';
        if (x > (INT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 1;
}
