/* uploads.c - tus 1.0.0 (core, creation, termination, expiration) under
 * /api/uploads.
 *
 * A PATCH body streams to the staged file <data>/uploads/<id>: the network
 * layer delivers at most UP_BUF bytes (net_body_allow), they are written at
 * their offset on the thread pool (uv_fs_write), and only then is more
 * allowed, so a connection holds one buffer whatever the upload's size and
 * the socket is not read while a write is in flight. Every UP_CHECKPOINT
 * bytes, and when the body ends or the connection is cut, the file is
 * fsync'd and then the offset stored: the stored offset never counts a
 * byte that a crash could lose, and a client resumes at HEAD's offset.
 * When the last byte is in, the first bytes are sniffed (media_sniff.h) and
 * the file is handed to the blob store.
 */
#include "uploads.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/media_sniff.h"
#include "tus.h"
#include "uploads_int.h"

void uploads_error(struct api_call *call, const char *code, const char *message)
{
    static const struct {
        const char *code;
        int status;
    } map[] = {
        {"not_found", 404},
        {"too_large", 413},
        {"quota", 429},
        {"too_many_uploads", 429},
        {"bad_offset", 409},
        {"upload_busy", 409},
        {"upload_complete", 409},
        {"attached", 409},
        {"type_mismatch", 415},
        {"unsupported_media_type", 415},
        {"tus_version", 412},
        {"disk_full", 507},
        {"storage_failed", 503},
        {"media_unavailable", 501},
        {"internal", 500},
        {"store_failed", 503},
        {"busy", 503},
    };
    int status = 400;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].code, code) == 0)
            status = map[i].status;
    json_t *j = json_pack("{s:s, s:s}", "error", code, "message", message);
    const char *hdr = status == 412 ? TUS_HDR "Tus-Version: 1.0.0\r\n" : TUS_HDR;
    api_json(call, status, j, hdr);
}

/* A store failure as an upload error. */
void up_fail(struct api_call *call, int err)
{
    if (err == DUET_ENOTFOUND)
        uploads_error(call, "not_found", "no such upload");
    else if (err == -ENOTSUP)
        uploads_error(call, "media_unavailable", "media is not available on this store");
    else if (err == DUET_EBUSY)
        uploads_error(call, "busy", "the server is busy; try again shortly");
    else if (err == -ENOSPC)
        uploads_error(call, "disk_full", "the server's disk is full");
    else
        uploads_error(call, "store_failed", "the upload could not be stored");
}

