/* micro.c - round 7's statement-level measure (BENCHMARKS.md section 17):
 * the old and the new form of each statement the change replaced, on the
 * real schema (the migrations of src/store/sqlite/sqlite_schema.c) with the
 * process-wide SQLite settings duetd uses (no memory statistics, no bulk
 * page-cache allocation), timed per call, old and new interleaved in
 * ROUNDS rounds; prints the median ns per call of each.
 *   cc -O2 -std=c11 -D_GNU_SOURCE -I. -o /tmp/micro \
 *      bench/results/2026-12-05-round7/micro.c build/src/store/sqlite/sqlite_schema.o -lsqlite3
 *   taskset -c 0 /tmp/micro /tmp/micro.db
 * With NOTRIG=1 in the environment the pending_counts triggers are dropped
 * first: what the triggers cost a row write (option 2 of the round, not
 * done; the delete's new form then only adds a look-up).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/store/sqlite/sqlite_int.h"

#define ROUNDS 7
#define N      20000

static sqlite3 *db;

static void ok(int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static sqlite3_stmt *prep(const char *sql)
{
    sqlite3_stmt *st;
    ok(sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL), sql);
    return st;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void id_of(uint8_t *b, int i)
{
    memset(b, 0, 16);
    memcpy(b, &i, sizeof(i));
    b[15] = 0x5a;
}

/* One row in, one row out: n: per call of the delete (insert timed apart). */
static sqlite3_stmt *ins, *del_at, *keys_at, *del_key, *rc_old, *rc_new, *bl_old, *bl_new;
static uint8_t ua[16], ub[16], chat[16];

static void step_reset(sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    ok(rc, sqlite3_sql(st));
    sqlite3_reset(st);
}

static void insert_row(int64_t seq)
{
    sqlite3_bind_blob(ins, 1, ua, 16, SQLITE_STATIC);
    sqlite3_bind_blob(ins, 2, chat, 16, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 3, seq);
    step_reset(ins);
}

static void delete_old(int64_t seq)
{
    sqlite3_bind_blob(del_at, 1, ua, 16, SQLITE_STATIC);
    sqlite3_bind_blob(del_at, 2, chat, 16, SQLITE_STATIC);
    sqlite3_bind_int(del_at, 3, 4);
    sqlite3_bind_int64(del_at, 4, seq);
    step_reset(del_at);
}

/* sq_pending_delete_at's usual case: the row looked up, deleted by key. */
static void delete_new(int64_t seq)
{
    sqlite3_bind_blob(keys_at, 1, ua, 16, SQLITE_STATIC);
    sqlite3_bind_blob(keys_at, 2, chat, 16, SQLITE_STATIC);
    sqlite3_bind_int(keys_at, 3, 4);
    sqlite3_bind_int64(keys_at, 4, seq);
    if (sqlite3_step(keys_at) != SQLITE_ROW)
        exit(2);
    sqlite3_bind_blob(del_key, 1, ua, 16, SQLITE_STATIC);
    sqlite3_bind_blob(del_key, 2, chat, 16, SQLITE_STATIC);
    sqlite3_bind_int(del_key, 3, 4);
    sqlite3_bind_value(del_key, 4, sqlite3_column_value(keys_at, 0));
    sqlite3_bind_value(del_key, 5, sqlite3_column_value(keys_at, 1));
    if (sqlite3_step(keys_at) != SQLITE_DONE)
        exit(3);
    sqlite3_reset(keys_at);
    step_reset(del_key);
}

