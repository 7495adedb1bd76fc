/* static.c - the web client's files.
 *
 * The files are few and small (an index page, a script, a stylesheet, a few
 * icons), so they are read with plain stdio on the loop thread: each read
 * costs microseconds from the page cache, far less than a round trip to a
 * thread pool would.
 */
#include "static.h"

#include "net_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define STATIC_MAX_FILE (8u << 20) /* refuse to slurp anything bigger */

static const char static_headers[] = "Cache-Control: no-cache\r\n"
                                     "X-Content-Type-Options: nosniff\r\n";

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"ico", "image/x-icon"},
    {"json", "application/json"},
    {"webmanifest", "application/manifest+json"},
    {"woff2", "font/woff2"},
};

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot == NULL || strchr(dot, '/') != NULL)
        return "application/octet-stream";
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(dot + 1, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static void json_error(net_conn *c, int status, const char *code, const char *message,
                       const char *extra)
{
    char body[256];
    int n = net__json_error(body, sizeof(body), code, message);
    net_respond(c, status, "application/json", extra, body, n < 0 ? 0 : (size_t)n);
}

/* Whether a decoded path is one we may even look up: absolute, no NUL, and
 * no "." or ".." segment. */
static int path_ok(duet_slice p)
{
    if (p.len == 0 || p.base[0] != '/' || memchr(p.base, '\0', p.len) != NULL)
        return 0;
    const char *s = p.base, *end = p.base + p.len;
    while (s < end) {
        s++; /* past '/' */
        const char *e = memchr(s, '/', (size_t)(end - s));
        if (e == NULL)
            e = end;
        size_t n = (size_t)(e - s);
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return 0;
        s = e;
    }
    return 1;
}

/* Reads a whole regular file; 0, or a negative errno. */
static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -errno;
    int r = 0;
    char *buf = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) < 0) {
        r = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        r = -ENOENT;
        goto out;
    }
    if ((uintmax_t)st.st_size > STATIC_MAX_FILE) {
        r = -EFBIG;
        goto out;
    }
    size_t size = (size_t)st.st_size;
    buf = malloc(size ? size : 1);
    if (buf == NULL) {
        r = -ENOMEM;
        goto out;
    }
    if (size > 0 && fread(buf, 1, size, f) != size) {
        r = -EIO;
        goto out;
    }
    *out = buf;
    *len = size;
    buf = NULL;
out:
    free(buf);
    fclose(f); /* read-only: nothing to lose on close */
    return r;
}

/* Resolves req_path under root, following symlinks, and checks that the
 * result is still inside root. 0 and a malloc'd path, or -ENOENT. */
static int resolve(const char *root, duet_slice req_path, char **out)
{
    char *root_real = realpath(root, NULL);
    if (root_real == NULL)
        return -errno;
    int r = -ENOENT;
    char *full = NULL, *real = NULL;
    size_t rl = strlen(root), len = rl + req_path.len + 1;
    if ((full = malloc(len)) == NULL) {
        r = -ENOMEM;
        goto out;
    }
    memcpy(full, root, rl);
    memcpy(full + rl, req_path.base, req_path.len);
    full[len - 1] = '\0';
    if ((real = realpath(full, NULL)) == NULL) {
        r = errno == ENOMEM ? -ENOMEM : -ENOENT;
        goto out;
    }
    size_t rrl = strlen(root_real);
    if (strncmp(real, root_real, rrl) != 0 || (real[rrl] != '/' && !(rrl == 1 && real[0] == '/')))
        goto out; /* a symlink out of root */
    *out = real;
    real = NULL;
    r = 0;
out:
    free(root_real);
    free(full);
    free(real);
    return r;
}

void static_serve(net_conn *c, const net_request *req, const char *root)
{
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        json_error(c, 405, "method_not_allowed", "only GET and HEAD", "Allow: GET, HEAD\r\n");
        return;
    }
    duet_slice path = req->path;
    if (path.len == 1 && path.base[0] == '/')
        path = DUET_SLICE_LIT("/index.html");
    if (!path_ok(path)) {
        json_error(c, 404, "not_found", "no such file", NULL);
        return;
    }
    char *real = NULL, *data = NULL;
    size_t len = 0;
    int r = resolve(root, path, &real);
    if (r == 0)
        r = read_file(real, &data, &len);
    if (r == 0)
        net_respond(c, 200, content_type(real), static_headers, data, len);
    else if (r == -ENOENT || r == -ENOTDIR || r == -EACCES || r == -EISDIR || r == -ELOOP)
        json_error(c, 404, "not_found", "no such file", NULL);
    else
        json_error(c, 500, "internal", "cannot read the file", NULL);
    free(real);
    free(data);
}
