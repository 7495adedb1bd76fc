/* sqlite_search.c - message search on an FTS5 index (c-org, issue 17).
 *
 * The index is contentless FTS5 tables (content=''): they keep tokens, never
 * a copy of the text, and read the text from messages. Their two columns are
 * the text (unicode61, diacritics folded) and the chat as one token (hex of
 * the chat id), so that "within my chats" is an FTS5 AND with an OR of the
 * user's chat tokens and a page of results is one walk down the rowids.
 * msg_fts_rows maps an FTS rowid to its message; rowids grow with every
 * message indexed, so rowid order is newest first across chats.
 *
 * Shards (s-shard, sqlite_shards.c): the index is msg_fts_<k>, one table per
 * block of SQ_SHARD_ROWS rowids. A search walks the shards newest first until
 * the page is full, and at most SQ_SEARCH_SHARDS of them: then next_before
 * is the first rowid of the last shard scanned, and the client continues.
 *
 * Once per batch (issue 18): a send or edit adds the msg_fts_rows row in
 * its own savepoint, and sq_search_flush feeds the batch's rows to FTS5
 * after the last request, before COMMIT. FTS5 writes its in-memory terms
 * out as a segment at every savepoint, so indexing per request made a tiny
 * segment per message for the automerge to rewrite (BENCHMARKS.md 13). A
 * row that a later request of the batch removes (delete, edit) never
 * reaches FTS5; a rolled-back request's row is gone with its savepoint.
 * A search flushes first, so that it sees the sends before it.
 *
 * Deleted text: a contentless FTS5 delete (the 'delete' command) only adds
 * a delete marker; the tokens stay in the older segments until a merge. So
 * a batch with a delete ends with 'optimize' (every segment merged into one,
 * old segment rows deleted and, with secure_delete, zeroed) of each shard a
 * delete touched, before its commit, and the writer's TRUNCATE checkpoint
 * then clears the WAL: when the delete completes, no file under the data
 * directory holds a token of the erased text. Cost: one shard's rewrite per
 * shard touched, bounded by the shard size whatever the store size
 * (BENCHMARKS.md, docs/security.md).
 */
#include "sqlite_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../base/log.h"

/* Words of a query used at most; more are ignored. */
#define SQ_QUERY_WORDS 8
/* Shards one search request scans at most (s-shard): a rare word over a
 * huge store costs several requests, each bounded. */
#define SQ_SEARCH_SHARDS 8

const char *const sq_search_sql[SQ_STMT_COUNT] = {
    [SQ_FTS_ROW_INSERT] = "INSERT INTO msg_fts_rows (chat_id, sequence) VALUES (?1, ?2)",
    [SQ_FTS_SET_ID] = "UPDATE messages SET fts_id = ?3 WHERE chat_id = ?1 AND sequence = ?2",
    [SQ_FTS_ROW_OF] = "SELECT fts_id, message FROM messages WHERE chat_id = ?1 AND sequence = ?2",
    [SQ_FTS_ROW_DELETE] = "DELETE FROM msg_fts_rows WHERE id = ?1",
};

int sq_search_index(sq_store *s, const duet_id *chat, int64_t seq, const char *text)
{
    (void)text; /* sq_search_flush reads it from messages */
    int rc = sq_exec(s, SQ_FTS_ROW_INSERT, "il", chat, seq);
    if (rc < 0)
        return rc;
    int64_t id = sqlite3_last_insert_rowid(s->db);
    if (id > s->shards.max_id)
        s->shards.max_id = id; /* an upper bound: stays if this rolls back */
    if ((rc = sq_exec(s, SQ_FTS_SET_ID, "ill", chat, seq, id)) < 0)
        return rc;
    /* FTS5 gets it at the batch's end (sq_search_flush). A new rowid is the
     * largest in use plus one, so every row from the batch's lowest new one
     * up is this batch's, even when a delete freed the top rowid. */
    if (s->fts_pending == 0 || id < s->fts_pending)
        s->fts_pending = id;
    return 0;
}

