/* sqlite.c - the SQLite store: connection, schema, statement helpers, the
 * ops table. The request queue is in sqlite_queue.c, the writer thread and
 * the transactions in sqlite_writer.c.
 *
 * Several duetd processes may share the file, so no database state is cached
 * between requests: each op reads what it needs inside the transaction
 * (BEGIN IMMEDIATE takes the write lock).
 *
 * Threads: everything here runs on the writer thread once the store is open
 * (the ops and the helpers they call), or on the loop thread before the
 * writer starts and after it was joined (opening, closing). The helpers touch
 * only the store's connection and statements, and the request (its in, out
 * and pool); log_msg writes each line with one fwrite and reads only the
 * level set at start-up, so the writer may log.
 */
#include "../../base/log.h"
#include "sqlite_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SQ_SCHEMA_VERSION ((int64_t)sq_migrations_count)

static const char *const sq_core_sql[SQ_STMT_COUNT] = {
    [SQ_BEGIN] = "BEGIN IMMEDIATE", [SQ_COMMIT] = "COMMIT",     [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_SAVEPOINT] = "SAVEPOINT r", [SQ_RELEASE] = "RELEASE r", [SQ_ROLLBACK_TO] = "ROLLBACK TO r",
};

const sq_op_fn sq_ops[STORE_OP_COUNT] = {
    [STORE_USER_CREATE] = sq_user_create,
    [STORE_USER_GET_BY_NAME] = sq_user_get_by_name,
    [STORE_USER_GET] = sq_user_get,
    [STORE_USER_UPDATE] = sq_user_update,
    [STORE_USER_SET_PASSWORD] = sq_user_set_password,
    [STORE_USER_SET_LAST_SEEN] = sq_user_set_last_seen,
    [STORE_SESSION_CREATE] = sq_session_create,
    [STORE_SESSION_GET] = sq_session_get,
    [STORE_SESSION_DELETE] = sq_session_delete,
    [STORE_FRIEND_REQUEST] = sq_friend_request,
    [STORE_FRIEND_ACCEPT] = sq_friend_accept,
    [STORE_FRIEND_DECLINE] = sq_friend_decline,
    [STORE_FRIEND_CANCEL] = sq_friend_cancel,
    [STORE_FRIEND_REMOVE] = sq_friend_remove,
    [STORE_BLOCK] = sq_block,
    [STORE_UNBLOCK] = sq_unblock,
    [STORE_REQUESTS_LIST] = sq_requests_list,
    [STORE_BLOCKS_LIST] = sq_blocks_list,
    [STORE_CHATS_LIST] = sq_chats_list,
    [STORE_PRESENCE_PEERS] = sq_presence_peers,
    [STORE_CHAT_PEER] = sq_chat_peer,
    [STORE_MSG_SEND] = sq_msg_send,
    [STORE_MSG_ACK] = sq_msg_ack,
    [STORE_MSG_SEEN] = sq_msg_seen,
    [STORE_MSG_DELETE] = sq_msg_delete,
    [STORE_HISTORY] = sq_history,
    [STORE_PENDING_LIST] = sq_pending_list,
    [STORE_SEARCH] = sq_search,
    [STORE_CHAT_STATE_SET] = sq_chat_state_set,
    [STORE_PUSH_SUB_ADD] = sq_push_sub_add,
    [STORE_PUSH_SUB_LIST] = sq_push_sub_list,
    [STORE_PUSH_SUB_DELETE] = sq_push_sub_delete,
    [STORE_PUSH_SUB_LOGOUT] = sq_push_sub_logout,
    [STORE_PUSH_PREFS] = sq_push_prefs,
    [STORE_PUSH_ENQUEUE] = sq_push_enqueue,
    [STORE_PUSH_JOBS_LIST] = sq_push_jobs_list,
    [STORE_PUSH_JOB_DONE] = sq_push_job_done,
    [STORE_UPLOAD_CREATE] = sq_upload_create,
    [STORE_UPLOAD_GET] = sq_upload_get,
    [STORE_UPLOAD_UPDATE] = sq_upload_update,
    [STORE_UPLOAD_DELETE] = sq_upload_delete,
    [STORE_UPLOAD_EXPIRED] = sq_upload_expired,
    [STORE_MEDIA_GET] = sq_media_get,
    [STORE_MSG_REACT] = sq_msg_react,
    [STORE_MSG_EDIT] = sq_msg_edit,
    [STORE_MSG_HIDE] = sq_msg_hide,
};

