/* jsonw.h - a JSON text writer into a growable, reusable buffer.
 *
 * For the hot events (a history page, message and sent events): building
 * jansson objects and dumping them cost most of a history page's CPU in
 * malloc/free of the small objects (BENCHMARKS.md), so these are written
 * straight into one buffer that the loop's owner keeps between uses.
 *
 * Errors are sticky: after an allocation fails every call is a no-op and
 * jsonw_finish returns NULL, so a writer can be called without checks and
 * checked once at the end.
 *
 * Strings are escaped as jansson's json_dumps does without flags: '"', '\\'
 * and control characters (< 0x20; \b \f \n \r \t short, the others as
 * \u00XX), everything else as is (UTF-8 passes through). Malformed UTF-8,
 * which jansson refuses to dump, is written as U+FFFD per bad byte, so the
 * output is always valid JSON. */
#ifndef DUET_JSONW_H
#define DUET_JSONW_H

#include <stddef.h>
#include <stdint.h>

/* Ownership: the writer owns buf (malloc'd); jsonw_free releases it. */
struct jsonw {
    char *buf;
    size_t len; /* bytes written (no NUL counted) */
    size_t cap;
    int err; /* 0 or -ENOMEM, sticky until jsonw_reset */
};

void jsonw_init(struct jsonw *w);
void jsonw_free(struct jsonw *w);
/* Empties the writer and clears its error; keeps the buffer unless it grew
 * beyond keep bytes (one huge event should not pin its memory forever). */
void jsonw_reset(struct jsonw *w, size_t keep);

/* Appends n bytes as they are (the caller's JSON syntax). */
void jsonw_raw(struct jsonw *w, const char *s, size_t n);
/* Appends a string literal as it is. */
#define jsonw_lit(w, lit) jsonw_raw((w), "" lit, sizeof(lit) - 1)
/* Appends s[0..n) as a quoted, escaped JSON string. */
void jsonw_str(struct jsonw *w, const char *s, size_t n);
/* Appends a NUL-terminated string (NULL as ""), quoted and escaped. */
void jsonw_cstr(struct jsonw *w, const char *s);
/* Appends a decimal integer. */
void jsonw_int(struct jsonw *w, int64_t v);

/* The text so far, NUL-terminated, with its length in *len; NULL after an
 * allocation failure. Valid until the next call on w. */
const char *jsonw_finish(struct jsonw *w, size_t *len);

#endif
