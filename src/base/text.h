/* text.h - validation of user-supplied text. Pure functions, unit-tested. */
#ifndef DUET_TEXT_H
#define DUET_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Number of code points in valid UTF-8 (continuation bytes not counted). */
size_t text_utf8_chars(const char *s, size_t len);
/* Length of the UTF-8 sequence at s[i] (i < len) with its code point in
 * *cp, or 0 if it is malformed (the rules of text_utf8_valid). */
size_t text_utf8_seq(const unsigned char *s, size_t len, size_t i, uint32_t *cp);
/* 1 if s[0..len) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
int text_utf8_valid(const char *s, size_t len);
/* 3..32 of a-z 0-9 _ . (A-Z accepted); writes the lowercase form to out
 * (33 bytes). 0 or -EINVAL. */
int text_username(const char *s, size_t len, char out[33]);
/* 1 for the bidi controls (ALM, LRM, RLM, LRE..RLO, LRI..PDI). */
int text_bidi_control(uint32_t cp);
/* 1 for code points that draw nothing alone: spaces, zero-width and format
 * characters, Hangul fillers, variation selectors, tags, blank braille. */
int text_invisible(uint32_t cp);
/* 1..64 characters, valid UTF-8, no control or bidi control characters,
 * at least one visible (not text_invisible) character. */
int text_display_name_ok(const char *s, size_t len);
/* A client message id: 1..64 of A-Z a-z 0-9 _ -. */
int text_client_id_ok(const char *s, size_t len);

#endif
