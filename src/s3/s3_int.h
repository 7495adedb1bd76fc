/* s3_int.h - what s3_client.c and s3_multipart.c share. Private to src/s3. */
#ifndef DUET_S3_INT_H
#define DUET_S3_INT_H

#include "../outbound/ob.h"
#include "s3.h"

#define S3_MAX_URL  2048
#define S3_CODE_LEN 64
#define S3_ETAG_LEN 128
#define S3_ID_LEN   1024 /* an UploadId */

enum s3_kind { S3_PUT, S3_MULTI, S3_DELETE, S3_HEAD };

/* One request of an operation, as sent (and re-sent on a retry). Borrowed
 * pointers into the operation. */
struct s3_send {
    const char *method;
    const char *query; /* canonical query or "" */
    const void *body;  /* an in-memory body (signed), or NULL */
    size_t body_len;
    const char *file; /* or a file range (UNSIGNED-PAYLOAD) */
    uint64_t file_off, file_len;
    const char *content_type; /* or NULL */
};

/* An operation. Ownership: linked in its client's ops list from creation
 * until its timer handle closed; owns its strings, the multipart ETags and
 * the XML body it built. */
struct s3_op {
    s3_client *c;
    enum s3_kind kind;
    char *key, *path, *ctype;
    uint64_t size;
    s3_cb cb;
    void *ud;
    uv_timer_t timer; /* the retry back-off; closing it frees the op */
    int queued, running, done;
    unsigned attempt;
    struct s3_send send; /* the request in flight or waiting to retry */
    /* step: what the answer to the current request is for */
    void (*step)(struct s3_op *op, const struct ob_response *res);
    /* multipart */
    char upload_id[S3_ID_LEN];
    char query[S3_ID_LEN * 3 + 64];
    uint32_t part, n_parts;
    char (*etags)[S3_ETAG_LEN];
    char *xml;
    int failed_err; /* the error being reported after an abort */
    long failed_status;
    char failed_code[S3_CODE_LEN];
    struct s3_op *prev, *next;
};

/* Sends op->send (signing it now); its answer goes to op->step, after
 * retries. 0 or a negative error (then the op is not in flight). */
int s3_op_send(struct s3_op *op);

/* Reports the outcome and frees the op. */
void s3_op_finish(struct s3_op *op, int err, long status, const char *code, uint64_t size,
                  const char *etag);

/* The error of a non-2xx answer: -ENOENT, -EACCES or -EIO; its S3 Code
 * into code (S3_CODE_LEN). */
int s3_status_err(const struct ob_response *res, char *code);

/* Client's options, as s3_multipart.c needs them. */
uint64_t s3_part_size(const s3_client *c);

/* Starts a multipart upload (s3_multipart.c). */
void s3_multi_start(struct s3_op *op);

#endif
