/* s3.h - a client for S3-compatible object storage (AWS S3, MinIO,
 * S3Proxy, ...) on duetd's loop: PutObject from a file (multipart above a
 * threshold), HeadObject, DeleteObject, and presigned GET URLs.
 *
 * Requests go through src/outbound on an ob client of its own (never
 * public_only: the endpoint is the operator's, often on a private
 * network), signed with AWS Signature V4 (s3_sigv4.h), path-style
 * (`<endpoint>/<bucket>/<key>`) so that S3Proxy and MinIO work. File bodies
 * stream from disk (UNSIGNED-PAYLOAD); small XML bodies are hashed.
 *
 * Each request is retried with exponential back-off on 5xx, 429, time-outs
 * and broken connections. At most max_ops operations run at once; more
 * wait in a FIFO queue. A multipart upload that fails is aborted (best
 * effort) so that no parts are left billed in the bucket.
 *
 * Callbacks run on the loop, exactly once per started operation, never from
 * inside the call that started it; after s3_close() with -ECANCELED.
 */
#ifndef DUET_S3_H
#define DUET_S3_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define S3_PART_MIN     (5u * 1024 * 1024) /* S3's smallest part but the last */
#define S3_MAX_PARTS    10000
#define S3_PRESIGN_SECS 300 /* duet's presigned GET lifetime */

/* Borrowed by s3_new(), which copies what it keeps. */
struct s3_opts {
    const char *endpoint;   /* "http(s)://host[:port]", no path */
    const char *bucket;     /* an existing bucket (3-63 of a-z 0-9 . -) */
    const char *region;     /* "us-east-1" (1-64 of a-z 0-9 - _) */
    const char *access_key; /* the secret pair: never logged */
    const char *secret_key;
    uint64_t part_size;     /* multipart part size (0: 8 MiB; at least S3_PART_MIN) */
    uint64_t multipart_min; /* files this big or bigger go multipart (0: 16 MiB) */
    size_t max_ops;         /* operations at once; more queue (0: 4) */
    unsigned retries;       /* retries per request (0: 4) */
    uint32_t backoff_ms;    /* first retry delay, doubled each time (0: 200 ms) */
    uint32_t timeout_ms;    /* per request, a part included (0: 120 s) */
    const char *ca_file;    /* PEM bundle instead of the system's, or NULL */
};

/* Ownership: opaque; owns its ob client, its copies of the options, and
 * every operation in flight or queued. Freed after s3_close()'s callback. */
typedef struct s3_client s3_client;

struct s3_result {
    /* 0, or -ENOENT (404), -EACCES (403: refused, e.g. a bad signature),
     * -EIO (another status, a malformed answer, or the transfer failed
     * after its retries), -ETIMEDOUT, -ECONNREFUSED, -ECANCELED (closed),
     * -ENOMEM, a negated errno from the file. */
    int err;
    long status;      /* the last HTTP status, 0 when none arrived */
    const char *code; /* S3's error Code ("SignatureDoesNotMatch"), or "" */
    uint64_t size;    /* HEAD: Content-Length */
    const char *etag; /* PUT and HEAD: the object's ETag, or "" */
};

/* The result is valid only during the call. */
typedef void (*s3_cb)(void *ud, const struct s3_result *res);

/* 0, -EINVAL (a bad endpoint, bucket, region, key or part size), -ENOMEM,
 * -EIO. */
int s3_new(uv_loop_t *loop, const struct s3_opts *opts, s3_client **out);

/* Uploads `size` bytes of the regular file at `path` as `key`: one PUT
 * below multipart_min, otherwise a multipart upload in part_size parts.
 * content_type may be NULL. Returns 0 or -EINVAL (a bad key, or a file too
 * large for S3_MAX_PARTS parts), -ECANCELED (closing), -ENOMEM. */
int s3_put_file(s3_client *c, const char *key, const char *path, uint64_t size,
                const char *content_type, s3_cb cb, void *ud);

/* DeleteObject; a missing object is success (S3 answers 204 either way). */
int s3_delete(s3_client *c, const char *key, s3_cb cb, void *ud);

/* HeadObject: size and ETag, or -ENOENT. */
int s3_head(s3_client *c, const char *key, s3_cb cb, void *ud);

/* A presigned GET URL for key, valid `expires` seconds from now (1..7
 * days), that makes S3 answer with the given Content-Type and
 * Content-Disposition and "Cache-Control: private, no-store" (each may be
 * NULL: not overridden). Length, or -EINVAL, -ENOSPC. No network. */
int s3_presign_get(s3_client *c, const char *key, uint32_t expires, const char *content_type,
                   const char *disposition, char *out, size_t cap);

/* Operations in flight or queued. */
size_t s3_pending(const s3_client *c);
/* Operations running (at most max_ops). */
size_t s3_running(const s3_client *c);

/* Fails every queued and running operation with -ECANCELED (their
 * callbacks run, and no multipart abort is sent), then calls closed (if
 * not NULL) once everything is freed. Call once. */
void s3_close(s3_client *c, void (*closed)(void *ud), void *ud);

/* Whether key is a valid object key for this client: 1..512 bytes of
 * A-Z a-z 0-9 and - _ . / (duet uses "media/<32 hex>"). */
int s3_key_ok(const char *key);

#endif
