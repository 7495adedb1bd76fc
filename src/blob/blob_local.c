/* blob_local.c - the blob store on local disk: <data>/media/ab/<key>.
 *
 * Puts and removes run on libuv's thread pool (fsync and rename wait for
 * the disk); serving opens the file on the pool too and hands the open fd
 * to net_respond_file, which reads it in chunks there. A put is
 * fsync(file), rename into place, fsync(directory): after a crash a blob
 * is either whole under media/ or absent, never partial (the staged file
 * stays under uploads/, and the upload's stored offset says how much of it
 * counts).
 */
#include "blob.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/log.h"

#define BL_PATH_MAX 4096

/* Ownership: blob_local_open's caller until blob_close; frees itself once
 * closed and every job finished. */
struct bl_store {
    blob_store base; /* first: a blob_store * is a bl_store * */
    uv_loop_t *loop;
    char root[BL_PATH_MAX]; /* <data>/media */
    int inflight;           /* jobs and opens not yet called back */
    int closing;
    uv_timer_t done_timer; /* calls the close's done outside blob_close */
    blob_done_cb done;
    void *done_ud;
};

enum bl_kind { BL_PUT, BL_REMOVE };

/* One put or remove on the thread pool. Ownership: malloc'd by the call,
 * freed after its callback. */
struct bl_job {
    uv_work_t work;
    struct bl_store *s;
    enum bl_kind kind;
    char src[BL_PATH_MAX];
    char dst[BL_PATH_MAX];
    char dir[BL_PATH_MAX];
    int status;
    blob_cb cb;
    void *ud;
};

int blob_key_ok(const char *key)
{
    if (key == NULL || strlen(key) != BLOB_KEY_LEN)
        return 0;
    for (size_t i = 0; i < BLOB_KEY_LEN; i++)
        if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f')))
            return 0;
    return 1;
}

int blob_key_path(const char *root, const char *key, char *out, size_t size)
{
    if (!blob_key_ok(key))
        return -EINVAL;
    int n = snprintf(out, size, "%s/%.2s/%s", root, key, key);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int fsync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return r;
}

/* Thread pool: nothing here touches the loop or the store's state. */
static void bl_work(uv_work_t *w)
{
    struct bl_job *j = w->data;
    if (j->kind == BL_PUT) {
        int r = fsync_path(j->src, O_RDONLY);
        if (r == 0 && mkdir(j->dir, 0700) < 0 && errno != EEXIST)
            r = -errno;
        if (r == 0 && rename(j->src, j->dst) < 0)
            r = -errno;
        if (r == 0)
            r = fsync_path(j->dir, O_RDONLY | O_DIRECTORY);
        j->status = r;
        return;
    }
    int r = unlink(j->dst) < 0 && errno != ENOENT ? -errno : 0;
    if (r == 0)
        (void)fsync_path(j->dir, O_RDONLY | O_DIRECTORY); /* a missing folder is fine */
    j->status = r;
}

static void bl_maybe_done(struct bl_store *s);

static void bl_after(uv_work_t *w, int status)
{
    struct bl_job *j = w->data;
    struct bl_store *s = j->s;
    j->cb(status < 0 ? status : j->status, j->ud);
    free(j);
    s->inflight--;
    bl_maybe_done(s);
}

static int bl_submit(struct bl_store *s, enum bl_kind kind, const char *key, const char *src,
                     blob_cb cb, void *ud)
{
    if (s->closing)
        return -ECANCELED;
    struct bl_job *j = calloc(1, sizeof(*j));
    if (j == NULL)
        return -ENOMEM;
    int r = blob_key_path(s->root, key, j->dst, sizeof(j->dst));
    /* root is short (blob_local_open), so the folder fits. */
    if (r == 0) {
        size_t rl = strlen(s->root);
        memcpy(j->dir, s->root, rl);
        j->dir[rl] = '/';
        memcpy(j->dir + rl + 1, key, 2);
        j->dir[rl + 3] = '\0';
    }
    if (r == 0 && src != NULL &&
        (size_t)snprintf(j->src, sizeof(j->src), "%s", src) >= sizeof(j->src))
        r = -ENAMETOOLONG;
    if (r < 0) {
        free(j);
        return r;
    }
    j->s = s;
    j->kind = kind;
    j->cb = cb;
    j->ud = ud;
    j->work.data = j;
    r = uv_queue_work(s->loop, &j->work, bl_work, bl_after);
    if (r < 0) {
        free(j);
        return r;
    }
    s->inflight++;
    return 0;
}

