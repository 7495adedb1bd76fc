/* fuzz_snip.c - search result snippets (src/app/search_snip.c, issue 17):
 * snip_build on any query and any valid UTF-8 text.
 *
 * Input: the query, a newline, then the message text (skipped unless it
 * is valid UTF-8: stored text always is). Oracles besides the sanitizers:
 * the snippet is valid UTF-8 of at most SNIP_CHARS characters plus two
 * ellipses, and every match [start, length] lies inside it (UTF-16 units),
 * in order, without overlap. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/app/search_snip.h"
#include "../src/base/text.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_snip: oracle failed: %s\n", what);
        abort();
    }
}

/* UTF-16 length of valid UTF-8 s. */
static size_t units(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        size_t k = text_utf8_seq((const unsigned char *)s, len, i, &cp);
        check(k > 0, "the snippet is valid UTF-8");
        n += cp >= 0x10000 ? 2 : 1;
        i += k;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    if (nl == NULL)
        return 0;
    size_t qlen = (size_t)(nl - data), tlen = size - qlen - 1;
    char *q = malloc(qlen + 1), *t = malloc(tlen + 1);
    if (q == NULL || t == NULL)
        goto out;
    memcpy(q, data, qlen);
    q[qlen] = '\0';
    memcpy(t, nl + 1, tlen);
    t[tlen] = '\0';
    if (memchr(t, '\0', tlen) != NULL || !text_utf8_valid(t, tlen))
        goto out;
    json_t *j = snip_build(t, q);
    if (j == NULL)
        goto out; /* out of memory only */
    const char *s = json_string_value(json_object_get(j, "snippet"));
    check(s != NULL, "a snippet");
    size_t slen = strlen(s), su = units(s, slen);
    check(text_utf8_chars(s, slen) <= SNIP_CHARS + 2, "at most SNIP_CHARS and two ellipses");
    json_t *m = json_object_get(j, "matches");
    json_int_t end = 0;
    for (size_t i = 0; i < json_array_size(m); i++) {
        json_int_t a = json_integer_value(json_array_get(json_array_get(m, i), 0));
        json_int_t l = json_integer_value(json_array_get(json_array_get(m, i), 1));
        check(a >= end && l > 0 && (size_t)(a + l) <= su, "matches in order, inside the snippet");
        end = a + l;
    }
    json_decref(j);
out:
    free(q);
    free(t);
    return 0;
}