/* ---- logging and statement helpers ---- */

void sq_log(sq_store *s, const char *what, int rc)
{
    log_error("store: sqlite: %s: %.80s: %s (%s)", s->cur != NULL ? store_op_name(s->cur->op) : "-",
              what != NULL ? what : "", sqlite3_errmsg(s->db), sqlite3_errstr(rc));
}

void sq_reset(sqlite3_stmt *st)
{
    /* reset repeats the last step's error, which the caller already saw. */
    (void)sqlite3_reset(st);
    (void)sqlite3_clear_bindings(st);
}

static int sq_vbind(sq_store *s, sqlite3_stmt *st, const char *fmt, va_list ap)
{
    int rc = SQLITE_OK;
    for (int i = 1; *fmt != '\0' && rc == SQLITE_OK; fmt++, i++) {
        const char *str;
        switch (*fmt) {
        case 'i':
            rc = sqlite3_bind_blob(st, i, va_arg(ap, const duet_id *)->b, 16, SQLITE_STATIC);
            break;
        case 'h':
            rc = sqlite3_bind_blob(st, i, va_arg(ap, const uint8_t *), 32, SQLITE_STATIC);
            break;
        case 's':
            str = va_arg(ap, const char *);
            rc = str != NULL ? sqlite3_bind_text(st, i, str, -1, SQLITE_STATIC)
                             : sqlite3_bind_null(st, i);
            break;
        case 'l':
            rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
            break;
        case 'd':
            rc = sqlite3_bind_int(st, i, va_arg(ap, int));
            break;
        default:
            rc = SQLITE_MISUSE;
        }
    }
    if (rc == SQLITE_OK)
        return 0;
    sq_log(s, sqlite3_sql(st), rc);
    sq_reset(st);
    return DUET_ESTORE;
}

sqlite3_stmt *sq_bind(sq_store *s, enum sq_stmt_id id, const char *fmt, ...)
{
    sqlite3_stmt *st = s->stmts[id];
    va_list ap;
    va_start(ap, fmt);
    int rc = sq_vbind(s, st, fmt, ap);
    va_end(ap);
    return rc < 0 ? NULL : st;
}

sqlite3_stmt *sq_bind_st(sq_store *s, sqlite3_stmt *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = sq_vbind(s, st, fmt, ap);
    va_end(ap);
    return rc < 0 ? NULL : st;
}

int sq_step(sq_store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc != SQLITE_DONE)
        sq_log(s, sqlite3_sql(st), rc);
    sq_reset(st);
    return rc == SQLITE_DONE ? 0 : DUET_ESTORE;
}

int sq_exec(sq_store *s, enum sq_stmt_id id, const char *fmt, ...)
{
    sqlite3_stmt *st = s->stmts[id];
    va_list ap;
    va_start(ap, fmt);
    int rc = sq_vbind(s, st, fmt, ap);
    va_end(ap);
    if (rc < 0)
        return rc;
    while ((rc = sq_step(s, st)) == 1) {
    }
    return rc < 0 ? rc : sqlite3_changes(s->db);
}

int sq_get_int(sq_store *s, int64_t *v, enum sq_stmt_id id, const char *fmt, ...)
{
    sqlite3_stmt *st = s->stmts[id];
    va_list ap;
    va_start(ap, fmt);
    int rc = sq_vbind(s, st, fmt, ap);
    va_end(ap);
    if (rc < 0)
        return rc;
    rc = sq_step(s, st);
    if (rc == 1) {
        *v = sqlite3_column_int64(st, 0);
        sq_reset(st);
    }
    return rc;
}

/* ---- column readers ---- */

void sq_col_id(sqlite3_stmt *st, int col, duet_id *out)
{
    const void *b = sqlite3_column_blob(st, col);
    /* Every id column holds 16 bytes; anything else reads as the zero id. */
    if (b != NULL && sqlite3_column_bytes(st, col) == 16)
        memcpy(out->b, b, 16);
    else
        memset(out->b, 0, 16);
}

