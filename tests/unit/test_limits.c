/* Unit tests of the token bucket and the per-address WebSocket count. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sodium.h>

#include "../../src/app/limits.h"

static void init(void)
{
    cr_assert(sodium_init() >= 0);
}

TestSuite(limits, .init = init);

Test(limits, bucket_allows_a_burst_then_refills_at_the_rate)
{
    struct limits l;
    duet_id a = {{1}}, b = {{2}};
    cr_assert_eq(limits_init(&l, 2.0, 3.0, 0), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(limits_take_message(&l, &a, 1000), 0);
    int64_t wait = limits_take_message(&l, &a, 1000);
    cr_assert(wait > 0 && wait <= 501, "wait %lld", (long long)wait);
    cr_assert_eq(limits_take_message(&l, &b, 1000), 0, "buckets are per user");
    cr_assert_eq(limits_take_message(&l, &a, 1000 + 500), 0, "one token after 1/rate");
    cr_assert(limits_take_message(&l, &a, 1000 + 500) > 0);
    /* A long pause refills to the burst, never beyond. */
    for (int i = 0; i < 3; i++)
        cr_assert_eq(limits_take_message(&l, &a, 100000), 0);
    cr_assert(limits_take_message(&l, &a, 100000) > 0);
    limits_free(&l);
}

Test(limits, typing_reads_allow_a_burst_then_one_a_second)
{
    struct limits l;
    duet_id a = {{1}}, b = {{2}};
    cr_assert_eq(limits_init(&l, 2.0, 3.0, 0), 0);
    /* Reads in flight count when they start: a burst, then nothing until
     * the refill, however many are still out. */
    for (int i = 0; i < LIMITS_TYPING_BURST; i++)
        cr_assert_eq(limits_typing_take(&l, &a, 1000), 0, "read %d", i);
    int64_t wait = limits_typing_take(&l, &a, 1000);
    cr_assert(wait > 0 && wait <= 1001, "wait %lld", (long long)wait);
    cr_assert(limits_typing_take(&l, &a, 1000) > 0, "refused takes nothing, and stays refused");
    cr_assert_eq(limits_typing_take(&l, &b, 1000), 0, "per user");
    cr_assert_eq(limits_take_message(&l, &a, 1000), 0, "a budget of its own");
    /* One that found the user's own chat gives its token back. */
    limits_typing_refund(&l, &a, 1000);
    cr_assert_eq(limits_typing_take(&l, &a, 1000), 0, "the refunded token");
    cr_assert(limits_typing_take(&l, &a, 1000) > 0);
    cr_assert_eq(limits_typing_take(&l, &a, 2000), 0, "one more after a second");
    cr_assert(limits_typing_take(&l, &a, 2000) > 0);
    /* Refunds never raise the budget past the burst. */
    for (int i = 0; i < 3 * LIMITS_TYPING_BURST; i++)
        limits_typing_refund(&l, &b, 3000);
    for (int i = 0; i < LIMITS_TYPING_BURST; i++)
        cr_assert_eq(limits_typing_take(&l, &b, 3000), 0, "read %d", i);
    cr_assert(limits_typing_take(&l, &b, 3000) > 0, "past the burst");
    limits_free(&l);
}

Test(limits, websockets_per_address)
{
    struct limits l;
    cr_assert_eq(limits_init(&l, 1.0, 1.0, 2), 0);
    cr_assert_eq(limits_ws_open(&l, "127.0.0.1"), 0);
    cr_assert_eq(limits_ws_open(&l, "127.0.0.1"), 0);
    cr_assert_eq(limits_ws_open(&l, "127.0.0.1"), -EBUSY);
    cr_assert_eq(limits_ws_open(&l, "127.0.0.2"), 0);
    limits_ws_close(&l, "127.0.0.1");
    cr_assert_eq(limits_ws_open(&l, "127.0.0.1"), 0);
    limits_ws_close(&l, "127.0.0.1");
    limits_ws_close(&l, "127.0.0.1");
    limits_ws_close(&l, "127.0.0.2");
    cr_assert_eq(l.ws_addr.count, 0, "closed addresses leave no entry");
    limits_free(&l);
}

Test(limits, signups_per_address_per_hour)
{
    struct limits l;
    cr_assert_eq(limits_init(&l, 1.0, 1.0, 0), 0);
    cr_assert_eq(limits_take_signup(&l, "10.0.0.1", 0), 0, "no limit until set");
    limits_set_signup(&l, 60.0, 2.0); /* one a minute, two at once */
    cr_assert_eq(limits_take_signup(&l, "10.0.0.2", 1000), 0);
    cr_assert_eq(limits_take_signup(&l, "10.0.0.2", 1000), 0);
    int64_t wait = limits_take_signup(&l, "10.0.0.2", 1000);
    cr_assert(wait > 59000 && wait <= 60001, "wait %lld", (long long)wait);
    cr_assert_eq(limits_take_signup(&l, "10.0.0.3", 1000), 0, "buckets are per address");
    cr_assert_eq(limits_take_signup(&l, "10.0.0.2", 61000), 0, "one token a minute later");
    cr_assert(limits_take_signup(&l, "10.0.0.2", 61000) > 0);
    limits_free(&l);
}

/* One IPv6 subscriber holds a whole /64: its addresses share one count. */
Test(limits, ws_cap_counts_an_ipv6_64_as_one_address)
{
    struct limits l;
    cr_assert_eq(limits_init(&l, 1.0, 1.0, 2), 0);
    cr_assert_eq(limits_ws_open(&l, "2001:db8:0:1::1"), 0);
    cr_assert_eq(limits_ws_open(&l, "2001:db8:0:1:ffff::2"), 0);
    cr_assert_eq(limits_ws_open(&l, "2001:db8:0:1::3"), -EBUSY);
    cr_assert_eq(limits_ws_open(&l, "2001:db8:0:2::1"), 0, "another /64");
    limits_ws_close(&l, "2001:db8:0:1::1");
    cr_assert_eq(limits_ws_open(&l, "2001:db8:0:1::3"), 0);
    limits_free(&l);
}
