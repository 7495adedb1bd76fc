/* sqlite_queue.c - the SQLite store's request queue, on the loop thread.
 *
 *  - store_submit() only appends the request to this loop turn's list. A
 *    uv_check_t handle (after poll) hands the turn's requests over to the
 *    writer (sqlite_writer.c) in one piece, under the mutex; a uv_idle_t
 *    keeps poll from blocking while requests submitted outside poll (a
 *    timer, a callback, before uv_run) wait for that check.
 *  - The async callback runs the finished requests' callbacks in order
 *    (completion is FIFO: sqlite_writer.c says why, and why each callback's
 *    effects are durable when it runs).
 *
 * Thread safety: this file touches the "loop" fields of sq_store, and the
 * "shared" ones with the mutex held; a request again only after taking it
 * from the finished list under the mutex.
 */
#include "../../base/log.h"
#include "sqlite_int.h"

#include <errno.h>
#include <stdlib.h>

/* ---- the loop thread ---- */

/* Moves this turn's requests to the writer. */
static void sq_handover(sq_store *s)
{
    if (s->sub_head == NULL)
        return;
    size_t n = 0, writes = 0;
    for (store_req *r = s->sub_head; r != NULL; r = r->next) {
        n++;
        writes += !sq_op_reads_only(r->op);
    }
    uv_mutex_lock(&s->mu);
    if (s->in_tail != NULL)
        s->in_tail->next = s->sub_head;
    else
        s->in_head = s->sub_head;
    s->in_tail = s->sub_tail;
    s->in_len += n;
    s->in_writes += writes;
    if (s->writer_wait == SQ_WAIT_WORK ||
        (s->writer_wait == SQ_WAIT_FULL && s->in_len >= SQ_BATCH_MAX))
        uv_cond_signal(&s->work_cond);
    uv_mutex_unlock(&s->mu);
    s->sub_head = s->sub_tail = NULL;
}

/* Takes the finished list (mu held) onto the callback list. */
static void sq_take_finished(sq_store *s)
{
    if (s->out_head == NULL)
        return;
    if (s->cb_tail != NULL)
        s->cb_tail->next = s->out_head;
    else
        s->cb_head = s->out_head;
    s->cb_tail = s->out_tail;
    s->out_head = s->out_tail = NULL;
}

/* Runs the callbacks of finished requests in order. The list lives in the
 * store, not on this stack, so a callback that closes the store still
 * completes the rest in order (from inside close). */
static void sq_complete(sq_store *s)
{
    store_req *req;
    while ((req = s->cb_head) != NULL) {
        s->cb_head = req->next;
        if (s->cb_head == NULL)
            s->cb_tail = NULL;
        req->next = NULL;
        s->inflight--;
        req->cb(req);
    }
}

static void sq_on_async(uv_async_t *h)
{
    sq_store *s = h->data;
    if (s->closed)
        return;
    uv_mutex_lock(&s->mu);
    sq_take_finished(s);
    uv_mutex_unlock(&s->mu);
    sq_complete(s);
    /* Nothing outstanding: let the loop end (a store never keeps it alive
     * by itself). Always returns; async handles need no stop. */
    if (!s->closed && s->inflight == 0)
        uv_unref((uv_handle_t *)&s->async);
}

static void sq_on_check(uv_check_t *h)
{
    sq_store *s = h->data;
    sq_handover(s);
    /* Both always return 0; submit starts them again. */
    (void)uv_check_stop(&s->check);
    (void)uv_idle_stop(&s->idle);
}

static void sq_on_idle(uv_idle_t *h)
{
    /* Nothing to do: being active makes poll return at once. */
}

static int sq_submit(store_t *base, store_req *req)
{
    sq_store *s = (sq_store *)base;
    int rc;

    if (s->closed || (unsigned)req->op >= STORE_OP_COUNT || req->cb == NULL)
        return -EINVAL;
    if (s->inflight >= s->max_inflight && !s->closing) {
        if (!s->full_logged)
            log_warn("store: sqlite: %zu requests outstanding; refusing more (busy) until the "
                     "writer catches up",
                     s->inflight);
        s->full_logged = 1;
        return DUET_EBUSY;
    }
    if (s->inflight < s->max_inflight / 2)
        s->full_logged = 0;
    /* While closing, close() itself hands requests over. */
    if (s->sub_head == NULL && !s->closing) {
        if ((rc = uv_check_start(&s->check, sq_on_check)) < 0 ||
            (rc = uv_idle_start(&s->idle, sq_on_idle)) < 0)
            return rc;
    }
    req->status = 0;
    req->next = NULL;
    if (s->sub_tail != NULL)
        s->sub_tail->next = req;
    else
        s->sub_head = req;
    s->sub_tail = req;
    /* The async handle keeps the loop alive while anything is outstanding. */
    if (s->inflight++ == 0)
        uv_ref((uv_handle_t *)&s->async);
    return 0;
}