int sq_search_flush(sq_store *s)
{
    int64_t from = s->fts_pending;
    if (from == 0)
        return 0;
    /* One statement per shard: FTS5 writes its pending terms at each
     * statement's savepoint, so the whole batch becomes one segment. */
    for (size_t k = sq_shard_of(s, from); k < s->shards.n; k++) {
        int64_t lo = s->shards.v[k].first_id > from ? s->shards.v[k].first_id : from;
        int64_t hi = k + 1 < s->shards.n ? s->shards.v[k + 1].first_id : INT64_MAX;
        sqlite3_stmt *st = sq_shard_stmt(s, k, SQ_SH_FLUSH);
        int rc =
            st != NULL && sq_bind_st(s, st, "ll", lo, hi) != NULL ? sq_step(s, st) : DUET_ESTORE;
        if (rc < 0)
            return rc;
    }
    s->fts_pending = 0;
    return 0;
}

int sq_search_unindex(sq_store *s, const duet_id *chat, int64_t seq)
{
    sqlite3_stmt *st = sq_bind(s, SQ_FTS_ROW_OF, "il", chat, seq);
    if (st == NULL)
        return DUET_ESTORE;
    int rc = sq_step(s, st);
    if (rc <= 0)
        return rc; /* no such message: nothing indexed */
    int64_t id = sqlite3_column_int64(st, 0);
    if (id == 0 || (s->fts_pending != 0 && id >= s->fts_pending)) {
        /* Indexed never (empty), or not yet (this batch's, sq_search_flush):
         * no token reached FTS5, and without its row the flush skips it. */
        sq_reset(st);
        return id == 0 ? 0 : sq_exec(s, SQ_FTS_ROW_DELETE, "l", id);
    }
    const char *t = (const char *)sqlite3_column_text(st, 1);
    /* Copied: the statement is reset before the delete runs. */
    char *text = sqlite3_mprintf("%s", t ? t : "");
    sq_reset(st);
    if (text == NULL)
        return -ENOMEM;
    size_t k = sq_shard_of(s, id);
    sqlite3_stmt *del = sq_shard_stmt(s, k, SQ_SH_DELETE);
    rc = del != NULL && sq_bind_st(s, del, "lsi", id, text, chat) != NULL ? sq_step(s, del)
                                                                          : DUET_ESTORE;
    sqlite3_free(text);
    if (rc < 0 || (rc = sq_exec(s, SQ_FTS_ROW_DELETE, "l", id)) < 0)
        return rc;
    s->shards.v[k].dirty = 1;
    s->fts_optimize = 1;
    return 0;
}

int sq_search_optimize(sq_store *s)
{
    int failed = 0;
    for (size_t k = 0; k < s->shards.n; k++) {
        if (!s->shards.v[k].dirty)
            continue;
        sqlite3_stmt *st = sq_shard_stmt(s, k, SQ_SH_OPTIMIZE);
        /* A failed shard stays dirty: owed to the next batch. */
        if (st == NULL || sq_step(s, st) < 0)
            failed = 1;
        else
            s->shards.v[k].dirty = 0;
    }
    return failed ? DUET_ESTORE : 0;
}

/* Appends s to the buffer; -ENOSPC when it does not fit. */
static int sq_put(char *buf, size_t cap, size_t *n, const char *s, size_t len)
{
    if (*n + len + 1 > cap)
        return -ENOSPC;
    memcpy(buf + *n, s, len);
    *n += len;
    buf[*n] = '\0';
    return 0;
}

static int sq_word_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* FTS5's own tokenizer, as the index uses it (sqlite_shards.c), to tell
 * which query words it finds a token in. Ownership: tk->t is the caller's,
 * freed with sq_tokenizer_close. */
struct sq_tokenizer {
    fts5_tokenizer api;
    Fts5Tokenizer *t;
};

static int sq_tokenizer_open(sq_store *s, struct sq_tokenizer *tk)
{
    static const char *args[] = {"remove_diacritics", "2"};
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;
    void *ud = NULL;
    tk->t = NULL;
    int rc = sqlite3_prepare_v2(s->db, "SELECT fts5(?1)", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW || api == NULL ||
        api->xFindTokenizer(api, "unicode61", &ud, &tk->api) != SQLITE_OK ||
        tk->api.xCreate(ud, args, 2, &tk->t) != SQLITE_OK) {
        log_error("sqlite: search: no unicode61 tokenizer: %s", sqlite3_errmsg(s->db));
        tk->t = NULL;
        return DUET_ESTORE;
    }
    return 0;
}

static void sq_tokenizer_close(struct sq_tokenizer *tk)
{
    if (tk->t != NULL)
        tk->api.xDelete(tk->t);
    tk->t = NULL;
}

