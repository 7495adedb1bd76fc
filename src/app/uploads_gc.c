/* uploads_gc.c - the uploads' life outside requests: start and close, the
 * periodic sweep of uploads never attached (after --upload-ttl-ms, 24 h by
 * default) and of deleted messages' blobs, and removing a blob when its
 * message is deleted for everyone. */
#include "uploads_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/log.h"
#include "media_s3.h"

#define UP_SWEEP_BATCH 64

/* One sweep (or one uploads_forget): the rows to clear, one at a time.
 * Ownership: malloc'd by the sweep, freed when its last row is done; owns
 * sreq (and the rows in its pool) and del. */
struct up_sweep {
    struct uploads *u;
    store_req sreq; /* UPLOAD_EXPIRED's rows */
    store_req del;  /* UPLOAD_DELETE of the current row */
    uv_fs_t fs;
    size_t i;
    int single;      /* uploads_forget: one id, not a sweep */
    int files_first; /* the row is deleted for everyone: files, then row */
    char id[33];
};

static void sweep_next(struct up_sweep *w);

void up_maybe_done(struct uploads *u)
{
    if (u->closing && u->patches == NULL && u->sweeping == NULL && u->handles == 0 &&
        u->done != NULL) {
        void (*done)(void *) = u->done;
        u->done = NULL;
        done(u->done_ud);
    }
}

static void sweep_end(struct up_sweep *w)
{
    struct uploads *u = w->u;
    if (u->sweeping == w)
        u->sweeping = NULL;
    if (w->single)
        u->handles--;
    store_req_reset(&w->sreq);
    store_req_reset(&w->del);
    free(w);
    up_maybe_done(u);
}

/* A row marked deleted has its files removed first and goes last, so a
 * removal that fails (S3 down) or a crash in between is finished by the
 * next sweep: no file outlives its row.
 * - Never attached (staging, stored): it is marked deleted first (the store
 *   refuses that once the upload is attached, conditionally on Cassandra).
 *   A send racing the sweep then either attaches the upload (which stays
 *   whole) or finds it deleted (upload_not_found), never a message whose
 *   blob was removed under it.
 * - Deleted for everyone (or uploads_forget, or cancelled by its owner):
 *   already marked. */
static int delete_row(struct up_sweep *w);
static void next_row(struct up_sweep *w)
{
    w->i++;
    sweep_next(w);
}

static void removed_cb(int status, void *ud)
{
    struct up_sweep *w = ud;
    if (status < 0)
        log_warn("uploads: sweep: removing blob %s (kept for the next sweep): %s", w->id,
                 strerror(-status));
    if (status < 0 || delete_row(w) < 0)
        next_row(w);
}

static void unlinked(uv_fs_t *req)
{
    struct up_sweep *w = req->data;
    if (req->result < 0 && req->result != UV_ENOENT)
        log_warn("uploads: sweep: unlink staged %s: %s", w->id, uv_strerror((int)req->result));
    uv_fs_req_cleanup(req);
    if (blob_remove(w->u->blob, w->id, removed_cb, w) < 0)
        next_row(w);
}

static int remove_files(struct up_sweep *w)
{
    char path[1100];
    w->fs.data = w;
    if (uploads_staged_path(w->u, w->id, path, sizeof(path)) < 0)
        return -ENAMETOOLONG;
    return uv_fs_unlink(w->u->app->loop, &w->fs, path, unlinked);
}

static void deleted_cb(store_req *r)
{
    struct up_sweep *w = r->data;
    int gone = r->status == 0 || r->status == DUET_ENOTFOUND;
    /* EFORBIDDEN: attached meanwhile, and kept. */
    if (!gone && r->status != DUET_EFORBIDDEN)
        log_warn("uploads: sweep: deleting %s: %s", w->id, duet_strerror_code(r->status));
    if (w->files_first || !gone) {
        next_row(w);
        return;
    }
    /* Marked deleted (or gone already): the files, then the row. */
    w->files_first = 1;
    if (remove_files(w) < 0)
        next_row(w);
}

static int delete_row(struct up_sweep *w)
{
    store_req_reset(&w->del);
    store_req_init(&w->del, STORE_UPLOAD_DELETE, deleted_cb, w);
    memset(&w->del.in.user, 0, sizeof(w->del.in.user)); /* the sweep: any owner */
    w->del.in.upload_id = w->id;
    w->del.in.now = duet_now_ms();
    return app_store(w->u->app, &w->del);
}

static void sweep_next(struct up_sweep *w)
{
    struct uploads *u = w->u;
    for (;;) {
        if (w->single ? w->i > 0 : w->i >= w->sreq.out.n_uploads) {
            sweep_end(w);
            return;
        }
        if (!w->single) {
            snprintf(w->id, sizeof(w->id), "%s", w->sreq.out.uploads[w->i].id);
            w->files_first = w->sreq.out.uploads[w->i].state == UPLOAD_DELETED;
        }
        if (!uploads_busy(u, w->id) && (w->files_first ? remove_files(w) : delete_row(w)) == 0)
            return;
        w->i++;
    }
}

