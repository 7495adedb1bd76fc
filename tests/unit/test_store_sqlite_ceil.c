/* test_store_sqlite_ceil.c - the SQLite store's ceilings: a recipient's
 * pending rows (EFULL) and friend requests per day (ELIMIT), the per-user
 * pending count kept by triggers, and migration 2 on a version 1 file. */
#include "test_store_sqlite.h"

TestSuite(store_sqlite_ceil, .init = setup, .fini = teardown, .timeout = 30);

#define DAY (24 * 60 * MINUTE)

static void sql_exec(const char *sql)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(E.path, &db), SQLITE_OK);
    char *err = NULL;
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &err), SQLITE_OK, "%s: %s", sql, err ? err : "");
    sqlite3_close(db);
}

/* Every user's stored count equals their real number of pending rows. */
static void assert_counts_exact(void)
{
    int64_t wrong =
        sql_int("SELECT count(*) FROM users u WHERE"
                " coalesce((SELECT n FROM pending_counts c WHERE c.user_id = u.user_id), 0)"
                " <> (SELECT count(*) FROM pending p WHERE p.user_id = u.user_id)");
    cr_assert_eq(wrong, 0, "pending_counts disagrees with pending for %lld users",
                 (long long)wrong);
}

static int send_max(duet_id from, const char *mid, int64_t max)
{
    store_req *r = op(STORE_MSG_SEND);
    r->in.user = from;
    r->in.chat_id = E.ab;
    r->in.message_id = mid;
    r->in.text = "hello";
    r->in.now = T0 + MINUTE;
    r->in.max_pending = max;
    int rc = run(r);
    done(r);
    return rc;
}

static int ack(duet_id user, int kind, int64_t seq)
{
    store_req *r = mark(STORE_MSG_ACK, user, E.ab, kind, seq, T0 + 2 * MINUTE);
    int rc = run(r);
    done(r);
    return rc;
}

static int del(duet_id user, int64_t seq)
{
    store_req *r = op(STORE_MSG_DELETE);
    r->in.user = user;
    r->in.chat_id = E.ab;
    r->in.seq = seq;
    r->in.now = T0 + 3 * MINUTE;
    r->in.window_ms = 3600000;
    int rc = run(r);
    done(r);
    return rc;
}

static size_t n_pending(duet_id user)
{
    store_req *r = pending(user);
    size_t n = r->out.n_pending;
    done(r);
    return n;
}

Test(store_sqlite_ceil, send_refused_at_the_recipients_ceiling_and_nothing_stored)
{
    char mid[16];
    for (int i = 1; i <= 3; i++) {
        snprintf(mid, sizeof(mid), "m%d", i);
        cr_assert_eq(send_max(E.alice, mid, 3), 0, "message %d", i);
    }
    cr_assert_eq(send_max(E.alice, "m4", 3), DUET_EFULL);
    cr_assert_eq(n_pending(E.bob), 3, "the refused message left no pending row");
    store_req *h = history(E.alice, E.ab, 0, -1, 100);
    cr_assert_eq(h->out.n_msgs, 3, "the refused message was not stored");
    done(h);
    /* A retry of a stored message still succeeds (dedupe comes first). */
    cr_assert_eq(send_max(E.alice, "m2", 3), 0);
    /* The ceiling is the recipient's: bob may still write to alice. */
    cr_assert_eq(send_max(E.bob, "b1", 3), 0);
    /* 0 means no ceiling. */
    cr_assert_eq(send_max(E.alice, "m5", 0), 0);
    cr_assert_eq(send_max(E.alice, "m6", 4), DUET_EFULL);
    assert_counts_exact();
}

Test(store_sqlite_ceil, acks_and_deletes_move_the_count)
{
    char mid[16];
    for (int i = 1; i <= 4; i++) {
        snprintf(mid, sizeof(mid), "m%d", i);
        cr_assert_eq(send_max(E.alice, mid, 4), 0);
    }
    cr_assert_eq(send_max(E.alice, "x", 4), DUET_EFULL);
    /* Deleting an undelivered message swaps its MESSAGE row for a DELETED
     * row: still full. */
    cr_assert_eq(del(E.alice, 4), 0);
    assert_counts_exact();
    cr_assert_eq(send_max(E.alice, "x", 4), DUET_EFULL);
    /* bob's device gets messages 1-2: two slots free. */
    cr_assert_eq(ack(E.bob, PENDING_MESSAGE, 2), 0);
    assert_counts_exact();
    cr_assert_eq(send_max(E.alice, "y1", 4), 0);
    cr_assert_eq(send_max(E.alice, "y2", 4), 0);
    cr_assert_eq(send_max(E.alice, "y3", 4), DUET_EFULL);
    /* The DELETED row for seq 4 goes with its ack. */
    cr_assert_eq(ack(E.bob, PENDING_DELETED, 4), 0);
    cr_assert_eq(send_max(E.alice, "y3", 4), 0);
    /* alice's own count holds her DELIVERED receipt, replaced in place. */
    cr_assert_eq(ack(E.bob, PENDING_MESSAGE, 5), 0);
    cr_assert_eq(ack(E.bob, PENDING_MESSAGE, 7), 0);
    cr_assert_eq(n_pending(E.alice), 1);
    assert_counts_exact();
    cr_assert_eq(ack(E.alice, PENDING_DELIVERED, 7), 0);
    cr_assert_eq(n_pending(E.alice), 0);
    cr_assert_eq(n_pending(E.bob), 0);
    assert_counts_exact();
    cr_assert_eq(sql_int("SELECT count(*) FROM pending_counts WHERE n <> 0"), 0);
}

