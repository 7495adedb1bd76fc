/* s3_client.c - the S3 client: options, the queue of operations, signing
 * and sending one request with retries, PUT / HEAD / DELETE and presigned
 * GET URLs. Multipart uploads are in s3_multipart.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../base/dlist.h"
#include "../base/duet.h"
#include "s3_int.h"
#include "s3_sigv4.h"
#include "s3_xml.h"

#define DEFAULT_PART    (8u * 1024 * 1024)
#define DEFAULT_MULTI   (16u * 1024 * 1024)
#define DEFAULT_OPS     4
#define DEFAULT_RETRIES 4
#define DEFAULT_BACKOFF 200
#define DEFAULT_TIMEOUT 120000
#define MAX_BACKOFF_MS  10000

/* Ownership: see s3.h. The strings are the client's own copies. */
struct s3_client {
    uv_loop_t *loop;
    ob_client *ob;
    struct s3_opts o;
    char *endpoint, *host, *bucket, *region, *access_key, *secret_key;
    struct s3_op *ops; /* every op not yet freed */
    size_t n_ops, n_running;
    int closing, ob_closed;
    void (*closed)(void *ud);
    void *closed_ud;
};

static void start_queued(s3_client *c);

uint64_t s3_part_size(const s3_client *c)
{
    return c->o.part_size;
}

size_t s3_pending(const s3_client *c)
{
    return c->n_ops;
}

size_t s3_running(const s3_client *c)
{
    return c->n_running;
}

int s3_key_ok(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0 || n > 512 || key[0] == '/')
        return 0;
    for (const char *p = key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("-_./", *p)))
            return 0;
    return 1;
}

static int bucket_ok(const char *b)
{
    size_t n = b ? strlen(b) : 0;
    if (n < 3 || n > 63)
        return 0;
    for (; *b; b++)
        if (!((*b >= 'a' && *b <= 'z') || (*b >= '0' && *b <= '9') || *b == '.' || *b == '-'))
            return 0;
    return 1;
}

/* "http(s)://authority" with no path, query or user info; the authority
 * into *host (allocated). */
