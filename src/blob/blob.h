/* blob.h - the blob store: the bytes of media, beside the store (which
 * keeps only their metadata). Two backends implement it: local disk
 * (blob_local.c, the default, under <data>/media/) and S3-compatible object
 * storage (--media s3, another branch).
 *
 * Layer: blob sits beside store: it may include base, net and outbound
 * (the S3 backend's HTTP client); app uses it; store and hub never do.
 *
 * Keys are the media ids: 32 lowercase hex digits (16 random bytes), so a
 * key is always safe as a file name or an object name. Callers check that.
 *
 * Callback rules (libuv style): every function returns 0 or a negative
 * errno. When it returns 0 its callback runs exactly once, later, on the
 * loop thread, never from inside the call; when it returns < 0 the callback
 * never runs and nothing changed. Callbacks still run (with -ECANCELED or
 * their real result) after blob_close() was called, before the close's
 * done callback.
 *
 * Ownership: the caller owns the blob_store (blob_local_open / the S3
 * open) until blob_close(); the store owns its backend state. Strings
 * passed in are copied when needed after the call returns.
 */
#ifndef DUET_BLOB_H
#define DUET_BLOB_H

#include <stdint.h>
#include <uv.h>

#include "../base/duet.h"
#include "../net/net.h"

typedef struct blob_store blob_store;

/* status: 0 or a negative errno (-ENOSPC: the disk is full, -EIO ...). */
typedef void (*blob_cb)(int status, void *ud);
typedef void (*blob_done_cb)(void *ud);

#define BLOB_KEY_LEN 32 /* hex digits */

/* How blob_serve answers a GET or HEAD for a blob the caller has already
 * decided the requester may read (the access check is the app's). Every
 * string is borrowed for the duration of the call. */
struct blob_serve_opts {
    uint64_t size;             /* the blob's length as recorded in the store */
    const char *content_type;  /* e.g. "image/jpeg" or "application/octet-stream" */
    const char *extra_headers; /* complete header lines ("...\r\n"), or NULL: the
                                  app's Content-Disposition, Cache-Control, ETag,
                                  nosniff, CSP ... added to a 200/206 (local) */
    const char *etag;          /* the strong ETag, quoted, e.g. "\"<id>\"" */
    const net_request *req;    /* the request: method (HEAD), Range, If-None-Match,
                                  If-Range; the backend reads what it needs */
};

/* The backend vtable. */
struct blob_backend {
    const char *name; /* "local", "s3" */
    int (*put_file)(blob_store *b, const char *key, const char *path, uint64_t size,
                    const char *mime, blob_cb cb, void *ud);
    int (*remove)(blob_store *b, const char *key, blob_cb cb, void *ud);
    int (*serve)(blob_store *b, const char *key, net_conn *c, const struct blob_serve_opts *o);
    void (*close)(blob_store *b, blob_done_cb done, void *ud);
};

struct blob_store {
    const struct blob_backend *backend;
};

/* Takes over a complete staged file (a regular file under <data>/uploads/,
 * `size` bytes): local disk fsyncs it, renames it to
 * <data>/media/<key[0..1]>/<key> and fsyncs the directory; S3 uploads it
 * (multipart above a threshold) and then deletes the staged file. On
 * success (cb status 0) the blob store owns the bytes and the staged file
 * is gone; on failure the staged file is left where it was (the caller may
 * retry or remove it). Putting a key that exists replaces it (idempotent:
 * a retried put after a crash is fine). */
static inline int blob_put_file(blob_store *b, const char *key, const char *path, uint64_t size,
                                const char *mime, blob_cb cb, void *ud)
{
    return b->backend->put_file(b, key, path, size, mime, cb, ud);
}

/* Removes a blob; idempotent: a missing blob is success. */
static inline int blob_remove(blob_store *b, const char *key, blob_cb cb, void *ud)
{
    return b->backend->remove(b, key, cb, ud);
}

/* Answers the request pending on c (exactly once, as net_respond would):
 * local disk streams the file with bounded memory (reads on the thread
 * pool, each after the socket took the last; Range: one range, 206 or
 * 416; If-None-Match: 304); S3 answers 307 to a presigned GET URL valid
 * about 5 minutes. A blob missing from the backend answers 404
 * {"error":"not_found"}. Returns 0, or < 0 when nothing was answered (the
 * caller answers 500). No callback: the answer is the result. */
static inline int blob_serve(blob_store *b, const char *key, net_conn *c,
                             const struct blob_serve_opts *o)
{
    return b->backend->serve(b, key, c, o);
}

/* Stops the store: operations in flight complete (their callbacks run),
 * then done(ud) runs and the store is freed. */
static inline void blob_close(blob_store *b, blob_done_cb done, void *ud)
{
    b->backend->close(b, done, ud);
}

/* The local disk backend: blobs under <data_dir>/media/. Creates the
 * folder (0700). *out is owned by the caller until blob_close(). */
int blob_local_open(uv_loop_t *loop, const char *data_dir, blob_store **out);

/* The S3 backend's options and constructor live in blob_s3.h (--media s3). */

/* The path of key's blob under root: "<root>/ab/<key>"; -ENAMETOOLONG or
 * -EINVAL for a key that is not 32 lowercase hex digits. */
int blob_key_path(const char *root, const char *key, char *out, size_t size);
/* Whether key is 32 lowercase hex digits. */
int blob_key_ok(const char *key);

#endif
