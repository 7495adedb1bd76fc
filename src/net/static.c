/* static.c - the web client's files.
 *
 * The files are few and small (an index page, some scripts and a
 * stylesheet), so they are read with plain stdio on the loop thread: each
 * read costs microseconds from the page cache, far less than a round trip to
 * a thread pool would. Each file is kept in memory with its ETag and, for
 * text, its gzip form, and revalidated with one stat() per request, so a new
 * version of a file is served as soon as it is on disk.
 *
 * Caching: every response says "Cache-Control: no-cache" with an ETag (a
 * hash of the content), so browsers revalidate and get a 304 until the file
 * changes: no stale client after an upgrade, and no re-download either.
 * Except under /v/<version>/ (static_ver.h): the page names its scripts
 * there, and while <version> is the folder's current one they are served
 * "immutable", so a reload revalidates index.html alone. The service worker
 * (/sw.js) names the version too, so that it changes, and the browser sees an
 * update, whenever any file of the folder does.
 */
#include "static.h"

#include "net_int.h"
#include "static_ver.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zlib.h>

#define STATIC_MAX_FILE    (8u << 20)  /* refuse to slurp anything bigger */
#define STATIC_GZIP_MIN    1024u       /* smaller bodies gain nothing from gzip */
#define STATIC_CACHE_BYTES (32u << 20) /* the cache is dropped when it would pass this */
#define STATIC_CACHE_FILES 256u

/* Sent with every static response, errors included. The page needs nothing
 * from anywhere but its own origin: no inline script or style, no frames.
 * The service worker and the manifest are named even though default-src
 * covers them, so that the policy says what the app is allowed. blob: and
 * data: images and media are the client's own previews of files it is about
 * to send (object URLs, thumbnails); the microphone records voice notes. */
#define SECURITY_HEADERS                                                                           \
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "           \
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; font-src 'self'; "    \
    "worker-src 'self'; "                                                                          \
    "manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "                \
    "frame-ancestors 'none'\r\n"                                                                   \
    "X-Content-Type-Options: nosniff\r\n"                                                          \
    "X-Frame-Options: DENY\r\n"                                                                    \
    "Referrer-Policy: no-referrer\r\n"                                                             \
    "Permissions-Policy: camera=(), microphone=(self), geolocation=(), payment=(), usb=()\r\n"     \
    "Cross-Origin-Opener-Policy: same-origin\r\n"                                                  \
    "Cross-Origin-Resource-Policy: same-origin\r\n"

/* One file as served. Ownership: the static_cache (or static_serve, for a
 * file too big to keep). */
struct static_file {
    char *path; /* resolved real path: the key */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    const char *type;
    char etag[NET__ETAG_LEN + 1];
    char etag_gz[NET__ETAG_LEN + 4];
    char *data;
    size_t len;
    char *gz; /* NULL when gzip does not pay off */
    size_t gz_len;
};

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
    {"txt", "text/plain; charset=utf-8"},
    {"woff2", "font/woff2"},
};

/* ---- pure helpers ----------------------------------------------------- */

