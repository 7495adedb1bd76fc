/* upload.c - the upload scenario's tus clients (issue 15): --uploads users
 * (after the chat pairs, one upload each, so per-user limits never bind)
 * each POST /api/uploads with Upload-Length, then PATCH the bytes in
 * requests of --upload-patch bytes, each body written UPL_PIECE bytes at a
 * time from one shared pattern buffer: the client never holds a file, only
 * one piece. A finished upload is deleted (tus termination) so the disk does
 * not fill; that DELETE is not part of the upload's time. Each uploader
 * starts a new upload after the last until --duration seconds have passed,
 * so the chat traffic sees uploads for as long as it saw none (small files
 * would otherwise be done in a fraction of a second). Meanwhile the server's
 * VmRSS is sampled, so memory per concurrent upload can be read. */
#include "worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define UPL_PIECE       (64 * 1024)
#define UPL_RSS_EVERY_S 0.02

enum { UPL_POST, UPL_PATCH, UPL_DELETE, UPL_DONE };

/* One upload. Ownership: in the upload set's array; its tcp handle is
 * closed before the next request and before the set is freed. */
struct upl {
    struct upload_set *set;
    int user; /* global index */
    int stage;
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    http_parser parser;
    int tcp_open;
    int status, complete, hdr_kind;
    char loc[128];      /* /api/uploads/<id> */
    long long resp_off; /* Upload-Offset of the answer */
    char head[768];
    size_t head_len;
    uint64_t off, body_len, body_sent;
    uint64_t t0_us;
    char rbuf[4096];
};

/* Ownership: worker->ups; owns the uploads and the pattern buffer. */
struct upload_set {
    struct worker *w;
    struct upl *u;
    int n, active;
    char *piece; /* UPL_PIECE bytes of pattern, shared by every body */
    double t0, last_rss;
};

static void upl_next(struct upl *u);

uint64_t upload_parse_size(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || v == 0)
        return 0;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift != 0)
        end++;
    if (*end != '\0' || v > (1ULL << 40) >> shift)
        return 0;
    return (uint64_t)v << shift;
}

int upload_read_mem(int pid, long *rss_kib, long *hwm_kib)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -errno;
    *rss_kib = *hwm_kib = -1;
    while (fgets(line, sizeof(line), f)) {
        long v;
        if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
            *rss_kib = v;
        else if (sscanf(line, "VmHWM: %ld kB", &v) == 1)
            *hwm_kib = v;
    }
    fclose(f);
    return *rss_kib >= 0 && *hwm_kib >= 0 ? 0 : -EINVAL;
}

static int u_header_field(http_parser *p, const char *at, size_t n)
{
    struct upl *u = p->data;
    u->hdr_kind = 0;
    if (n == 8 && strncasecmp(at, "location", 8) == 0)
        u->hdr_kind = 1;
    else if (n == 13 && strncasecmp(at, "upload-offset", 13) == 0)
        u->hdr_kind = 2;
    return 0;
}

static int u_header_value(http_parser *p, const char *at, size_t n)
{
    struct upl *u = p->data;
    if (u->hdr_kind == 1 && n < sizeof(u->loc)) {
        memcpy(u->loc, at, n);
        u->loc[n] = '\0';
    } else if (u->hdr_kind == 2) {
        char b[24];
        if (n >= sizeof(b))
            return -1;
        memcpy(b, at, n);
        b[n] = '\0';
        u->resp_off = atoll(b);
    }
    return 0;
}

static int u_complete(http_parser *p)
{
    struct upl *u = p->data;
    u->status = (int)p->status_code;
    u->complete = 1;
    return 0;
}

static const http_parser_settings u_settings = {.on_header_field = u_header_field,
                                                .on_header_value = u_header_value,
                                                .on_message_complete = u_complete};

static void u_fail(struct upl *u, const char *why)
{
    struct worker *w = u->set->w;
    w->res.up_failed++;
    if (w->res.note[0] == '\0')
        snprintf(w->res.note, sizeof(w->res.note), "upload of user %d: %s (HTTP %d, stage %d)",
                 u->user, why, u->status, u->stage);
    u->stage = UPL_DONE;
}

/* The answer is in (or the connection ended): judge it, then the next
 * request once the handle has closed. */