int sq_col_str(pool_t *p, sqlite3_stmt *st, int col, const char **out)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    if (t == NULL && sqlite3_column_type(st, col) != SQLITE_NULL)
        return -ENOMEM;
    size_t n = t != NULL ? (size_t)sqlite3_column_bytes(st, col) : 0;
    char *r = pool_strndup(p, t != NULL ? (const char *)t : "", n);
    if (r == NULL)
        return -ENOMEM;
    *out = r;
    return 0;
}

int sq_read_user(pool_t *p, sqlite3_stmt *st, int col, struct duet_user *u)
{
    memset(u, 0, sizeof(*u));
    sq_col_id(st, col, &u->id);
    if (sq_col_str(p, st, col + 1, &u->username) < 0 ||
        sq_col_str(p, st, col + 2, &u->display_name) < 0)
        return -ENOMEM;
    u->created_at = sqlite3_column_int64(st, col + 3);
    u->last_seen = sqlite3_column_int64(st, col + 4);
    u->lastseen_vis = sqlite3_column_int(st, col + 5);
    u->read_receipts = sqlite3_column_int(st, col + 6);
    return 0;
}

int sq_read_msg(pool_t *p, sqlite3_stmt *st, int col, struct duet_msg *m)
{
    memset(m, 0, sizeof(*m));
    sq_col_id(st, col, &m->chat_id);
    sq_col_id(st, col + 1, &m->sender);
    sq_col_id(st, col + 2, &m->receiver);
    if (sq_col_str(p, st, col + 3, &m->message_id) < 0 ||
        sq_col_str(p, st, col + 4, &m->message) < 0 || sq_col_str(p, st, col + 6, &m->preview) < 0)
        return -ENOMEM;
    m->type = sqlite3_column_int(st, col + 5);
    m->sequence = sqlite3_column_int64(st, col + 7);
    m->sent_at = sqlite3_column_int64(st, col + 8);
    m->received_at = sqlite3_column_int64(st, col + 9);
    m->seen_at = sqlite3_column_int64(st, col + 10);
    m->deleted_at = sqlite3_column_int64(st, col + 11);
    if (sq_col_str(p, st, col + 12, &m->media) < 0)
        return -ENOMEM;
    return 0;
}

void sq_release_db(sq_store *s)
{
    for (int i = 0; i < SQ_STMT_COUNT; i++) {
        /* finalize repeats the last step's error; the statement is freed. */
        (void)sqlite3_finalize(s->stmts[i]);
        s->stmts[i] = NULL;
    }
    sq_shards_free(s); /* s-shard */
    sq_defer_free(s);  /* issue 18 */
    int rc = sqlite3_close(s->db);
    if (rc != SQLITE_OK)
        log_error("store: sqlite: close: %s", sqlite3_errstr(rc));
    else if (s->db != NULL)
        sq_scrub_save(&s->scrub); /* for the next start's first delete */
    s->db = NULL;
    /* After the connections: closing its descriptor drops SQLite's locks. */
    sq_scrub_close(&s->scrub);
}

/* ---- opening ---- */

static int sq_script(sq_store *s, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &err);
    if (rc == SQLITE_OK)
        return 0;
    log_error("store: sqlite: %.60s: %s", sql, err != NULL ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    return DUET_ESTORE;
}

/* Runs a one-row PRAGMA and copies its text result into buf. */
static int sq_pragma(sq_store *s, const char *sql, char *buf, size_t len)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sq_log(s, sql, rc);
        return DUET_ESTORE;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(buf, len, "%s", t != NULL ? (const char *)t : "");
    } else {
        sq_log(s, sql, rc);
    }
    (void)sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : DUET_ESTORE;
}

/* Switches a new file to WAL. That needs the file to itself, and SQLite
 * does not wait for it with the busy handler: when several instances start
 * on one new file at once, retry for up to 10 s (start-up only, before the
 * loop runs). */
