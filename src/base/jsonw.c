#include "jsonw.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

void jsonw_init(struct jsonw *w)
{
    memset(w, 0, sizeof(*w));
}

void jsonw_free(struct jsonw *w)
{
    free(w->buf);
    jsonw_init(w);
}

void jsonw_reset(struct jsonw *w, size_t keep)
{
    if (w->cap > keep)
        jsonw_free(w);
    w->len = 0;
    w->err = 0;
}

/* Room for n more bytes and a NUL. 0 or -ENOMEM (then sticky). */
static int reserve(struct jsonw *w, size_t n)
{
    if (w->err != 0)
        return w->err;
    if (n < w->cap - w->len) /* cap > len always once allocated; 0 - 0 before */
        return 0;
    if (n > SIZE_MAX / 2 - w->len - 1) {
        w->err = -ENOMEM;
        return w->err;
    }
    size_t need = w->len + n + 1;
    size_t cap = w->cap != 0 ? w->cap : 256;
    while (cap < need)
        cap *= 2;
    char *b = realloc(w->buf, cap);
    if (b == NULL) {
        w->err = -ENOMEM;
        return w->err;
    }
    w->buf = b;
    w->cap = cap;
    return 0;
}

void jsonw_raw(struct jsonw *w, const char *s, size_t n)
{
    if (reserve(w, n) < 0)
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static const char hex[] = "0123456789ABCDEF";

/* The escape of an ASCII byte that needs one, into out; its length. */
static size_t escape_ascii(unsigned char c, char out[6])
{
    out[0] = '\\';
    switch (c) {
    case '"':
    case '\\':
        out[1] = (char)c;
        return 2;
    case '\b':
        out[1] = 'b';
        return 2;
    case '\f':
        out[1] = 'f';
        return 2;
    case '\n':
        out[1] = 'n';
        return 2;
    case '\r':
        out[1] = 'r';
        return 2;
    case '\t':
        out[1] = 't';
        return 2;
    default:
        out[1] = 'u';
        out[2] = '0';
        out[3] = '0';
        out[4] = hex[c >> 4];
        out[5] = hex[c & 15];
        return 6;
    }
}

void jsonw_str(struct jsonw *w, const char *s, size_t n)
{
    /* The worst case is 6 bytes per input byte (\u00XX), plus the quotes:
     * reserving it once keeps the loop free of checks. */
    if (n > (SIZE_MAX - 2) / 6) {
        w->err = -ENOMEM;
        return;
    }
    if (reserve(w, 6 * n + 2) < 0)
        return;
    const unsigned char *u = (const unsigned char *)s;
    char *o = w->buf + w->len;
    *o++ = '"';
    size_t i = 0;
    while (i < n) {
        /* Runs of plain ASCII are copied whole. */
        size_t j = i;
        while (j < n && u[j] >= 0x20 && u[j] < 0x80 && u[j] != '"' && u[j] != '\\')
            j++;
        memcpy(o, u + i, j - i);
        o += j - i;
        i = j;
        if (i == n)
            break;
        if (u[i] < 0x80) {
            o += escape_ascii(u[i], o);
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = text_utf8_seq(u, n, i, &cp);
        if (k == 0) {
            memcpy(o, "\xEF\xBF\xBD", 3); /* U+FFFD for the bad byte */
            o += 3;
            i++;
        } else {
            memcpy(o, u + i, k);
            o += k;
            i += k;
        }
    }
    *o++ = '"';
    w->len = (size_t)(o - w->buf);
}

void jsonw_cstr(struct jsonw *w, const char *s)
{
    if (s == NULL)
        s = "";
    jsonw_str(w, s, strlen(s));
}

void jsonw_int(struct jsonw *w, int64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);
    /* Negate in unsigned arithmetic: -INT64_MIN overflows int64_t. */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--p = '-';
    jsonw_raw(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

const char *jsonw_finish(struct jsonw *w, size_t *len)
{
    if (reserve(w, 0) < 0)
        return NULL;
    w->buf[w->len] = '\0';
    *len = w->len;
    return w->buf;
}
