/* sqlite_ckpt.c - WAL checkpoints on a helper thread with a connection of its
 * own, so that neither the loop nor the writer thread waits for them.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL
 * over the limit: it copies up to the whole WAL (here up to 10,000 pages,
 * 40 MB) into the database file and fsyncs it, and every request queued
 * behind that commit waits. Instead, a WAL hook on the writer's connection
 * (which replaces the automatic checkpoint) wakes this thread once the WAL
 * holds SQ_CKPT_PAGES pages, and it runs a PASSIVE checkpoint: it copies
 * what no reader still needs without taking the write lock, so the writer
 * keeps committing meanwhile. Once a checkpoint has copied everything, the
 * writer's next transaction starts the WAL over from its beginning.
 *
 * Delete for everyone (sq_ckpt_erase): the WAL frames of earlier commits
 * still hold the text a delete erased, until the WAL is overwritten, which
 * may take any time. So after the commit of a batch with a delete, the
 * writer checkpoints with TRUNCATE on its own connection: the database gets
 * the pages as they are now (secure_delete zeroed the old text there) and
 * the WAL is cut to zero bytes. It first waits for a PASSIVE checkpoint of
 * the helper to end and keeps the helper from starting one meanwhile: two
 * checkpoints at once answer BUSY at once, without the busy handler.
 *
 * Thread safety: the hook runs on the writer thread and touches only the
 * sq_ckpt fields under its mutex; the helper thread uses only its own
 * connection and those fields. The loop thread starts and joins it.
 */
#include "../../base/log.h"
#include "sqlite_int.h"

#include <errno.h>

/* The WAL size (pages) that starts a checkpoint: SQLite's wal_autocheckpoint
 * as duetd set it before (10,000 pages, 40 MB at 4 KiB pages). */
#define SQ_CKPT_PAGES 10000
/* TRUNCATE checkpoints tried, 10 ms apart, while another process holds the
 * checkpoint lock. */
#define SQ_ERASE_TRIES 100

/* Runs on the writer thread after each commit. */
static int sq_ckpt_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct sq_ckpt *c = arg;
    if (pages < SQ_CKPT_PAGES)
        return SQLITE_OK;
    uv_mutex_lock(&c->mu);
    if (!c->want) {
        c->want = 1;
        uv_cond_broadcast(&c->cond);
    }
    uv_mutex_unlock(&c->mu);
    return SQLITE_OK;
}

static void sq_ckpt_main(void *arg)
{
    struct sq_ckpt *c = arg;
    uv_mutex_lock(&c->mu);
    for (;;) {
        while ((!c->want || c->held) && !c->stop)
            uv_cond_wait(&c->cond, &c->mu);
        if (c->stop)
            break;
        c->want = 0;
        c->running = 1;
        uv_mutex_unlock(&c->mu);

        int log_pages = 0, done_pages = 0;
        uint64_t t0 = uv_hrtime();
        int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_pages,
                                           &done_pages);
        uint64_t ns = uv_hrtime() - t0;
        /* BUSY: another process is checkpointing; the next commit asks again. */
        if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
            log_warn("store: sqlite: checkpoint: %s", sqlite3_errmsg(c->db));
        log_debug("store: sqlite: checkpoint: %d of %d pages in %.1f ms", done_pages, log_pages,
                  (double)ns / 1e6);

        uv_mutex_lock(&c->mu);
        c->running = 0;
        uv_cond_broadcast(&c->cond); /* a writer may wait in sq_ckpt_erase */
        c->runs++;
        c->total_ns += ns;
        if (ns > c->max_ns)
            c->max_ns = ns;
    }
    uv_mutex_unlock(&c->mu);
}

/* Tries a TRUNCATE checkpoint a few times: BUSY here means another process
 * checkpoints or reads (the busy handler already waited for readers). */
