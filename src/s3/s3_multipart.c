/* s3_multipart.c - a multipart upload as a chain of steps: Create, then
 * UploadPart for each part of the file (one at a time, each streamed from
 * its file range), then Complete; any failure after Create sends Abort
 * (once, with the usual retries) before the operation reports it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_int.h"
#include "s3_sigv4.h"
#include "s3_xml.h"

static void send_part(struct s3_op *op);

static void on_aborted(struct s3_op *op, const struct ob_response *res)
{
    /* Whatever Abort answered, the upload's own failure is what counts. */
    s3_op_finish(op, op->failed_err, op->failed_status, op->failed_code, 0, NULL);
}

/* Records the failure, then aborts the upload. */
static void fail(struct s3_op *op, int err, long status, const char *code)
{
    op->failed_err = err ? err : -EIO;
    op->failed_status = status;
    snprintf(op->failed_code, sizeof(op->failed_code), "%s", code ? code : "");
    if (err == -ECANCELED) {
        s3_op_finish(op, err, status, code, 0, NULL);
        return;
    }
    char enc[S3_ID_LEN * 3];
    if (sigv4_uri_encode(op->upload_id, 0, enc, sizeof(enc)) < 0) {
        s3_op_finish(op, op->failed_err, status, code, 0, NULL);
        return;
    }
    snprintf(op->query, sizeof(op->query), "uploadId=%s", enc);
    memset(&op->send, 0, sizeof(op->send));
    op->send.method = "DELETE";
    op->send.query = op->query;
    op->step = on_aborted;
    if (s3_op_send(op) != 0)
        s3_op_finish(op, op->failed_err, status, op->failed_code, 0, NULL);
}

/* Fails on a transfer error or a non-2xx status; 1 when it did. */
static int failed(struct s3_op *op, const struct ob_response *res)
{
    char code[S3_CODE_LEN];
    if (res->err) {
        fail(op, res->err, 0, "");
        return 1;
    }
    if (res->status / 100 != 2) {
        int err = s3_status_err(res, code);
        fail(op, err, res->status, code);
        return 1;
    }
    return 0;
}

static void on_completed(struct s3_op *op, const struct ob_response *res)
{
    char code[S3_CODE_LEN] = "", etag[S3_ETAG_LEN] = "";
    if (failed(op, res))
        return;
    /* S3 may answer 200 and then an Error document in the body. */
    if (res->body_len &&
        s3_xml_text((const char *)res->body, res->body_len, "Code", code, sizeof(code)) >= 0) {
        fail(op, -EIO, res->status, code);
        return;
    }
    if (!res->body_len ||
        s3_xml_text((const char *)res->body, res->body_len, "ETag", etag, sizeof(etag)) < 0) {
        fail(op, -EIO, res->status, "");
        return;
    }
    s3_op_finish(op, 0, res->status, "", op->size, etag);
}

/* Appends to the XML body; -ENOSPC when full. */
static int xml_add(char *buf, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap - *len)
        return -ENOSPC;
    memcpy(buf + *len, s, n + 1);
    *len += n;
    return 0;
}

