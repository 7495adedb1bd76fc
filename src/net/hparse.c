/* hparse.c - hparse on top of http-parser 2.9.
 *
 * Debian builds http-parser without HTTP_PARSER_STRICT, so the checks of
 * strict mode that matter for request smuggling are made here: header names
 * must be tokens, obs-fold (a header line starting with a space or tab) is
 * refused, and so is Transfer-Encoding in an HTTP/1.0 request. */
#include "hparse.h"

#include <errno.h>
#include <http_parser.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Where the header scan (scan_headers) is in the current message. */
enum { SCAN_START, SCAN_TEXT, SCAN_LINE_START, SCAN_CR_AT_LINE_START, SCAN_DONE };

/* Ownership: allocated by hparse_new, freed by hparse_free; cb and ud are
 * borrowed from the caller. */
struct hparse {
    http_parser hp;
    const struct hparse_cb *cb;
    void *ud;
    size_t max_header_bytes;
    size_t header_bytes; /* fed since the current message began, until its headers end */
    int headers_done;
    int head_pause; /* paused after the headers (HPARSE_STREAM) */
    int too_large;
    int scan;           /* SCAN_* */
    const char *strict; /* why a request that parsed was refused, or NULL */
};

/* RFC 9110 field names are tokens; http-parser (non-strict) lets spaces
 * and other separators through. */
static int is_token(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 32 || ch >= 127 || strchr("\"(),/:;<=>?@[\\]{}", ch) != NULL)
            return 0;
    }
    return 1;
}

/* Looks for obs-fold in header bytes about to be parsed: a line that starts
 * with a space or tab (which also refuses white space before the first
 * header). Stops at the empty line that ends the headers. 0 or -EBADMSG. */
static int scan_headers(hparse *p, const char *data, size_t len)
{
    for (size_t i = 0; i < len && p->scan != SCAN_DONE; i++) {
        char ch = data[i];
        switch (p->scan) {
        case SCAN_START: /* http-parser skips empty lines before a request */
            if (ch != '\r' && ch != '\n')
                p->scan = SCAN_TEXT;
            break;
        case SCAN_TEXT:
            if (ch == '\n')
                p->scan = SCAN_LINE_START;
            break;
        case SCAN_LINE_START:
            if (ch == ' ' || ch == '\t') {
                p->strict = "obsolete line folding in the headers";
                return -EBADMSG;
            }
            p->scan = ch == '\r' ? SCAN_CR_AT_LINE_START : ch == '\n' ? SCAN_DONE : SCAN_TEXT;
            break;
        case SCAN_CR_AT_LINE_START:
            p->scan = ch == '\n' ? SCAN_DONE : SCAN_TEXT;
            break;
        }
    }
    return 0;
}

static int on_message_begin(http_parser *hp)
{
    hparse *p = hp->data;
    p->headers_done = 0;
    return 0;
}

static int on_url(http_parser *hp, const char *at, size_t len)
{
    hparse *p = hp->data;
    return p->cb->on_url(p->ud, at, len);
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
    hparse *p = hp->data;
    if (!is_token(at, len)) {
        p->strict = "invalid character in a header name";
        return -1;
    }
    return p->cb->on_header_field(p->ud, at, len);
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
    hparse *p = hp->data;
    return p->cb->on_header_value(p->ud, at, len);
}

static int on_headers_complete(http_parser *hp)
{
    hparse *p = hp->data;
    p->headers_done = 1;
    if (hp->uses_transfer_encoding && hp->http_major == 1 && hp->http_minor == 0) {
        /* RFC 9112 6.1: an HTTP/1.0 peer cannot know chunked framing; a
         * proxy in front may have framed this body differently. */
        p->strict = "Transfer-Encoding in an HTTP/1.0 request";
        return -1;
    }
    /* http-parser reads 1 as "skip the body", so any failure becomes -1. */
    int r = p->cb->on_headers_complete(p->ud);
    if (r == HPARSE_STREAM) {
        /* http-parser re-reads the header's last LF on resume (pause is
         * allowed from any callback), then goes on with the body. */
        http_parser_pause(hp, 1);
        p->head_pause = 1;
        return 0;
    }
    return r ? -1 : 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
    hparse *p = hp->data;
    return p->cb->on_body(p->ud, at, len);
}

