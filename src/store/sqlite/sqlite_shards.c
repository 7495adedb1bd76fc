/* sqlite_shards.c - the search index in shards by age (s-shard).
 *
 * One FTS5 index over every message made "delete for everyone" cost an
 * optimize of the whole index (the erase promise, sqlite_search.c): ~2 s of
 * blocked writer on a million messages. So the index is split by FTS rowid
 * (that is, by age) into tables msg_fts_<k>, each a block of about
 * SQ_SHARD_ROWS consecutive rowids; msg_fts_shards lists them (k, first
 * rowid). A delete marks only its shard, the batch optimizes only the marked
 * shards: the cost of a delete is bounded by the shard size, whatever the
 * size of the store.
 *
 * Shards are created ahead: once a row went into the newest shard, the
 * writer creates the next one at the start of the next batch's transaction
 * (before any request's savepoint, so only a rollback of the whole
 * transaction undoes it: sq_shards_settle()), starting above every rowid in
 * use. A row whose rowid is past the newest
 * shard's block (the creation failed) goes into the newest shard, which then
 * grows beyond the block: correct, only its optimize costs more.
 *
 * A store built by the c-org migration has one msg_fts: at open it is split
 * into shards (rows copied by rowid range, then dropped; secure_delete zeroes
 * its pages), in one transaction.
 */
#include "sqlite_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../base/log.h"

/* Messages per shard: the optimize after a delete rewrites this many rows'
 * tokens (BENCHMARKS.md: about 60 ms at 32,768 on the bench machine), and a
 * search scans at most SQ_SEARCH_SHARDS shards. --fts-shard-rows sets it. */
#define SQ_SHARD_ROWS 32768

/* The table options of every shard: as c-org's msg_fts (sqlite_schema.c). */
#define SQ_SHARD_FTS                                                                               \
    "USING fts5(text, chat, content='', tokenize='unicode61 remove_diacritics 2', prefix='2 3')"

static int sq_sh_exec(sq_store *s, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &err);
    if (rc == SQLITE_OK)
        return 0;
    log_error("store: sqlite: %.80s: %s", sql, err != NULL ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    return DUET_ESTORE;
}

/* Room for one more shard in the list. */
static int sq_sh_reserve(struct sq_shards *sh)
{
    if (sh->n < sh->cap)
        return 0;
    size_t cap = sh->cap ? sh->cap * 2 : 16;
    struct sq_shard *v = realloc(sh->v, cap * sizeof(*v));
    if (v == NULL)
        return -ENOMEM;
    sh->v = v;
    sh->cap = cap;
    return 0;
}

static void sq_sh_push(struct sq_shards *sh, int64_t first_id)
{
    struct sq_shard *x = &sh->v[sh->n++];
    memset(x, 0, sizeof(*x));
    x->first_id = first_id;
}

/* Creates table msg_fts_<n> for the rowids from first_id and lists it, in
 * the open transaction; the caller pushes it once that commits. */
static int sq_sh_create(sq_store *s, size_t n, int64_t first_id)
{
    char sql[320];
    snprintf(sql, sizeof(sql),
             "CREATE VIRTUAL TABLE msg_fts_%zu " SQ_SHARD_FTS ";"
             "INSERT INTO msg_fts_shards (n, first_id) VALUES (%zu, %lld);",
             n, n, (long long)first_id);
    return sq_sh_exec(s, sql);
}

/* The first integer column of the first row of sql (0 when none). */
static int sq_sh_int(sq_store *s, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sq_log(s, sql, rc);
        return DUET_ESTORE;
    }
    *out = 0;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        sq_log(s, sql, rc);
    (void)sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : DUET_ESTORE;
}