static void expired_cb(store_req *r)
{
    struct up_sweep *w = r->data;
    if (r->status < 0 && r->status != -ENOTSUP)
        log_warn("uploads: sweep: %s", duet_strerror_code(r->status));
    if (r->status < 0) {
        sweep_end(w);
        return;
    }
    if (w->sreq.out.n_uploads > 0)
        log_info("uploads: sweep: removing %zu expired or deleted uploads", w->sreq.out.n_uploads);
    sweep_next(w);
}

static void on_sweep(uv_timer_t *t)
{
    struct uploads *u = t->data;
    if (u->sweeping != NULL || u->closing)
        return;
    struct up_sweep *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return;
    w->u = u;
    store_req_init(&w->del, STORE_UPLOAD_DELETE, NULL, w);
    store_req_init(&w->sreq, STORE_UPLOAD_EXPIRED, expired_cb, w);
    w->sreq.in.now = duet_now_ms();
    w->sreq.in.limit = UP_SWEEP_BATCH;
    u->sweeping = w;
    if (app_store(u->app, &w->sreq) < 0)
        sweep_end(w);
}

void uploads_forget(struct app *app, const char *upload_id)
{
    struct uploads *u = app->uploads;
    if (u == NULL || upload_id == NULL || u->closing)
        return;
    struct up_sweep *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return; /* the sweep finds it (state deleted) */
    w->u = u;
    w->single = 1;
    snprintf(w->id, sizeof(w->id), "%s", upload_id);
    store_req_init(&w->sreq, STORE_UPLOAD_EXPIRED, NULL, w);
    store_req_init(&w->del, STORE_UPLOAD_DELETE, NULL, w);
    /* Not u->sweeping: a forget runs beside the sweep (a row cleared twice
     * is harmless: both steps are idempotent). */
    w->files_first = 1; /* its message is deleted for everyone */
    if (remove_files(w) < 0) {
        store_req_reset(&w->sreq);
        store_req_reset(&w->del);
        free(w);
        return;
    }
    u->handles++; /* close waits for it */
}

static void sweep_closed(uv_handle_t *h)
{
    struct uploads *u = h->data;
    u->handles--;
    up_maybe_done(u);
}

int uploads_start(struct app *app)
{
    const struct config *cfg = app->cfg;
    int s3 = strcmp(cfg->media, "s3") == 0;
    if (!s3 && strcmp(cfg->media, "local") != 0) {
        log_error("--media %s: local or s3", cfg->media);
        return -ENOTSUP;
    }
    struct uploads *u = calloc(1, sizeof(*u));
    if (u == NULL)
        return -ENOMEM;
    u->app = app;
    int r = 0;
    int n = snprintf(u->staging, sizeof(u->staging), "%s/uploads", cfg->data_dir);
    if (n < 0 || (size_t)n >= sizeof(u->staging) - 40)
        r = -ENAMETOOLONG;
    if (r == 0 && mkdir(cfg->data_dir, 0700) < 0 && errno != EEXIST)
        r = -errno;
    if (r == 0 && mkdir(u->staging, 0700) < 0 && errno != EEXIST)
        r = -errno;
    if (r < 0) {
        log_error("uploads: cannot use %s: %s", u->staging, strerror(-r));
        free(u);
        return r;
    }
    r = s3 ? media_s3_open(cfg, app->loop, &u->blob)
           : blob_local_open(app->loop, cfg->data_dir, &u->blob);
    if (r < 0) {
        free(u);
        return r;
    }
    if ((r = uv_timer_init(app->loop, &u->sweep)) < 0) {
        blob_close(u->blob, NULL, NULL);
        free(u);
        return r;
    }
    u->handles = 1;
    u->sweep.data = u;
    uint64_t every = (uint64_t)cfg->upload_sweep_ms;
    (void)uv_timer_start(&u->sweep, on_sweep, every, every);
    uv_unref((uv_handle_t *)&u->sweep);
    app->uploads = u;
    if (s3)
        log_info("media: S3 bucket %s at %s (uploads staged in %s)", cfg->s3_bucket,
                 cfg->s3_endpoint, u->staging);
    else
        log_info("media: local disk under %s/media (uploads staged in %s)", cfg->data_dir,
                 u->staging);
    return 0;
}

struct up_close {
    struct uploads *u;
    void (*done)(void *);
    void *ud;
};

static void blob_closed(void *ud)
{
    struct up_close *c = ud;
    void (*done)(void *) = c->done;
    void *dud = c->ud;
    free(c->u);
    free(c);
    done(dud);
}

/* Patches and sweeps are over and the timer closed: close the blob store. */
static void uploads_idle(void *ud)
{
    struct up_close *c = ud;
    blob_close(c->u->blob, blob_closed, c);
}

void uploads_close(struct app *app, void (*done)(void *), void *ud)
{
    struct uploads *u = app->uploads;
    struct up_close *c = u ? calloc(1, sizeof(*c)) : NULL;
    if (c == NULL) {
        done(ud); /* nothing to wait for, or no memory to wait with */
        return;
    }
    app->uploads = NULL;
    c->u = u;
    c->done = done;
    c->ud = ud;
    u->closing = 1;
    u->done = uploads_idle;
    u->done_ud = c;
    uv_close((uv_handle_t *)&u->sweep, sweep_closed);
}