static void complete(struct s3_op *op)
{
    size_t cap = 64 + (size_t)op->n_parts * (64 + S3_ETAG_LEN * 6), len = 0;
    char line[64], esc[S3_ETAG_LEN * 6];
    if (!(op->xml = malloc(cap))) {
        fail(op, -ENOMEM, 0, "");
        return;
    }
    op->xml[0] = '\0';
    int rc = xml_add(op->xml, cap, &len, "<CompleteMultipartUpload>");
    for (uint32_t i = 0; i < op->n_parts && !rc; i++) {
        /* The ETag comes from the server: escape what XML needs. */
        size_t e = 0;
        for (const char *p = op->etags[i]; *p; p++) {
            const char *r = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : NULL;
            size_t rl = r ? strlen(r) : 1;
            memcpy(esc + e, r ? r : p, rl);
            e += rl;
        }
        esc[e] = '\0';
        snprintf(line, sizeof(line), "<Part><PartNumber>%u</PartNumber><ETag>", (unsigned)i + 1);
        rc = xml_add(op->xml, cap, &len, line);
        if (!rc)
            rc = xml_add(op->xml, cap, &len, esc);
        if (!rc)
            rc = xml_add(op->xml, cap, &len, "</ETag></Part>");
    }
    if (!rc)
        rc = xml_add(op->xml, cap, &len, "</CompleteMultipartUpload>");
    if (rc) {
        fail(op, -EIO, 0, "");
        return;
    }
    memset(&op->send, 0, sizeof(op->send));
    op->send.method = "POST";
    char enc[S3_ID_LEN * 3];
    if (sigv4_uri_encode(op->upload_id, 0, enc, sizeof(enc)) < 0) {
        fail(op, -EIO, 0, "");
        return;
    }
    snprintf(op->query, sizeof(op->query), "uploadId=%s", enc);
    op->send.query = op->query;
    op->send.body = op->xml, op->send.body_len = len;
    op->send.content_type = "application/xml";
    op->step = on_completed;
    if ((rc = s3_op_send(op)) != 0)
        fail(op, rc, 0, "");
}

static void on_part(struct s3_op *op, const struct ob_response *res)
{
    if (failed(op, res))
        return;
    const char *etag = NULL;
    for (size_t i = 0; i < res->n_headers; i++)
        if (strcmp(res->headers[i].name, "ETag") == 0)
            etag = res->headers[i].value;
    if (!etag || !*etag || strlen(etag) >= S3_ETAG_LEN) {
        fail(op, -EIO, res->status, "");
        return;
    }
    snprintf(op->etags[op->part - 1], S3_ETAG_LEN, "%s", etag);
    if (op->part == op->n_parts) {
        complete(op);
        return;
    }
    op->part++;
    send_part(op);
}

static void send_part(struct s3_op *op)
{
    char enc[S3_ID_LEN * 3];
    uint64_t ps = s3_part_size(op->c), off = (uint64_t)(op->part - 1) * ps;
    if (sigv4_uri_encode(op->upload_id, 0, enc, sizeof(enc)) < 0) {
        fail(op, -EIO, 0, "");
        return;
    }
    /* Sorted: partNumber before uploadId. */
    snprintf(op->query, sizeof(op->query), "partNumber=%u&uploadId=%s", (unsigned)op->part, enc);
    memset(&op->send, 0, sizeof(op->send));
    op->send.method = "PUT";
    op->send.query = op->query;
    op->send.file = op->path;
    op->send.file_off = off;
    op->send.file_len = op->size - off < ps ? op->size - off : ps;
    op->step = on_part;
    int rc = s3_op_send(op);
    if (rc)
        fail(op, rc, 0, "");
}

static void on_created(struct s3_op *op, const struct ob_response *res)
{
    char code[S3_CODE_LEN];
    if (res->err) {
        s3_op_finish(op, res->err, 0, NULL, 0, NULL);
        return;
    }
    if (res->status / 100 != 2) {
        int err = s3_status_err(res, code);
        s3_op_finish(op, err, res->status, code, 0, NULL);
        return;
    }
    int n = s3_xml_text((const char *)res->body, res->body_len, "UploadId", op->upload_id,
                        sizeof(op->upload_id));
    if (n <= 0) {
        s3_op_finish(op, -EIO, res->status, "", 0, NULL);
        return;
    }
    uint64_t ps = s3_part_size(op->c);
    op->n_parts = (uint32_t)((op->size + ps - 1) / ps);
    if (op->n_parts == 0)
        op->n_parts = 1; /* an empty file is one empty part */
    if (!(op->etags = calloc(op->n_parts, sizeof(*op->etags)))) {
        fail(op, -ENOMEM, 0, "");
        return;
    }
    op->part = 1;
    send_part(op);
}

void s3_multi_start(struct s3_op *op)
{
    memset(&op->send, 0, sizeof(op->send));
    op->send.method = "POST";
    op->send.query = "uploads=";
    op->send.content_type = op->ctype; /* the object's, given at Create */
    op->step = on_created;
    int rc = s3_op_send(op);
    if (rc)
        s3_op_finish(op, rc, 0, NULL, 0, NULL);
}
