/* Unit tests of src/base (the app's pure parts: test_app.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/base/duet.h"
#include "../../src/base/map.h"
#include "../../src/base/pool.h"
#include "../../src/base/recent.h"
#include "../../src/base/text.h"

static void init_sodium(void)
{
    cr_assert(sodium_init() >= 0);
}

TestSuite(base_text);

Test(base_text, utf8_valid_accepts_well_formed)
{
    cr_assert(text_utf8_valid("", 0));
    cr_assert(text_utf8_valid("hello", 5));
    cr_assert(text_utf8_valid("h\xc3\xa9llo", 6));
    cr_assert(text_utf8_valid("\xe2\x82\xac", 3));
    cr_assert(text_utf8_valid("\xf0\x9f\x98\x80", 4));
}

Test(base_text, utf8_valid_rejects_malformed)
{
    cr_assert_not(text_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    cr_assert_not(text_utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
    cr_assert_not(text_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    cr_assert_not(text_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    cr_assert_not(text_utf8_valid("\xc3", 1));             /* truncated */
    cr_assert_not(text_utf8_valid("\x80", 1));             /* lone continuation */
    cr_assert_not(text_utf8_valid("\xff", 1));
}

Test(base_text, utf8_chars_counts_code_points)
{
    cr_assert_eq(text_utf8_chars("abc", 3), 3);
    cr_assert_eq(text_utf8_chars("h\xc3\xa9", 3), 2);
    cr_assert_eq(text_utf8_chars("\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 8), 2);
}

Test(base_text, username_folds_and_validates)
{
    char out[33];
    cr_assert_eq(text_username("Alice_1.x", 9, out), 0);
    cr_assert_str_eq(out, "alice_1.x");
    cr_assert_eq(text_username("ab", 2, out), -EINVAL);
    cr_assert_eq(text_username("abc", 3, out), 0);
    cr_assert_eq(text_username("a b", 3, out), -EINVAL);
    cr_assert_eq(text_username("abc-d", 5, out), -EINVAL);
    cr_assert_eq(text_username("\xc3\xa9\xc3\xa9\xc3\xa9", 6, out), -EINVAL);
    char long33[34];
    memset(long33, 'a', 33);
    cr_assert_eq(text_username(long33, 32, out), 0);
    cr_assert_eq(text_username(long33, 33, out), -EINVAL);
}

Test(base_text, display_name_rules)
{
    cr_assert(text_display_name_ok("Alice A.", 8));
    cr_assert(text_display_name_ok("\xc3\x89lodie", 7));
    cr_assert_not(text_display_name_ok("", 0));
    cr_assert_not(text_display_name_ok("   ", 3));
    cr_assert_not(text_display_name_ok("a\nb", 3));
    cr_assert_not(text_display_name_ok("a\x7f", 2));
    char s65[65];
    memset(s65, 'x', 65);
    cr_assert(text_display_name_ok(s65, 64));
    cr_assert_not(text_display_name_ok(s65, 65));
}

/* Issue 14 item 10: names that show nothing, or reorder what is around. */
Test(base_text, display_name_invisible_and_bidi)
{
    cr_assert_not(text_display_name_ok("\xe2\x80\x8b", 3));             /* U+200B */
    cr_assert_not(text_display_name_ok("\xe3\x85\xa4\xe3\x85\xa4", 6)); /* U+3164 x2 */
    cr_assert_not(text_display_name_ok("\xc2\xa0", 2));                 /* NBSP */
    cr_assert_not(text_display_name_ok("\xe2\xa0\x80 ", 4));            /* blank braille */
    cr_assert_not(text_display_name_ok("\xef\xb8\x8f\xe2\x81\xa0", 6)); /* VS16, WJ */
    cr_assert_not(text_display_name_ok("ab\xe2\x80\xae"
                                       "cd",
                                       7));                              /* RLO */
    cr_assert_not(text_display_name_ok("ab\xd8\x9c", 4));                /* ALM */
    cr_assert_not(text_display_name_ok("\xe2\x81\xa6x\xe2\x81\xa9", 7)); /* LRI..PDI */
    cr_assert_not(text_display_name_ok("a\xe2\x80\x8f", 4));             /* RLM */
    cr_assert(text_display_name_ok("a\xe2\x80\x8b"
                                   "b",
                                   5));                                     /* visible around */
    cr_assert(text_display_name_ok("\xd9\x85\xd8\xb1\xd9\x8a\xd9\x85", 8)); /* Arabic */
    /* An emoji sequence joined by ZWJ stays allowed. */
    cr_assert(text_display_name_ok("\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb", 11));
}

Test(base_text, client_ids)
{
    cr_assert(text_client_id_ok("c-1_A", 5));
    cr_assert_not(text_client_id_ok("", 0));
    cr_assert_not(text_client_id_ok("a b", 3));
    cr_assert_not(text_client_id_ok("a/b", 3));
    char s65[65];
    memset(s65, 'x', 65);
    cr_assert(text_client_id_ok(s65, 64));
    cr_assert_not(text_client_id_ok(s65, 65));
}

TestSuite(base_ids, .init = init_sodium);

Test(base_ids, format_parse_round_trip)
{
    duet_id a, b;
    char s[DUET_ID_STRLEN + 1];
    duet_id_random(&a);
    duet_id_format(&a, s);
    cr_assert_eq(strlen(s), 36);
    cr_assert_eq(s[14], '4'); /* version 4 */
    cr_assert_eq(duet_id_parse(s, 36, &b), 0);
    cr_assert(duet_id_eq(&a, &b));
}

Test(base_ids, parse_rejects_bad_text)
{
    duet_id x;
    cr_assert_eq(duet_id_parse("not-a-uuid", 10, &x), -EINVAL);
    cr_assert_eq(duet_id_parse("0123456789abcdef0123456789abcdef0123", 36, &x), -EINVAL);
    cr_assert_eq(duet_id_parse("0123456g-89ab-cdef-0123-456789abcdef", 36, &x), -EINVAL);
    cr_assert_eq(duet_id_parse("01234567-89AB-cdef-0123-456789abcdef", 36, &x), 0);
}

Test(base_ids, chat_id_is_symmetric_and_distinct)
{
    duet_id a, b, c, ab, ba, ac;
    duet_id_random(&a);
    duet_id_random(&b);
    duet_id_random(&c);
    duet_chat_id(&a, &b, &ab);
    duet_chat_id(&b, &a, &ba);
    duet_chat_id(&a, &c, &ac);
    cr_assert(duet_id_eq(&ab, &ba));
    cr_assert_not(duet_id_eq(&ab, &ac));
}

Test(base_ids, error_codes_are_stable)
{
    cr_assert_str_eq(duet_strerror_code(DUET_ENOTFRIENDS), "not_friends");
    cr_assert_str_eq(duet_strerror_code(DUET_EBLOCKED), "blocked");
    cr_assert_str_eq(duet_strerror_code(-EINVAL), "bad_request");
    cr_assert_str_eq(duet_strerror_code(-12345), "internal");
}

TestSuite(base_map, .init = init_sodium);

static int drop_odd(void *v, void *ctx)
{
    (void)ctx;
    return ((intptr_t)v & 1) != 0;
}

Test(base_map, put_get_del_and_grow)
{
    map_t m;
    cr_assert_eq(map_init(&m), 0);
    for (intptr_t i = 1; i <= 1000; i++) {
        char k[16];
        int n = snprintf(k, sizeof(k), "k%ld", (long)i);
        cr_assert_eq(map_put(&m, k, (size_t)n, (void *)i), 0);
    }
    cr_assert_eq(m.count, 1000);
    cr_assert_eq((intptr_t)map_get(&m, "k500", 4), 500);
    cr_assert_null(map_get(&m, "k1001", 5));
    cr_assert_eq((intptr_t)map_del(&m, "k500", 4), 500);
    cr_assert_null(map_get(&m, "k500", 4));
    map_put(&m, "k1", 2, (void *)7);
    cr_assert_eq((intptr_t)map_get(&m, "k1", 2), 7);
    size_t seen = 0;
    for (struct map_entry *e = map_first(&m); e != NULL; e = map_next(&m, e))
        seen++;
    cr_assert_eq(seen, 999);
    map_filter(&m, drop_odd, NULL);
    for (struct map_entry *e = map_first(&m); e != NULL; e = map_next(&m, e))
        cr_assert_eq((intptr_t)e->value & 1, 0);
    cr_assert_eq(m.count, 499);
    map_free(&m);
}

Test(base_recent, marks_last_an_interval_and_expire_from_the_head)
{
    struct recent r;
    cr_assert_eq(recent_init(&r, 1000), 0);
    cr_assert_eq(recent_mark(&r, "a", 1, 100), 0, "first mark goes through");
    cr_assert_eq(recent_mark(&r, "a", 1, 500), 1, "within the interval");
    cr_assert_eq(recent_seen(&r, "a", 1, 1099), 1);
    cr_assert_eq(recent_mark(&r, "b", 1, 600), 0);
    cr_assert_eq(recent_seen(&r, "a", 1, 1100), 0, "a expired at 1100");
    cr_assert_eq(recent_count(&r), 1, "and was dropped; b is left");
    cr_assert_eq(recent_mark(&r, "a", 1, 1100), 0, "marked again");
    /* Many keys: each expires once, whatever their number. */
    for (int i = 0; i < 10000; i++) {
        char k[16];
        int n = snprintf(k, sizeof(k), "k%d", i);
        cr_assert_eq(recent_mark(&r, k, (size_t)n, 2000 + (uint64_t)i / 100), 0);
    }
    cr_assert_eq(recent_count(&r), 10000 + 1, "b expired, a is still there");
    cr_assert_eq(recent_seen(&r, "zz", 2, 5000), 0);
    cr_assert_eq(recent_count(&r), 0, "everything expired by 5000");
    cr_assert_eq(recent_mark(&r, "0123456789abcdef0123456789abcdef!", 33, 5000), 0,
                 "a key over RECENT_KEY_MAX is never throttled");
    recent_free(&r);
}

TestSuite(base_pool);

Test(base_pool, alignment_and_large_blocks)
{
    pool_t p;
    pool_init(&p);
    for (int i = 0; i < 1000; i++) {
        void *a = pool_alloc(&p, (size_t)(i % 37) + 1);
        cr_assert_not_null(a);
        cr_assert_eq((uintptr_t)a % 16, 0);
        memset(a, 0xAB, (size_t)(i % 37) + 1);
    }
    char *big = pool_alloc(&p, 100000);
    cr_assert_not_null(big);
    memset(big, 1, 100000);
    char *s = pool_strndup(&p, "hello world", 5);
    cr_assert_str_eq(s, "hello");
    pool_clear(&p);
    cr_assert_null(p.chunks);
}

/* Grows an array element by element: contents kept across moves, the
 * capacity doubles, and a size that would overflow is refused. */
Test(base_pool, grow_keeps_elements_and_refuses_overflow)
{
    pool_t p;
    pool_init(&p);
    int64_t *arr = NULL;
    size_t cap = 0;
    for (size_t n = 0; n < 1000; n++) {
        arr = pool_grow(&p, arr, n, &cap, sizeof(*arr));
        cr_assert_not_null(arr);
        cr_assert_gt(cap, n);
        arr[n] = (int64_t)n * 7;
    }
    cr_assert_eq(cap, 1024);
    for (size_t n = 0; n < 1000; n++)
        cr_assert_eq(arr[n], (int64_t)n * 7);
    size_t huge = SIZE_MAX / 16 + 1;
    cr_assert_null(pool_grow(&p, arr, huge, &huge, 16), "an overflowing size was allocated");
    cr_assert_eq(huge, SIZE_MAX / 16 + 1, "cap changed on failure");
    pool_clear(&p);
}

TestSuite(base_hex);

Test(base_hex, encode_decode_round_trip)
{
    const uint8_t b[4] = {0x00, 0x9f, 0xa0, 0xff};
    char out[9];
    uint8_t back[4];
    memset(out, 'x', sizeof(out));
    duet_hex_encode(b, 4, out);
    cr_assert_str_eq(out, "009fa0ff");
    cr_assert_eq(duet_hex_decode(out, 4, back), 0);
    cr_assert_eq(memcmp(b, back, 4), 0);
    cr_assert_eq(duet_hex_decode("009FA0FF", 4, back), 0, "upper case is read too");
    cr_assert_eq(memcmp(b, back, 4), 0);
    cr_assert_eq(duet_hex_decode("009g", 2, back), -EINVAL);
    cr_assert_eq(duet_hex_decode(" 0", 1, back), -EINVAL);
    duet_hex_encode(b, 0, out);
    cr_assert_str_eq(out, "");
}