static void u_closed(uv_handle_t *h)
{
    struct upl *u = h->data;
    u->tcp_open = 0;
    struct worker *w = u->set->w;
    if (w->finished) {
        u->stage = UPL_DONE;
    } else if (!u->complete) {
        u_fail(u, "no answer");
    } else if (u->stage == UPL_POST) {
        const char *id = strrchr(u->loc, '/');
        if (u->status != 201 || id == NULL || strlen(id + 1) != 32)
            u_fail(u, "create refused");
        else
            u->stage = UPL_PATCH;
    } else if (u->stage == UPL_PATCH) {
        if (u->status != 204 || u->resp_off != (long long)(u->off + u->body_len)) {
            u_fail(u, "PATCH refused");
        } else {
            u->off += u->body_len;
            if (u->off == w->o->upload_size) {
                hist_record(&w->res.up_time, now_us() - u->t0_us);
                w->res.up_done++;
                w->res.up_bytes += u->off;
                w->res.up_s = now_s() - u->set->t0;
                u->stage = UPL_DELETE;
            }
        }
    } else if (u->stage == UPL_DELETE) {
        if (u->status != 204) {
            u_fail(u, "DELETE refused");
        } else if (now_s() - u->set->t0 < w->o->duration) {
            u->stage = UPL_POST; /* the next upload of this user */
            u->off = 0;
        } else {
            u->stage = UPL_DONE;
        }
    }
    if (u->stage == UPL_DONE) {
        u->set->active--;
        return;
    }
    upl_next(u);
}

static void u_end(struct upl *u)
{
    if (!uv_is_closing((uv_handle_t *)&u->tcp))
        uv_close((uv_handle_t *)&u->tcp, u_closed);
}

static void u_alloc(uv_handle_t *hd, size_t hint, uv_buf_t *buf)
{
    struct upl *u = hd->data;
    (void)hint;
    buf->base = u->rbuf;
    buf->len = sizeof(u->rbuf);
}

static void u_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct upl *u = s->data;
    if (n > 0) {
        size_t done = http_parser_execute(&u->parser, &u_settings, buf->base, (size_t)n);
        if (done != (size_t)n || HTTP_PARSER_ERRNO(&u->parser) != HPE_OK || u->complete)
            u_end(u);
    } else if (n < 0) {
        if (n == UV_EOF)
            http_parser_execute(&u->parser, &u_settings, NULL, 0);
        u_end(u);
    }
}

/* Writes the head, then the body one piece per write: at most one piece is
 * queued, so the socket's back-pressure paces the client. */
static void u_written(uv_write_t *req, int status)
{
    struct upl *u = req->data;
    if (status < 0 || u->complete) {
        u_end(u); /* an early answer (an error) ends the request */
        return;
    }
    if (u->body_sent >= u->body_len)
        return; /* all out; the answer comes */
    uint64_t k = u->body_len - u->body_sent;
    if (k > UPL_PIECE)
        k = UPL_PIECE;
    uv_buf_t b = uv_buf_init(u->set->piece, (unsigned)k);
    u->body_sent += k;
    if (uv_write(&u->wreq, (uv_stream_t *)&u->tcp, &b, 1, u_written) < 0)
        u_end(u);
}

static void u_connected(uv_connect_t *c, int status)
{
    struct upl *u = c->data;
    if (status < 0) {
        u_end(u);
        return;
    }
    uv_buf_t b = uv_buf_init(u->head, (unsigned)u->head_len);
    if (uv_write(&u->wreq, (uv_stream_t *)&u->tcp, &b, 1, u_written) < 0 ||
        uv_read_start((uv_stream_t *)&u->tcp, u_alloc, u_read) < 0)
        u_end(u);
}

