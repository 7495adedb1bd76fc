/* media_api.c - GET and HEAD /api/media/<id>: the access check in the
 * store (STORE_MEDIA_GET: the uploader before sending, then whoever's
 * history shows the message), then the blob store answers (local disk:
 * the bytes with Range; S3: a short-lived redirect). Everything else is
 * 404, one answer for missing, foreign, withheld and deleted media. */
#include "uploads_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/log.h"
#include "tus.h"

/* Bytes of the UTF-8 character that starts with lead (1 for a stray
 * continuation or invalid byte, which is escaped on its own). */
static size_t utf8_len(unsigned char lead)
{
    return lead >= 0xF0 && lead < 0xF8 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
}

static int attr_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$&+-.^_`|~", c) != NULL);
}

/* Content-Disposition's filename*: RFC 8187 percent-encoding of UTF-8. A
 * name too long for out is cut at a character boundary, never inside a
 * multi-byte character: half a character would make the whole filename*
 * invalid UTF-8, which browsers may refuse or mangle. */
static void disposition(char *out, size_t cap, int attachment, const char *name)
{
    size_t n =
        (size_t)snprintf(out, cap, "Content-Disposition: %s", attachment ? "attachment" : "inline");
    if (name != NULL && name[0] != '\0' && n + 32 < cap) {
        n += (size_t)snprintf(out + n, cap - n, "; filename*=UTF-8''");
        const unsigned char *p = (const unsigned char *)name;
        while (*p) {
            size_t k = utf8_len(*p);
            for (size_t i = 1; i < k; i++)
                if (p[i] == '\0') /* a character cut short by the name's end */
                    k = i;
            if (n + 3 * k + 3 > cap) /* room for "\r\n" and the terminator */
                break;
            for (size_t i = 0; i < k; i++, p++) {
                if (attr_char(*p))
                    out[n++] = (char)*p;
                else
                    n += (size_t)snprintf(out + n, cap - n, "%%%02X", *p);
            }
        }
    }
    snprintf(out + n, cap - n, "\r\n");
}

static void media_cb(store_req *r)
{
    struct api_call *call = r->data;
    struct uploads *u = call->app->uploads;
    const struct duet_upload *up = &r->out.upload;
    if (r->status == DUET_ENOTFOUND || (r->status == 0 && u == NULL)) {
        api_error(call, "not_found", "no such media");
        return;
    }
    if (r->status == -ENOTSUP) {
        uploads_error(call, "media_unavailable", "media is not available on this store");
        return;
    }
    if (r->status < 0) {
        api_fail(call, r->status);
        return;
    }
    const char *mime = up->mime[0] ? up->mime : "application/octet-stream";
    int attachment = up->kind == MEDIA_FILE || !media_inline_ok(mime);
    if (attachment && strncmp(mime, "application/", 12) != 0)
        mime = "application/octet-stream"; /* never an image/video/audio type as a file */
    char disp[700], etag[40];
    disposition(disp, sizeof(disp), attachment, up->name);
    snprintf(etag, sizeof(etag), "\"%s\"", up->id);
    char *h = pool_alloc(&call->pool, 1024);
    if (h == NULL) {
        api_fail(call, -ENOMEM);
        return;
    }
    /* No page can come of an upload: nosniff, a sandboxing CSP, and only
     * allowlisted media types inline (docs/security.md, "Media"). */
    snprintf(h, 1024,
             "Cache-Control: private, immutable, max-age=31536000\r\n"
             "X-Content-Type-Options: nosniff\r\n"
             "Content-Security-Policy: sandbox; default-src 'none'\r\n"
             "Cross-Origin-Resource-Policy: same-origin\r\n"
             "Referrer-Policy: no-referrer\r\n%s",
             disp);
    struct blob_serve_opts o = {
        .size = up->length,
        .content_type = mime,
        .extra_headers = h,
        .etag = etag,
        .req = call->req,
    };
    call->app->metrics.http_requests++;
    int rc = blob_serve(u->blob, up->id, call->conn, &o);
    if (rc < 0) {
        log_warn("media: serving %s: %s", up->id, strerror(-rc));
        api_fail(call, rc);
        return;
    }
    api_json_done(call); /* answered (or being answered) by the blob store */
}

void api_media_get(struct api_call *call)
{
    if (!tus_id_ok(call->arg.base, call->arg.len)) {
        api_error(call, "not_found", "no such media");
        return;
    }
    memcpy(call->name, call->arg.base, 32);
    call->name[32] = '\0';
    store_req *r = api_prepare(call, STORE_MEDIA_GET, NULL);
    r->cb = media_cb;
    r->in.user = call->me.id;
    r->in.upload_id = call->name;
    api_submit(call);
}
