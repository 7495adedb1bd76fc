/* Unit tests of search_snip.c (issue 17): the snippet of a search result and
 * its match offsets in UTF-16 units, diacritics and case folded. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "../../src/app/search_snip.h"

#define SNIP_CAP 1024

/* The snippet of text for query (into SNIP_CAP bytes), and its matches as
 * "start:len,..." */
static void snip(const char *text, const char *query, char *snippet, char *m, size_t cap)
{
    json_t *j = snip_build(text, query);
    cr_assert_not_null(j);
    const char *sn = json_string_value(json_object_get(j, "snippet"));
    cr_assert_not_null(sn);
    snprintf(snippet, SNIP_CAP, "%s", sn);
    json_t *a = json_object_get(j, "matches");
    size_t n = 0;
    m[0] = '\0';
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *p = json_array_get(a, i);
        n += (size_t)snprintf(m + n, cap - n, "%s%lld:%lld", i ? "," : "",
                              (long long)json_integer_value(json_array_get(p, 0)),
                              (long long)json_integer_value(json_array_get(p, 1)));
    }
    json_decref(j);
}

Test(snip, words_prefixes_and_case)
{
    char s[SNIP_CAP];
    char m[256];
    snip("Hello world, hello WORLDS", "world", s, m, sizeof(m));
    cr_assert_str_eq(s, "Hello world, hello WORLDS");
    cr_assert_str_eq(m, "6:5,19:5", "%s", m);
    /* Only at the start of a word: "lo" is not found inside "hello". */
    snip("hello lo", "lo", s, m, sizeof(m));
    cr_assert_str_eq(m, "6:2", "%s", m);
    /* A word of one byte is no prefix (the stores match it whole). */
    snip("a apple at A", "a", s, m, sizeof(m));
    cr_assert_str_eq(m, "0:1,11:1", "%s", m);
    snip("\xc3\xa9t\xc3\xa9", "\xc3\xa9", s, m, sizeof(m)); /* two bytes: a prefix */
    cr_assert_str_eq(m, "0:1", "%s", m);
}

Test(snip, diacritics_and_utf16_units)
{
    char s[SNIP_CAP];
    char m[256];
    /* é is one UTF-16 unit; the emoji before it is two. */
    snip("\xf0\x9f\x98\x80 Caf\xc3\xa9 ok", "cafe", s, m, sizeof(m));
    cr_assert_str_eq(m, "3:4", "%s", m);
    snip("na\xc3\xafve NA\xc3\x8fVE", "naive", s, m, sizeof(m));
    cr_assert_str_eq(m, "0:5,6:5", "%s", m);
}

Test(snip, long_text_is_cut_around_the_first_match)
{
    char text[1200];
    memset(text, 'a', 500);
    memcpy(text + 500, " needle ", 8);
    memset(text + 508, 'b', 600);
    text[1108] = '\0';
    char s[SNIP_CAP];
    char m[256];
    snip(text, "needle", s, m, sizeof(m));
    /* An ellipsis, 40 characters before the match, 160 in all, an ellipsis. */
    cr_assert(strncmp(s, "\xe2\x80\xa6", 3) == 0);
    cr_assert_str_eq(m, "41:6", "%s", m);
    cr_assert_eq(strlen(s), 3 + 160 + 3);
}

Test(snip, no_match_no_word)
{
    char s[SNIP_CAP];
    char m[256];
    snip("nothing here", "zzz", s, m, sizeof(m));
    cr_assert_str_eq(s, "nothing here");
    cr_assert_str_eq(m, "");
    snip("text", "", s, m, sizeof(m));
    cr_assert_str_eq(m, "");
}
