/* test_fts_batch.c - the search index written once per batch (issue 18,
 * sqlite_search.c): a message sent and deleted in one batch is never found,
 * one edited in it is found by its new text only, a request whose savepoint
 * rolled back indexes nothing (and leaves the index of what it touched as
 * it was), a search sees the sends before it in its batch, and after a
 * reopen everything sent is found. */
#include "test_store_sqlite.h"

TestSuite(fts_batch, .init = setup, .fini = teardown, .timeout = 60);

#define WINDOW 3600000LL

/* Reopens with a commit window (requests submitted together then share one
 * batch) and small shards (a batch spans several). */
static void reopen(int64_t window_ms)
{
    close_store(E.st);
    struct store_sqlite_opts o = {.path = E.path,
                                  .sync_full = 0,
                                  .cache_kib = 8192,
                                  .commit_window_ms = window_ms,
                                  .fts_shard_rows = 3};
    E.st = NULL;
    cr_assert_eq(store_sqlite_open(&E.loop, &o, &E.st), 0);
}

static void sql_exec(const char *sql)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(E.path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_close(db), SQLITE_OK);
}

/* FTS5 entries holding word, over every shard, from the file: a stale or
 * doubled entry shows here even where a search would hide it. Each must
 * sit in its shard's block. */
static int64_t fts_count(const char *word)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(E.path, &db), SQLITE_OK);
    int64_t n = sql_int_on(db, "SELECT count(*) FROM msg_fts_shards"), total = 0;
    for (int64_t k = 0; k < n; k++) {
        char q[400];
        snprintf(q, sizeof(q),
                 "SELECT count(*), coalesce(sum(rowid < (SELECT first_id FROM msg_fts_shards"
                 " WHERE n = %lld) OR rowid >= coalesce((SELECT first_id FROM msg_fts_shards"
                 " WHERE n = %lld), 1 << 62)), 0) FROM msg_fts_%lld WHERE msg_fts_%lld MATCH '%s'",
                 (long long)k, (long long)k + 1, (long long)k, (long long)k, word);
        sqlite3_stmt *st;
        cr_assert_eq(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        total += sqlite3_column_int64(st, 0);
        cr_assert_eq(sqlite3_column_int64(st, 1), 0, "%s outside shard %lld's block", word,
                     (long long)k);
        cr_assert_eq(sqlite3_finalize(st), SQLITE_OK);
    }
    cr_assert_eq(sqlite3_close(db), SQLITE_OK);
    return total;
}

/* What alice's search for word finds: the number of hits; the text of the
 * first in text (when one). */
static size_t search(const char *word, char *text, size_t cap)
{
    store_req *r = op(STORE_SEARCH);
    r->in.user = E.alice;
    r->in.query = word;
    r->in.limit = 10;
    cr_assert_eq(run(r), 0);
    size_t n = r->out.n_hits;
    if (n > 0 && text != NULL)
        snprintf(text, cap, "%s", r->out.hits[0].msg.message);
    done(r);
    return n;
}

/* Found by the store's search and once in FTS5, with this text. */
static void assert_found(const char *word, const char *text)
{
    char got[128] = "";
    cr_assert_eq(search(word, got, sizeof(got)), 1, "%s not found", word);
    cr_assert_str_eq(got, text);
    cr_assert_eq(fts_count(word), 1, "%s indexed other than once", word);
}

static void assert_absent(const char *word)
{
    cr_assert_eq(search(word, NULL, 0), 0, "%s found", word);
    cr_assert_eq(fts_count(word), 0, "%s still in FTS5", word);
}

static store_req *req(enum store_op o, const char *mid, const char *text, int64_t seq)
{
    store_req *r = op(o);
    r->in.user = E.alice;
    r->in.chat_id = E.ab;
    r->in.message_id = mid;
    r->in.text = text;
    r->in.seq = seq;
    r->in.now = T0 + MINUTE;
    r->in.window_ms = WINDOW;
    return r;
}

static int count_commit(void *p)
{
    (*(int *)p)++;
    return 0;
}

/* Submits the n requests together and runs them: one batch, one commit
 * (the window since the last commit holds them). */
static void run_batch(store_req **r, int n)
{
    int commits = 0;
    sqlite3_commit_hook(store_db(E.st), count_commit, &commits);
    for (int i = 0; i < n; i++)
        cr_assert_eq(store_submit(E.st, r[i]), 0);
    uv_run(&E.loop, UV_RUN_DEFAULT);
    sqlite3_commit_hook(store_db(E.st), NULL, NULL);
    for (int i = 0; i < n; i++)
        cr_assert_eq(*(int *)r[i]->data, 1);
    cr_assert_eq(commits, 1, "%d commits: not one batch", commits);
}

/* The send of a text with "poison" fails at its index row: its savepoint
 * rolls back after the message row was written. */
#define POISON_SEND                                                                                \
    "CREATE TRIGGER poison BEFORE INSERT ON msg_fts_rows WHEN (SELECT message FROM messages"       \
    " WHERE chat_id = NEW.chat_id AND sequence = NEW.sequence) LIKE '%poison%'"                    \
    " BEGIN SELECT RAISE(ABORT, 'poison'); END"

