/* blob_s3.h - the S3 backend of the blob store (--media s3): blobs are the
 * objects "media/<key>" of one bucket on an S3-compatible server, through
 * src/s3.
 *
 * - put_file uploads the staged file (multipart from multipart_min up)
 *   and deletes the staged file once the object is complete;
 * - remove deletes the object (a missing one is success);
 * - serve answers 302 to a presigned GET URL valid presign_secs (about 5
 *   minutes), with "Cache-Control: private, no-store" on the redirect; the
 *   URL makes S3 answer with the blob's Content-Type, the app's
 *   Content-Disposition and "Cache-Control: private, no-store". The access
 *   check is the app's, before; S3 answers Range itself, and 404 for a
 *   blob that is missing from the bucket.
 *
 * The bucket stays private: nothing is readable without a signature.
 */
#ifndef DUET_BLOB_S3_H
#define DUET_BLOB_S3_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "blob.h"

#define BLOB_S3_KEY_MAX 256 /* an access key or a secret, NUL included */

/* Borrowed by blob_s3_open(), which copies what it keeps. */
struct blob_s3_opts {
    const char *endpoint; /* "http(s)://host[:port]" */
    const char *bucket;
    const char *region;     /* NULL: "us-east-1" */
    const char *access_key; /* the key pair itself (blob_s3_read_key) */
    const char *secret_key;
    uint32_t presign_secs;  /* 0: S3_PRESIGN_SECS (300) */
    uint64_t part_size;     /* 0: 8 MiB */
    uint64_t multipart_min; /* 0: 16 MiB */
    size_t max_uploads;     /* S3 operations at once (0: 4) */
    const char *ca_file;    /* or NULL */
};

/* Opens the backend; *out is the caller's until blob_close(). 0, -EINVAL
 * (a bad endpoint, bucket or key), -ENOMEM, -EIO. Sends one HEAD as a
 * probe and logs whether S3 accepted it (a wrong key or bucket shows at
 * start-up, not at the first upload). */
int blob_s3_open(uv_loop_t *loop, const struct blob_s3_opts *o, blob_store **out);

/* Reads a key from a file (its first line; the file must be a regular file
 * that neither group nor others may read: -EPERM otherwise) or, when path
 * is NULL, from the environment variable env. -ENOENT when neither gives
 * one, -EINVAL when it is empty or longer than cap - 1, a negated errno
 * from the file system. */
int blob_s3_read_key(const char *path, const char *env, char *out, size_t cap);

#endif