static void ask(sqlite3_stmt *st)
{
    sqlite3_bind_blob(st, 1, ua, 16, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, ub, 16, SQLITE_STATIC);
    step_reset(st);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/tmp/micro.db";
    unlink(path);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
    ok(sqlite3_open(path, &db), "open");
    ok(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF", NULL, NULL, NULL),
       "wal");
    for (size_t i = 0; i < sq_migrations_count; i++)
        ok(sqlite3_exec(db, sq_migrations[i], NULL, NULL, NULL), "migration");
    if (getenv("NOTRIG"))
        ok(sqlite3_exec(db, "DROP TRIGGER pending_counts_ins; DROP TRIGGER pending_counts_del",
                        NULL, NULL, NULL),
           "drop");
    /* 1,000 users with receipts on, chats of user 0 with the others. */
    ok(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), "begin");
    sqlite3_stmt *u = prep("INSERT INTO users (user_id, username, display_name, pwhash, created_at)"
                           " VALUES (?1, ?2, ?2, 'x', 0)");
    for (int i = 0; i < 1000; i++) {
        uint8_t b[16];
        char name[16];
        id_of(b, i);
        snprintf(name, sizeof(name), "u%d", i);
        sqlite3_bind_blob(u, 1, b, 16, SQLITE_TRANSIENT);
        sqlite3_bind_text(u, 2, name, -1, SQLITE_TRANSIENT);
        step_reset(u);
    }
    sqlite3_finalize(u);
    ok(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
    id_of(ua, 1);
    id_of(ub, 2);
    id_of(chat, 77);
    ins = prep("INSERT INTO pending (user_id, chat_id, sender, receiver, service_type, message_id,"
               " sequence) VALUES (?1, ?2, ?1, ?1, 4, 'm', ?3)");
    del_at = prep("DELETE FROM pending WHERE user_id = ?1 AND chat_id = ?2"
                  " AND service_type = ?3 AND sequence = ?4");
    keys_at = prep("SELECT message_id, sequence FROM pending WHERE user_id = ?1"
                   " AND chat_id = ?2 AND service_type = ?3 AND sequence = ?4 LIMIT 2");
    del_key = prep("DELETE FROM pending INDEXED BY sqlite_autoindex_pending_1"
                   " WHERE user_id = ?1 AND chat_id = ?2 AND service_type = ?3"
                   " AND message_id = ?4 AND sequence = ?5");
    rc_old = prep("SELECT count(*) FROM users WHERE user_id IN (?1, ?2) AND read_receipts = 1");
    rc_new = prep("SELECT (SELECT count(*) FROM users WHERE user_id = ?1 AND read_receipts = 1)"
                  " + (SELECT count(*) FROM users WHERE user_id = ?2 AND read_receipts = 1"
                  " AND ?2 <> ?1)");
    bl_old = prep("SELECT 1 FROM blocks WHERE (blocker = ?1 AND blocked = ?2)"
                  " OR (blocker = ?2 AND blocked = ?1)");
    bl_new = prep("SELECT 1 WHERE EXISTS (SELECT 1 FROM blocks WHERE blocker = ?1"
                  " AND blocked = ?2) OR EXISTS (SELECT 1 FROM blocks"
                  " WHERE blocker = ?2 AND blocked = ?1)");
    enum { INS, DEL_OLD, DEL_NEW, RC_OLD, RC_NEW, BL_OLD, BL_NEW, K };
    static const char *name[K] = {"insert one pending row (baseline, not changed)",
                                  "delete at: DELETE ... sequence = ?4 (old)",
                                  "delete at: look up + delete by key (new)",
                                  "receipts both: IN (?1, ?2) (old)",
                                  "receipts both: two lookups (new)",
                                  "blocked either: OR (old)",
                                  "blocked either: two EXISTS (new)"};
    static double ns[K][ROUNDS];
    int64_t seq = 0;
    for (int r = 0; r < ROUNDS; r++) {
        for (int v = 0; v < 2; v++) { /* old and new delete, alternating */
            uint64_t t_ins = 0, t_del = 0;
            ok(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), "begin");
            for (int i = 0; i < N; i++) {
                uint64_t t0 = now_ns();
                insert_row(++seq);
                uint64_t t1 = now_ns();
                if (v == 0)
                    delete_old(seq);
                else
                    delete_new(seq);
                t_del += now_ns() - t1;
                t_ins += t1 - t0;
            }
            ok(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
            ns[v == 0 ? DEL_OLD : DEL_NEW][r] = (double)t_del / N;
            if (v == 0)
                ns[INS][r] = (double)t_ins / N;
        }
        sqlite3_stmt *pairs[2][2] = {{rc_old, rc_new}, {bl_old, bl_new}};
        for (int k = 0; k < 2; k++)
            for (int v = 0; v < 2; v++) {
                uint64_t t0 = now_ns();
                for (int i = 0; i < N; i++)
                    ask(pairs[k][v]);
                ns[RC_OLD + 2 * k + v][r] = (double)(now_ns() - t0) / N;
            }
    }
    if (sqlite3_exec(db, "SELECT 1 FROM pending_counts WHERE n <> 0", NULL, NULL, NULL) !=
        SQLITE_OK)
        return 1;
    for (int k = 0; k < K; k++) {
        qsort(ns[k], ROUNDS, sizeof(double), cmp);
        printf("%-50s median %7.0f ns/call (min %.0f, max %.0f, %d rounds of %d)\n", name[k],
               ns[k][ROUNDS / 2], ns[k][0], ns[k][ROUNDS - 1], ROUNDS, N);
    }
    return 0;
}