static int sq_wal(sq_store *s, char *buf, size_t len)
{
    for (int attempt = 0;; attempt++) {
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(st);
            if (rc == SQLITE_ROW) {
                const unsigned char *t = sqlite3_column_text(st, 0);
                snprintf(buf, len, "%s", t != NULL ? (const char *)t : "");
            }
            (void)sqlite3_finalize(st); /* repeats step's error, seen below */
        }
        if (rc == SQLITE_ROW)
            return 0;
        int busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
        if (!busy || attempt >= 100) {
            sq_log(s, "PRAGMA journal_mode=WAL", rc);
            return DUET_ESTORE;
        }
        sqlite3_sleep(100);
    }
}

static int sq_configure(sq_store *s, const struct store_sqlite_opts *o)
{
    char buf[160];
    int rc = sqlite3_busy_timeout(s->db, 5000);
    if (rc != SQLITE_OK) {
        sq_log(s, "busy_timeout", rc);
        return DUET_ESTORE;
    }
    if ((rc = sq_wal(s, buf, sizeof(buf))) < 0)
        return rc;
    if (strcasecmp(buf, "wal") != 0) {
        log_error("store: sqlite: %s: journal_mode is %s, not wal", o->path, buf);
        return DUET_ESTORE;
    }
    /* secure_delete zeroes the bytes of erased rows, so "delete for
     * everyone" leaves no text behind in free space of the file. */
    snprintf(buf, sizeof(buf),
             "PRAGMA synchronous=%s; PRAGMA wal_autocheckpoint=10000; PRAGMA secure_delete=ON;",
             o->sync_full ? "FULL" : "NORMAL");
    if ((rc = sq_script(s, buf)) < 0)
        return rc;
    if (o->cache_kib > 0) {
        /* The negative form is in KiB rather than pages. */
        snprintf(buf, sizeof(buf), "PRAGMA cache_size=-%lld", (long long)o->cache_kib);
        if ((rc = sq_script(s, buf)) < 0)
            return rc;
    }
    return 0;
}

static int sq_migrate(sq_store *s)
{
    char buf[64];
    int rc;
    if ((rc = sq_script(s, "BEGIN IMMEDIATE")) < 0)
        return rc;
    /* Read inside the write lock: another process may be migrating too. */
    if ((rc = sq_pragma(s, "PRAGMA user_version", buf, sizeof(buf))) < 0)
        goto err;
    int64_t v = strtoll(buf, NULL, 10);
    if (v > SQ_SCHEMA_VERSION) {
        log_error("store: sqlite: schema version %lld is newer than %lld", (long long)v,
                  (long long)SQ_SCHEMA_VERSION);
        rc = DUET_ESTORE;
        goto err;
    }
    if (v == SQ_SCHEMA_VERSION)
        return sq_script(s, "COMMIT");
    for (; v < SQ_SCHEMA_VERSION; v++) {
        if ((rc = sq_script(s, sq_migrations[v])) < 0)
            goto err;
    }
    snprintf(buf, sizeof(buf), "PRAGMA user_version=%lld", (long long)v);
    if ((rc = sq_script(s, buf)) < 0)
        goto err;
    return sq_script(s, "COMMIT");

err:
    if (!sqlite3_get_autocommit(s->db))
        (void)sq_script(s, "ROLLBACK");
    return rc;
}

static int sq_prepare_all(sq_store *s)
{
    const char *const *tables[] = {sq_core_sql,   sq_users_sql, sq_friends_sql, sq_msgs_sql,
                                   sq_search_sql, sq_org_sql,   sq_push_sql,    sq_uploads_sql,
                                   sq_conv_sql,   sq_defer_sql};
    for (int i = 0; i < SQ_STMT_COUNT; i++) {
        const char *sql = NULL;
        for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]) && sql == NULL; t++)
            sql = tables[t][i];
        if (sql == NULL) {
            log_error("store: sqlite: statement %d has no SQL", i);
            return DUET_ESTORE;
        }
        int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[i], NULL);
        if (rc != SQLITE_OK) {
            sq_log(s, sql, rc);
            return DUET_ESTORE;
        }
    }
    for (int op = 0; op < STORE_OP_COUNT; op++) {
        if (sq_ops[op] == NULL) {
            log_error("store: sqlite: op %s has no handler", store_op_name(op));
            return DUET_ESTORE;
        }
    }
    return 0;
}

