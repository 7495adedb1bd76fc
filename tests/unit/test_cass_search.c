/* Unit tests of cass_search.c's word matching (issue 17): the Cassandra
 * store matches in C what SQLite's FTS5 index matches (sqlite_search.c):
 * every word, case and Latin diacritics folded, prefixes from two bytes. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../src/store/cassandra/cass_int.h"

static int match(const char *text, const char *query)
{
    struct cs_word w[CS_SEARCH_WORDS];
    size_t n = cs_search_words(query, w);
    return cs_search_match(text, strlen(text), w, n);
}

Test(cass_search, words_split_as_sqlite)
{
    struct cs_word w[CS_SEARCH_WORDS];
    cr_assert_eq(cs_search_words("  café OR \"secret\" NEAR(x ", w), 5);
    cr_assert_eq(w[0].len, strlen("café"));
    cr_assert(strncmp(w[3].s, "NEAR", w[3].len) == 0);
    cr_assert_eq(cs_search_words(" \"* ", w), 0, "no word");
    cr_assert_eq(cs_search_words("a b c d e f g h i j", w), CS_SEARCH_WORDS, "8 words at most");
}

Test(cass_search, case_and_diacritics_folded)
{
    cr_assert(match("Lunch at the Café tomorrow?", "cafe"));
    cr_assert(match("Lunch at the Cafe tomorrow?", "CAFÉ"));
    cr_assert(match("ÀÉÎÕÜ ÇÑ", "aeiou cn"));
    cr_assert(match("Łódź", "lodz"));
    cr_assert_not(match("Lunch at the Café", "cafes"));
}

Test(cass_search, prefixes_from_two_bytes)
{
    cr_assert(match("yes, the café near the station", "stat"));
    cr_assert(match("yes, the café near the station", "st"));
    cr_assert_not(match("yes, the café near the station", "s"), "one byte: a whole word only");
    cr_assert(match("a b stop", "a"));
    cr_assert_not(match("yes, the café near the station", "ation"), "word starts only");
}

Test(cass_search, every_word_must_match)
{
    cr_assert(match("Lunch at the Café tomorrow?", "café tomorrow"));
    cr_assert(match("Lunch at the Café tomorrow?", "tomorrow café"));
    cr_assert_not(match("Lunch at the Café tomorrow?", "café secret"));
    cr_assert_not(match("café OR secret", "café OR \"secret\" NEAR(x"), "no 'near' nor 'x'");
    cr_assert_not(match("", "x"));
    cr_assert_not(match("anything", " "), "no word never matches");
}