static int bl_put_file(blob_store *b, const char *key, const char *path, uint64_t size,
                       const char *mime, blob_cb cb, void *ud)
{
    (void)size, (void)mime; /* the file is the truth on disk */
    if (path == NULL || cb == NULL)
        return -EINVAL;
    return bl_submit((struct bl_store *)b, BL_PUT, key, path, cb, ud);
}

static int bl_remove(blob_store *b, const char *key, blob_cb cb, void *ud)
{
    if (cb == NULL)
        return -EINVAL;
    return bl_submit((struct bl_store *)b, BL_REMOVE, key, NULL, cb, ud);
}

/* One download being opened. Ownership: malloc'd by serve, freed in its
 * open callback; holds a conn reference meanwhile. */
struct bl_serve {
    uv_fs_t fs;
    struct bl_store *s;
    net_conn *c;
    uint64_t size;
    int status; /* 200 or 206 */
    uint64_t first, last;
    /* the app's extra lines (up to 1 KiB: a name of 255 bytes escaped in
     * Content-Disposition) and ours */
    char headers[2048];
};

static void bl_not_found(net_conn *c)
{
    static const char body[] = "{\"error\":\"not_found\",\"message\":\"no such media\"}";
    net_respond(c, 404, "application/json", NET_JSON_HEADERS, body, sizeof(body) - 1);
}

static void bl_opened(uv_fs_t *req)
{
    struct bl_serve *v = req->data;
    struct bl_store *s = v->s;
    ssize_t fd = req->result;
    uv_fs_req_cleanup(req);
    struct stat st;
    if (fd < 0) {
        if (fd != UV_ENOENT)
            log_warn("media: open: %s", uv_strerror((int)fd));
        bl_not_found(v->c);
    } else if (fstat((int)fd, &st) < 0 || (uint64_t)st.st_size != v->size) {
        /* The store and the disk disagree: never serve a wrong length. */
        log_warn("media: a blob's size differs from its record");
        uv_fs_t cr;
        (void)uv_fs_close(s->loop, &cr, (uv_file)fd, NULL);
        uv_fs_req_cleanup(&cr);
        bl_not_found(v->c);
    } else {
        uint64_t len = v->size == 0 ? 0 : v->last - v->first + 1;
        net_respond_file(v->c, v->status, NULL, v->headers, (uv_file)fd, v->first, len);
    }
    net_conn_unref(v->c);
    free(v);
    s->inflight--;
    bl_maybe_done(s);
}

