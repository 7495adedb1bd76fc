/* test_store_sqlite.h - harness of the SQLite store tests: a real database
 * file in a temp dir and a real uv loop. Each test file that includes it gets
 * its own copy (Criterion runs every test in its own process). */
#ifndef DUET_TEST_STORE_SQLITE_H
#define DUET_TEST_STORE_SQLITE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/store/sqlite/sqlite_int.h"
#include "../../src/store/store.h"

#define T0     1700000000000LL
#define MINUTE 60000LL

/* Ownership: one per test process (Criterion forks each test). */
static struct {
    char dir[64];
    char path[96];
    uv_loop_t loop;
    store_t *st;
    duet_id alice, bob, carol, ab; /* ab: the alice-bob chat, friends */
} E;

/* The store's connection, for hooks and checks on the file. */
/* 1 if sql's program opens a temporary b-tree (EXPLAIN: OpenEphemeral). */
static inline int uses_temp_btree(sqlite3 *db, const char *sql)
{
    char *q = sqlite3_mprintf("EXPLAIN %s", sql);
    cr_assert_not_null(q);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_free(q);
    int found = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        found |= strcmp((const char *)sqlite3_column_text(st, 1), "OpenEphemeral") == 0;
    sqlite3_finalize(st);
    return found;
}

/* Runs counts of every cached statement, to see which ones a batch ran. */
static inline void run_counts(sq_store *sq, int *runs)
{
    for (int i = 0; i < SQ_STMT_COUNT; i++)
        runs[i] =
            sq->stmts[i] != NULL ? sqlite3_stmt_status(sq->stmts[i], SQLITE_STMTSTATUS_RUN, 0) : 0;
}

static inline sqlite3 *store_db(store_t *st)
{
    return ((sq_store *)st)->db;
}

static inline void on_done(store_req *r)
{
    (*(int *)r->data)++;
}

static inline store_req *op(enum store_op o)
{
    store_req *r = calloc(1, sizeof(*r));
    cr_assert_not_null(r);
    store_req_init(r, o, on_done, calloc(1, sizeof(int)));
    return r;
}

static inline void done(store_req *r)
{
    store_req_reset(r);
    free(r->data);
    free(r);
}

/* Submits r and runs the loop until it is idle; the store's handles must
 * not keep the loop alive once the request completed. */
static inline int run_on(store_t *st, store_req *r)
{
    cr_assert_eq(store_submit(st, r), 0);
    cr_assert_eq(*(int *)r->data, 0, "callback ran inside submit");
    uv_run(&E.loop, UV_RUN_DEFAULT);
    cr_assert_eq(*(int *)r->data, 1);
    return r->status;
}

static inline int run(store_req *r)
{
    return run_on(E.st, r);
}

static inline duet_id mkuser(const char *name)
{
    store_req *r = op(STORE_USER_CREATE);
    r->in.username = name;
    r->in.pwhash = "$argon2id$x";
    r->in.now = T0;
    cr_assert_eq(run(r), 0);
    duet_id id = r->out.user.id;
    done(r);
    return id;
}

static inline int friend_op(enum store_op o, duet_id user, const char *name, int64_t now)
{
    store_req *r = op(o);
    r->in.user = user;
    r->in.name = name;
    r->in.now = now;
    int rc = run(r);
    done(r);
    return rc;
}

static inline int send_msg(duet_id from, duet_id chat, const char *mid, const char *text,
                           int64_t now, int64_t *seq)
{
    store_req *r = op(STORE_MSG_SEND);
    r->in.user = from;
    r->in.chat_id = chat;
    r->in.message_id = mid;
    r->in.text = text;
    r->in.now = now;
    int rc = run(r);
    if (seq != NULL)
        *seq = rc == 0 ? r->out.msg.sequence : -1;
    done(r);
    return rc;
}

/* MSG_ACK or MSG_SEEN; the request is returned for its receipt. */
static inline store_req *mark(enum store_op o, duet_id user, duet_id chat, int kind, int64_t seq,
                              int64_t now)
{
    store_req *r = op(o);
    r->in.user = user;
    r->in.chat_id = chat;
    r->in.kind = kind;
    r->in.seq = seq;
    r->in.now = now;
    return r;
}

/* after < 0: no `after` (newest page before `before`, 0 = newest). */
static inline store_req *history(duet_id user, duet_id chat, int64_t before, int64_t after,
                                 int limit)
{
    store_req *r = op(STORE_HISTORY);
    r->in.user = user;
    r->in.chat_id = chat;
    r->in.before = before;
    r->in.after = after < 0 ? 0 : after;
    r->in.has_after = after >= 0;
    r->in.limit = limit;
    cr_assert_eq(run(r), 0);
    return r;
}

static inline store_req *pending(duet_id user)
{
    store_req *r = op(STORE_PENDING_LIST);
    r->in.user = user;
    cr_assert_eq(run(r), 0);
    return r;
}

static inline store_req *chats(duet_id user)
{
    store_req *r = op(STORE_CHATS_LIST);
    r->in.user = user;
    cr_assert_eq(run(r), 0);
    return r;
}

static inline void set_receipts(duet_id user, int on)
{
    store_req *r = op(STORE_USER_UPDATE);
    r->in.user = user;
    r->in.lastseen_vis = -1;
    r->in.read_receipts = on;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.user.read_receipts, on);
    done(r);
}

/* One-row integer query on db. */
static inline int64_t sql_int_on(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
    int64_t v = sqlite3_column_int64(st, 0);
    cr_assert_eq(sqlite3_finalize(st), SQLITE_OK);
    return v;
}

/* The same on a second connection to the store's file. */
static inline int64_t sql_int(const char *sql)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(E.path, &db), SQLITE_OK);
    int64_t v = sql_int_on(db, sql);
    sqlite3_close(db);
    return v;
}

static inline store_t *open_store(void)
{
    struct store_sqlite_opts o = {.path = E.path, .sync_full = 0, .cache_kib = 8192};
    store_t *st = NULL;
    cr_assert_eq(store_sqlite_open(&E.loop, &o, &st), 0);
    return st;
}

static inline void close_store(store_t *st)
{
    store_close(st);
    uv_run(&E.loop, UV_RUN_DEFAULT);
}

static inline void setup(void)
{
    snprintf(E.dir, sizeof(E.dir), "/tmp/duet-store-XXXXXX");
    cr_assert_not_null(mkdtemp(E.dir));
    snprintf(E.path, sizeof(E.path), "%s/duet.db", E.dir);
    cr_assert_eq(uv_loop_init(&E.loop), 0);
    E.st = open_store();
    E.alice = mkuser("alice");
    E.bob = mkuser("bob");
    E.carol = mkuser("carol");
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.alice, "bob", T0), 0);
    cr_assert_eq(friend_op(STORE_FRIEND_ACCEPT, E.bob, "alice", T0 + 1), 0);
    duet_chat_id(&E.alice, &E.bob, &E.ab);
}

static inline void teardown(void)
{
    if (E.st != NULL)
        close_store(E.st);
    cr_assert_eq(uv_loop_close(&E.loop), 0, "a handle was left open");
    const char *sfx[] = {"", "-wal", "-shm", "-scrub", "-scrub.lock"};
    for (int i = 0; i < 5; i++) {
        char p[128];
        snprintf(p, sizeof(p), "%s%s", E.path, sfx[i]);
        unlink(p);
    }
    rmdir(E.dir);
}

#endif