static int sq_sh_load(sq_store *s)
{
    const char *sql = "SELECT n, first_id FROM msg_fts_shards ORDER BY n";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sq_log(s, sql, rc);
        return DUET_ESTORE;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* Tables are named by position: the list must be 0, 1, 2, ... */
        if (sqlite3_column_int64(st, 0) != (int64_t)s->shards.n) {
            log_error("store: sqlite: msg_fts_shards: shard %zu missing", s->shards.n);
            rc = SQLITE_CORRUPT;
            break;
        }
        if (sq_sh_reserve(&s->shards) < 0) {
            (void)sqlite3_finalize(st);
            return -ENOMEM;
        }
        sq_sh_push(&s->shards, sqlite3_column_int64(st, 1));
    }
    (void)sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        sq_log(s, sql, rc);
        return DUET_ESTORE;
    }
    return 0;
}

/* A c-org store: msg_fts into shards of sh->rows rowids, then dropped. In
 * the open transaction; the list is pushed as it goes (the caller empties
 * it on failure). */
static int sq_sh_split(sq_store *s)
{
    struct sq_shards *sh = &s->shards;
    int64_t first = 1;
    int rc;
    do {
        if ((rc = sq_sh_reserve(sh)) < 0 || (rc = sq_sh_create(s, sh->n, first)) < 0)
            return rc;
        char sql[400];
        snprintf(sql, sizeof(sql),
                 "INSERT INTO msg_fts_%zu (rowid, text, chat) SELECT r.id, m.message,"
                 " hex(m.chat_id) FROM msg_fts_rows r JOIN messages m ON m.chat_id ="
                 " r.chat_id AND m.sequence = r.sequence WHERE r.id >= %lld AND r.id < %lld"
                 " ORDER BY r.id",
                 sh->n, (long long)first, (long long)(first + sh->rows));
        if ((rc = sq_sh_exec(s, sql)) < 0)
            return rc;
        sq_sh_push(sh, first);
        first += sh->rows;
    } while (first <= sh->max_id);
    return sq_sh_exec(s, "DROP TABLE msg_fts");
}

int sq_shards_open(sq_store *s, int64_t rows)
{
    struct sq_shards *sh = &s->shards;
    sh->rows = rows > 0 ? rows : SQ_SHARD_ROWS;
    int64_t legacy = 0;
    int rc = sq_sh_exec(s, "BEGIN IMMEDIATE");
    if (rc < 0)
        return rc;
    if ((rc = sq_sh_load(s)) < 0 ||
        (rc = sq_sh_int(s, "SELECT coalesce(max(id), 0) FROM msg_fts_rows", &sh->max_id)) < 0 ||
        (rc = sq_sh_int(s,
                        "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
                        " AND name = 'msg_fts'",
                        &legacy)) < 0)
        goto err;
    if (legacy && sh->n > 0) {
        log_error("store: sqlite: both msg_fts and its shards exist");
        rc = DUET_ESTORE;
        goto err;
    }
    if (legacy)
        rc = sq_sh_split(s);
    else if (sh->n == 0 && (rc = sq_sh_reserve(sh)) == 0 && (rc = sq_sh_create(s, 0, 1)) == 0)
        sq_sh_push(sh, 1);
    if (rc < 0 || (rc = sq_sh_exec(s, "COMMIT")) < 0)
        goto err;
    sh->n_committed = sh->n;
    return 0;

err:
    if (!sqlite3_get_autocommit(s->db))
        (void)sq_sh_exec(s, "ROLLBACK");
    sh->n = 0;
    return rc;
}

void sq_shards_free(sq_store *s)
{
    struct sq_shards *sh = &s->shards;
    for (size_t k = 0; k < sh->n; k++)
        for (int i = 0; i < SQ_SH_COUNT; i++)
            (void)sqlite3_finalize(sh->v[k].stmts[i]);
    free(sh->v);
    memset(sh, 0, sizeof(*sh));
}

