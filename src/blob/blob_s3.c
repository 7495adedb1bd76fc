/* blob_s3.c - the S3 backend of the blob store (see blob_s3.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/log.h"
#include "../s3/s3.h"
#include "blob_s3.h"

#define OBJ_KEY_MAX 64 /* "media/" + 32 hex digits */
#define URL_MAX     4096

/* Ownership: the caller's until blob_close(); owns its S3 client. */
struct blob_s3 {
    blob_store base; /* first: a blob_store * is a struct blob_s3 * */
    s3_client *s3;
    uint32_t presign_secs;
    blob_done_cb done;
    void *done_ud;
};

/* One put or remove in flight. Ownership: allocated by the call, freed in
 * its S3 callback; owns the staged path. */
struct blob_s3_op {
    blob_cb cb;
    void *ud;
    char *path; /* put: the staged file, unlinked once stored */
};

static int object_key(const char *key, char out[OBJ_KEY_MAX])
{
    if (!key || !blob_key_ok(key)) /* checked again: it becomes part of a URL */
        return -EINVAL;
    snprintf(out, OBJ_KEY_MAX, "media/%s", key);
    return 0;
}

static void on_s3_done(void *ud, const struct s3_result *r)
{
    struct blob_s3_op *op = ud;
    int status = r->err;
    if (status == 0 && op->path && unlink(op->path) != 0 && errno != ENOENT)
        /* Stored: a staged file left over costs disk, not correctness. */
        log_warn("blob_s3: could not remove the staged %s: %s", op->path, strerror(errno));
    if (status != 0)
        log_warn("blob_s3: S3 said %ld %s (%d)", r->status, r->code, status);
    op->cb(status, op->ud);
    free(op->path);
    free(op);
}

static int s3_put(blob_store *b, const char *key, const char *path, uint64_t size, const char *mime,
                  blob_cb cb, void *ud)
{
    struct blob_s3 *s = (struct blob_s3 *)b;
    char obj[OBJ_KEY_MAX];
    int rc = object_key(key, obj);
    if (rc || !path || !cb)
        return rc ? rc : -EINVAL;
    struct blob_s3_op *op = calloc(1, sizeof(*op));
    if (!op || !(op->path = strdup(path))) {
        free(op);
        return -ENOMEM;
    }
    op->cb = cb, op->ud = ud;
    if ((rc = s3_put_file(s->s3, obj, path, size, mime, on_s3_done, op)) != 0) {
        free(op->path), free(op);
        return rc;
    }
    return 0;
}

static int s3_remove(blob_store *b, const char *key, blob_cb cb, void *ud)
{
    struct blob_s3 *s = (struct blob_s3 *)b;
    char obj[OBJ_KEY_MAX];
    int rc = object_key(key, obj);
    if (rc || !cb)
        return rc ? rc : -EINVAL;
    struct blob_s3_op *op = calloc(1, sizeof(*op));
    if (!op)
        return -ENOMEM;
    op->cb = cb, op->ud = ud;
    if ((rc = s3_delete(s->s3, obj, on_s3_done, op)) != 0) {
        free(op);
        return rc;
    }
    return 0;
}

/* The value of the Content-Disposition line among the app's extra header
 * lines, into out; NULL when there is none. */
static const char *disposition(const char *extra, char *out, size_t cap)
{
    static const char name[] = "Content-Disposition:";
    for (const char *p = extra; p && *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0) {
            const char *v = p + sizeof(name) - 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vl = len - (size_t)(v - p);
            if (vl == 0 || vl >= cap)
                return NULL;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return out;
        }
        p = eol ? eol + 2 : p + len;
    }
    return NULL;
}

