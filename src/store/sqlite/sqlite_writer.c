/* sqlite_writer.c - the SQLite store's writer thread.
 *
 * Every request's SQL and every commit (with its fsync, and the WAL
 * checkpoints SQLite runs inside a commit) happen on one writer thread that
 * owns the connection, so the loop thread never waits for the disk. The
 * loop's side, the request queue, is sqlite_queue.c.
 *
 *  - The writer takes everything handed over as one batch, runs it in one
 *    BEGIN IMMEDIATE transaction (each request inside SAVEPOINT r ... RELEASE
 *    r: a failing request rolls back to r, so it changed nothing and its
 *    batch-mates are unharmed), commits, appends the batch to the finished
 *    list and wakes the loop with uv_async_send().
 *  - Batches are taken, run and finished in hand-over order, so completion
 *    is FIFO; a callback runs only after its batch's COMMIT returned, so its
 *    effects are durable (per PRAGMA synchronous); requests run one at a
 *    time in submission order on one connection, so each sees the effects of
 *    every earlier one. Reads (history, login, ...) take the same path: they
 *    must see the writes submitted before them, and those may still be
 *    queued or running on the writer.
 *  - Group commit: while the writer runs and commits one batch, the loop
 *    keeps accepting requests, which form the next batch, so batches grow
 *    with the load by themselves. With a window (--commit-window W ms), a
 *    batch that starts less than W after the last commit also waits until W
 *    has passed (or SQ_BATCH_MAX requests are waiting): at most one commit
 *    per W, none delayed when the store was idle.
 *  - If COMMIT fails, every request of the transaction fails with
 *    DUET_ESTORE.
 *  - Delete for everyone: after the commit of a batch in which a delete
 *    succeeded, the writer checkpoints with TRUNCATE (sq_ckpt_erase) before
 *    the delete completes, so that when the `deleted` event goes out the
 *    text is in no file. The requests before the first delete are finished
 *    first (completion stays FIFO), so a send in the same batch does not
 *    wait for the checkpoint unless it came after the delete.
 *
 * Thread safety: the writer touches only the fields marked "writer" and
 * "shared" (with the mutex) in sq_store, the connection and its statements,
 * and the requests it was handed (in, out, pool, status; next only as the
 * batch's list, which the loop does not touch until the batch is finished).
 * The ops (sqlite_users.c, sqlite_friends.c, sqlite_msgs.c) and helpers
 * (sqlite.c) use nothing else: no loop handles, no caches or metrics of the
 * app; they may log (log_msg is safe from any thread). The loop thread
 * touches the request again only after taking it from the finished list
 * under the mutex, which orders the writer's writes before its reads.
 */
#include "../../base/log.h"
#include "sqlite_int.h"

#include <errno.h>
#include <stdlib.h>

/* Requests that only read. A batch of nothing else neither waits for the
 * commit window nor starts one: it has nothing to make durable (what it
 * reads was committed before earlier callbacks ran), so a history page does
 * not wait up to a window behind the last send. Listing a writing op here
 * would only cost durability timing, never order: reads still run in the
 * one queue. STORE_SESSION_GET is left out: it may refresh a session. */
int sq_op_reads_only(enum store_op op)
{
    switch (op) {
    case STORE_USER_GET_BY_NAME:
    case STORE_USER_GET:
    case STORE_REQUESTS_LIST:
    case STORE_BLOCKS_LIST:
    case STORE_CHATS_LIST:
    case STORE_PRESENCE_PEERS:
    case STORE_CHAT_PEER:
    case STORE_HISTORY:
    case STORE_PENDING_LIST:
    case STORE_SEARCH:
    case STORE_PUSH_SUB_LIST:
    case STORE_PUSH_JOBS_LIST:
    case STORE_UPLOAD_GET:
    case STORE_UPLOAD_EXPIRED:
    case STORE_MEDIA_GET:
        return 1;
    default:
        return 0;
    }
}

/* ---- the writer thread ---- */

static int sq_ctl(sq_store *s, enum sq_stmt_id id)
{
    return sq_exec(s, id, "") < 0 ? DUET_ESTORE : 0;
}

static void sq_req_fail(store_req *req, int status)
{
    store_req_reset(req);
    req->status = status;
}

/* The open transaction is gone (COMMIT failed, or SQLite rolled it back
 * after an I/O error): every request that ran in it, up to last, fails. */