Test(fts_batch, a_batch_indexes_only_what_stands)
{
    reopen(1000);
    int64_t s0;
    cr_assert_eq(send_msg(E.alice, E.ab, "m0", "zulu first", T0, &s0), 0);
    sql_exec(POISON_SEND);
    store_req *r[] = {
        req(STORE_MSG_SEND, "m1", "alpha gone", 0),
        req(STORE_MSG_DELETE, NULL, NULL, s0 + 1),
        req(STORE_MSG_SEND, "m2", "bravo old", 0),
        req(STORE_MSG_EDIT, NULL, "charlie new", s0 + 2),
        req(STORE_MSG_SEND, "m3", "delta kept", 0),
        req(STORE_MSG_SEND, "m4", "echo poison", 0),
        req(STORE_MSG_SEND, "m5", "foxtrot later", 0),
        req(STORE_MSG_SEND, "m6", "golf more", 0),
        req(STORE_MSG_SEND, "m7", "hotel most", 0),
    };
    int n = (int)(sizeof(r) / sizeof(r[0]));
    run_batch(r, n);
    for (int i = 0; i < n; i++)
        cr_assert_eq(r[i]->status, i == 5 ? r[i]->status : 0, "request %d: %d", i, r[i]->status);
    cr_assert_neq(r[5]->status, 0, "the poisoned send succeeded");
    cr_assert_eq(r[6]->out.msg.sequence, s0 + 4, "the failed send took no sequence");
    for (int i = 0; i < n; i++)
        done(r[i]);
    sql_exec("DROP TRIGGER poison");

    assert_absent("alpha");
    assert_absent("bravo");
    assert_absent("echo");
    assert_absent("poison");
    const char *kept[][2] = {{"zulu", "zulu first"},  {"charlie", "charlie new"},
                             {"delta", "delta kept"}, {"foxtrot", "foxtrot later"},
                             {"golf", "golf more"},   {"hotel", "hotel most"}};
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        assert_found(kept[i][0], kept[i][1]);
    /* A later batch's delete of a message indexed by a batch: out of FTS5. */
    reopen(0);
    store_req *d = req(STORE_MSG_DELETE, NULL, NULL, s0 + 3);
    cr_assert_eq(run(d), 0);
    done(d);
    assert_absent("delta");
    /* Reopened: everything still there is found, and a send still works. */
    reopen(0);
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        if (i != 2)
            assert_found(kept[i][0], kept[i][1]);
    assert_absent("delta");
    int64_t seq;
    cr_assert_eq(send_msg(E.alice, E.ab, "m8", "india after", T0 + MINUTE, &seq), 0);
    assert_found("india", "india after");
}

/* An edit fails after its index row was replaced: for the newest message
 * the new row reuses the old rowid, already in FTS5. The rollback brings
 * the old row back, and the batch must treat it as indexed: not index it
 * again, and take it out of FTS5 when a later request deletes it. */
Test(fts_batch, a_failed_edit_leaves_the_index_as_it_was)
{
    reopen(1000);
    int64_t s0;
    cr_assert_eq(send_msg(E.alice, E.ab, "m0", "kilo original", T0, &s0), 0);
    sql_exec("CREATE TRIGGER poison BEFORE INSERT ON pending WHEN NEW.message LIKE '%poison%'"
             " BEGIN SELECT RAISE(ABORT, 'poison'); END");
    store_req *r[] = {
        req(STORE_MSG_EDIT, NULL, "lima poison", s0),
        req(STORE_MSG_SEND, "m1", "mike next", 0),
    };
    run_batch(r, 2);
    cr_assert_neq(r[0]->status, 0, "the poisoned edit succeeded");
    cr_assert_eq(r[1]->status, 0);
    assert_found("kilo", "kilo original");
    assert_absent("lima");
    assert_found("mike", "mike next");

    store_req *r2[] = {
        req(STORE_MSG_EDIT, NULL, "oscar poison", s0 + 1),
        req(STORE_MSG_SEND, "m2", "november last", 0),
        req(STORE_MSG_DELETE, NULL, NULL, s0 + 1),
    };
    run_batch(r2, 3);
    cr_assert_neq(r2[0]->status, 0, "the poisoned edit succeeded");
    cr_assert_eq(r2[1]->status, 0);
    cr_assert_eq(r2[2]->status, 0);
    sql_exec("DROP TRIGGER poison");
    assert_absent("mike");
    assert_absent("oscar");
    assert_found("november", "november last");
    for (int i = 0; i < 3; i++) {
        if (i < 2)
            done(r[i]);
        done(r2[i]);
    }
    reopen(0);
    assert_found("kilo", "kilo original");
    assert_found("november", "november last");
}

/* A search in the same batch as a send finds it (store.h, contract 4): the
 * batch's pending texts reach FTS5 before the search reads; a delete after
 * the search then takes the message out of FTS5 again. */
Test(fts_batch, a_search_sees_the_sends_before_it_in_its_batch)
{
    reopen(1000);
    int64_t s0;
    cr_assert_eq(send_msg(E.alice, E.ab, "m0", "quebec first", T0, &s0), 0);
    store_req *q = op(STORE_SEARCH);
    q->in.user = E.alice;
    q->in.query = "romeo";
    q->in.limit = 10;
    store_req *r[] = {
        req(STORE_MSG_SEND, "m1", "romeo here", 0),
        q,
        req(STORE_MSG_SEND, "m2", "sierra after", 0),
        req(STORE_MSG_DELETE, NULL, NULL, s0 + 1),
    };
    run_batch(r, 4);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(r[i]->status, 0, "request %d: %d", i, r[i]->status);
    cr_assert_eq(q->out.n_hits, 1, "the search missed the send before it");
    cr_assert_str_eq(q->out.hits[0].msg.message, "romeo here");
    for (int i = 0; i < 4; i++)
        done(r[i]);
    assert_absent("romeo");
    assert_found("sierra", "sierra after");
    assert_found("quebec", "quebec first");
}
