/* http_file.c - answers whose body is a file (net_respond_file) and the
 * Range header parser.
 *
 * The file is read in chunks on libuv's thread pool (uv_fs_read), each
 * only once the conn's output fell below NET__FILE_LOW, so a download
 * holds one chunk of memory whatever the file's size and the loop never
 * waits for the disk. The request stays in flight until the last chunk is
 * queued, so a pipelined request waits as for any answer.
 */
#include "net_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NET__FILE_CHUNK (64u << 10)
#define NET__FILE_LOW   (64u << 10) /* read the next chunk below this much output */

/* Ownership: the conn (u.http->fsend) owns it and its fd; while a read is
 * in flight (busy) the read holds a conn reference and it is freed by the
 * read's callback if the conn closed meanwhile. */
struct net__fsend {
    uv_fs_t fs;
    net_conn *c;
    uv_file fd;
    uint64_t off, left;
    int keep;
    int busy;
    char buf[NET__FILE_CHUNK];
};

static void close_fd(uv_loop_t *loop, uv_file fd)
{
    uv_fs_t req;
    /* Closing a regular file does not wait for the disk. */
    (void)uv_fs_close(loop, &req, fd, NULL);
    uv_fs_req_cleanup(&req);
}

void net__fsend_free(net_conn *c)
{
    struct net__http *h = c->u.http;
    if (h == NULL || h->fsend == NULL || h->fsend->busy)
        return;
    close_fd(h->fsend->fs.loop ? h->fsend->fs.loop : uv_default_loop(), h->fsend->fd);
    free(h->fsend);
    h->fsend = NULL;
}

static void on_read(uv_fs_t *req)
{
    struct net__fsend *f = req->data;
    net_conn *c = f->c;
    ssize_t n = req->result;
    uv_loop_t *loop = req->loop;
    uv_fs_req_cleanup(req);
    f->busy = 0;
    if (c->closed || c->u.http == NULL || c->u.http->fsend != f) {
        close_fd(loop, f->fd);
        if (c->u.http != NULL && c->u.http->fsend == f)
            c->u.http->fsend = NULL;
        free(f);
        net_conn_unref(c);
        return;
    }
    /* The file is not the size the header promised, or there is no memory
     * for the chunk: the only honest end is a cut. */
    if (n <= 0 || (uint64_t)n > f->left || net__out_append(c, f->buf, (size_t)n) < 0) {
        c->u.http->fsend = NULL;
        close_fd(loop, f->fd);
        free(f);
        net__conn_drop(c);
        net_conn_unref(c);
        return;
    }
    f->off += (uint64_t)n;
    f->left -= (uint64_t)n;
    /* The next chunk comes once the peer read this one: a peer that stops
     * reading is dropped after the idle timeout, fd and all. */
    net__timer_set(c, NET__T_IDLE, c->srv->opts.idle_timeout_ms);
    if (f->left == 0) {
        int keep = f->keep;
        c->u.http->fsend = NULL;
        close_fd(loop, f->fd);
        free(f);
        net__http_answered(c, keep);
    }
    net_conn_unref(c);
}

void net__fsend_pump(net_conn *c)
{
    struct net__fsend *f = c->u.http->fsend;
    if (f == NULL || f->busy || f->left == 0 || net__out_pending(c) >= NET__FILE_LOW)
        return;
    size_t n = f->left < sizeof(f->buf) ? (size_t)f->left : sizeof(f->buf);
    uv_buf_t b = uv_buf_init(f->buf, (unsigned)n);
    f->fs.data = f;
    int r = uv_fs_read(c->srv->loop, &f->fs, f->fd, &b, 1, (int64_t)f->off, on_read);
    if (r < 0) {
        net__conn_drop(c);
        return;
    }
    f->busy = 1;
    net_conn_ref(c);
}

void net_respond_file(net_conn *c, int status, const char *content_type, const char *extra_headers,
                      uv_file fd, uint64_t off, uint64_t len)
{
    if (c->closed || c->is_ws || !c->u.http->in_flight || c->u.http->fsend != NULL) {
        close_fd(c->srv ? c->srv->loop : uv_default_loop(), fd);
        return;
    }
    struct net__http *h = c->u.http;
    int keep = 0;
    if (net__http_head(c, status, content_type, extra_headers, len, &keep) < 0) {
        close_fd(c->srv->loop, fd);
        net__conn_drop(c);
        return;
    }
    if (h->head || len == 0) {
        close_fd(c->srv->loop, fd);
        net__http_answered(c, keep);
        return;
    }
    struct net__fsend *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        close_fd(c->srv->loop, fd);
        net__conn_drop(c);
        return;
    }
    f->c = c;
    f->fd = fd;
    f->off = off;
    f->left = len;
    f->keep = keep;
    f->fs.loop = c->srv->loop;
    h->fsend = f;
    net__timer_set(c, NET__T_IDLE, c->srv->opts.idle_timeout_ms);
    net__conn_mark(c); /* the pump reads the first chunk */
}

/* Parses an unsigned decimal of at most 19 digits from [*p, end). */
static int parse_u64(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    int n = 0;
    while (s < end && *s >= '0' && *s <= '9') {
        if (++n > 19)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
        s++;
    }
    if (n == 0)
        return -1;
    *p = s;
    *out = v;
    return 0;
}

int net_range_parse(const char *v, size_t len, uint64_t size, uint64_t *first, uint64_t *last)
{
    const char *p = v, *end = v + len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if ((size_t)(end - p) < 6 || strncasecmp(p, "bytes=", 6) != 0)
        return 0; /* another unit: ignored */
    p += 6;
    while (p < end && *p == ' ')
        p++;
    if (memchr(p, ',', (size_t)(end - p)) != NULL)
        return 0; /* several ranges: the whole body instead (RFC 9110 allows it) */
    uint64_t a = 0, b = 0;
    if (p < end && *p == '-') { /* suffix: the last b bytes */
        p++;
        if (parse_u64(&p, end, &b) < 0 || p != end)
            return 0;
        if (b == 0 || size == 0)
            return -ERANGE;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return 1;
    }
    if (parse_u64(&p, end, &a) < 0 || p >= end || *p != '-')
        return 0;
    p++;
    if (p == end) {
        b = UINT64_MAX;
    } else if (parse_u64(&p, end, &b) < 0 || p != end || b < a) {
        return 0; /* syntactically invalid: ignored */
    }
    if (a >= size)
        return -ERANGE;
    *first = a;
    *last = b >= size ? size - 1 : b;
    return 1;
}