static int s3_serve(blob_store *b, const char *key, net_conn *c, const struct blob_serve_opts *o)
{
    struct blob_s3 *s = (struct blob_s3 *)b;
    /* disp: the app's line (a name of 255 bytes escaped is ~700 bytes);
     * one too long for it would be dropped, and the name with it */
    char obj[OBJ_KEY_MAX], url[URL_MAX], disp[1024], hdr[URL_MAX + 128];
    int rc = object_key(key, obj);
    if (rc)
        return rc;
    const char *d = disposition(o ? o->extra_headers : NULL, disp, sizeof(disp));
    rc = s3_presign_get(s->s3, obj, s->presign_secs, o ? o->content_type : NULL, d, url,
                        sizeof(url));
    if (rc < 0)
        return rc;
    /* The redirect is per request and short-lived: never cached. */
    int n = snprintf(hdr, sizeof(hdr), "Location: %s\r\nCache-Control: private, no-store\r\n", url);
    if (n < 0 || (size_t)n >= sizeof(hdr))
        return -ENOSPC;
    static const char body[] = "{\"redirect\":\"s3\"}";
    net_respond(c, 302, "application/json", hdr, body, sizeof(body) - 1);
    return 0;
}

static void on_s3_closed(void *ud)
{
    struct blob_s3 *s = ud;
    blob_done_cb done = s->done;
    void *done_ud = s->done_ud;
    free(s);
    if (done)
        done(done_ud);
}

static void s3_blob_close(blob_store *b, blob_done_cb done, void *ud)
{
    struct blob_s3 *s = (struct blob_s3 *)b;
    s->done = done, s->done_ud = ud;
    s3_close(s->s3, on_s3_closed, s);
}

static const struct blob_backend s3_backend = {
    .name = "s3",
    .put_file = s3_put,
    .remove = s3_remove,
    .serve = s3_serve,
    .close = s3_blob_close,
};

/* The start-up probe's answer: a missing object (404) or any 2xx means the
 * endpoint, bucket and keys work; anything else is worth a loud line now
 * rather than at the first upload. */
static void on_probe(void *ud, const struct s3_result *r)
{
    if (r->err == -ECANCELED)
        return;
    if (r->err == 0 || r->err == -ENOENT)
        log_info("media: S3 bucket reachable, signatures accepted");
    else
        log_warn("media: S3 probe failed: %ld %s (%s): check --s3-endpoint, --s3-bucket, "
                 "--s3-region and the keys",
                 r->status, r->code[0] ? r->code : "-", strerror(-r->err));
}

int blob_s3_open(uv_loop_t *loop, const struct blob_s3_opts *o, blob_store **out)
{
    if (!o || !o->access_key || !o->secret_key)
        return -EINVAL;
    struct blob_s3 *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->base.backend = &s3_backend;
    s->presign_secs = o->presign_secs ? o->presign_secs : S3_PRESIGN_SECS;
    struct s3_opts so = {.endpoint = o->endpoint,
                         .bucket = o->bucket,
                         .region = o->region ? o->region : "us-east-1",
                         .access_key = o->access_key,
                         .secret_key = o->secret_key,
                         .part_size = o->part_size,
                         .multipart_min = o->multipart_min,
                         .max_ops = o->max_uploads,
                         .ca_file = o->ca_file};
    int rc = s3_new(loop, &so, &s->s3);
    if (rc) {
        free(s);
        return rc;
    }
    /* A HEAD of a key duet never writes: answered 404 when all is well. */
    if (s3_head(s->s3, "media/.probe", on_probe, NULL) != 0)
        log_warn("media: could not start the S3 probe");
    *out = &s->base;
    return 0;
}

int blob_s3_read_key(const char *path, const char *env, char *out, size_t cap)
{
    if (!out || cap < 2)
        return -EINVAL;
    out[0] = '\0';
    if (!path) {
        const char *v = env ? getenv(env) : NULL;
        if (!v || !*v)
            return -ENOENT;
        if (strlen(v) >= cap)
            return -EINVAL;
        snprintf(out, cap, "%s", v);
        return 0;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = -errno;
    else if (!S_ISREG(st.st_mode))
        rc = -EINVAL;
    else if (st.st_mode & 077)
        rc = -EPERM; /* like the VAPID key: a secret nobody else may read */
    ssize_t n = 0;
    if (!rc) {
        do
            n = read(fd, out, cap - 1);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            rc = -errno;
    }
    close(fd);
    if (rc)
        return rc;
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    if (!out[0] || (size_t)n == cap - 1) {
        explicit_bzero(out, cap);
        return -EINVAL; /* empty, or (maybe) cut */
    }
    return 0;
}
