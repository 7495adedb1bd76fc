/* uploads_patch.c - tus PATCH: the body streamed to the staged file with
 * one bounded buffer, checkpoints (fsync, then the offset stored), and the
 * completion (sniff, hand over to the blob store). uploads.c has the rest
 * of tus. */
#include "uploads_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/log.h"
#include "tus.h"

static void step(struct up_patch *p);
static void finish(struct up_patch *p);

static void close_fd(struct up_patch *p)
{
    if (p->fd < 0)
        return;
    uv_fs_t req;
    (void)uv_fs_close(p->u->app->loop, &req, p->fd, NULL); /* a regular file: quick */
    uv_fs_req_cleanup(&req);
    p->fd = -1;
}

/* Answers (status 204 with the offset, or p->err's error), and frees p. */
static void answer(struct up_patch *p)
{
    struct uploads *u = p->u;
    struct api_call *call = p->call;
    close_fd(p);
    for (struct up_patch **pp = &u->patches; *pp != NULL; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    int err = p->err, overflow = p->overflow;
    uint64_t off = p->saved;
    free(p->buf);
    store_req_reset(&p->sreq);
    free(p);
    if (err == -EBADMSG || err == -EXDEV) {
        uploads_error(call, err == -EXDEV ? "type_mismatch" : "bad_request",
                      err == -EXDEV ? "the bytes are not what the upload said"
                                    : "the request body is malformed");
    } else if (err < 0) {
        up_fail(call, err == -ENOSPC ? -ENOSPC : DUET_ESTORE);
    } else if (overflow) {
        uploads_error(call, "too_large", "the body runs past Upload-Length");
    } else {
        char *h = pool_alloc(&call->pool, 128);
        if (h == NULL) {
            api_fail(call, -ENOMEM);
        } else {
            snprintf(h, 128, TUS_HDR "Upload-Offset: %llu\r\n", (unsigned long long)off);
            api_no_content(call, h);
        }
    }
    up_maybe_done(u);
}

static void fail(struct up_patch *p, int err)
{
    if (p->err == 0)
        p->err = err;
}

/* ---- completion: sniff, blob store, store ---- */

static void stored_cb(store_req *r)
{
    struct up_patch *p = r->data;
    p->writing = 0;
    if (r->status < 0)
        fail(p, r->status);
    answer(p);
}

static void put_cb(int status, void *ud)
{
    struct up_patch *p = ud;
    if (status < 0) {
        log_warn("uploads: handing %s to the blob store: %s", p->id, strerror(-status));
        p->writing = 0;
        fail(p, status == -ENOSPC ? -ENOSPC : DUET_ESTORE);
        answer(p);
        return;
    }
    store_req_reset(&p->sreq);
    store_req_init(&p->sreq, STORE_UPLOAD_UPDATE, stored_cb, p);
    p->sreq.in.user = p->call->me.id;
    p->sreq.in.upload_id = p->id;
    p->sreq.in.seq = (int64_t)p->length;
    p->sreq.in.kind = p->sniffed.kind;
    p->sreq.in.text = p->sniffed.mime;
    p->sreq.in.upload_state = UPLOAD_STORED;
    p->sreq.in.now = duet_now_ms();
    int r = app_store(p->u->app, &p->sreq);
    if (r < 0) {
        p->writing = 0;
        fail(p, r);
        answer(p);
    }
}

static void head_read(uv_fs_t *req)
{
    struct up_patch *p = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    if (n < 0) {
        log_warn("uploads: reading %s: %s", p->path, uv_strerror((int)n));
        p->writing = 0;
        fail(p, (int)n);
        answer(p);
        return;
    }
    /* A staged file shorter than the upload is not it (a crash between
     * the blob put and the store): never hand it over. */
    if ((uint64_t)n < (p->length < sizeof(p->head) ? p->length : sizeof(p->head))) {
        p->writing = 0;
        fail(p, -EIO);
        answer(p);
        return;
    }
    media_sniff(p->head, (size_t)n, &p->sniffed);
    close_fd(p);
    int r = blob_put_file(p->u->blob, p->id, p->path, p->length, p->sniffed.mime, put_cb, p);
    if (r < 0) {
        p->writing = 0;
        fail(p, r);
        answer(p);
    }
}

static void complete(struct up_patch *p)
{
    p->completing = 1;
    p->writing = 1;
    uv_buf_t b = uv_buf_init((char *)p->head, sizeof(p->head));
    p->fs.data = p;
    int r = uv_fs_read(p->u->app->loop, &p->fs, p->fd, &b, 1, 0, head_read);
    if (r < 0) {
        p->writing = 0;
        fail(p, r);
        answer(p);
    }
}

/* ---- checkpoints: fsync, then the offset ---- */

static void saved_cb(store_req *r)
{
    struct up_patch *p = r->data;
    p->writing = 0;
    if (r->status < 0) {
        fail(p, r->status);
        p->nosave = 1;
    } else {
        p->saved = (uint64_t)r->in.seq;
    }
    if (p->ended || p->err)
        finish(p);
    else
        step(p);
}

static void synced(uv_fs_t *req)
{
    struct up_patch *p = req->data;
    ssize_t rc = req->result;
    uv_fs_req_cleanup(req);
    if (rc < 0) { /* what is on disk is unknown: the stored offset stays */
        p->writing = 0;
        p->nosave = 1;
        fail(p, (int)rc);
        finish(p);
        return;
    }
    store_req_reset(&p->sreq);
    store_req_init(&p->sreq, STORE_UPLOAD_UPDATE, saved_cb, p);
    p->sreq.in.user = p->call->me.id;
    p->sreq.in.upload_id = p->id;
    p->sreq.in.seq = (int64_t)p->file_off;
    p->sreq.in.upload_state = -1;
    p->sreq.in.now = duet_now_ms();
    int r = app_store(p->u->app, &p->sreq);
    if (r < 0) {
        p->writing = 0;
        fail(p, r);
        p->nosave = 1; /* finish must not try again */
        finish(p);
    }
}

static void checkpoint(struct up_patch *p)
{
    p->writing = 1;
    p->fs.data = p;
    int r = uv_fs_fsync(p->u->app->loop, &p->fs, p->fd, synced);
    if (r < 0) {
        p->writing = 0;
        fail(p, r);
        p->nosave = 1;
        finish(p);
    }
}

/* The body is over (or failed): store what is on disk, then complete or
 * answer. */
static void finish(struct up_patch *p)
{
    if (p->fd >= 0 && p->file_off > p->saved && !p->nosave) {
        checkpoint(p);
        return;
    }
    if (p->err == 0 && !p->overflow && p->end_status == 0 && p->saved == p->length &&
        !p->completing) {
        complete(p);
        return;
    }
    if (p->err == 0 && p->end_status < 0)
        p->err = p->end_status; /* the conn is gone: nobody reads the answer */
    answer(p);
}

/* ---- the body ---- */

static void written(uv_fs_t *req)
{
    struct up_patch *p = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    p->writing = 0;
    if (n < 0) {
        fail(p, (int)n);
        p->used = 0; /* never written: not counted */
        finish(p);
        return;
    }
    p->file_off += (uint64_t)n;
    if ((size_t)n < p->used)
        memmove(p->buf, p->buf + n, p->used - (size_t)n);
    p->used -= (size_t)n;
    step(p);
}

static void write_out(struct up_patch *p)
{
    p->writing = 1;
    p->fs.data = p;
    uv_buf_t b = uv_buf_init(p->buf, (unsigned)p->used);
    int r = uv_fs_write(p->u->app->loop, &p->fs, p->fd, &b, 1, (int64_t)p->file_off, written);
    if (r < 0) {
        p->writing = 0;
        fail(p, r);
        p->used = 0;
        finish(p);
    }
}

/* Nothing in flight: write, checkpoint, take more of the body, or end. */
static void step(struct up_patch *p)
{
    if (p->err) {
        finish(p);
        return;
    }
    if (p->used > 0 && (p->win == 0 || p->ended || p->overflow)) {
        write_out(p);
        return;
    }
    /* Past Upload-Length the rest is refused unread: taking it a byte per
     * step would let a client spend the loop's time for nothing. */
    if (p->ended || p->overflow) {
        finish(p);
        return;
    }
    if (p->file_off - p->saved >= UP_CHECKPOINT) {
        checkpoint(p);
        return;
    }
    /* Allow what fits the buffer and the upload; one byte more once the
     * upload is full, so a chunked body's last chunk can end it (a byte of
     * data there is an overflow). */
    uint64_t left = p->length - p->file_off - p->used;
    size_t grant = UP_BUF - p->used;
    if (left < grant)
        grant = left > 0 ? (size_t)left : 1;
    if (grant > p->win) {
        net_body_allow(p->call->conn, grant - p->win);
        p->win = grant;
    }
}

static void on_data(void *ud, const char *data, size_t len)
{
    struct up_patch *p = ud;
    p->win -= len < p->win ? len : p->win;
    uint64_t room = p->length - p->file_off - p->used;
    size_t take = len;
    if ((uint64_t)take > room) {
        take = (size_t)room;
        p->overflow = 1;
    }
    memcpy(p->buf + p->used, data, take);
    p->used += take;
    if (p->win == 0 && !p->writing)
        step(p);
}

static void on_end(void *ud, int status)
{
    struct up_patch *p = ud;
    p->ended = 1;
    p->end_status = status;
    if (!p->writing)
        step(p);
}

/* ---- the request ---- */

static void opened(uv_fs_t *req)
{
    struct up_patch *p = req->data;
    ssize_t fd = req->result;
    uv_fs_req_cleanup(req);
    p->writing = 0;
    if (fd < 0) {
        log_warn("uploads: open %s: %s", p->path, uv_strerror((int)fd));
        fail(p, (int)fd == UV_ENOSPC ? -ENOSPC : DUET_ESTORE);
        answer(p);
        return;
    }
    p->fd = (uv_file)fd;
    p->buf = malloc(UP_BUF);
    if (p->buf == NULL) {
        fail(p, -ENOMEM);
        answer(p);
        return;
    }
    if (!net_conn_is_open(p->call->conn)) {
        /* Gone before its body was asked for: nothing was written. */
        p->ended = 1;
        p->end_status = -ECONNRESET;
        finish(p);
        return;
    }
    net_body_start(p->call->conn, on_data, on_end, p);
    step(p);
}

static void loaded(store_req *r)
{
    struct up_patch *p = r->data;
    const struct duet_upload *up = &r->out.upload;
    struct api_call *call = p->call;
    const char *code = NULL, *msg = NULL;
    p->writing = 0;
    if (r->status < 0) {
        fail(p, r->status == DUET_ENOTFOUND ? DUET_ENOTFOUND : r->status);
    } else if (up->state == UPLOAD_DELETED ||
               (up->state == UPLOAD_STAGING && up->expires_at <= duet_now_ms())) {
        fail(p, DUET_ENOTFOUND);
    } else if (up->state != UPLOAD_STAGING) {
        code = "upload_complete", msg = "the upload is complete";
    } else if ((uint64_t)r->in.seq != up->offset) {
        code = "bad_offset", msg = "Upload-Offset is not the upload's offset (ask with HEAD)";
    } else if (up->offset > up->length ||               /* never written so; not trusted either */
               (call->req->body_length != UINT64_MAX && /* the sum could wrap */
                call->req->body_length > up->length - up->offset)) {
        code = "too_large", msg = "the body runs past Upload-Length";
    }
    if (p->err == DUET_ENOTFOUND) {
        p->err = 0;
        code = "not_found", msg = "no such upload";
    }
    if (code != NULL || p->err) {
        /* Not started: answer here (the conn closes, the body unread). */
        for (struct up_patch **pp = &p->u->patches; *pp != NULL; pp = &(*pp)->next)
            if (*pp == p) {
                *pp = p->next;
                break;
            }
        int err = p->err;
        store_req_reset(&p->sreq);
        free(p);
        if (code != NULL)
            uploads_error(call, code, msg);
        else
            up_fail(call, err);
        return;
    }
    p->length = up->length;
    p->file_off = p->saved = up->offset;
    p->writing = 1;
    p->fs.data = p;
    int rc =
        uv_fs_open(call->app->loop, &p->fs, p->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600, opened);
    if (rc < 0) {
        p->writing = 0;
        fail(p, DUET_ESTORE);
        answer(p);
    }
}

void api_upload_patch(struct api_call *call)
{
    struct uploads *u = call->app->uploads;
    if (!up_tus_ok(call) || !up_arg_id(call, call->name))
        return;
    const net_request *req = call->req;
    const duet_slice *ct = net_header(req, "Content-Type");
    const duet_slice *off = net_header(req, "Upload-Offset");
    uint64_t offset;
    if (ct == NULL || ct->len != 31 ||
        strncasecmp(ct->base, "application/offset+octet-stream", 31)) {
        uploads_error(call, "unsupported_media_type",
                      "PATCH bodies are application/offset+octet-stream");
        return;
    }
    if (off == NULL || tus_parse_u64(off->base, off->len, &offset) < 0) {
        uploads_error(call, "bad_request", "Upload-Offset must be a whole number of bytes");
        return;
    }
    if (!req->body_stream) {
        uploads_error(call, "bad_request", "PATCH /api/uploads/<id> with a plain path");
        return;
    }
    if (uploads_busy(u, call->name)) {
        uploads_error(call, "upload_busy", "another PATCH of this upload is running");
        return;
    }
    struct up_patch *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        api_fail(call, -ENOMEM);
        return;
    }
    p->u = u;
    p->call = call;
    p->fd = -1;
    memcpy(p->id, call->name, 33);
    if (uploads_staged_path(u, p->id, p->path, sizeof(p->path)) < 0) {
        free(p);
        api_fail(call, -ENAMETOOLONG);
        return;
    }
    p->next = u->patches; /* busy from now on */
    u->patches = p;
    store_req_init(&p->sreq, STORE_UPLOAD_GET, loaded, p);
    p->sreq.in.user = call->me.id;
    p->sreq.in.upload_id = p->id;
    p->sreq.in.seq = (int64_t)offset;
    p->sreq.in.now = duet_now_ms();
    p->writing = 1;
    int r = app_store(call->app, &p->sreq);
    if (r < 0) {
        p->writing = 0;
        fail(p, r);
        answer(p);
    }
}