const char *net__content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot == NULL || strchr(dot, '/') != NULL)
        return "application/octet-stream";
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(dot + 1, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

int net__compressible(const char *type)
{
    /* Images other than SVG and fonts are compressed already. */
    return strncmp(type, "text/", 5) == 0 || strstr(type, "json") != NULL ||
           strncmp(type, "image/svg+xml", 13) == 0;
}

void net__etag(const void *data, size_t len, char out[NET__ETAG_LEN + 1])
{
    unsigned char h[8];
    crypto_generichash(h, sizeof(h), data, len, NULL, 0);
    out[0] = '"';
    for (size_t i = 0; i < sizeof(h); i++) {
        out[1 + 2 * i] = "0123456789abcdef"[h[i] >> 4];
        out[2 + 2 * i] = "0123456789abcdef"[h[i] & 15];
    }
    out[NET__ETAG_LEN - 1] = '"';
    out[NET__ETAG_LEN] = '\0';
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

int net__etag_match(const duet_slice *inm, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = inm->base, *end = inm->base + inm->len;
    while (p < end) {
        while (p < end && (is_ows(*p) || *p == ','))
            p++;
        const char *s = p;
        while (p < end && *p != ',')
            p++;
        const char *e = p;
        while (e > s && is_ows(e[-1]))
            e--;
        if (e - s == 1 && *s == '*')
            return 1;
        /* If-None-Match uses the weak comparison: W/ is ignored. */
        if (e - s > 2 && s[0] == 'W' && s[1] == '/')
            s += 2;
        if ((size_t)(e - s) == elen && memcmp(s, etag, elen) == 0)
            return 1;
    }
    return 0;
}

/* Whether a qvalue ("0", "0.5", "1.000") is above zero. */
static int q_positive(const char *s, const char *end)
{
    for (; s < end; s++)
        if (*s >= '1' && *s <= '9')
            return 1;
    return 0;
}

int net__accepts_gzip(const duet_slice *ae)
{
    int star = -1; /* -1: no "*"; else whether "*" is acceptable */
    const char *p = ae->base, *end = ae->base + ae->len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        const char *semi = memchr(p, ';', (size_t)(stop - p));
        const char *ne = semi ? semi : stop;
        while (p < ne && is_ows(*p))
            p++;
        while (ne > p && is_ows(ne[-1]))
            ne--;
        int ok = 1;
        for (const char *q = semi; q != NULL && q < stop;) {
            q++;
            while (q < stop && is_ows(*q))
                q++;
            if (stop - q >= 2 && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=')
                ok = q_positive(q + 2, stop);
            q = memchr(q, ';', (size_t)(stop - q));
        }
        size_t n = (size_t)(ne - p);
        if ((n == 4 && strncasecmp(p, "gzip", 4) == 0) ||
            (n == 6 && strncasecmp(p, "x-gzip", 6) == 0))
            return ok;
        if (n == 1 && *p == '*')
            star = ok;
        p = comma ? comma + 1 : end;
    }
    return star == 1;
}

int net__gzip(const void *in, size_t len, char **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    /* windowBits 15 + 16: a gzip wrapper rather than zlib's. */
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    int r = 0;
    uLong cap = deflateBound(&z, (uLong)len);
    char *buf = malloc(cap);
    if (buf == NULL) {
        r = -ENOMEM;
        goto out;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)buf;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        r = -EIO;
        goto out;
    }
    *out = buf;
    *out_len = (size_t)z.total_out;
    buf = NULL;
out:
    free(buf);
    deflateEnd(&z);
    return r;
}

/* ---- files ------------------------------------------------------------ */

static void json_error(net_conn *c, int status, const char *code, const char *message,
                       const char *extra, const char *sec)
{
    char body[256], hdr[STATIC_SEC_MAX + 256];
    int n = net__json_error(body, sizeof(body), code, message);
    snprintf(hdr, sizeof(hdr), "Cache-Control: no-store\r\n%s%s", sec, extra ? extra : "");
    net_respond(c, status, "application/json", hdr, body, n < 0 ? 0 : (size_t)n);
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

static int same_version(const struct static_file *f, const struct stat *st)
{
    return f->dev == st->st_dev && f->ino == st->st_ino && f->size == st->st_size &&
           f->mtime.tv_sec == st->st_mtim.tv_sec && f->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static void file_free(struct static_file *f)
{
    if (f == NULL)
        return;
    free(f->path);
    free(f->data);
    free(f->gz);
    free(f);
}

/* Reads a whole regular file into a new static_file (with its ETag and gzip
 * form); 0, or a negative errno. */
static int file_load(const char *path, struct static_file **out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -errno;
    int r = 0;
    struct static_file *sf = NULL;
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
    if ((sf = calloc(1, sizeof(*sf))) == NULL || (sf->path = strdup(path)) == NULL ||
        (sf->data = malloc(size ? size : 1)) == NULL) {
        r = -ENOMEM;
        goto out;
    }
    if (size > 0 && fread(sf->data, 1, size, f) != size) {
        r = -EIO;
        goto out;
    }
    sf->len = size;
    sf->dev = st.st_dev;
    sf->ino = st.st_ino;
    sf->size = st.st_size;
    sf->mtime = st.st_mtim;
    sf->type = net__content_type(path);
    net__etag(sf->data, size, sf->etag);
    /* The gzip form is another representation: it needs its own tag. */
    snprintf(sf->etag_gz, sizeof(sf->etag_gz), "%.*s-gz\"", NET__ETAG_LEN - 1, sf->etag);
    if (net__compressible(sf->type) && size >= STATIC_GZIP_MIN) {
        r = net__gzip(sf->data, size, &sf->gz, &sf->gz_len);
        if (r == -ENOMEM)
            goto out;
        if (r < 0 || sf->gz_len >= size) { /* serve it plain */
            free(sf->gz);
            sf->gz = NULL;
            sf->gz_len = 0;
        }
        r = 0;
    }
    *out = sf;
    sf = NULL;
out:
    file_free(sf);
    fclose(f); /* read-only: nothing to lose on close */
    return r;
}

static size_t file_bytes(const struct static_file *f)
{
    return f->len + f->gz_len;
}

void static_cache_free(struct static_cache *sc)
{
    for (size_t i = 0; i < sc->n; i++)
        file_free(sc->files[i]);
    free(sc->files);
    memset(sc, 0, sizeof(*sc));
}

static void cache_drop(struct static_cache *sc, size_t i)
{
    sc->bytes -= file_bytes(sc->files[i]);
    file_free(sc->files[i]);
    sc->files[i] = sc->files[--sc->n];
}

/* Keeps f in the cache; 0, or -ENOMEM (f is then still the caller's). */
static int cache_put(struct static_cache *sc, struct static_file *f)
{
    if (file_bytes(f) > STATIC_CACHE_BYTES)
        return -ENOMEM;
    /* A web folder this large is not a web client; forget everything
     * rather than track recency. */
    if (sc->n >= STATIC_CACHE_FILES || sc->bytes + file_bytes(f) > STATIC_CACHE_BYTES)
        while (sc->n > 0)
            cache_drop(sc, sc->n - 1);
    if (sc->n == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 16;
        struct static_file **p = realloc(sc->files, cap * sizeof(*p));
        if (p == NULL)
            return -ENOMEM;
        sc->files = p;
        sc->cap = cap;
    }
    sc->files[sc->n++] = f;
    sc->bytes += file_bytes(f);
    return 0;
}

/* The current version of the file at real path: from the cache when it is
 * unchanged on disk, else read again. *owned is set when the caller must
 * free the result (it could not be cached). */
static int file_get(struct static_cache *sc, const char *path, struct static_file **out, int *owned)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    *owned = 0;
    for (size_t i = 0; i < sc->n; i++) {
        if (strcmp(sc->files[i]->path, path) != 0)
            continue;
        if (same_version(sc->files[i], &st)) {
            *out = sc->files[i];
            return 0;
        }
        cache_drop(sc, i);
        break;
    }
    struct static_file *f = NULL;
    int r = file_load(path, &f);
    if (r < 0)
        return r;
    if (cache_put(sc, f) < 0)
        *owned = 1;
    *out = f;
    return 0;
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

/* Answers with f: gzip'd when the client takes it, 304 when its copy is
 * current. */
static void respond_file(net_conn *c, const net_request *req, const struct static_file *f,
                         int immutable, const char *sec)
{
    const duet_slice *ae = net_header(req, "Accept-Encoding");
    int gz = f->gz != NULL && ae != NULL && net__accepts_gzip(ae);
    const char *etag = gz ? f->etag_gz : f->etag;
    char hdr[STATIC_SEC_MAX + 512];
    int n = snprintf(hdr, sizeof(hdr), "Cache-Control: %s\r\nETag: %s\r\n%s%s%s",
                     immutable ? "public, max-age=31536000, immutable" : "no-cache", etag,
                     net__compressible(f->type) ? "Vary: Accept-Encoding\r\n" : "",
                     gz ? "Content-Encoding: gzip\r\n" : "", sec);
    if (n < 0 || (size_t)n >= sizeof(hdr)) {
        json_error(c, 500, "internal", "headers too long", NULL, sec);
        return;
    }
    const duet_slice *inm = net_header(req, "If-None-Match");
    if (inm != NULL && net__etag_match(inm, etag)) {
        net_respond(c, 304, NULL, hdr, NULL, 0);
        return;
    }
    if (gz)
        net_respond(c, 200, f->type, hdr, f->gz, f->gz_len);
    else
        net_respond(c, 200, f->type, hdr, f->data, f->len);
}

/* A page (or the service worker) that names versioned URLs: @V@ replaced by
 * the folder's version (no gzip: these files are small). */
static void respond_page(net_conn *c, const net_request *req, const struct static_file *f,
                         const char *root, const char *sec)
{
    char ver[STATIC_VER_LEN + 1], etag[NET__ETAG_LEN + 1], hdr[STATIC_SEC_MAX + 512];
    char *buf = NULL;
    size_t len = 0;
    if (static_version(root, ver) < 0 || static_ver_subst(f->data, f->len, ver, &buf, &len) < 0) {
        json_error(c, 500, "internal", "cannot version the page", NULL, sec);
        return;
    }
    net__etag(buf, len, etag);
    int n = snprintf(hdr, sizeof(hdr), "Cache-Control: no-cache\r\nETag: %s\r\n%s", etag, sec);
    const duet_slice *inm = net_header(req, "If-None-Match");
    if (n < 0 || (size_t)n >= sizeof(hdr))
        json_error(c, 500, "internal", "headers too long", NULL, sec);
    else if (inm != NULL && net__etag_match(inm, etag))
        net_respond(c, 304, NULL, hdr, NULL, 0);
    else
        net_respond(c, 200, f->type, hdr, buf, len);
    free(buf);
}

/* "/v/<version>/rest" -> "/rest"; *current is set when <version> is the
 * folder's version now. 0 when path is not versioned (or is malformed). */
static int strip_version(duet_slice *path, const char *root, int *current)
{
    if (path->len < 4 || memcmp(path->base, "/v/", 3) != 0)
        return 0;
    const char *v = path->base + 3, *end = path->base + path->len;
    const char *slash = memchr(v, '/', (size_t)(end - v));
    if (slash == NULL || end - slash < 2)
        return 0;
    char now[STATIC_VER_LEN + 1];
    *current = slash - v == STATIC_VER_LEN && static_version(root, now) == 0 &&
               memcmp(v, now, STATIC_VER_LEN) == 0;
    path->len = (size_t)(end - slash);
    path->base = slash;
    return 1;
}

/* Whether f is served with @V@ replaced: a page naming versioned files, or
 * the service worker at the root, whose bytes must change with the version
 * (a worker's scope is its folder, so it is never asked for under /v/). */
static int has_version_token(const net_request *req, const struct static_file *f)
{
    if (f->len == 0 ||
        memmem(f->data, f->len, STATIC_VER_TOKEN, sizeof(STATIC_VER_TOKEN) - 1) == NULL)
        return 0;
    return strncmp(f->type, "text/html", 9) == 0 ||
           (req->path.len == 6 && memcmp(req->path.base, "/sw.js", 6) == 0);
}

void static_serve(struct static_cache *sc, net_conn *c, const net_request *req, const char *root)
{
    static_serve_csp(sc, c, req, root, NULL);
}

void static_serve_csp(struct static_cache *sc, net_conn *c, const net_request *req,
                      const char *root, const char *media_origin)
{
    /* The security headers, with the media origin in the CSP when set (a
     * bad origin was refused at start-up; here it only falls back). */
    char sec[STATIC_SEC_MAX];
    if (!media_origin ||
        static_csp_add_origin(SECURITY_HEADERS, media_origin, sec, sizeof(sec)) < 0)
        snprintf(sec, sizeof(sec), "%s", SECURITY_HEADERS);
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        json_error(c, 405, "method_not_allowed", "only GET and HEAD", "Allow: GET, HEAD\r\n", sec);
        return;
    }
    duet_slice path = req->path;
    int immutable = 0;
    if (path.len == 1 && path.base[0] == '/')
        path = DUET_SLICE_LIT("/index.html");
    else
        strip_version(&path, root, &immutable);
    if (!path_ok(path)) {
        json_error(c, 404, "not_found", "no such file", NULL, sec);
        return;
    }
    char *real = NULL;
    struct static_file *f = NULL;
    int owned = 0;
    int r = resolve(root, path, &real);
    if (r == 0)
        r = file_get(sc, real, &f, &owned);
    if (r == 0 && has_version_token(req, f))
        respond_page(c, req, f, root, sec);
    else if (r == 0)
        respond_file(c, req, f, immutable, sec);
    else if (r == -ENOENT || r == -ENOTDIR || r == -EACCES || r == -EISDIR || r == -ELOOP)
        json_error(c, 404, "not_found", "no such file", NULL, sec);
    else
        json_error(c, 500, "internal", "cannot read the file", NULL, sec);
    if (owned)
        file_free(f);
    free(real);
}