/* Process-wide settings, before the library initialises. Memory statistics
 * take a global mutex around every sqlite3_malloc and sqlite3_free (the
 * pthread mutex share of issue 18's profile), and duetd never reads them.
 * Once per process: sqlite3_config is not thread-safe. SQLITE_MISUSE means
 * the library was initialised already (a unit test opened a file first);
 * the defaults then stay, which is only slower. */
static void sq_global_config(void)
{
    int rc = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    /* Every page cache starts with one bulk allocation of 20 pages (88 KB),
     * and so does the temporary b-tree of each DELETE or INSERT ... SELECT
     * on pending (its triggers force one) that holds a row or two: one page
     * at a time instead. Debian's SQLite has no lookaside (OMIT_LOOKASIDE). */
    if (rc == SQLITE_OK)
        rc = sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
    /* Every request runs in its own savepoint, so SQLite copies each page a
     * request changes, as it was, into the statement journal. That journal
     * stays in memory up to this many bytes; past the default (64 KiB) it
     * moved to a temporary file until the transaction ended, and every later
     * request of the batch wrote its pages there too (two pwrite calls a
     * page: half the writer's pwrites at 3,500 msg/s, BENCHMARKS.md round
     * 5). 120 KiB holds every request and batch flush measured there; the
     * journal allocates this size in one piece, kept below glibc's mmap
     * threshold (128 KiB), and a larger change (a conversation's deletion)
     * still spills to a file instead of growing in memory. */
    if (rc == SQLITE_OK)
        rc = sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, 120 * 1024);
    if (rc != SQLITE_OK)
        log_debug("store: sqlite: global defaults stay (%s)", sqlite3_errstr(rc));
}

int store_sqlite_open(uv_loop_t *loop, const struct store_sqlite_opts *opts, store_t **out)
{
    if (loop == NULL || opts == NULL || opts->path == NULL || out == NULL)
        return -EINVAL;
    /* The connection moves to the writer thread after opening; that needs
     * SQLite built thread-safe (any mode but 0; the connection itself is
     * NOMUTEX: one thread uses it at a time). */
    if (!sqlite3_threadsafe()) {
        log_error("store: sqlite: the SQLite library was built without thread support");
        return DUET_ESTORE;
    }
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (pthread_once(&once, sq_global_config) != 0)
        return DUET_ESTORE;
    sq_store *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->base.backend = &sq_backend;
    s->scrub.db_fd = -1;

    /* Through the scrub's VFS, which notes the pages each commit writes. */
    int rc = sq_scrub_init(&s->scrub);
    if (rc < 0 || (rc = sq_scrub_load(&s->scrub, opts->path)) < 0)
        goto err;
    rc = sqlite3_open_v2(opts->path, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                         s->scrub.vfs_name);
    if (rc != SQLITE_OK) {
        log_error("store: sqlite: open %s: %s", opts->path,
                  s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        rc = DUET_ESTORE;
        goto err;
    }
    if ((rc = sqlite3_extended_result_codes(s->db, 1)) != SQLITE_OK) {
        rc = DUET_ESTORE;
        goto err;
    }
    if ((rc = sq_configure(s, opts)) < 0 || (rc = sq_migrate(s)) < 0 ||
        (rc = sq_shards_open(s, opts->fts_shard_rows)) < 0 || (rc = sq_prepare_all(s)) < 0 ||
        (rc = sq_scrub_open(&s->scrub, opts->path, s->db)) < 0)
        goto err;

    if ((rc = sq_ckpt_start(&s->ckpt, opts->path, s->db)) < 0)
        goto err;
    s->window_ns = opts->commit_window_ms > 0 ? (uint64_t)opts->commit_window_ms * 1000000 : 0;
    s->max_inflight = opts->max_inflight > 0 ? opts->max_inflight : SQ_INFLIGHT_MAX;
    /* On error it released s. */
    if ((rc = sq_writer_start(s, loop)) < 0)
        return rc;
    *out = &s->base;
    return 0;

err:
    sq_release_db(s);
    free(s);
    return rc;
}