static int on_message_complete(http_parser *hp)
{
    hparse *p = hp->data;
    if (p->cb->on_message_complete(p->ud))
        return -1;
    /* Stop right after this message: the next one waits for the answer. */
    http_parser_pause(hp, 1);
    p->header_bytes = 0;
    p->headers_done = 0;
    p->scan = SCAN_START;
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

int hparse_new(const struct hparse_cb *cb, void *ud, size_t max_header_bytes, hparse **out)
{
    hparse *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -ENOMEM;
    http_parser_init(&p->hp, HTTP_REQUEST);
    p->hp.data = p;
    p->cb = cb;
    p->ud = ud;
    p->max_header_bytes = max_header_bytes;
    *out = p;
    return 0;
}

void hparse_free(hparse *p)
{
    free(p);
}

static int map_errno(hparse *p)
{
    enum http_errno e = HTTP_PARSER_ERRNO(&p->hp);
    switch (e) {
    case HPE_OK:
        return HPARSE_MORE;
    case HPE_PAUSED:
        return p->head_pause ? HPARSE_HEADERS : HPARSE_DONE;
    case HPE_HEADER_OVERFLOW:
        p->too_large = 1;
        return -EMSGSIZE;
    case HPE_CB_header_field:
    case HPE_CB_headers_complete:
        if (p->strict != NULL)
            return -EBADMSG;
        return -ECANCELED;
    case HPE_CB_message_begin:
    case HPE_CB_url:
    case HPE_CB_header_value:
    case HPE_CB_body:
    case HPE_CB_message_complete:
        return -ECANCELED;
    default:
        return -EBADMSG;
    }
}

int hparse_feed(hparse *p, const char *data, size_t len, size_t *used)
{
    size_t off = 0;
    int r = HPARSE_MORE;
    /* While the headers are incomplete, feed at most what is left of the
     * header budget, so the limit holds exactly whatever the read sizes. */
    while (off < len) {
        size_t n = len - off;
        int in_headers = !p->headers_done;
        if (in_headers) {
            size_t room = p->max_header_bytes - p->header_bytes;
            if (room == 0) {
                p->too_large = 1;
                r = -EMSGSIZE;
                break;
            }
            if (n > room)
                n = room;
            r = scan_headers(p, data + off, n);
            if (r < 0)
                break;
        }
        size_t got = http_parser_execute(&p->hp, &settings, data + off, n);
        off += got;
        if (in_headers && !p->headers_done)
            p->header_bytes += got;
        r = map_errno(p);
        if (r != HPARSE_MORE)
            break;
        if (got < n) {
            /* The parser stops early only for an upgrade: the rest is not HTTP. */
            r = HPARSE_DONE;
            break;
        }
    }
    *used = off;
    return r;
}

void hparse_resume(hparse *p)
{
    p->head_pause = 0;
    http_parser_pause(&p->hp, 0);
}

const char *hparse_errstr(const hparse *p)
{
    if (p->too_large)
        return "request headers too large";
    if (p->strict != NULL)
        return p->strict;
    return http_errno_description(HTTP_PARSER_ERRNO(&p->hp));
}

const char *hparse_method(const hparse *p)
{
    return http_method_str((enum http_method)p->hp.method);
}

int hparse_version(const hparse *p)
{
    return p->hp.http_major * 10 + p->hp.http_minor;
}

int hparse_keep_alive(const hparse *p)
{
    return http_should_keep_alive(&p->hp);
}

int hparse_upgrade(const hparse *p)
{
    return p->hp.upgrade;
}

uint64_t hparse_content_length(const hparse *p)
{
    return p->hp.content_length == ULLONG_MAX ? UINT64_MAX : p->hp.content_length;
}
