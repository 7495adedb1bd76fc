/* text.h - validation of user-supplied text. Pure functions, unit-tested. */
#ifndef DUET_TEXT_H
#define DUET_TEXT_H

#include <stddef.h>

/* Number of code points in valid UTF-8 (continuation bytes not counted). */
size_t text_utf8_chars(const char *s, size_t len);
/* 1 if s[0..len) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
int text_utf8_valid(const char *s, size_t len);
/* 3..32 of a-z 0-9 _ . (A-Z accepted); writes the lowercase form to out
 * (33 bytes). 0 or -EINVAL. */
int text_username(const char *s, size_t len, char out[33]);
/* 1..64 characters, valid UTF-8, no control characters, not only spaces. */
int text_display_name_ok(const char *s, size_t len);
/* A client message id: 1..64 of A-Z a-z 0-9 _ -. */
int text_client_id_ok(const char *s, size_t len);

#endif