static int sq_token_seen(void *ctx, int flags, const char *t, int nt, int start, int end)
{
    *(int *)ctx = 1;
    return SQLITE_DONE; /* one is enough */
}

/* Whether the tokenizer finds a token in w: a word of symbols only ("—",
 * "😀", "→") has none, and as a phrase of no token it matches nothing, which
 * emptied the whole AND ("café — paris" found nothing). */
static int sq_word_indexed(struct sq_tokenizer *tk, const char *w, size_t len)
{
    int seen = 0;
    tk->api.xTokenize(tk->t, &seen, FTS5_TOKENIZE_QUERY, w, (int)len, sq_token_seen);
    return seen;
}

/* The text half of the MATCH expression: each word of q a quoted phrase (no
 * FTS5 syntax gets through: '"' is a separator), a prefix query from two
 * characters on; words ANDed; words the index has no token of are left out.
 * The words used go to used (strlen(q) + 1 bytes), one space between.
 * 0, or -EINVAL when q has no such word. */
static int sq_match_text(struct sq_tokenizer *tk, const char *q, char *buf, size_t cap, size_t *n,
                         char *used)
{
    int words = 0, rc = sq_put(buf, cap, n, "text : (", 8);
    size_t nu = 0;
    for (const char *p = q; rc == 0 && *p != '\0' && words < SQ_QUERY_WORDS;) {
        if (!sq_word_byte((unsigned char)*p)) {
            p++;
            continue;
        }
        const char *w = p;
        while (sq_word_byte((unsigned char)*p))
            p++;
        size_t len = (size_t)(p - w);
        if (!sq_word_indexed(tk, w, len))
            continue;
        if (words > 0)
            rc = sq_put(buf, cap, n, " AND ", 5);
        if (rc == 0)
            rc = sq_put(buf, cap, n, "\"", 1);
        if (rc == 0)
            rc = sq_put(buf, cap, n, w, len);
        if (rc == 0)
            rc = sq_put(buf, cap, n, len >= 2 ? "\"*" : "\"", len >= 2 ? 2 : 1);
        if (words > 0)
            used[nu++] = ' '; /* in place of the separator(s) before w */
        memcpy(used + nu, w, len);
        nu += len;
        words++;
    }
    used[nu] = '\0';
    if (rc == 0)
        rc = sq_put(buf, cap, n, ")", 1);
    return rc < 0 ? rc : words > 0 ? 0 : -EINVAL;
}

static int sq_put_chat(char *buf, size_t cap, size_t *n, const duet_id *id, int first)
{
    char hex[40];
    static const char digits[] = "0123456789ABCDEF";
    size_t k = 0;
    if (!first)
        hex[k++] = ' ', hex[k++] = 'O', hex[k++] = 'R', hex[k++] = ' ';
    hex[k++] = '"';
    for (int i = 0; i < 16; i++) {
        hex[k++] = digits[id->b[i] >> 4];
        hex[k++] = digits[id->b[i] & 15];
    }
    hex[k++] = '"';
    return sq_put(buf, cap, n, hex, k);
}

/* The whole MATCH expression, in memory from p: the words, and the chat
 * (has_chat) or every chat of the user. */
static int sq_match(sq_store *s, store_req *req, char **out)
{
    size_t cap = 64 + 8 * (STORE_QUERY_MAX + 8), n = 0, nchats = 0;
    int rc;
    sqlite3_stmt *st = NULL;
    if (!req->in.has_chat) {
        /* Each chat costs 37 bytes; count them first. */
        if ((st = sq_bind(s, SQ_CHAT_CURSORS, "i", &req->in.user)) == NULL)
            return DUET_ESTORE;
        while ((rc = sq_step(s, st)) == 1)
            nchats++;
        if (rc < 0)
            return rc;
        if (nchats == 0)
            return 1; /* no chat: no result */
    }
    cap += 40 * (nchats + 1);
    char *buf = pool_alloc(&req->pool, cap);
    if (buf == NULL)
        return -ENOMEM;
    buf[0] = '\0';
    struct sq_tokenizer tk;
    if ((rc = sq_tokenizer_open(s, &tk)) < 0)
        return rc;
    char *used = pool_alloc(&req->pool, strlen(req->in.query) + 1);
    rc = used == NULL ? -ENOMEM : sq_match_text(&tk, req->in.query, buf, cap, &n, used);
    sq_tokenizer_close(&tk);
    req->out.search_words = rc == 0 ? used : NULL;
    if (rc == -EINVAL)
        return 1; /* no word the index could hold: no result */
    if (rc < 0 || (rc = sq_put(buf, cap, &n, " AND chat : (", 13)) < 0)
        return rc;
    if (req->in.has_chat) {
        rc = sq_put_chat(buf, cap, &n, &req->in.chat_id, 1);
    } else {
        if ((st = sq_bind(s, SQ_CHAT_CURSORS, "i", &req->in.user)) == NULL)
            return DUET_ESTORE;
        size_t i = 0;
        while ((rc = sq_step(s, st)) == 1) {
            duet_id id;
            sq_col_id(st, 0, &id);
            if (i++ < nchats && (rc = sq_put_chat(buf, cap, &n, &id, i == 1)) < 0) {
                sq_reset(st);
                return rc;
            }
        }
    }
    if (rc < 0 || (rc = sq_put(buf, cap, &n, ")", 1)) < 0)
        return rc;
    *out = buf;
    return 0;
}