Test(store_sqlite_ceil, seen_receipts_and_a_second_delete_keep_the_count_exact)
{
    int64_t seq;
    cr_assert_eq(send_msg(E.alice, E.ab, "a", "1", T0 + MINUTE, &seq), 0);
    cr_assert_eq(send_msg(E.alice, E.ab, "b", "2", T0 + MINUTE, &seq), 0);
    store_req *r = mark(STORE_MSG_SEEN, E.bob, E.ab, 0, 1, T0 + 2 * MINUTE);
    cr_assert_eq(run(r), 0);
    done(r);
    r = mark(STORE_MSG_SEEN, E.bob, E.ab, 0, 2, T0 + 2 * MINUTE);
    cr_assert_eq(run(r), 0);
    done(r);
    assert_counts_exact();
    cr_assert_eq(del(E.alice, 2), 0);
    cr_assert_eq(del(E.alice, 2), DUET_EDELETED);
    assert_counts_exact();
}

static int request(duet_id from, const char *to, int64_t now, int64_t max)
{
    store_req *r = op(STORE_FRIEND_REQUEST);
    r->in.user = from;
    r->in.name = to;
    r->in.now = now;
    r->in.max_per_day = max;
    int rc = run(r);
    done(r);
    return rc;
}

Test(store_sqlite_ceil, friend_requests_per_day)
{
    mkuser("dave");
    mkuser("erin");
    mkuser("fred");
    duet_id gina = mkuser("gina");
    cr_assert_eq(request(E.carol, "dave", T0, 2), 0);
    cr_assert_eq(request(E.carol, "dave", T0 + 1, 2), 0, "a repeat is not a new request");
    cr_assert_eq(request(E.carol, "erin", T0 + 2, 2), 0);
    cr_assert_eq(request(E.carol, "fred", T0 + 3, 2), DUET_ELIMIT);
    store_req *l = op(STORE_REQUESTS_LIST);
    l->in.user = E.carol;
    cr_assert_eq(run(l), 0);
    cr_assert_eq(l->out.n_reqs_out, 2, "the refused request was not stored");
    done(l);
    /* Cancelling does not give the quota back: cancel and resend would
     * otherwise notify someone without end. */
    cr_assert_eq(friend_op(STORE_FRIEND_CANCEL, E.carol, "dave", T0 + 4), 0);
    cr_assert_eq(request(E.carol, "dave", T0 + 5, 2), DUET_ELIMIT);
    /* Answering someone's request is an acceptance, not a new request. */
    cr_assert_eq(request(gina, "carol", T0 + 6, 2), 0);
    cr_assert_eq(request(E.carol, "gina", T0 + 7, 2), 0);
    /* Other errors come first and cost nothing. */
    cr_assert_eq(request(E.carol, "nobody", T0 + 8, 2), DUET_ENOTFOUND);
    /* A day after the first one, one slot is free again; then two. */
    cr_assert_eq(request(E.carol, "fred", T0 + DAY - 1, 2), DUET_ELIMIT);
    cr_assert_eq(request(E.carol, "fred", T0 + DAY, 2), 0);
    cr_assert_eq(request(E.carol, "dave", T0 + DAY + 1, 2), DUET_ELIMIT);
    cr_assert_eq(request(E.carol, "dave", T0 + DAY + 2, 2), 0);
    /* Old entries are pruned: the log stays small. */
    cr_assert_eq(sql_int("SELECT count(*) FROM friend_requests_sent"), 3,
                 "carol's two, gina's one");
    /* 0: no ceiling, and nothing logged. */
    cr_assert_eq(friend_op(STORE_FRIEND_CANCEL, E.carol, "dave", T0 + DAY + 3), 0);
    cr_assert_eq(request(E.carol, "dave", T0 + DAY + 4, 0), 0);
    cr_assert_eq(sql_int("SELECT count(*) FROM friend_requests_sent"), 3);
}

