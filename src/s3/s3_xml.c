/* s3_xml.c - see s3_xml.h. */
#include <errno.h>
#include <string.h>

#include "s3_xml.h"

#define MAX_TAG 64

/* Where the first "<tag" followed by '>', '/' or a space starts, or NULL. */
static const char *find_open(const char *p, const char *end, const char *tag, size_t tl)
{
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt)
            return NULL;
        size_t left = (size_t)(end - lt - 1);
        if (left > tl && memcmp(lt + 1, tag, tl) == 0) {
            char c = lt[1 + tl];
            if (c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n')
                return lt;
        }
        p = lt + 1;
    }
    return NULL;
}

/* Decodes the entity at p (just after '&', up to end) into *ch; the bytes
 * consumed after the '&', or 0 when it is not one we accept. */
static size_t entity(const char *p, const char *end, char *ch)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
    size_t left = (size_t)(end - p);
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        size_t n = strlen(named[i].name);
        if (left >= n && memcmp(p, named[i].name, n) == 0) {
            *ch = named[i].c;
            return n;
        }
    }
    if (left < 3 || p[0] != '#')
        return 0;
    int hex = p[1] == 'x';
    size_t i = hex ? 2 : 1;
    unsigned v = 0, digits = 0;
    for (; i < left && p[i] != ';' && digits < 6; i++, digits++) {
        char c = p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (hex && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (hex && c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return 0;
        v = v * (hex ? 16 : 10) + d;
    }
    if (digits == 0 || i >= left || p[i] != ';' || v == 0 || v > 0x7f)
        return 0; /* only ASCII: nothing S3 sends us needs more */
    *ch = (char)v;
    return i + 1;
}

int s3_xml_text(const char *xml, size_t len, const char *tag, char *out, size_t cap)
{
    size_t tl = tag ? strlen(tag) : 0;
    if (!xml || !out || cap == 0 || tl == 0 || tl > MAX_TAG || strpbrk(tag, "<>/ &"))
        return -EINVAL;
    out[0] = '\0';
    const char *end = xml + len;
    const char *lt = find_open(xml, end, tag, tl);
    if (!lt)
        return -ENOENT;
    const char *gt = memchr(lt, '>', (size_t)(end - lt));
    if (!gt)
        return -EINVAL;
    if (gt[-1] == '/')
        return 0; /* <tag/>: empty */
    const char *p = gt + 1;
    size_t n = 0;
    for (;;) {
        if (p >= end)
            return -EINVAL; /* unterminated */
        if (*p == '<') {
            size_t left = (size_t)(end - p);
            if (left >= tl + 3 && p[1] == '/' && memcmp(p + 2, tag, tl) == 0 && p[2 + tl] == '>')
                break;
            return -EINVAL; /* markup inside: not a text element */
        }
        char c = *p++;
        if (c == '\0')
            return -EINVAL; /* the text is handed on as a C string */
        if (c == '&') {
            size_t used = entity(p, end, &c);
            if (!used)
                return -EINVAL;
            p += used;
        }
        if (n + 1 >= cap) {
            out[0] = '\0';
            return -ENOSPC;
        }
        out[n++] = c;
        out[n] = '\0';
    }
    return (int)n;
}
