/* test_store_sqlite_onepass.c - issue 18 round 7: the statements left on
 * the ack, seen and typing paths that ran through a temporary b-tree
 * (EXPLAIN: OpenEphemeral) now run in one pass, and leave the same rows
 * and counts: an ack of one pending row (deleted, reaction, edited, hidden,
 * chat state) and a delete for everyone's removal of the peer's copy
 * (sq_pending_delete_at), the read-receipt check of every seen
 * (SQ_RECEIPTS_BOTH) and the block check of typing (SQ_BLOCKED_EITHER).
 * And a seen writes the chat row once for both of its positions. */
#include "test_store_sqlite.h"

TestSuite(store_sqlite_onepass, .init = setup, .fini = teardown, .timeout = 30);

/* Runs r (a batch of its own) and requires that no cached statement it ran
 * opens a temporary b-tree. */
static int run_one_pass(sqlite3 *db, store_req *r, const char *what)
{
    static int before[SQ_STMT_COUNT], after[SQ_STMT_COUNT];
    sq_store *sq = (sq_store *)E.st;
    run_counts(sq, before);
    int rc = run(r);
    run_counts(sq, after);
    for (int i = 0; i < SQ_STMT_COUNT; i++)
        if (after[i] != before[i])
            cr_assert_not(uses_temp_btree(db, sqlite3_sql(sq->stmts[i])), "%s ran %s", what,
                          sqlite3_sql(sq->stmts[i]));
    return rc;
}

/* Every user's pending_counts row is the number of their pending rows. */
static void counts_exact(void)
{
    cr_assert_eq(
        sql_int("SELECT count(*) FROM pending_counts c"
                " WHERE n <> (SELECT count(*) FROM pending p WHERE p.user_id = c.user_id)"),
        0);
    cr_assert_eq(sql_int("SELECT count(*) FROM (SELECT DISTINCT user_id FROM pending)"
                         " WHERE user_id NOT IN (SELECT user_id FROM pending_counts)"),
                 0);
}

static int64_t rows_of(int kind)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pending WHERE service_type = %d", kind);
    return sql_int(sql);
}

static store_req *conv_req(enum store_op o, duet_id user, int64_t seq, int64_t now)
{
    store_req *r = op(o);
    r->in.user = user;
    r->in.chat_id = E.ab;
    r->in.seq = seq;
    r->in.now = now;
    r->in.window_ms = 15 * MINUTE;
    return r;
}

static void ack(sqlite3 *db, duet_id user, int kind, int64_t seq, const char *what)
{
    store_req *r = mark(STORE_MSG_ACK, user, E.ab, kind, seq, T0 + 90);
    cr_assert_eq(run_one_pass(db, r, what), 0, "%s", what);
    done(r);
    counts_exact();
}

Test(store_sqlite_onepass, seen_and_single_row_acks)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(E.path, &db), SQLITE_OK);
    sq_store *sq = (sq_store *)E.st;
    for (int i = 1; i <= 3; i++) {
        char mid[16];
        snprintf(mid, sizeof(mid), "m%d", i);
        cr_assert_eq(send_msg(E.alice, E.ab, mid, mid, T0 + i, NULL), 0);
    }
    /* Delete for everyone: bob's copy at 2 goes (one row), a DELETED row
     * comes; the copy's delete no longer runs SQ_PENDING_DELETE_AT. */
    int at0 = sqlite3_stmt_status(sq->stmts[SQ_PENDING_DELETE_AT], SQLITE_STMTSTATUS_RUN, 0);
    store_req *r = conv_req(STORE_MSG_DELETE, E.alice, 2, T0 + 10);
    cr_assert_eq(run(r), 0);
    done(r);
    cr_assert_eq(sqlite3_stmt_status(sq->stmts[SQ_PENDING_DELETE_AT], SQLITE_STMTSTATUS_RUN, 0),
                 at0);
    cr_assert_eq(rows_of(PENDING_MESSAGE), 2);
    cr_assert_eq(rows_of(PENDING_DELETED), 1);
    counts_exact();
    /* A reaction (alice gets a row), a hide (bob's other devices), an
     * archive (bob's chat state row at sequence 0). */
    r = conv_req(STORE_MSG_REACT, E.bob, 1, T0 + 11);
    r->in.emoji = "👍";
    cr_assert_eq(run(r), 0);
    done(r);
    r = conv_req(STORE_MSG_HIDE, E.bob, 3, T0 + 12);
    cr_assert_eq(run(r), 0);
    done(r);
    r = conv_req(STORE_CHAT_STATE_SET, E.bob, 0, T0 + 13);
    r->in.state_set = STATE_SET_ARCHIVE;
    r->in.state.archived = 1;
    cr_assert_eq(run(r), 0);
    done(r);
    cr_assert_eq(rows_of(PENDING_REACTION), 1);
    cr_assert_eq(rows_of(PENDING_HIDDEN), 1);
    cr_assert_eq(rows_of(PENDING_CHAT_STATE), 1);
    counts_exact();

    /* Each acked: one row goes by its key; again, nothing is left to go. */
    for (int again = 0; again < 2; again++) {
        ack(db, E.bob, PENDING_DELETED, 2, "ack deleted");
        ack(db, E.alice, PENDING_REACTION, 1, "ack reaction");
        ack(db, E.bob, PENDING_HIDDEN, 3, "ack hidden");
        ack(db, E.bob, PENDING_CHAT_STATE, 0, "ack chat state");
    }
    cr_assert_eq(rows_of(PENDING_DELETED), 0);
    cr_assert_eq(rows_of(PENDING_REACTION), 0);
    cr_assert_eq(rows_of(PENDING_HIDDEN), 0);
    cr_assert_eq(rows_of(PENDING_CHAT_STATE), 0);
    cr_assert_eq(sq->defer.ranges, 0);

    /* A seen with both receipts on, and its receipt acked. */
    r = mark(STORE_MSG_SEEN, E.bob, E.ab, 0, 3, T0 + 20);
    cr_assert_eq(run_one_pass(db, r, "seen"), 0);
    cr_assert_eq(r->out.receipt.changed, 1);
    cr_assert_eq(r->out.receipt.seq, 3);
    done(r);
    cr_assert_eq(rows_of(PENDING_SEEN), 1);
    counts_exact();
    ack(db, E.alice, PENDING_SEEN, 3, "ack seen");
    cr_assert_eq(rows_of(PENDING_SEEN), 0);
    sqlite3_close(db);
}