static void sq_on_close(uv_handle_t *h)
{
    sq_store *s = h->data;
    if (--s->n_handles == 0)
        free(s);
}

/* Stops the writer once it has run everything handed over, and joins it. */
static void sq_stop_writer(sq_store *s)
{
    if (!s->thread_started)
        return;
    uv_mutex_lock(&s->mu);
    s->stop = 1;
    uv_cond_signal(&s->work_cond);
    uv_mutex_unlock(&s->mu);
    /* Fails only for a thread that is not joinable, which ours is. */
    if (uv_thread_join(&s->thread) != 0)
        log_error("store: sqlite: cannot join the writer thread");
    s->thread_started = 0;
}

/* Frees what sq_writer_start made, the connection, and s (through the
 * handles' close callbacks, or at once when there are none). */
static void sq_teardown(sq_store *s)
{
    sq_stop_writer(s);
    s->closed = 1;
    /* Before the writer's connection closes: the last connection to close
     * checkpoints the whole WAL and removes it. */
    sq_ckpt_stop(&s->ckpt, s->db);
    sq_release_db(s);
    if (s->sync_init & 4)
        uv_cond_destroy(&s->done_cond);
    if (s->sync_init & 2)
        uv_cond_destroy(&s->work_cond);
    if (s->sync_init & 1)
        uv_mutex_destroy(&s->mu);
    s->sync_init = 0;
    int n = s->n_handles;
    if (n == 0) {
        free(s);
        return;
    }
    /* Handles were initialised in this order; close those that were. */
    uv_close((uv_handle_t *)&s->async, sq_on_close);
    if (n > 1)
        uv_close((uv_handle_t *)&s->check, sq_on_close);
    if (n > 2)
        uv_close((uv_handle_t *)&s->idle, sq_on_close);
}

static void sq_close(store_t *base)
{
    sq_store *s = (sq_store *)base;
    if (s->closing)
        return;
    s->closing = 1;
    /* Complete everything, in order; callbacks may submit more, and those
     * complete too. Blocks the loop thread: only at shutdown. */
    for (;;) {
        sq_complete(s);
        sq_handover(s);
        if (s->inflight == 0)
            break;
        uv_mutex_lock(&s->mu);
        while (s->out_head == NULL)
            uv_cond_wait(&s->done_cond, &s->mu);
        sq_take_finished(s);
        uv_mutex_unlock(&s->mu);
    }
    sq_teardown(s);
}

/* Open means ready: the schema was made or migrated in store_sqlite_open. */
static void sq_ready(store_t *base, store_ready_cb cb, void *data)
{
    cb(base, data);
}

/* Nothing to wait for: close runs what is queued and completes it. */
static void sq_drain(store_t *base, store_done_cb done, void *data)
{
    done(data);
}

const struct store_backend sq_backend = {
    .name = "sqlite",
    .submit = sq_submit,
    .ready = sq_ready,
    .drain = sq_drain,
    .close = sq_close,
};

int sq_writer_start(sq_store *s, uv_loop_t *loop)
{
    int rc;
    if ((rc = uv_async_init(loop, &s->async, sq_on_async)) < 0)
        goto err;
    s->async.data = s;
    s->n_handles = 1;
    uv_unref((uv_handle_t *)&s->async); /* ref'd while requests are outstanding */
    if ((rc = uv_check_init(loop, &s->check)) < 0)
        goto err;
    s->check.data = s;
    s->n_handles = 2;
    if ((rc = uv_idle_init(loop, &s->idle)) < 0)
        goto err;
    s->idle.data = s;
    s->n_handles = 3;
    if ((rc = uv_mutex_init(&s->mu)) < 0)
        goto err;
    s->sync_init |= 1;
    if ((rc = uv_cond_init(&s->work_cond)) < 0)
        goto err;
    s->sync_init |= 2;
    if ((rc = uv_cond_init(&s->done_cond)) < 0)
        goto err;
    s->sync_init |= 4;
    /* Last: from here on the connection belongs to the writer. */
    if ((rc = uv_thread_create(&s->thread, sq_writer_main, s)) < 0)
        goto err;
    s->thread_started = 1;
    return 0;

err:
    log_error("store: sqlite: cannot start the writer thread: %s", uv_strerror(rc));
    sq_teardown(s);
    return rc;
}