static int parse_endpoint(const char *e, char **endpoint, char **host)
{
    size_t skip;
    if (!e)
        return -EINVAL;
    if (strncasecmp(e, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(e, "https://", 8) == 0)
        skip = 8;
    else
        return -EINVAL;
    size_t n = strlen(e);
    while (n > skip && e[n - 1] == '/')
        n--; /* a trailing slash is harmless */
    const char *a = e + skip;
    size_t alen = n - skip;
    if (alen == 0 || alen > 255)
        return -EINVAL;
    for (size_t i = 0; i < alen; i++)
        if (a[i] <= ' ' || a[i] >= 0x7f || strchr("/?#@\\", a[i]))
            return -EINVAL;
    if (!(*endpoint = strndup(e, n)))
        return -ENOMEM;
    if (!(*host = strndup(a, alen))) {
        free(*endpoint), *endpoint = NULL;
        return -ENOMEM;
    }
    return 0;
}

static int dup_opt(const char *s, char **out)
{
    if (!s || !*s || strlen(s) > 256)
        return -EINVAL;
    return (*out = strdup(s)) ? 0 : -ENOMEM;
}

static void client_free(s3_client *c)
{
    free(c->endpoint), free(c->host), free(c->bucket), free(c->region), free(c->access_key);
    if (c->secret_key) {
        explicit_bzero(c->secret_key, strlen(c->secret_key));
        free(c->secret_key);
    }
    free(c);
}

/* A region name: "us-east-1", "eu-central-2", "garage", ... */
static int region_ok(const char *r)
{
    size_t n = r ? strlen(r) : 0;
    return n > 0 && n <= 64 && strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

int s3_new(uv_loop_t *loop, const struct s3_opts *opts, s3_client **out)
{
    int rc;
    if (!opts || !bucket_ok(opts->bucket) || !region_ok(opts->region) ||
        (opts->part_size && (opts->part_size < S3_PART_MIN || opts->part_size > (1ull << 32))))
        return -EINVAL;
    s3_client *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->loop = loop;
    c->o = *opts;
    if ((rc = parse_endpoint(opts->endpoint, &c->endpoint, &c->host)) != 0 ||
        (rc = dup_opt(opts->bucket, &c->bucket)) != 0 ||
        (rc = dup_opt(opts->region, &c->region)) != 0 ||
        (rc = dup_opt(opts->access_key, &c->access_key)) != 0 ||
        (rc = dup_opt(opts->secret_key, &c->secret_key)) != 0)
        goto err;
    c->o.part_size = opts->part_size ? opts->part_size : DEFAULT_PART;
    c->o.multipart_min = opts->multipart_min ? opts->multipart_min : DEFAULT_MULTI;
    c->o.max_ops = opts->max_ops ? opts->max_ops : DEFAULT_OPS;
    c->o.retries = opts->retries ? opts->retries : DEFAULT_RETRIES;
    c->o.backoff_ms = opts->backoff_ms ? opts->backoff_ms : DEFAULT_BACKOFF;
    c->o.timeout_ms = opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT;
    /* Its own ob client: the operator's endpoint (not public_only); room
     * for a CompleteMultipartUpload of every part, small answers. */
    struct ob_opts oo = {.max_inflight = c->o.max_ops * 2,
                         .max_req_body = (size_t)S3_MAX_PARTS * 128 + 1024,
                         .max_resp_body = 64 * 1024,
                         .ca_file = opts->ca_file,
                         .public_only = 0};
    if ((rc = ob_new(loop, &oo, &c->ob)) != 0)
        goto err;
    *out = c;
    return 0;
err:
    client_free(c);
    return rc;
}

/* ---- operations ---------------------------------------------------------- */

static void op_freed(uv_handle_t *h)
{
    struct s3_op *op = h->data;
    s3_client *c = op->c;
    DLIST_UNLINK(c->ops, op);
    c->n_ops--;
    free(op->key), free(op->path), free(op->ctype), free(op->etags), free(op->xml);
    free(op);
    if (c->closing && c->n_ops == 0 && c->ob_closed) {
        void (*closed)(void *) = c->closed;
        void *ud = c->closed_ud;
        client_free(c);
        if (closed)
            closed(ud);
    }
}

void s3_op_finish(struct s3_op *op, int err, long status, const char *code, uint64_t size,
                  const char *etag)
{
    s3_client *c = op->c;
    if (op->done)
        return;
    op->done = 1;
    if (op->running) {
        op->running = 0;
        c->n_running--;
    }
    struct s3_result r = {err, status, code ? code : "", size, etag ? etag : ""};
    op->cb(op->ud, &r);
    uv_close((uv_handle_t *)&op->timer, op_freed);
    if (!c->closing)
        start_queued(c);
}

int s3_status_err(const struct ob_response *res, char *code)
{
    code[0] = '\0';
    if (res->body_len)
        (void)s3_xml_text((const char *)res->body, res->body_len, "Code", code, S3_CODE_LEN);
    if (res->status == 404)
        return -ENOENT;
    if (res->status == 403)
        return -EACCES;
    return -EIO;
}

static int retryable(const struct ob_response *res)
{
    if (res->err)
        return res->err == -ETIMEDOUT || res->err == -ECONNREFUSED || res->err == -EIO ||
               res->err == -EHOSTUNREACH;
    return res->status >= 500 || res->status == 429;
}

static void on_retry_timer(uv_timer_t *t)
{
    struct s3_op *op = t->data;
    int rc = s3_op_send(op);
    if (rc)
        s3_op_finish(op, rc, 0, NULL, 0, NULL);
}

static void on_response(void *ud, const struct ob_response *res)
{
    struct s3_op *op = ud;
    s3_client *c = op->c;
    if (c->closing || res->err == -ECANCELED) {
        s3_op_finish(op, -ECANCELED, 0, NULL, 0, NULL);
        return;
    }
    if (retryable(res) && op->attempt < c->o.retries) {
        uint64_t ms = (uint64_t)c->o.backoff_ms << op->attempt;
        op->attempt++;
        if (ms > MAX_BACKOFF_MS)
            ms = MAX_BACKOFF_MS;
        if (uv_timer_start(&op->timer, on_retry_timer, ms, 0) == 0)
            return;
    }
    op->attempt = 0;
    op->step(op, res);
}

int s3_op_send(struct s3_op *op)
{
    s3_client *c = op->c;
    const struct s3_send *s = &op->send;
    char path[640], epath[2048], url[S3_MAX_URL + S3_ID_LEN * 3], date[SIGV4_DATE_SIZE];
    char phash[SIGV4_HASH_SIZE], auth[1024];
    if (c->closing)
        return -ECANCELED;
    int n = snprintf(path, sizeof(path), "/%s/%s", c->bucket, op->key);
    if (n < 0 || (size_t)n >= sizeof(path) || sigv4_uri_encode(path, 1, epath, sizeof(epath)) < 0)
        return -EINVAL;
    n = snprintf(url, sizeof(url), "%s%s%s%s", c->endpoint, epath, s->query[0] ? "?" : "",
                 s->query);
    if (n < 0 || (size_t)n >= sizeof(url))
        return -EINVAL;
    if (s->file)
        snprintf(phash, sizeof(phash), "%s", SIGV4_UNSIGNED);
    else if (sigv4_sha256_hex(s->body ? s->body : "", s->body_len, phash) != 0)
        return -EIO;
    sigv4_amz_date(time(NULL), date);
    const struct sigv4_hdr sh[] = {
        {"host", c->host}, {"x-amz-content-sha256", phash}, {"x-amz-date", date}};
    const struct sigv4_key k = {c->access_key, c->secret_key, c->region, "s3"};
    const struct sigv4_in in = {s->method, path, s->query, sh, 3, phash};
    int rc = sigv4_authorization(&k, date, &in, auth, sizeof(auth));
    if (rc < 0)
        return rc;
    struct ob_header h[5] = {{"Host", c->host},
                             {"x-amz-content-sha256", phash},
                             {"x-amz-date", date},
                             {"Authorization", auth}};
    size_t nh = 4;
    if (s->content_type)
        h[nh++] = (struct ob_header){"Content-Type", s->content_type};
    static const char *const want[] = {"ETag", "Content-Length"};
    struct ob_request r = {.method = s->method,
                           .url = url,
                           .headers = h,
                           .n_headers = nh,
                           .body = s->body,
                           .body_len = s->body_len,
                           .timeout_ms = c->o.timeout_ms,
                           .want = want,
                           .n_want = 2,
                           .cb = on_response,
                           .ud = op,
                           .body_file = s->file,
                           .body_file_off = s->file_off,
                           .body_file_len = s->file_len};
    return ob_request(c->ob, &r);
}

static const char *header(const struct ob_response *res, const char *name)
{
    for (size_t i = 0; i < res->n_headers; i++)
        if (strcasecmp(res->headers[i].name, name) == 0)
            return res->headers[i].value;
    return NULL;
}

/* The answer to a single PUT, a HEAD or a DELETE: the end of the op. */
static void simple_done(struct s3_op *op, const struct ob_response *res)
{
    char code[S3_CODE_LEN] = "";
    if (res->err) {
        s3_op_finish(op, res->err, 0, NULL, 0, NULL);
        return;
    }
    if (res->status / 100 != 2) {
        int err = s3_status_err(res, code);
        if (op->kind == S3_DELETE && err == -ENOENT)
            err = 0; /* already gone: idempotent */
        s3_op_finish(op, err, res->status, code, 0, NULL);
        return;
    }
    const char *etag = header(res, "ETag");
    const char *len = header(res, "Content-Length");
    uint64_t size = 0;
    if (op->kind == S3_HEAD && len) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(len, &end, 10);
        if (errno || end == len || *end) {
            s3_op_finish(op, -EIO, res->status, "", 0, NULL);
            return;
        }
        size = v;
    }
    s3_op_finish(op, 0, res->status, "", size, etag);
}

static void op_begin(struct s3_op *op)
{
    s3_client *c = op->c;
    op->queued = 0, op->running = 1;
    c->n_running++;
    if (op->kind == S3_MULTI) {
        s3_multi_start(op);
        return;
    }
    op->step = simple_done;
    memset(&op->send, 0, sizeof(op->send));
    op->send.query = "";
    if (op->kind == S3_PUT) {
        op->send.method = "PUT";
        op->send.file = op->path, op->send.file_len = op->size;
        op->send.content_type = op->ctype;
    } else {
        op->send.method = op->kind == S3_HEAD ? "HEAD" : "DELETE";
    }
    int rc = s3_op_send(op);
    if (rc)
        s3_op_finish(op, rc, 0, NULL, 0, NULL);
}

/* Starts queued ops, oldest first, while there is room. */
static void start_queued(s3_client *c)
{
    while (c->n_running < c->o.max_ops && !c->closing) {
        struct s3_op *oldest = NULL;
        for (struct s3_op *op = c->ops; op; op = op->next)
            if (op->queued)
                oldest = op; /* new ops are linked at the head */
        if (!oldest)
            return;
        op_begin(oldest);
    }
}

static void on_kick(uv_timer_t *t)
{
    struct s3_op *op = t->data;
    if (op->queued && op->c->n_running < op->c->o.max_ops)
        op_begin(op);
}

static int op_new(s3_client *c, enum s3_kind kind, const char *key, s3_cb cb, void *ud)
{
    if (c->closing)
        return -ECANCELED;
    if (!s3_key_ok(key) || !cb)
        return -EINVAL;
    struct s3_op *op = calloc(1, sizeof(*op));
    if (!op)
        return -ENOMEM;
    if (!(op->key = strdup(key)) || uv_timer_init(c->loop, &op->timer) != 0) {
        free(op->key), free(op);
        return -ENOMEM;
    }
    op->c = c, op->kind = kind, op->cb = cb, op->ud = ud, op->queued = 1;
    op->timer.data = op;
    DLIST_LINK(c->ops, op);
    c->n_ops++;
    /* Never from inside the call: the op starts on the next loop turn (or
     * later, when a running op finishes). */
    if (uv_timer_start(&op->timer, on_kick, 0, 0) != 0) {
        op->queued = 0;
        op->cb = NULL;
        op->done = 1;
        uv_close((uv_handle_t *)&op->timer, op_freed);
        return -EIO;
    }
    return 0;
}

int s3_put_file(s3_client *c, const char *key, const char *path, uint64_t size,
                const char *content_type, s3_cb cb, void *ud)
{
    if (!path || size > (uint64_t)S3_MAX_PARTS * c->o.part_size)
        return -EINVAL;
    enum s3_kind kind = size >= c->o.multipart_min ? S3_MULTI : S3_PUT;
    int rc = op_new(c, kind, key, cb, ud);
    if (rc)
        return rc;
    struct s3_op *op = c->ops; /* just linked at the head */
    op->size = size;
    if (!(op->path = strdup(path)) || (content_type && !(op->ctype = strdup(content_type)))) {
        /* Not started yet (it starts from the timer): undo quietly. */
        uv_timer_stop(&op->timer);
        op->queued = 0, op->done = 1;
        uv_close((uv_handle_t *)&op->timer, op_freed);
        return -ENOMEM;
    }
    return 0;
}

int s3_delete(s3_client *c, const char *key, s3_cb cb, void *ud)
{
    return op_new(c, S3_DELETE, key, cb, ud);
}

int s3_head(s3_client *c, const char *key, s3_cb cb, void *ud)
{
    return op_new(c, S3_HEAD, key, cb, ud);
}

/* Appends "&name=encoded(value)" (no '&' first) when value is set. */
static int add_param(char *q, size_t cap, const char *name, const char *value)
{
    char enc[2048]; /* a Content-Disposition of up to 1 KiB, escaped again */
    if (!value)
        return 0;
    if (sigv4_uri_encode(value, 0, enc, sizeof(enc)) < 0)
        return -EINVAL;
    size_t n = strlen(q);
    int w = snprintf(q + n, cap - n, "%s%s=%s", n ? "&" : "", name, enc);
    return w < 0 || (size_t)w >= cap - n ? -ENOSPC : 0;
}

int s3_presign_get(s3_client *c, const char *key, uint32_t expires, const char *content_type,
                   const char *disposition, char *out, size_t cap)
{
    char path[640], epath[2048], extra[2560] = "", q[4096], date[SIGV4_DATE_SIZE];
    if (!s3_key_ok(key) || cap == 0)
        return -EINVAL;
    int n = snprintf(path, sizeof(path), "/%s/%s", c->bucket, key);
    if (n < 0 || (size_t)n >= sizeof(path) || sigv4_uri_encode(path, 1, epath, sizeof(epath)) < 0)
        return -EINVAL;
    /* Sorted: response-cache-control < -content-disposition < -content-type. */
    int rc = add_param(extra, sizeof(extra), "response-cache-control", "private, no-store");
    if (!rc)
        rc = add_param(extra, sizeof(extra), "response-content-disposition", disposition);
    if (!rc)
        rc = add_param(extra, sizeof(extra), "response-content-type", content_type);
    if (rc)
        return rc;
    sigv4_amz_date(time(NULL), date);
    const struct sigv4_key k = {c->access_key, c->secret_key, c->region, "s3"};
    if ((rc = sigv4_presign_query(&k, date, expires, "GET", c->host, path, extra, q, sizeof(q))) <
        0)
        return rc;
    n = snprintf(out, cap, "%s%s?%s", c->endpoint, epath, q);
    return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

/* ---- closing ------------------------------------------------------------- */

static void on_ob_closed(void *ud)
{
    s3_client *c = ud;
    c->ob_closed = 1;
    if (c->n_ops == 0) {
        void (*closed)(void *) = c->closed;
        void *cud = c->closed_ud;
        client_free(c);
        if (closed)
            closed(cud);
    }
}

void s3_close(s3_client *c, void (*closed)(void *ud), void *ud)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->closed = closed, c->closed_ud = ud;
    /* Queued ops and ops waiting to retry: their timer is theirs alone. */
    for (struct s3_op *op = c->ops, *next; op; op = next) {
        next = op->next;
        if (!op->done && (op->queued || uv_is_active((uv_handle_t *)&op->timer))) {
            uv_timer_stop(&op->timer);
            s3_op_finish(op, -ECANCELED, 0, NULL, 0, NULL);
        }
    }
    /* Requests in flight come back through on_response with -ECANCELED. */
    ob_close(c->ob, on_ob_closed, c);
}