static void sq_txn_fail(sq_store *s, store_req *last)
{
    if (!sqlite3_get_autocommit(s->db) && sq_ctl(s, SQ_ROLLBACK) < 0)
        sq_log(s, "ROLLBACK", sqlite3_errcode(s->db));
    sq_shards_settle(s, 0); /* s-shard */
    s->fts_pending = 0;     /* its rows are gone with it */
    sq_defer_clear(s);      /* and its deferred acks */
    for (store_req *r = s->txn_first; r != NULL; r = r->next) {
        sq_req_fail(r, DUET_ESTORE);
        if (r == last)
            break;
    }
    s->in_txn = 0;
    s->txn_first = NULL;
}

static int sq_run_op(sq_store *s, store_req *req)
{
    /* A rollback takes this request's search rows away: the batch's lowest
     * unindexed rowid goes back with them (sqlite_search.c). */
    int64_t fts_pending = s->fts_pending;
    int rc = sq_defer_reserve(s);
    if (rc < 0)
        return rc;
    if ((rc = sq_ctl(s, SQ_SAVEPOINT)) < 0)
        goto lost;
    s->keep_writes = 0;
    rc = sq_ops[req->op](s, req);
    if (sqlite3_get_autocommit(s->db))
        goto lost;
    if (rc < 0 && !s->keep_writes) {
        if (sq_ctl(s, SQ_ROLLBACK_TO) < 0)
            goto lost;
        s->fts_pending = fts_pending;
    }
    if (sq_ctl(s, SQ_RELEASE) < 0)
        goto lost;
    /* Only a request that succeeded defers pending writes (sqlite_defer.c). */
    if (rc == 0)
        sq_defer_commit(s);
    else
        sq_defer_unstage(s);
    return rc;

lost:
    sq_defer_unstage(s);
    /* If the transaction survived, undo just this request; else (SQLite
     * rolls back on some I/O errors) every request of it fails. */
    if (!sqlite3_get_autocommit(s->db) && sq_ctl(s, SQ_ROLLBACK_TO) == 0 &&
        sq_ctl(s, SQ_RELEASE) == 0) {
        s->fts_pending = fts_pending;
        return DUET_ESTORE;
    }
    sq_txn_fail(s, req);
    return DUET_ESTORE;
}

/* Runs the deferred pending writes outside any request's savepoint; if
 * that fails, the transaction is lost for every request up to last. */
static void sq_defer_run(sq_store *s, store_req *last)
{
    if (s->in_txn && s->defer.n > 0 && sq_defer_flush(s) < 0)
        sq_txn_fail(s, last);
}

/* Runs one request; a request that needs the deferred writes done first
 * (SQ_EFLUSH) is rolled back, the slots flushed, and it runs again. */
static int sq_run_req(sq_store *s, store_req *req, store_req *prev)
{
    if (!sq_defer_passes(req->op) && prev != NULL)
        sq_defer_run(s, prev);
    int rc = 0;
    if (!s->in_txn) {
        /* The first request, or the transaction was lost mid-batch. */
        rc = sq_ctl(s, SQ_BEGIN);
        s->in_txn = rc == 0;
        if (s->in_txn)
            s->txn_first = req;
        /* s-shard: the next search shard, outside every request's
         * savepoint; a failure is logged and retried by the next batch
         * (the newest shard takes the rows meanwhile). */
        if (s->in_txn)
            (void)sq_shards_grow(s);
    }
    if (rc == 0)
        rc = sq_run_op(s, req);
    if (rc == SQ_EFLUSH) {
        if (sq_defer_flush(s) < 0) {
            sq_txn_fail(s, req);
            return DUET_ESTORE;
        }
        rc = sq_run_op(s, req);
        if (rc == SQ_EFLUSH) /* nothing is deferred any more: cannot happen */
            rc = DUET_ESTORE;
    }
    return rc;
}

/* Runs a batch (a list linked by next) in one transaction and commits it;
 * sets every request's status. Returns the first delete that succeeded (its
 * text must be erased from the files before it completes), or NULL. */
