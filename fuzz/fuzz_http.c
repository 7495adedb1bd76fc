/* fuzz_http.c - HTTP requests from raw bytes: hparse (http-parser), request
 * assembly and its limits (http.c), the request target, header, cookie and
 * query helpers, the WebSocket handshake and static file serving, all on a
 * socketless conn (fuzz_conn.h).
 *
 * The first input byte picks how the rest is split into reads, so requests
 * cut at every point are tried. Oracles besides the sanitizers:
 *  - no response ever carries a file from outside the web root (a secret
 *    file sits next to the root, and a symlink in it points out);
 *  - every slice the helpers return is readable (ASan checks the bytes);
 *  - a cookie value never spans a ';', and a decoded path has no NUL. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/app/auth.h"
#include "../src/net/static.h"
#include "fuzz_conn.h"

#define SECRET "SECRET-OUTSIDE-THE-WEB-ROOT"

static char root[256];
static struct static_cache web; /* the files served, kept across inputs as duetd keeps them */

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_http: oracle failed: %s\n", what);
        abort();
    }
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    check(f != NULL && fputs(text, f) >= 0 && fclose(f) == 0, "writing the test web root");
}

static char tmp[] = "/tmp/duet-fuzz-http-XXXXXX";

/* Removes the test web root at exit (best effort: nothing to do on failure). */
static void remove_root(void)
{
    static const char *const files[] = {"root/index.html", "root/app.js", "root/link", "root",
                                        "secret.txt"};
    char path[300];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", tmp, files[i]);
        if (unlink(path) < 0)
            (void)rmdir(path);
    }
    (void)rmdir(tmp);
}

/* tmp/secret.txt, tmp/root/{index.html, app.js (over 1 KiB: gzip), link}. */
static void make_root(void)
{
    char path[300];
    check(mkdtemp(tmp) != NULL, "mkdtemp");
    check(atexit(remove_root) == 0, "atexit");
    snprintf(path, sizeof(path), "%s/secret.txt", tmp);
    write_file(path, SECRET "\n");
    snprintf(root, sizeof(root), "%s/root", tmp);
    check(mkdir(root, 0700) == 0, "mkdir");
    snprintf(path, sizeof(path), "%s/index.html", root);
    write_file(path, "<!doctype html><title>duet</title>\n");
    char js[2048];
    memset(js, 'a', sizeof(js) - 2);
    js[sizeof(js) - 2] = '\n';
    js[sizeof(js) - 1] = '\0';
    snprintf(path, sizeof(path), "%s/app.js", root);
    write_file(path, js);
    snprintf(path, sizeof(path), "%s/link", root);
    check(symlink("../secret.txt", path) == 0, "symlink");
}

static void on_output(net_conn *c, const char *data, size_t len)
{
    (void)c;
    check(memmem(data, len, SECRET, sizeof(SECRET) - 1) == NULL, "served a file outside the root");
}

/* Reads every byte of a returned slice, so ASan reports one that points
 * outside live memory. */
static int readable(const duet_slice *s)
{
    volatile char sink = 0;
    for (size_t i = 0; i < s->len; i++)
        sink ^= s->base[i];
    (void)sink;
    return 1;
}

static void on_request(void *app, net_conn *c, net_request *req)
{
    (void)app;
    duet_slice v;
    uint8_t hash[32];
    /* What api.c reads before routing. */
    if (net_cookie(req, "duet_session", &v) == 0) {
        check(readable(&v) && memchr(v.base, ';', v.len) == NULL, "cookie value");
        (void)auth_token_hash(v.base, v.len, hash);
    }
    static const char *const params[] = {"before", "after", "limit", "q"};
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
        if (net_query(req, params[i], &v) == 0)
            check(readable(&v), "query value");
    const duet_slice *h = net_header(req, "origin");
    if (h != NULL)
        check(readable(h), "header value");
    check(req->path.len > 0 && memchr(req->path.base, '\0', req->path.len) == NULL,
          "decoded path has no NUL");
    if (req->is_upgrade) {
        (void)net_ws_accept(c); /* answers 400 itself when refused */
        return;
    }
    if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) {
        static_serve(&web, c, req, root);
        return;
    }
    /* Not an echo of the body: the output oracle must only see files. */
    char out[64];
    int n = snprintf(out, sizeof(out), "{\"body_bytes\":%zu}", req->body.len);
    net_respond(c, 200, "application/json", NULL, out, n > 0 ? (size_t)n : 0);
}

static void on_ws_text(void *app, net_conn *c, const char *data, size_t len)
{
    (void)app;
    (void)c;
    (void)data;
    (void)len;
}

static net_server *server(void)
{
    static net_server *s;
    if (s != NULL)
        return s;
    make_root();
    struct net_server_opts o = {
        /* Small limits, so the fuzzer reaches them. */
        .max_header_bytes = 2048,
        .max_body_bytes = 1024,
        .max_ws_msg_bytes = 1024,
        .max_ws_queue_bytes = 4096,
        .header_timeout_ms = 10000,
        .idle_timeout_ms = 60000,
        .ws_ping_ms = 30000,
        .headers = "X-Duet-Instance: fuzz\r\n",
        .app_cb = {.on_request = on_request, .on_ws_text = on_ws_text},
    };
    s = fz_server(&o, on_output);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    net_server *s = server();
    if (size == 0)
        return 0;
    size_t chunk = data[0] == 0 ? size : data[0];
    data++, size--;
    net_conn *c = fz_conn_open(s);
    for (size_t off = 0; off < size && fz_conn_alive(c); off += chunk)
        fz_conn_feed(c, data + off, size - off < chunk ? size - off : chunk);
    /* The read side saw EOF or the header timer fired: both paths close. */
    if (fz_conn_alive(c) && !c->is_ws)
        net__http_timeout(c);
    fz_conn_close(c);
    return 0;
}