/* Rows at one sequence differ only by message_id: none, one, or several. */
static void put_rows(sqlite3 *db, int kind, int64_t seq, int n)
{
    for (int i = 0; i < n; i++) {
        char *q = sqlite3_mprintf("INSERT INTO pending (user_id, chat_id, sender, receiver,"
                                  " service_type, message_id, sequence)"
                                  " SELECT user_a, chat_id, user_a, user_a, %d, 'x%d', %lld"
                                  " FROM chats",
                                  kind, i, (long long)seq);
        cr_assert_eq(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
        sqlite3_free(q);
    }
}

Test(store_sqlite_onepass, delete_at_by_key_or_range)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(E.path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sq_store *sq = (sq_store *)E.st;
    duet_id a = duet_id_cmp(&E.alice, &E.bob) < 0 ? E.alice : E.bob; /* user_a */
    for (int n = 0; n <= 3; n++) {
        put_rows(db, PENDING_REACTION, 5, n);
        put_rows(db, PENDING_REACTION, 6, 1); /* another sequence: stays */
        uint64_t ranges = sq->defer.ranges;
        store_req *r = mark(STORE_MSG_ACK, a, E.ab, PENDING_REACTION, 5, T0 + 30);
        cr_assert_eq(run(r), 0);
        done(r);
        /* Two or more rows take the range statement, fewer do not. */
        cr_assert_eq(sq->defer.ranges - ranges, n >= 2 ? 1u : 0u, "%d rows", n);
        cr_assert_eq(sql_int("SELECT count(*) FROM pending WHERE sequence = 5"), 0, "%d rows", n);
        cr_assert_eq(sql_int("SELECT count(*) FROM pending WHERE sequence = 6"), 1, "%d rows", n);
        counts_exact();
        cr_assert_eq(sqlite3_exec(db, "DELETE FROM pending", NULL, NULL, NULL), SQLITE_OK);
        counts_exact();
    }
    sqlite3_close(db);
}

/* The new statements answer what the old ones did, for every case, and run
 * in one pass where the old ones did not. */
static int64_t answer(sqlite3 *db, const char *sql, const duet_id *x, const duet_id *y)
{
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_bind_blob(st, 1, x->b, 16, SQLITE_STATIC), SQLITE_OK);
    cr_assert_eq(sqlite3_bind_blob(st, 2, y->b, 16, SQLITE_STATIC), SQLITE_OK);
    int rc = sqlite3_step(st);
    cr_assert(rc == SQLITE_ROW || rc == SQLITE_DONE);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1; /* -1: no row */
    cr_assert_eq(sqlite3_finalize(st), SQLITE_OK);
    return v;
}

static const char old_receipts[] = "SELECT count(*) FROM users"
                                   " WHERE user_id IN (?1, ?2) AND read_receipts = 1";
static const char old_blocked[] = "SELECT 1 FROM blocks WHERE (blocker = ?1 AND blocked = ?2)"
                                  " OR (blocker = ?2 AND blocked = ?1)";

static void same_answers(sqlite3 *db)
{
    static const duet_id nobody; /* no such user */
    const duet_id *u[] = {&E.alice, &E.bob, &E.carol, &nobody};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            cr_assert_eq(answer(db, sq_friends_sql[SQ_RECEIPTS_BOTH], u[i], u[j]),
                         answer(db, old_receipts, u[i], u[j]), "receipts %d %d", i, j);
            cr_assert_eq(answer(db, sq_friends_sql[SQ_BLOCKED_EITHER], u[i], u[j]),
                         answer(db, old_blocked, u[i], u[j]), "blocked %d %d", i, j);
        }
}

