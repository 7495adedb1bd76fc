/* hparse.h - a thin wrapper around the HTTP/1.x request parser.
 *
 * Only hparse.c knows which parser library sits underneath (http-parser
 * today); replacing it with llhttp means rewriting hparse.c alone.
 *
 * The parser stops after each complete message (it "pauses"): the caller
 * answers the request, then calls hparse_resume() and feeds the remaining
 * bytes. That is what keeps pipelined requests in order.
 *
 * Ownership: hparse_new() allocates the parser; the caller frees it with
 * hparse_free(). The parser keeps no pointer into the data it was fed.
 */
#ifndef DUET_HPARSE_H
#define DUET_HPARSE_H

#include <stddef.h>
#include <stdint.h>

typedef struct hparse hparse;

/* Data callbacks may be called several times per element when the element
 * is split across feeds. Every callback returns 0 to go on, or non-zero to
 * abort: hparse_feed() then returns -ECANCELED. */
struct hparse_cb {
    int (*on_url)(void *ud, const char *at, size_t len);
    int (*on_header_field)(void *ud, const char *at, size_t len);
    int (*on_header_value)(void *ud, const char *at, size_t len);
    /* The hparse_* accessors below are valid from here on. Returns 0 to
     * go on, HPARSE_STREAM to stop right after the headers (hparse_feed
     * returns HPARSE_HEADERS; hparse_resume() goes on with the body), any
     * other non-zero to abort. */
    int (*on_headers_complete)(void *ud);
    int (*on_body)(void *ud, const char *at, size_t len);
    int (*on_message_complete)(void *ud);
};

/* hparse_feed() results. */
enum {
    HPARSE_MORE = 0,    /* everything was consumed; the message is not complete yet */
    HPARSE_DONE = 1,    /* a message completed; the parser is paused */
    HPARSE_HEADERS = 2, /* headers complete, the callback asked to stream: paused */
};

/* on_headers_complete's "stop after the headers" answer. */
#define HPARSE_STREAM 2

/* max_header_bytes bounds the request line plus headers (431 territory). */
int hparse_new(const struct hparse_cb *cb, void *ud, size_t max_header_bytes, hparse **out);
void hparse_free(hparse *p);

/* Parses up to len bytes; *used is how many were consumed. Returns
 * HPARSE_MORE, HPARSE_DONE, or an error: -EBADMSG (malformed request),
 * -EMSGSIZE (headers over the limit), -ECANCELED (a callback aborted). Once
 * an error is returned the parser is dead. */
int hparse_feed(hparse *p, const char *data, size_t len, size_t *used);
/* Continues after HPARSE_DONE. */
void hparse_resume(hparse *p);
/* A human-readable reason for the last error. */
const char *hparse_errstr(const hparse *p);

/* Facts about the current message (from on_headers_complete on). */
const char *hparse_method(const hparse *p); /* static string, e.g. "GET" */
int hparse_version(const hparse *p);        /* major * 10 + minor: 10, 11 */
int hparse_keep_alive(const hparse *p);     /* the connection may be reused */
int hparse_upgrade(const hparse *p);        /* the bytes after it are another protocol */
/* The declared Content-Length, or UINT64_MAX when there is none; only
 * meaningful inside on_headers_complete (the parser counts it down). */
uint64_t hparse_content_length(const hparse *p);

#endif