/* Shard k's hits below before, appended to hits[*n..limit). 1: one more
 * than the page holds exists; 0: the shard is done; or an error. */
static int sq_search_shard(sq_store *s, store_req *req, size_t k, const char *match, int64_t before,
                           struct duet_hit *hits, size_t *n, int limit)
{
    sqlite3_stmt *st = sq_shard_stmt(s, k, SQ_SH_SEARCH);
    /* One more than asked: whether a next page exists. */
    if (st == NULL ||
        sq_bind_st(s, st, "slid", match, before, &req->in.user, limit + 1 - (int)*n) == NULL)
        return DUET_ESTORE;
    int rc;
    while ((rc = sq_step(s, st)) == 1) {
        if (*n == (size_t)limit) {
            sq_reset(st);
            return 1;
        }
        struct duet_hit *h = &hits[*n];
        memset(h, 0, sizeof(*h));
        h->cursor = sqlite3_column_int64(st, 0);
        if (sq_read_msg(&req->pool, st, 1, &h->msg) < 0) {
            sq_reset(st);
            return -ENOMEM;
        }
        (*n)++;
    }
    return rc;
}

int sq_search(sq_store *s, store_req *req)
{
    int limit = req->in.limit, rc;
    if (req->in.query == NULL || strlen(req->in.query) > STORE_QUERY_MAX)
        return -EINVAL;
    if (limit < 1 || limit > STORE_SEARCH_MAX)
        limit = STORE_SEARCH_MAX;
    if (req->in.has_chat) {
        struct sq_chat c;
        if ((rc = sq_chat_load(s, &req->in.chat_id, &req->in.user, &c)) < 0)
            return rc;
    }
    char *match = NULL;
    if (s->shards.n == 0)
        return DUET_ESTORE; /* sq_shards_open() makes one */
    /* A send earlier in this batch is the store's effect before this
     * request (store.h, contract 4): its text goes to FTS5 now. A failed
     * search rolls the flush back with its savepoint (sq_run_op). */
    if ((rc = sq_search_flush(s)) < 0)
        return rc;
    if ((rc = sq_match(s, req, &match)) != 0)
        return rc > 0 ? 0 : rc;
    struct duet_hit *hits = pool_alloc(&req->pool, (size_t)limit * sizeof(*hits));
    if (hits == NULL)
        return -ENOMEM;
    int64_t before = req->in.before > 0 ? req->in.before : INT64_MAX;
    /* Newest shard first, until the page and one more hit are found, the
     * oldest shard is done, or SQ_SEARCH_SHARDS were scanned: then the
     * next page starts below the last one scanned (next_before). */
    size_t n = 0, k = sq_shard_of(s, before - 1);
    for (int scanned = 1;; scanned++, k--) {
        if ((rc = sq_search_shard(s, req, k, match, before, hits, &n, limit)) != 0)
            break; /* more, or an error */
        if (k == 0)
            break;
        if (scanned == SQ_SEARCH_SHARDS) {
            req->out.more = 1;
            req->out.next_before = s->shards.v[k].first_id;
            break;
        }
    }
    if (rc < 0)
        return rc;
    req->out.more |= rc;
    req->out.hits = hits;
    req->out.n_hits = n;
    return 0;
}