Test(store_sqlite_onepass, receipts_and_blocks_as_before)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(E.path, &db), SQLITE_OK);
    cr_assert(uses_temp_btree(db, old_receipts));
    cr_assert(uses_temp_btree(db, old_blocked));
    cr_assert_not(uses_temp_btree(db, sq_friends_sql[SQ_RECEIPTS_BOTH]));
    cr_assert_not(uses_temp_btree(db, sq_friends_sql[SQ_BLOCKED_EITHER]));
    same_answers(db);
    /* Receipts off for carol, then for bob; blocks in one direction, then
     * both. */
    const char *changes[] = {
        "UPDATE users SET read_receipts = 0 WHERE username = 'carol'",
        "UPDATE users SET read_receipts = 0 WHERE username = 'bob'",
        "INSERT INTO blocks SELECT a.user_id, b.user_id, 0 FROM users a, users b"
        " WHERE a.username = 'alice' AND b.username = 'carol'",
        "INSERT INTO blocks SELECT a.user_id, b.user_id, 0 FROM users a, users b"
        " WHERE a.username = 'bob' AND b.username = 'alice'",
        "INSERT INTO blocks SELECT a.user_id, b.user_id, 0 FROM users a, users b"
        " WHERE a.username = 'alice' AND b.username = 'bob'",
    };
    for (size_t k = 0; k < sizeof(changes) / sizeof(changes[0]); k++) {
        cr_assert_eq(sqlite3_exec(db, changes[k], NULL, NULL, NULL), SQLITE_OK, "%s",
                     sqlite3_errmsg(db));
        same_answers(db);
    }
    sqlite3_close(db);
}

/* Runs of the cached statements that UPDATE the chats row. */
static int chat_updates(void)
{
    sq_store *sq = (sq_store *)E.st;
    int n = 0;
    for (int i = 0; i < SQ_STMT_COUNT; i++)
        if (sq->stmts[i] != NULL && strncmp(sqlite3_sql(sq->stmts[i]), "UPDATE chats", 12) == 0)
            n += sqlite3_stmt_status(sq->stmts[i], SQLITE_STMTSTATUS_RUN, 0);
    return n;
}

/* bob's read position (what = "read") or reported seen position ("seen"). */
static int64_t bob_pos(const char *what)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT iif(c.user_a = u.user_id, a_%s_seq, b_%s_seq) FROM chats c, users u"
             " WHERE u.username = 'bob' AND (c.user_a = u.user_id OR c.user_b = u.user_id)",
             what, what);
    return sql_int(sql);
}

/* A seen writes the chat row once (round 7: the read and the seen
 * positions were two UPDATEs), and both positions move as before. */
Test(store_sqlite_onepass, seen_writes_the_chat_row_once)
{
    for (int i = 1; i <= 3; i++) {
        char mid[16];
        snprintf(mid, sizeof(mid), "m%d", i);
        cr_assert_eq(send_msg(E.alice, E.ab, mid, mid, T0 + i, NULL), 0);
    }
    const struct {
        int receipts;            /* bob's setting before the seen (alice's stays on) */
        const char *mid;         /* a message alice sends first, or NULL */
        int64_t seq, read, seen; /* the seen, and bob's positions after it */
        int updates;             /* UPDATEs of the chat row it runs */
    } steps[] = {
        {1, NULL, 2, 2, 2, 1}, /* both move: two UPDATEs before */
        {1, NULL, 1, 2, 2, 1}, /* behind: max() keeps both */
        {0, "m4", 4, 4, 2, 1}, /* receipts off: the read position only */
        {0, NULL, 4, 4, 2, 0}, /* nothing to move, nothing to report */
        {1, NULL, 3, 4, 3, 1}, /* on again: seen moves up to seq, read stays */
        {1, NULL, 9, 4, 4, 1}, /* clamped to the last sequence */
    };
    for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
        set_receipts(E.bob, steps[k].receipts);
        if (steps[k].mid != NULL)
            cr_assert_eq(send_msg(E.alice, E.ab, steps[k].mid, "x", T0 + 10, NULL), 0);
        int before = chat_updates();
        store_req *r = mark(STORE_MSG_SEEN, E.bob, E.ab, 0, steps[k].seq, T0 + 20 + (int64_t)k);
        cr_assert_eq(run(r), 0);
        cr_assert_eq(r->out.read_seq, steps[k].read, "step %zu", k);
        done(r);
        cr_assert_eq(chat_updates() - before, steps[k].updates, "step %zu", k);
        cr_assert_eq(bob_pos("read"), steps[k].read, "step %zu", k);
        cr_assert_eq(bob_pos("seen"), steps[k].seen, "step %zu", k);
    }
}