int sq_shards_grow(sq_store *s)
{
    struct sq_shards *sh = &s->shards;
    if (sh->n == 0 || sh->max_id < sh->v[sh->n - 1].first_id)
        return 0; /* the newest shard is still empty */
    int64_t first = sh->v[sh->n - 1].first_id + sh->rows;
    if (first <= sh->max_id)
        first = sh->max_id + 1; /* never below a rowid in use */
    int rc = sq_sh_reserve(sh);
    if (rc < 0)
        return rc;
    /* Its own savepoint: both statements or neither (a table left out of the
     * list would make every later creation fail). */
    if ((rc = sq_sh_exec(s, "SAVEPOINT g")) < 0)
        return rc;
    if ((rc = sq_sh_create(s, sh->n, first)) < 0) {
        (void)sq_sh_exec(s, "ROLLBACK TO g");
        (void)sq_sh_exec(s, "RELEASE g");
        return rc;
    }
    if ((rc = sq_sh_exec(s, "RELEASE g")) < 0)
        return rc;
    sq_sh_push(sh, first);
    return 0;
}

void sq_shards_settle(sq_store *s, int committed)
{
    struct sq_shards *sh = &s->shards;
    /* Shards created in a transaction that rolled back do not exist. */
    for (; !committed && sh->n > sh->n_committed; sh->n--)
        for (int i = 0; i < SQ_SH_COUNT; i++)
            (void)sqlite3_finalize(sh->v[sh->n - 1].stmts[i]);
    sh->n_committed = sh->n;
}

size_t sq_shard_of(const sq_store *s, int64_t id)
{
    const struct sq_shards *sh = &s->shards;
    /* The last shard whose first_id <= id (shard 0 for anything below). */
    size_t lo = 0, hi = sh->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (sh->v[mid].first_id <= id)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

sqlite3_stmt *sq_shard_stmt(sq_store *s, size_t k, enum sq_shard_stmt which)
{
    struct sq_shard *x = &s->shards.v[k];
    if (x->stmts[which] != NULL)
        return x->stmts[which];
    char sql[700];
    switch (which) {
    case SQ_SH_FLUSH:
        /* The batch's new rows of this shard (sq_search_flush). */
        snprintf(sql, sizeof(sql),
                 "INSERT INTO msg_fts_%zu (rowid, text, chat) SELECT r.id, m.message,"
                 " hex(m.chat_id) FROM msg_fts_rows r JOIN messages m ON m.chat_id ="
                 " r.chat_id AND m.sequence = r.sequence WHERE r.id >= ?1 AND r.id < ?2"
                 " ORDER BY r.id",
                 k);
        break;
    case SQ_SH_DELETE:
        /* The contentless delete needs the values that were indexed. */
        snprintf(sql, sizeof(sql),
                 "INSERT INTO msg_fts_%zu (msg_fts_%zu, rowid, text, chat)"
                 " VALUES ('delete', ?1, ?2, hex(?3))",
                 k, k);
        break;
    case SQ_SH_OPTIMIZE:
        snprintf(sql, sizeof(sql), "INSERT INTO msg_fts_%zu (msg_fts_%zu) VALUES ('optimize')", k,
                 k);
        break;
    default:
        /* FTS5 drives (CROSS JOIN keeps it outside), newest rowid first; a
         * message withheld from the user, or one they deleted for
         * themself (c-msg's hidden), is skipped. */
        snprintf(
            sql, sizeof(sql),
            "SELECT f.rowid, " SQ_MSG_COLS(
                "m.") ", m.withheld FROM msg_fts_%zu f"
                      " CROSS JOIN msg_fts_rows r ON r.id = f.rowid"
                      " CROSS JOIN messages m ON m.chat_id = r.chat_id AND m.sequence = r.sequence"
                      " WHERE msg_fts_%zu MATCH ?1 AND f.rowid < ?2 AND m.deleted_at = 0"
                      " AND NOT (m.withheld = 1 AND m.receiver = ?3)"
                      " AND NOT EXISTS (SELECT 1 FROM hidden h WHERE h.user_id = ?3"
                      " AND h.chat_id = m.chat_id AND h.sequence = m.sequence)"
                      " ORDER BY f.rowid DESC LIMIT ?4",
            k, k);
        break;
    }
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &x->stmts[which], NULL);
    if (rc != SQLITE_OK) {
        sq_log(s, sql, rc);
        x->stmts[which] = NULL;
        return NULL;
    }
    return x->stmts[which];
}
