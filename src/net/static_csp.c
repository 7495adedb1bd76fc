/* static_csp.c - adds one origin to the page's Content-Security-Policy
 * (static.h): with --media s3 the browser follows /api/media redirects to
 * the S3 endpoint, which img-src, media-src and connect-src must allow. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "static.h"

#define CSP_NAME "Content-Security-Policy:"

/* "http(s)://" then host[:port] of letters, digits, '.', '-', ':', '[',
 * ']': nothing that could end a directive or a header. */
static int origin_ok(const char *o)
{
    size_t skip = strncmp(o, "http://", 7) == 0 ? 7 : strncmp(o, "https://", 8) == 0 ? 8 : 0;
    size_t n = strlen(o);
    if (!skip || n == skip || n > 300)
        return 0;
    for (const char *p = o + skip; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr(".-:[]", *p)))
            return 0;
    return 1;
}

/* A bounded output. Ownership: the caller's buffer. */
struct out {
    char *p;
    size_t len, cap;
    int err;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->err || n >= o->cap - o->len) {
        o->err = -ENOSPC;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static const char *const DIRS[] = {"img-src", "media-src", "connect-src"};
#define NDIRS (sizeof(DIRS) / sizeof(DIRS[0]))

/* Which of DIRS the directive d (len bytes, leading spaces skipped) is. */
static int which(const char *d, size_t len)
{
    for (size_t i = 0; i < NDIRS; i++) {
        size_t n = strlen(DIRS[i]);
        if (len >= n && strncasecmp(d, DIRS[i], n) == 0 && (len == n || d[n] == ' '))
            return (int)i;
    }
    return -1;
}

/* The CSP value from v to end, directive by directive, origin added. */
static void rewrite(struct out *o, const char *v, const char *end, const char *origin)
{
    int seen[NDIRS] = {0};
    int first = 1;
    while (v < end) {
        const char *semi = memchr(v, ';', (size_t)(end - v));
        const char *dend = semi ? semi : end;
        while (v < dend && *v == ' ')
            v++;
        size_t len = (size_t)(dend - v);
        while (len && v[len - 1] == ' ')
            len--;
        if (len) {
            puts_(o, first ? " " : "; ");
            first = 0;
            put(o, v, len);
            int w = which(v, len);
            if (w >= 0) {
                seen[w] = 1;
                puts_(o, " ");
                puts_(o, origin);
            }
        }
        v = semi ? semi + 1 : end;
    }
    for (size_t i = 0; i < NDIRS; i++) {
        if (seen[i])
            continue;
        puts_(o, first ? " " : "; ");
        first = 0;
        puts_(o, DIRS[i]);
        puts_(o, " 'self' ");
        puts_(o, origin);
    }
}

int static_csp_add_origin(const char *headers, const char *origin, char *out, size_t cap)
{
    if (!headers || !origin || !out || cap == 0 || !origin_ok(origin))
        return -EINVAL;
    struct out o = {out, 0, cap, 0};
    out[0] = '\0';
    int found = 0;
    for (const char *p = headers; *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (!found && len >= sizeof(CSP_NAME) - 1 &&
            strncasecmp(p, CSP_NAME, sizeof(CSP_NAME) - 1) == 0) {
            found = 1;
            put(&o, p, sizeof(CSP_NAME) - 1);
            rewrite(&o, p + sizeof(CSP_NAME) - 1, p + len, origin);
        } else {
            put(&o, p, len);
        }
        if (eol)
            put(&o, "\r\n", 2);
        p = eol ? eol + 2 : p + len;
    }
    if (o.err)
        return o.err;
    return found ? (int)o.len : -EINVAL;
}
