/* search_snip.c - a search result's snippet and its matches (search_snip.h). */
#include "search_snip.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../base/text.h"

int snip_word_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

struct snip_word {
    const char *s;
    size_t len;
};

static size_t snip_words(const char *q, struct snip_word *w)
{
    size_t n = 0;
    for (const char *p = q; *p != '\0' && n < SNIP_WORDS;) {
        if (!snip_word_byte((unsigned char)*p)) {
            p++;
            continue;
        }
        w[n].s = p;
        while (snip_word_byte((unsigned char)*p))
            p++;
        w[n].len = (size_t)(p - w[n].s);
        n++;
    }
    return n;
}

/* Latin letters with diacritics folded to their base letter, lower case:
 * U+00C0..U+017F (Latin-1 Supplement and Latin Extended-A), as FTS5's
 * remove_diacritics folds them for the index. Others: ASCII case only. */
static const char snip_latin[] = "aaaaaaaceeeeiiii"  /* C0 */
                                 "dnooooo*ouuuuyts"  /* D0 */
                                 "aaaaaaaceeeeiiii"  /* E0 */
                                 "dnooooo/ouuuuyty"  /* F0 */
                                 "aaaaaaccccccccdd"  /* 100 */
                                 "ddeeeeeeeeeegggg"  /* 110 */
                                 "gggghhhhiiiiiiii"  /* 120 */
                                 "iijjjjkkklllllll"  /* 130 */
                                 "lllnnnnnnnnnoooo"  /* 140 */
                                 "oooorrrrrrssssss"  /* 150 */
                                 "ssttttttuuuuuuuu"  /* 160 */
                                 "uuuuwwyyyzzzzzzs"; /* 170 */

static uint32_t snip_fold(uint32_t cp)
{
    if (cp >= 'A' && cp <= 'Z')
        return cp + 32;
    if (cp >= 0xC0 && cp <= 0x17F && snip_latin[cp - 0xC0] != '*' && snip_latin[cp - 0xC0] != '/')
        return (uint32_t)snip_latin[cp - 0xC0];
    return cp;
}

/* The code point at byte i and its byte length (1 for a malformed byte). */
static size_t snip_cp(const char *t, size_t len, size_t i, uint32_t *cp)
{
    size_t n = text_utf8_seq((const unsigned char *)t, len, i, cp);
    if (n == 0) {
        *cp = (unsigned char)t[i];
        n = 1;
    }
    return n;
}

/* The bytes of text from i that match the longest query word that they
 * start with (folded code point by code point), or 0. A query word of one
 * byte matches a whole word only, as the stores search it (a prefix from
 * two bytes on). */
static size_t snip_match_at(const char *t, size_t len, size_t i, const struct snip_word *w,
                            size_t nw)
{
    size_t best = 0;
    for (size_t k = 0; k < nw; k++) {
        size_t a = i, b = 0;
        while (b < w[k].len && a < len) {
            uint32_t ca, cb;
            size_t na = snip_cp(t, len, a, &ca), nb = snip_cp(w[k].s, w[k].len, b, &cb);
            if (snip_fold(ca) != snip_fold(cb))
                break;
            a += na;
            b += nb;
        }
        if (b == w[k].len && a - i > best &&
            (w[k].len >= 2 || a == len || !snip_word_byte((unsigned char)t[a])))
            best = a - i;
    }
    return best;
}

/* UTF-16 code units of the character at byte i, and its byte length. */
static size_t snip_char(const char *t, size_t len, size_t i, size_t *units)
{
    uint32_t cp = 0;
    size_t n = text_utf8_seq((const unsigned char *)t, len, i, &cp);
    if (n == 0)
        n = 1; /* not valid UTF-8: cannot happen for stored text */
    *units = cp >= 0x10000 ? 2 : 1;
    return n;
}

/* The byte where the snippet starts and ends. */
static void snip_window(const char *t, size_t len, size_t first, size_t *from, size_t *to)
{
    size_t chars = text_utf8_chars(t, len), units;
    *from = 0;
    *to = len;
    if (chars <= SNIP_CHARS)
        return;
    /* Start SNIP_LEAD characters before the first match (or at 0). */
    size_t before = 0, i = 0, starts[SNIP_LEAD + 1], k = 0;
    while (i < first) {
        starts[k % (SNIP_LEAD + 1)] = i;
        k++;
        i += snip_char(t, len, i, &units);
        before++;
    }
    if (before > SNIP_LEAD)
        *from = starts[(k - SNIP_LEAD) % (SNIP_LEAD + 1)];
    size_t n = 0;
    for (i = *from; i < len && n < SNIP_CHARS; n++)
        i += snip_char(t, len, i, &units);
    *to = i;
}

json_t *snip_build(const char *text, const char *query)
{
    struct snip_word w[SNIP_WORDS];
    size_t nw = snip_words(query, w), len = strlen(text), units;
    size_t first = len;
    for (size_t i = 0; i < len && nw > 0; i++)
        if ((i == 0 || !snip_word_byte((unsigned char)text[i - 1])) &&
            snip_word_byte((unsigned char)text[i]) && snip_match_at(text, len, i, w, nw) > 0) {
            first = i;
            break;
        }
    size_t from, to;
    snip_window(text, len, first == len ? 0 : first, &from, &to);
    int lead = from > 0, tail = to < len;
    size_t cap = (to - from) + 7;
    char *s = malloc(cap);
    json_t *matches = json_array();
    if (s == NULL || matches == NULL)
        goto err;
    size_t n = 0, u = 0;
    if (lead) {
        memcpy(s, "\xe2\x80\xa6", 3); /* … */
        n = 3;
        u = 1;
    }
    for (size_t i = from; i < to;) {
        size_t m = 0;
        if ((i == from || !snip_word_byte((unsigned char)text[i - 1])) &&
            snip_word_byte((unsigned char)text[i]))
            m = snip_match_at(text, len, i, w, nw);
        if (m > 0) {
            /* The match runs to the end of the query word, in whole characters. */
            size_t start = u, j = i;
            while (j < i + m && j < to) {
                j += snip_char(text, len, j, &units);
                u += units;
            }
            if (json_array_append_new(
                    matches, json_pack("[I, I]", (json_int_t)start, (json_int_t)(u - start))) < 0)
                goto err;
            memcpy(s + n, text + i, j - i);
            n += j - i;
            i = j;
            continue;
        }
        size_t b = snip_char(text, len, i, &units);
        memcpy(s + n, text + i, b);
        n += b;
        u += units;
        i += b;
    }
    if (tail) {
        memcpy(s + n, "\xe2\x80\xa6", 3);
        n += 3;
    }
    json_t *out = json_pack("{s:s%, s:o}", "snippet", s, n, "matches", matches);
    free(s);
    return out;
err:
    free(s);
    json_decref(matches);
    return NULL;
}