/* Starts the request of the upload's stage on a new connection. */
static void upl_next(struct upl *u)
{
    struct worker *w = u->set->w;
    const struct bench_opts *o = w->o;
    const char *cookie = w->spec->us->u[u->user].cookie;
    char host[INET_ADDRSTRLEN];
    uv_ip4_name(&o->dst, host, sizeof(host));
    int n = -1;
    u->body_len = u->body_sent = 0;
    if (u->stage == UPL_POST) {
        u->t0_us = now_us();
        /* filename "bench.bin", filetype "application/octet-stream" */
        n = snprintf(u->head, sizeof(u->head),
                     "POST /api/uploads HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n"
                     "Cookie: duet_session=%s\r\nTus-Resumable: 1.0.0\r\nUpload-Length: %llu\r\n"
                     "Upload-Metadata: filename YmVuY2guYmlu,filetype "
                     "YXBwbGljYXRpb24vb2N0ZXQtc3RyZWFt\r\nContent-Length: 0\r\n\r\n",
                     host, o->port, cookie, (unsigned long long)o->upload_size);
    } else if (u->stage == UPL_PATCH) {
        u->body_len = o->upload_size - u->off;
        if (u->body_len > o->upload_patch)
            u->body_len = o->upload_patch;
        n = snprintf(
            u->head, sizeof(u->head),
            "PATCH %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n"
            "Cookie: duet_session=%s\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: %llu\r\n"
            "Content-Type: application/offset+octet-stream\r\nContent-Length: %llu\r\n\r\n",
            u->loc, host, o->port, cookie, (unsigned long long)u->off,
            (unsigned long long)u->body_len);
    } else {
        n = snprintf(u->head, sizeof(u->head),
                     "DELETE %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n"
                     "Cookie: duet_session=%s\r\nTus-Resumable: 1.0.0\r\nContent-Length: 0\r\n\r\n",
                     u->loc, host, o->port, cookie);
    }
    if (n < 0 || (size_t)n >= sizeof(u->head)) {
        u_fail(u, "request too long");
        u->set->active--;
        return;
    }
    u->head_len = (size_t)n;
    u->status = u->complete = 0;
    u->resp_off = -1;
    http_parser_init(&u->parser, HTTP_RESPONSE);
    u->parser.data = u;
    if (uv_tcp_init(&w->loop, &u->tcp) < 0) {
        u_fail(u, "tcp");
        u->set->active--;
        return;
    }
    u->tcp_open = 1;
    u->tcp.data = u;
    u->creq.data = u;
    u->wreq.data = u;
    struct sockaddr_in src;
    users_src(u->user, &src);
    if (uv_tcp_bind(&u->tcp, (const struct sockaddr *)&src, 0) < 0 ||
        uv_tcp_connect(&u->creq, &u->tcp, (const struct sockaddr *)&o->dst, u_connected) < 0)
        u_end(u);
}

static void sample_rss(struct worker *w)
{
    long rss, hwm;
    if (w->o->server_pid <= 0 || upload_read_mem(w->o->server_pid, &rss, &hwm) < 0)
        return;
    if (rss > w->res.rss_up_max_kib)
        w->res.rss_up_max_kib = rss;
    w->res.hwm_up_kib = hwm;
}

int upload_start(struct worker *w)
{
    const struct bench_opts *o = w->o;
    struct upload_set *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->u = calloc((size_t)o->uploads, sizeof(*s->u));
    s->piece = malloc(UPL_PIECE);
    if (s->u == NULL || s->piece == NULL) {
        free(s->u);
        free(s->piece);
        free(s);
        return -ENOMEM;
    }
    for (size_t i = 0; i < UPL_PIECE; i++)
        s->piece[i] = (char)('a' + i % 23);
    s->w = w;
    s->n = o->uploads;
    w->ups = s;
    if (o->server_pid > 0 &&
        upload_read_mem(o->server_pid, &w->res.rss_up0_kib, &w->res.hwm_up0_kib) < 0)
        w->res.rss_up0_kib = w->res.hwm_up0_kib = -1;
    s->t0 = s->last_rss = now_s();
    for (int i = 0; i < s->n; i++) {
        s->u[i].set = s;
        s->u[i].user = 2 * o->pairs + i;
        s->u[i].stage = UPL_POST;
        s->active++;
        upl_next(&s->u[i]);
    }
    return 0;
}

int upload_tick(struct worker *w)
{
    struct upload_set *s = w->ups;
    if (s == NULL)
        return 0;
    double t = now_s();
    if (t - s->last_rss >= UPL_RSS_EVERY_S) {
        s->last_rss = t;
        sample_rss(w);
    }
    if (s->active > 0)
        return 0;
    sample_rss(w);
    return 1;
}

void upload_stop(struct worker *w)
{
    struct upload_set *s = w->ups;
    if (s == NULL)
        return;
    for (int i = 0; i < s->n; i++)
        if (s->u[i].tcp_open)
            u_end(&s->u[i]);
}

void upload_free(struct worker *w)
{
    struct upload_set *s = w->ups;
    if (s == NULL)
        return;
    free(s->u);
    free(s->piece);
    free(s);
    w->ups = NULL;
}
