/* Unit tests of the Cassandra store's blocks cache (cass_access.c): what
 * an entry answers and for whom, its expiry, its invalidation, the fixed
 * bound and which entry a full set evicts. The sends that use it and the
 * invalidation by a block are covered on a node by
 * tests/integration/91-blocks-cache. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sodium.h>

#include "../../src/store/cassandra/cass_access.h"

static void access_init(void)
{
    cr_assert(sodium_init() >= 0);
}

TestSuite(store_cass_access, .init = access_init);

/* A chat id whose set, in a table of `sets` sets, is `set`. */
static void chat_in_set(duet_id *chat, uint64_t set, uint64_t sets)
{
    uint64_t h;
    duet_id_random(chat);
    memcpy(&h, chat->b, sizeof(h));
    h = (h & ~(sets - 1)) | set;
    memcpy(chat->b, &h, sizeof(h));
}

Test(store_cass_access, answers_for_either_member)
{
    struct cs_access a;
    duet_id u, v, chat;
    int out = -1, in = -1;
    duet_id_random(&u);
    duet_id_random(&v);
    duet_chat_id(&u, &v, &chat);
    cr_assert_eq(cs_access_init(&a, 64), 0);
    cr_assert_eq(cs_access_get(&a, &chat, &u, 100, &out, &in), 0, "empty: a miss");
    /* u blocks v, v does not block u. */
    cs_access_put(&a, &chat, &u, 1, 0, 100);
    cr_assert_eq(cs_access_get(&a, &chat, &u, 100, &out, &in), 1);
    cr_assert(out == 1 && in == 0, "u's view: u blocks v");
    cr_assert_eq(cs_access_get(&a, &chat, &v, 150, &out, &in), 1);
    cr_assert(out == 0 && in == 1, "v's view: v is blocked by u");
    /* Read again for v: the same slot, replaced. */
    cs_access_put(&a, &chat, &v, 0, 0, 200);
    cr_assert_eq(cs_access_live(&a, 200), 1);
    cr_assert_eq(cs_access_get(&a, &chat, &u, 200, &out, &in), 1);
    cr_assert(out == 0 && in == 0);
    cr_assert_eq(a.hits, 3);
    cr_assert_eq(a.misses, 1);
    cs_access_free(&a);
}

Test(store_cass_access, expires_a_ttl_after_the_read)
{
    struct cs_access a;
    duet_id u, chat;
    int out, in;
    duet_id_random(&u);
    duet_id_random(&chat);
    cr_assert_eq(cs_access_init(&a, 64), 0);
    cs_access_put(&a, &chat, &u, 0, 1, 5000);
    cr_assert_eq(cs_access_get(&a, &chat, &u, 5000 + CS_ACCESS_TTL_MS - 1, &out, &in), 1);
    cr_assert_eq(cs_access_get(&a, &chat, &u, 5000 + CS_ACCESS_TTL_MS, &out, &in), 0);
    cr_assert_eq(cs_access_live(&a, 5000 + CS_ACCESS_TTL_MS), 0);
    cs_access_free(&a);
}

Test(store_cass_access, forget_drops_the_entry)
{
    struct cs_access a;
    duet_id u, chat, other;
    int out, in;
    duet_id_random(&u);
    duet_id_random(&chat);
    duet_id_random(&other);
    cr_assert_eq(cs_access_init(&a, 64), 0);
    cs_access_put(&a, &chat, &u, 0, 0, 10);
    cs_access_put(&a, &other, &u, 0, 0, 10);
    cs_access_forget(&a, &chat);
    cr_assert_eq(cs_access_get(&a, &chat, &u, 11, &out, &in), 0, "forgotten");
    cr_assert_eq(cs_access_get(&a, &other, &u, 11, &out, &in), 1, "another chat stays");
    cs_access_forget(&a, &chat); /* again: nothing */
    cr_assert_eq(cs_access_live(&a, 11), 1);
    cs_access_free(&a);
}

Test(store_cass_access, never_holds_more_than_its_slots)
{
    struct cs_access a;
    duet_id u, chat;
    int out, in, hits = 0;
    duet_id_random(&u);
    cr_assert_eq(cs_access_init(&a, 256), 0);
    for (int i = 0; i < 10000; i++) {
        duet_id_random(&chat);
        cs_access_put(&a, &chat, &u, 0, 0, 1000 + i / 100);
    }
    cr_assert_eq(a.n_slots, 256);
    cr_assert_eq(cs_access_live(&a, 1000), 256, "full, never beyond");
    /* The last chat put is there. */
    hits = cs_access_get(&a, &chat, &u, 1000, &out, &in);
    cr_assert_eq(hits, 1);
    cs_access_free(&a);
}

Test(store_cass_access, a_full_set_evicts_what_expires_first)
{
    struct cs_access a;
    duet_id u, c[CS_ACCESS_WAYS + 2];
    int out, in;
    duet_id_random(&u);
    cr_assert_eq(cs_access_init(&a, 8 * CS_ACCESS_WAYS), 0);
    for (int i = 0; i < CS_ACCESS_WAYS + 2; i++)
        chat_in_set(&c[i], 3, 8);
    /* Fill set 3, c[1] read first. */
    for (int i = 0; i < CS_ACCESS_WAYS; i++)
        cs_access_put(&a, &c[i], &u, 0, 0, i == 1 ? 100 : 200 + i);
    cs_access_put(&a, &c[CS_ACCESS_WAYS], &u, 1, 0, 300);
    cr_assert_eq(cs_access_get(&a, &c[1], &u, 300, &out, &in), 0, "the oldest went");
    for (int i = 0; i <= CS_ACCESS_WAYS; i++)
        if (i != 1)
            cr_assert_eq(cs_access_get(&a, &c[i], &u, 300, &out, &in), 1, "chat %d stays", i);
    /* An expired entry goes before any live one, whatever their order. */
    cs_access_put(&a, &c[CS_ACCESS_WAYS + 1], &u, 0, 0, 202 + CS_ACCESS_TTL_MS);
    cr_assert_eq(cs_access_get(&a, &c[0], &u, 202 + CS_ACCESS_TTL_MS, &out, &in), 0);
    cr_assert_eq(cs_access_get(&a, &c[CS_ACCESS_WAYS + 1], &u, 202 + CS_ACCESS_TTL_MS, &out, &in),
                 1);
    cr_assert_eq(cs_access_live(&a, 0), CS_ACCESS_WAYS, "one set, still its ways");
    cs_access_free(&a);
}

Test(store_cass_access, rejects_a_bad_size)
{
    struct cs_access a;
    duet_id u, chat;
    int out, in;
    cr_assert_eq(cs_access_init(&a, 0), -EINVAL);
    cr_assert_eq(cs_access_init(&a, 3 * CS_ACCESS_WAYS), -EINVAL, "sets: a power of two");
    cr_assert_eq(cs_access_init(&a, CS_ACCESS_WAYS + 1), -EINVAL);
    /* A failed init leaves a table that misses and ignores puts. */
    duet_id_random(&u);
    duet_id_random(&chat);
    cs_access_put(&a, &chat, &u, 0, 0, 1);
    cr_assert_eq(cs_access_get(&a, &chat, &u, 1, &out, &in), 0);
    cs_access_forget(&a, &chat);
    cs_access_free(&a);
}