int uploads_staged_path(const struct uploads *u, const char *id, char *out, size_t size)
{
    if (!tus_id_ok(id, strlen(id)))
        return -EINVAL;
    int n = snprintf(out, size, "%s/%s", u->staging, id);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int uploads_busy(const struct uploads *u, const char *id)
{
    for (const struct up_patch *p = u->patches; p != NULL; p = p->next)
        if (strcmp(p->id, id) == 0)
            return 1;
    return 0;
}

/* Every request but OPTIONS must speak tus 1.0.0: 412 otherwise. */
int up_tus_ok(struct api_call *call)
{
    const duet_slice *v = net_header(call->req, "Tus-Resumable");
    if (v != NULL && v->len == 5 && memcmp(v->base, "1.0.0", 5) == 0)
        return 1;
    uploads_error(call, "tus_version", "send Tus-Resumable: 1.0.0");
    return 0;
}

/* The route's {id}, checked: 1, or answered 404 and 0. */
int up_arg_id(struct api_call *call, char out[33])
{
    if (!tus_id_ok(call->arg.base, call->arg.len)) {
        uploads_error(call, "not_found", "no such upload");
        return 0;
    }
    memcpy(out, call->arg.base, 32);
    out[32] = '\0';
    return 1;
}

static const char *http_date(struct api_call *call, int64_t ms)
{
    char *s = pool_alloc(&call->pool, 40);
    if (s == NULL)
        return "";
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(s, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
        return "";
    return s;
}

/* ---- OPTIONS, POST (creation), HEAD, DELETE (termination) ---- */

void api_upload_options(struct api_call *call)
{
    char *h = pool_alloc(&call->pool, 256);
    if (h == NULL) {
        api_fail(call, -ENOMEM);
        return;
    }
    snprintf(h, 256,
             TUS_HDR "Tus-Version: 1.0.0\r\nTus-Extension: creation,termination,expiration\r\n"
                     "Tus-Max-Size: %lld\r\n",
             (long long)call->app->cfg->max_upload_bytes);
    api_no_content(call, h);
}

static void create_done(struct api_call *call)
{
    const struct duet_upload *up = &call->sreq.out.upload;
    char *h = pool_alloc(&call->pool, 256);
    if (h == NULL) {
        api_fail(call, -ENOMEM);
        return;
    }
    snprintf(h, 256,
             TUS_HDR "Location: /api/uploads/%s\r\nUpload-Expires: %s\r\nUpload-Offset: 0\r\n",
             up->id, http_date(call, up->expires_at));
    json_t *j = json_pack("{s:s, s:I}", "id", up->id, "expires_at", (json_int_t)up->expires_at);
    api_json(call, 201, j, h);
}

static void create_cb(store_req *r)
{
    struct api_call *call = r->data;
    if (r->status == DUET_EFULL)
        uploads_error(call, "too_many_uploads",
                      "too many unfinished uploads; finish or cancel one");
    else if (r->status == DUET_ELIMIT)
        uploads_error(call, "quota", "the daily upload quota is used up; try again later");
    else if (r->status < 0)
        up_fail(call, r->status);
    else
        create_done(call);
}

void api_upload_create(struct api_call *call)
{
    if (!up_tus_ok(call))
        return;
    const struct config *cfg = call->app->cfg;
    const duet_slice *len = net_header(call->req, "Upload-Length");
    const duet_slice *meta = net_header(call->req, "Upload-Metadata");
    uint64_t length;
    if (len == NULL || tus_parse_u64(len->base, len->len, &length) < 0) {
        uploads_error(call, "bad_request", "Upload-Length must be a whole number of bytes");
        return;
    }
    if (length == 0 || length > (uint64_t)cfg->max_upload_bytes) {
        uploads_error(call, "too_large",
                      length == 0 ? "an upload holds at least one byte"
                                  : "the upload is larger than Tus-Max-Size");
        return;
    }
    if (call->req->body.len > 0) {
        uploads_error(call, "bad_request", "send the bytes with PATCH (no creation-with-upload)");
        return;
    }
    char *name = pool_alloc(&call->pool, TUS_NAME_MAX + 1);
    char *type = pool_alloc(&call->pool, TUS_TYPE_MAX + 1);
    struct duet_upload *up = pool_alloc(&call->pool, sizeof(*up));
    char *id = pool_alloc(&call->pool, 33);
    if (name == NULL || type == NULL || up == NULL || id == NULL) {
        api_fail(call, -ENOMEM);
        return;
    }
    name[0] = type[0] = '\0';
    if (meta != NULL && tus_parse_metadata(meta->base, meta->len, name, type) < 0) {
        uploads_error(call, "bad_metadata",
                      "Upload-Metadata is key base64, ...; filename and filetype are short text");
        return;
    }
    uint8_t rnd[16];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(id, 33, rnd, sizeof(rnd));
    int64_t now = duet_now_ms();
    memset(up, 0, sizeof(*up));
    up->id = id;
    up->length = length;
    up->name = name;
    up->filetype = type;
    up->created_at = now;
    up->expires_at = now + cfg->upload_ttl_ms;
    store_req *r = api_prepare(call, STORE_UPLOAD_CREATE, create_done);
    r->cb = create_cb;
    r->in.user = call->me.id;
    r->in.upload = up;
    r->in.max_per_day = cfg->upload_quota_bytes;
    r->in.max_pending = cfg->max_uploads_inflight;
    api_submit(call);
}

static void head_cb(store_req *r)
{
    struct api_call *call = r->data;
    const struct duet_upload *up = &r->out.upload;
    if (r->status < 0) {
        up_fail(call, r->status);
        return;
    }
    if (up->state == UPLOAD_DELETED ||
        (up->state == UPLOAD_STAGING && up->expires_at <= duet_now_ms())) {
        uploads_error(call, "not_found", "no such upload");
        return;
    }
    char *h = pool_alloc(&call->pool, 256);
    if (h == NULL) {
        api_fail(call, -ENOMEM);
        return;
    }
    snprintf(h, 256, TUS_HDR "Upload-Offset: %llu\r\nUpload-Length: %llu\r\nUpload-Expires: %s\r\n",
             (unsigned long long)up->offset, (unsigned long long)up->length,
             http_date(call, up->expires_at));
    /* 200 with no body (tus): net_respond sends no body for HEAD. */
    api_json(call, 200, json_object(), h);
}

void api_upload_head(struct api_call *call)
{
    if (!up_tus_ok(call) || !up_arg_id(call, call->name))
        return;
    store_req *r = api_prepare(call, STORE_UPLOAD_GET, NULL);
    r->cb = head_cb;
    r->in.user = call->me.id;
    r->in.upload_id = call->name;
    api_submit(call);
}

static void delete_removed(int status, void *ud)
{
    struct api_call *call = ud;
    if (status < 0)
        log_warn("uploads: removing a cancelled upload's blob (the sweep tries again): %s",
                 strerror(-status));
    api_no_content(call, TUS_HDR); /* the row is marked deleted; the sweep clears it */
}

static void delete_cb(store_req *r)
{
    struct api_call *call = r->data;
    struct uploads *u = call->app->uploads;
    if (r->status == DUET_EFORBIDDEN) {
        uploads_error(call, "attached", "the upload belongs to a message; delete the message");
        return;
    }
    if (r->status < 0) {
        up_fail(call, r->status);
        return;
    }
    char path[1100];
    if (uploads_staged_path(u, call->name, path, sizeof(path)) == 0 && unlink(path) < 0 &&
        errno != ENOENT)
        log_warn("uploads: unlink %s: %s", path, strerror(errno));
    if (r->out.upload.state == UPLOAD_STORED &&
        blob_remove(u->blob, call->name, delete_removed, call) == 0)
        return;
    api_no_content(call, TUS_HDR);
}

void api_upload_delete(struct api_call *call)
{
    if (!up_tus_ok(call) || !up_arg_id(call, call->name))
        return;
    if (uploads_busy(call->app->uploads, call->name)) {
        uploads_error(call, "upload_busy", "a PATCH of this upload is running");
        return;
    }
    store_req *r = api_prepare(call, STORE_UPLOAD_DELETE, NULL);
    r->cb = delete_cb;
    r->in.user = call->me.id;
    r->in.upload_id = call->name;
    r->in.now = duet_now_ms();
    api_submit(call);
}
