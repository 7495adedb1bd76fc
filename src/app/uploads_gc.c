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
    int single; /* uploads_forget: one id, not a sweep */
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

static void deleted_cb(store_req *r)
{
    struct up_sweep *w = r->data;
    if (r->status < 0 && r->status != DUET_ENOTFOUND && r->status != DUET_EFORBIDDEN)
        log_warn("uploads: sweep: deleting %s: %s", w->id, duet_strerror_code(r->status));
    w->i++;
    sweep_next(w);
}

static void removed_cb(int status, void *ud)
{
    struct up_sweep *w = ud;
    if (status < 0) { /* kept: the next sweep tries again */
        log_warn("uploads: sweep: removing blob %s: %s", w->id, strerror(-status));
        w->i++;
        sweep_next(w);
        return;
    }
    store_req_reset(&w->del);
    store_req_init(&w->del, STORE_UPLOAD_DELETE, deleted_cb, w);
    memset(&w->del.in.user, 0, sizeof(w->del.in.user)); /* the sweep: any owner */
    w->del.in.upload_id = w->id;
    w->del.in.now = duet_now_ms();
    if (app_store(w->u->app, &w->del) < 0) {
        w->i++;
        sweep_next(w);
    }
}

static void unlinked(uv_fs_t *req)
{
    struct up_sweep *w = req->data;
    if (req->result < 0 && req->result != UV_ENOENT)
        log_warn("uploads: sweep: unlink staged %s: %s", w->id, uv_strerror((int)req->result));
    uv_fs_req_cleanup(req);
    if (blob_remove(w->u->blob, w->id, removed_cb, w) < 0) {
        w->i++;
        sweep_next(w);
    }
}

static void sweep_next(struct up_sweep *w)
{
    struct uploads *u = w->u;
    for (;;) {
        if (w->single ? w->i > 0 : w->i >= w->sreq.out.n_uploads) {
            sweep_end(w);
            return;
        }
        if (!w->single)
            snprintf(w->id, sizeof(w->id), "%s", w->sreq.out.uploads[w->i].id);
        if (uploads_busy(u, w->id)) {
            w->i++;
            continue;
        }
        char path[1100];
        w->fs.data = w;
        if (uploads_staged_path(u, w->id, path, sizeof(path)) < 0 ||
            uv_fs_unlink(u->app->loop, &w->fs, path, unlinked) < 0) {
            w->i++;
            continue;
        }
        return;
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
    if (blob_remove(u->blob, w->id, removed_cb, w) < 0) {
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
    if (strcmp(cfg->media, "local") != 0) {
        log_error("--media %s: not built in this branch (only local)", cfg->media);
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
    if ((r = blob_local_open(app->loop, cfg->data_dir, &u->blob)) < 0) {
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
    log_info("media: local disk under %s/media (uploads staged in %s)", cfg->data_dir, u->staging);
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