static store_req *sq_run_batch(sq_store *s, store_req *batch)
{
    store_req *last = batch, *erase = NULL, *prev = NULL;
    int writes = 0;
    for (store_req *req = batch; req != NULL; prev = req, req = req->next) {
        s->cur = req;
        int rc = sq_run_req(s, req, prev);
        if (rc < 0)
            sq_req_fail(req, rc);
        req->status = rc;
        writes |= !sq_op_reads_only(req->op);
        /* an edit overwrites text too (issue 17) */
        if (erase == NULL && rc == 0 && (req->op == STORE_MSG_DELETE || req->op == STORE_MSG_EDIT))
            erase = req;
        last = req;
    }
    s->cur = NULL;
    /* issue 18, round 4: the batch's deferred acks, once per slot. */
    sq_defer_run(s, last);
    /* issue 18: the batch's texts reach FTS5 in its transaction, one
     * segment per shard; without them the batch must not commit. */
    if (s->in_txn && sq_search_flush(s) < 0)
        sq_txn_fail(s, last);
    /* c-org: once per batch, the deletes' tokens leave the FTS segments in
     * the same transaction (sqlite_search.c); owed to the next batch if the
     * optimize fails. */
    if (s->fts_optimize && s->in_txn && sq_search_optimize(s) == 0)
        s->fts_optimize = 0;
    if (s->in_txn && sq_ctl(s, SQ_COMMIT) < 0)
        sq_txn_fail(s, last);
    sq_shards_settle(s, 1); /* s-shard: a failed commit settled 0 first */
    s->in_txn = 0;
    s->txn_first = NULL;
    /* A failed commit failed the delete too: nothing to erase. */
    if (erase != NULL && erase->status != 0)
        erase = NULL;
    if (!writes)
        return erase; /* nothing was made durable: no window starts */
    /* The window runs from the end of one commit to the start of the next:
     * measured from batch starts instead (so that a long fsync shortens the
     * wait), it gave more commits and WAL bytes per message for no gain in
     * latency (bench/notes-i6-writer.md). */
    s->last_commit_ns = uv_hrtime();
    return erase;
}

/* Checkpoints with TRUNCATE after a delete (or for one whose checkpoint
 * failed before). A failure is logged and owed to the next batch: the delete
 * itself stands, committed. */
static void sq_erase(sq_store *s)
{
    /* A statement left stepping keeps a read transaction, which would make
     * the checkpoint wait for this very connection. */
    for (int i = 0; i < SQ_STMT_COUNT; i++)
        if (s->stmts[i] != NULL)
            (void)sqlite3_reset(s->stmts[i]); /* returns the last step's error */
    s->erase_owed = sq_ckpt_erase(&s->ckpt, s->db) < 0;
    /* Every page is in duet.db now: the copies of rows SQLite moved go too
     * (sqlite_scrub.c). */
    if (!s->erase_owed && sq_scrub_run(&s->scrub, s->db) < 0)
        s->erase_owed = 1;
}

/* Appends finished requests head..tail to the out list and wakes the loop. */
static void sq_finish(sq_store *s, store_req *head, store_req *tail)
{
    uv_mutex_lock(&s->mu);
    if (s->out_tail != NULL)
        s->out_tail->next = head;
    else
        s->out_head = head;
    s->out_tail = tail;
    uv_cond_signal(&s->done_cond);
    uv_mutex_unlock(&s->mu);
    /* Always 0 on an initialised handle: the loop closes it only after
     * joining this thread. */
    (void)uv_async_send(&s->async);
}

/* Runs a batch and finishes it; with a delete, the requests before it are
 * finished before the erasing checkpoint, the rest after. */
static void sq_batch(sq_store *s, store_req *batch, store_req *tail)
{
    store_req *erase = sq_run_batch(s, batch);
    if (erase == NULL && !s->erase_owed) {
        sq_finish(s, batch, tail);
        return;
    }
    if (erase != NULL && erase != batch) {
        store_req *before = batch;
        while (before->next != erase)
            before = before->next;
        before->next = NULL;
        sq_finish(s, batch, before);
        batch = erase;
    }
    sq_erase(s);
    sq_finish(s, batch, tail);
}

/* Waits (mu held) until the window since the last commit has passed, a full
 * batch is waiting, or stop. */
static void sq_wait_window(sq_store *s)
{
    while (!s->stop && s->in_len < SQ_BATCH_MAX) {
        uint64_t now = uv_hrtime(), due = s->last_commit_ns + s->window_ns;
        if (now >= due)
            return;
        s->writer_wait = SQ_WAIT_FULL;
        /* 0 or UV_ETIMEDOUT; either way the loop condition decides. */
        (void)uv_cond_timedwait(&s->work_cond, &s->mu, due - now);
        s->writer_wait = SQ_RUNNING;
    }
}

void sq_writer_main(void *arg)
{
    sq_store *s = arg;
    uv_mutex_lock(&s->mu);
    for (;;) {
        while (s->in_head == NULL && !s->stop) {
            s->writer_wait = SQ_WAIT_WORK;
            uv_cond_wait(&s->work_cond, &s->mu);
            s->writer_wait = SQ_RUNNING;
        }
        if (s->in_head == NULL)
            break; /* stop, and nothing left */
        if (s->window_ns > 0 && s->in_writes > 0)
            sq_wait_window(s);
        store_req *batch = s->in_head, *tail = s->in_tail;
        s->in_head = s->in_tail = NULL;
        s->in_len = s->in_writes = 0;
        uv_mutex_unlock(&s->mu);

        sq_batch(s, batch, tail);
        uv_mutex_lock(&s->mu);
    }
    uv_mutex_unlock(&s->mu);
}