/* Undoes s-shard's migration (the index in shards: the tests' stores have
 * at most two, sqlite_shards.c creates one ahead). */
#define SHARDS_UNDO                                                                                \
    " DROP TABLE msg_fts_0; DROP TABLE IF EXISTS msg_fts_1; DROP TABLE msg_fts_shards;"

/* Undoes the migrations after 5 that do not re-run (tables and columns
 * they add without IF NOT EXISTS), for the tests that take a file back to
 * an older version: search and chat state (c-org), media (issue 15), the
 * index in shards (s-shard). */
#define SEARCH_UNDO                                                                                \
    "DROP TABLE msg_fts_rows; DROP TABLE chat_state;"                                              \
    " ALTER TABLE messages DROP COLUMN fts_id;"                                                    \
    " DROP TABLE uploads; DROP TABLE upload_log;"                                                  \
    " ALTER TABLE messages DROP COLUMN media; ALTER TABLE pending DROP COLUMN media;" SHARDS_UNDO

/* Undoes c-msg's migration (reply, forward, edit, reactions, delete for me). */
#define CONV_UNDO                                                                                  \
    "ALTER TABLE messages DROP COLUMN reply_to; ALTER TABLE messages DROP COLUMN forwarded;"       \
    " ALTER TABLE messages DROP COLUMN edited_at; DROP TABLE reactions; DROP TABLE hidden;"

Test(store_sqlite_ceil, migration_2_counts_the_existing_pending_rows)
{
    int64_t seq;
    cr_assert_eq(send_msg(E.alice, E.ab, "a", "1", T0 + MINUTE, &seq), 0);
    cr_assert_eq(send_msg(E.alice, E.ab, "b", "2", T0 + MINUTE, &seq), 0);
    cr_assert_eq(send_msg(E.bob, E.ab, "c", "3", T0 + MINUTE, &seq), 0);
    close_store(E.st);
    E.st = NULL;
    /* Back to what a version 1 file looks like, pending rows and all. */
    sql_exec("DROP TRIGGER pending_counts_ins; DROP TRIGGER pending_counts_del;"
             " DROP TABLE pending_counts; DROP TABLE friend_requests_sent;"
             " ALTER TABLE messages DROP COLUMN withheld; DROP INDEX pending_replay;"
             " ALTER TABLE chats DROP COLUMN a_seen_seq; ALTER TABLE chats DROP COLUMN b_seen_seq;"
             " PRAGMA user_version = 1;");
    sql_exec(SEARCH_UNDO); /* c-org's migration too */
    sql_exec(CONV_UNDO);   /* and c-msg's */
    E.st = open_store();
    cr_assert_eq(sql_int("PRAGMA user_version"), (int)sq_migrations_count, "migrations 2 on ran");
    assert_counts_exact();
    cr_assert_eq(send_max(E.alice, "d", 3), 0);
    cr_assert_eq(send_max(E.alice, "e", 3), DUET_EFULL, "bob had 2 rows before the migration");
    assert_counts_exact();
}

Test(store_sqlite_ceil, migration_5_starts_the_seen_positions_from_the_seen_messages)
{
    int64_t seq;
    cr_assert_eq(send_msg(E.alice, E.ab, "a", "1", T0 + MINUTE, &seq), 0);
    cr_assert_eq(send_msg(E.alice, E.ab, "b", "2", T0 + MINUTE, &seq), 0);
    cr_assert_eq(send_msg(E.bob, E.ab, "c", "3", T0 + MINUTE, &seq), 0);
    store_req *r = mark(STORE_MSG_SEEN, E.bob, E.ab, 0, 3, T0 + 2 * MINUTE);
    cr_assert_eq(run(r), 0);
    done(r);
    close_store(E.st);
    E.st = NULL;
    /* Back to what a version 4 file looks like. */
    sql_exec("ALTER TABLE chats DROP COLUMN a_seen_seq; ALTER TABLE chats DROP COLUMN b_seen_seq;"
             " PRAGMA user_version = 4;");
    sql_exec(SEARCH_UNDO);
    sql_exec(CONV_UNDO);
    E.st = open_store();
    cr_assert_eq(sql_int("PRAGMA user_version"), (int)sq_migrations_count);
    /* bob saw alice's messages 1 and 2 (3 is his own); alice saw none. */
    cr_assert_eq(sql_int("SELECT max(a_seen_seq, b_seen_seq) FROM chats"), 2);
    cr_assert_eq(sql_int("SELECT min(a_seen_seq, b_seen_seq) FROM chats"), 0);
}
