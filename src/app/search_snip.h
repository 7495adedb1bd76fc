/* search_snip.h - a search result's snippet and the matches in it (c-org).
 * Pure: no I/O, no state; the unit tests and the API share it. */
#ifndef DUET_SEARCH_SNIP_H
#define DUET_SEARCH_SNIP_H

#include <jansson.h>
#include <stddef.h>

/* Code points of a snippet at most (an ellipsis marks each cut end). */
#define SNIP_CHARS 160
/* Code points kept before the first match when the text is cut. */
#define SNIP_LEAD 40
/* Query words used at most (as the stores do). */
#define SNIP_WORDS 8

/* Whether a byte belongs to a word: letters and digits of ASCII and every
 * byte of a non-ASCII character; anything else separates words. The stores
 * split a query the same way. */
int snip_word_byte(unsigned char c);

/* {"snippet": "...", "matches": [[start, length], ...]} for a message's
 * text (valid UTF-8) and the query: each match is a word of the text that
 * starts with a query word (ASCII case folded; other characters exact), or
 * is a query word of one byte,
 * start and length in UTF-16 code units of the snippet, as JavaScript
 * counts them. NULL when out of memory. */
json_t *snip_build(const char *text, const char *query);

#endif