static int sq_ckpt_truncate(sqlite3 *db)
{
    int rc = SQLITE_OK;
    for (int attempt = 0; attempt < SQ_ERASE_TRIES; attempt++) {
        rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            break;
        sqlite3_sleep(10);
    }
    return rc;
}

int sq_ckpt_erase(struct sq_ckpt *c, sqlite3 *writer)
{
    if (c->started) {
        uv_mutex_lock(&c->mu);
        c->held = 1;
        while (c->running)
            uv_cond_wait(&c->cond, &c->mu);
        uv_mutex_unlock(&c->mu);
    }
    uint64_t t0 = uv_hrtime();
    int rc = sq_ckpt_truncate(writer);
    uint64_t ns = uv_hrtime() - t0;
    if (rc != SQLITE_OK)
        log_warn("store: sqlite: erasing checkpoint: %s", sqlite3_errmsg(writer));
    if (c->started) {
        uv_mutex_lock(&c->mu);
        c->held = 0;
        c->erases++;
        c->erase_ns += ns;
        if (ns > c->erase_max_ns)
            c->erase_max_ns = ns;
        uv_cond_broadcast(&c->cond);
        uv_mutex_unlock(&c->mu);
    }
    return rc == SQLITE_OK ? 0 : DUET_ESTORE;
}

int sq_ckpt_start(struct sq_ckpt *c, const char *path, sqlite3 *writer)
{
    int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        log_error("store: sqlite: checkpoint connection: %s",
                  c->db != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        rc = DUET_ESTORE;
        goto err;
    }
    /* A connection learns that the file is in WAL mode by reading it; until
     * then a checkpoint does nothing (and reports -1 pages). */
    char *msg = NULL;
    rc = sqlite3_exec(c->db, "PRAGMA schema_version", NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        log_error("store: sqlite: checkpoint connection: %s",
                  msg != NULL ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        rc = DUET_ESTORE;
        goto err;
    }
    if ((rc = uv_mutex_init(&c->mu)) < 0)
        goto err;
    if ((rc = uv_cond_init(&c->cond)) < 0)
        goto err_mu;
    if ((rc = uv_thread_create(&c->thread, sq_ckpt_main, c)) < 0)
        goto err_cond;
    /* Replaces SQLite's automatic checkpoint on the writer's connection. */
    (void)sqlite3_wal_hook(writer, sq_ckpt_hook, c);
    c->started = 1;
    return 0;

err_cond:
    uv_cond_destroy(&c->cond);
err_mu:
    uv_mutex_destroy(&c->mu);
err:
    /* close repeats an open error already logged; NULL is harmless. */
    (void)sqlite3_close(c->db);
    c->db = NULL;
    return rc;
}

void sq_ckpt_stop(struct sq_ckpt *c, sqlite3 *writer)
{
    if (!c->started)
        return;
    if (writer != NULL)
        (void)sqlite3_wal_hook(writer, NULL, NULL);
    uv_mutex_lock(&c->mu);
    c->stop = 1;
    uv_cond_broadcast(&c->cond);
    uv_mutex_unlock(&c->mu);
    if (uv_thread_join(&c->thread) != 0)
        log_error("store: sqlite: cannot join the checkpoint thread");
    log_info(
        "store: sqlite: %llu checkpoints on the helper thread, %.1f ms in all, longest %.1f ms",
        (unsigned long long)c->runs, (double)c->total_ns / 1e6, (double)c->max_ns / 1e6);
    if (c->erases > 0)
        log_info("store: sqlite: %llu erasing checkpoints after deletes, %.1f ms in all, longest "
                 "%.1f ms",
                 (unsigned long long)c->erases, (double)c->erase_ns / 1e6,
                 (double)c->erase_max_ns / 1e6);
    uv_cond_destroy(&c->cond);
    uv_mutex_destroy(&c->mu);
    int rc = sqlite3_close(c->db);
    if (rc != SQLITE_OK)
        log_error("store: sqlite: close the checkpoint connection: %s", sqlite3_errstr(rc));
    c->db = NULL;
    c->started = 0;
}
