/* test_shards.c - the SQLite search index in shards by age (s-shard,
 * sqlite_shards.c): every indexed message sits in the shard whose block
 * holds its FTS rowid, shards follow each other without overlap, and a
 * reopen with another shard size keeps the existing blocks; a shard created
 * in a transaction that rolls back is forgotten. */
#include "test_store_sqlite.h"

TestSuite(shards, .init = setup, .fini = teardown, .timeout = 30);

static void reopen(int64_t rows)
{
    close_store(E.st);
    struct store_sqlite_opts o = {
        .path = E.path, .sync_full = 0, .cache_kib = 8192, .fts_shard_rows = rows};
    E.st = NULL;
    cr_assert_eq(store_sqlite_open(&E.loop, &o, &E.st), 0);
}

/* Each message's rowid is in exactly its shard's table, and in no other. */
static void assert_placed(void)
{
    int64_t n = sql_int("SELECT count(*) FROM msg_fts_shards");
    int64_t msgs = sql_int("SELECT count(*) FROM messages WHERE fts_id <> 0");
    cr_assert_gt(msgs, 0);
    for (int64_t k = 0; k < n; k++) {
        char q[400];
        snprintf(q, sizeof(q),
                 "SELECT count(*) FROM messages m WHERE m.fts_id >= (SELECT first_id FROM"
                 " msg_fts_shards WHERE n = %lld) AND m.fts_id < coalesce((SELECT first_id"
                 " FROM msg_fts_shards WHERE n = %lld), 1 << 62)",
                 (long long)k, (long long)k + 1);
        int64_t in_block = sql_int(q);
        snprintf(q, sizeof(q), "SELECT count(*) FROM msg_fts_%lld", (long long)k);
        cr_assert_eq(sql_int(q), in_block, "shard %lld holds its block's messages", (long long)k);
    }
    /* The blocks cover every message once: the sum above is all of them. */
    cr_assert_eq(sql_int("SELECT count(*) FROM messages WHERE fts_id < (SELECT first_id FROM"
                         " msg_fts_shards WHERE n = 0)"),
                 0);
}

Test(shards, messages_go_to_the_shard_of_their_block)
{
    reopen(3);
    int64_t seq;
    char mid[16];
    for (int i = 0; i < 10; i++) {
        snprintf(mid, sizeof(mid), "m%d", i);
        cr_assert_eq(send_msg(E.alice, E.ab, mid, "some words here", T0 + MINUTE + i, &seq), 0);
    }
    /* 10 rowids at 3 a shard: 4 in use, and one more created ahead at most. */
    int64_t n = sql_int("SELECT count(*) FROM msg_fts_shards");
    cr_assert(n >= 4 && n <= 5, "%lld shards", (long long)n);
    cr_assert_eq(sql_int("SELECT count(*) FROM msg_fts_shards a JOIN msg_fts_shards b"
                         " ON b.n = a.n + 1 WHERE b.first_id <= a.first_id"),
                 0, "first rowids grow with n");
    assert_placed();
    /* Another size applies to the shards created from now on only. */
    reopen(100);
    for (int i = 10; i < 20; i++) {
        snprintf(mid, sizeof(mid), "m%d", i);
        cr_assert_eq(send_msg(E.alice, E.ab, mid, "more words", T0 + MINUTE + i, &seq), 0);
    }
    cr_assert_leq(sql_int("SELECT count(*) FROM msg_fts_shards"), n + 2);
    assert_placed();
}

/* Fails every commit (the commit hook turns COMMIT into a rollback). */
static int fail_commit(void *arg)
{
    (void)arg;
    return 1;
}

/* A shard created in a transaction that rolls back does not exist: the
 * writer must forget it (sq_shards_settle), or the next message of its
 * block would go to a missing table. */
Test(shards, a_rolled_back_creation_is_forgotten)
{
    reopen(2);
    int64_t seq;
    cr_assert_eq(send_msg(E.alice, E.ab, "a", "first words", T0 + MINUTE, &seq), 0);
    /* This batch creates shard 1 ahead, then its commit fails. */
    sqlite3_commit_hook(store_db(E.st), fail_commit, NULL);
    cr_assert_neq(send_msg(E.alice, E.ab, "b", "second words", T0 + MINUTE, &seq), 0);
    sqlite3_commit_hook(store_db(E.st), NULL, NULL);
    cr_assert_eq(sql_int("SELECT count(*) FROM msg_fts_shards"), 1, "the creation rolled back");
    char mid[16];
    for (int i = 0; i < 6; i++) {
        snprintf(mid, sizeof(mid), "c%d", i);
        cr_assert_eq(send_msg(E.alice, E.ab, mid, "later words", T0 + MINUTE + i, &seq), 0,
                     "message %d", i);
    }
    cr_assert_geq(sql_int("SELECT count(*) FROM msg_fts_shards"), 3);
    assert_placed();
}