static int bl_serve_fn(blob_store *b, const char *key, net_conn *c, const struct blob_serve_opts *o)
{
    struct bl_store *s = (struct bl_store *)b;
    const net_request *req = o->req;
    const duet_slice *inm = net_header(req, "If-None-Match");
    if (inm != NULL && o->etag != NULL && inm->len == strlen(o->etag) &&
        memcmp(inm->base, o->etag, inm->len) == 0) {
        net_respond(c, 304, NULL, o->extra_headers, NULL, 0);
        return 0;
    }
    struct bl_serve *v = calloc(1, sizeof(*v));
    if (v == NULL)
        return -ENOMEM;
    v->s = s;
    v->c = c;
    v->size = o->size;
    v->status = 200;
    v->first = 0;
    v->last = o->size ? o->size - 1 : 0;
    const duet_slice *range = net_header(req, "Range");
    const duet_slice *ifr = net_header(req, "If-Range");
    /* If-Range with another validator: the whole body (RFC 9110 13.1.5). */
    int use_range =
        range != NULL && (ifr == NULL || (o->etag != NULL && ifr->len == strlen(o->etag) &&
                                          memcmp(ifr->base, o->etag, ifr->len) == 0));
    int rr = use_range ? net_range_parse(range->base, range->len, o->size, &v->first, &v->last) : 0;
    if (rr == -ERANGE) {
        char hdr[512];
        static const char body[] =
            "{\"error\":\"range_not_satisfiable\",\"message\":\"the range is outside the media\"}";
        snprintf(hdr, sizeof(hdr), NET_JSON_HEADERS "Content-Range: bytes */%llu\r\n",
                 (unsigned long long)o->size);
        net_respond(c, 416, "application/json", hdr, body, sizeof(body) - 1);
        free(v);
        return 0;
    }
    int n;
    if (rr == 1) {
        v->status = 206;
        n = snprintf(v->headers, sizeof(v->headers),
                     "Content-Type: %s\r\n%sAccept-Ranges: bytes\r\nETag: %s\r\n"
                     "Content-Range: bytes %llu-%llu/%llu\r\n",
                     o->content_type, o->extra_headers ? o->extra_headers : "",
                     o->etag ? o->etag : "\"\"", (unsigned long long)v->first,
                     (unsigned long long)v->last, (unsigned long long)o->size);
    } else {
        v->first = 0;
        v->last = o->size ? o->size - 1 : 0;
        n = snprintf(v->headers, sizeof(v->headers),
                     "Content-Type: %s\r\n%sAccept-Ranges: bytes\r\nETag: %s\r\n", o->content_type,
                     o->extra_headers ? o->extra_headers : "", o->etag ? o->etag : "\"\"");
    }
    char path[BL_PATH_MAX];
    int r = n < 0 || (size_t)n >= sizeof(v->headers)
                ? -ENAMETOOLONG
                : blob_key_path(s->root, key, path, sizeof(path));
    if (r == 0) {
        v->fs.data = v;
        r = uv_fs_open(s->loop, &v->fs, path, O_RDONLY | O_CLOEXEC, 0, bl_opened);
    }
    if (r < 0) {
        free(v);
        return r;
    }
    net_conn_ref(c);
    s->inflight++;
    return 0;
}

static void bl_free(uv_handle_t *h)
{
    struct bl_store *s = h->data;
    blob_done_cb done = s->done;
    void *ud = s->done_ud;
    free(s);
    if (done != NULL)
        done(ud);
}

static void bl_done_timer(uv_timer_t *t)
{
    uv_close((uv_handle_t *)t, bl_free);
}

static void bl_maybe_done(struct bl_store *s)
{
    if (s->closing && s->inflight == 0)
        (void)uv_timer_start(&s->done_timer, bl_done_timer, 0, 0);
}

static void bl_close(blob_store *b, blob_done_cb done, void *ud)
{
    struct bl_store *s = (struct bl_store *)b;
    s->closing = 1;
    s->done = done;
    s->done_ud = ud;
    bl_maybe_done(s);
}

static const struct blob_backend bl_backend = {
    .name = "local",
    .put_file = bl_put_file,
    .remove = bl_remove,
    .serve = bl_serve_fn,
    .close = bl_close,
};

int blob_local_open(uv_loop_t *loop, const char *data_dir, blob_store **out)
{
    struct bl_store *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    int r = 0;
    int n = snprintf(s->root, sizeof(s->root), "%s/media", data_dir);
    if (n < 0 || (size_t)n >= sizeof(s->root) - 40)
        r = -ENAMETOOLONG;
    if (r == 0 && mkdir(s->root, 0700) < 0 && errno != EEXIST)
        r = -errno;
    if (r == 0)
        r = uv_timer_init(loop, &s->done_timer);
    if (r < 0) {
        log_error("media: cannot use %s: %s", s->root, strerror(-r));
        free(s);
        return r;
    }
    s->done_timer.data = s;
    s->base.backend = &bl_backend;
    s->loop = loop;
    *out = &s->base;
    return 0;
}
