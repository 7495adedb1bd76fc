/* test_outbound.h - the harness of the src/outbound tests: a tiny HTTP
 * server on a thread of the test, and a client on a uv loop. Each test file
 * that includes it gets its own copy (Criterion runs every test in its own
 * process). */
#ifndef DUET_TEST_OUTBOUND_H
#define DUET_TEST_OUTBOUND_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/base/duet.h"
#include "../../src/outbound/ob.h"

/* ---- the server ---------------------------------------------------------- */

/* Ownership: the test's; srv_stop() joins the thread and closes every fd. */
struct srv {
    int lfd, stop[2];
    int port;
    pthread_t th;
    int held[128]; /* /slow connections, never answered */
    int n_held;
};

static inline void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w, n -= (size_t)w;
    }
}

static inline void respond(int fd, int status, const char *extra, const char *body, size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
                     len, extra);
    send_all(fd, head, (size_t)n);
    send_all(fd, body, len);
}

/* Reads one request (head and Content-Length body) into buf; its length or -1. */
static inline int read_request(int fd, char *buf, size_t cap, char **body, size_t *blen)
{
    size_t len = 0;
    char *end = NULL;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0)
            return -1;
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        if (buf[0] == 0x16) /* a TLS handshake: not for this server */
            return -1;
        if (!end && (end = strstr(buf, "\r\n\r\n"))) {
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            *body = end + 4;
            *blen = cl && cl < end ? (size_t)atol(cl + 17) : 0;
        }
        if (end && (size_t)(buf + len - *body) >= *blen)
            return (int)len;
        if (len + 1 >= cap)
            return -1;
    }
}

static inline void serve(struct srv *s, int fd)
{
    static char buf[256 * 1024];
    char *body = NULL, extra[512];
    size_t blen = 0;
    if (read_request(fd, buf, sizeof(buf), &body, &blen) < 0) {
        close(fd);
        return;
    }
    char method[16] = "", path[128] = "";
    sscanf(buf, "%15s %127s", method, path);
    if (strcmp(path, "/slow") == 0 && s->n_held < 128) {
        s->held[s->n_held++] = fd; /* answered never; closed at the end */
        return;
    }
    if (strcmp(path, "/hello") == 0) {
        respond(fd, 200, "X-Test: yes\r\nContent-Type: text/plain\r\n", "hello world", 11);
    } else if (strcmp(path, "/echo") == 0) {
        const char *h = strcasestr(buf, "\r\nX-Echo: ");
        int hl = h ? (int)strcspn(h + 10, "\r") : 0;
        snprintf(extra, sizeof(extra), "X-Method: %s\r\nX-Echo: %.*s\r\n", method, hl,
                 h ? h + 10 : "");
        respond(fd, 201, extra, body, blen);
    } else if (strcmp(path, "/count") == 0) {
        /* The body's length and FNV-1a hash, for the file-body tests. */
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < blen; i++)
            h = (h ^ (uint8_t)body[i]) * 16777619u;
        char out[64];
        int n = snprintf(out, sizeof(out), "%s %zu %08x", method, blen, h);
        respond(fd, 200, "", out, (size_t)n);
    } else if (strcmp(path, "/big") == 0) {
        static char big[100000];
        memset(big, 'b', sizeof(big));
        respond(fd, 200, "", big, sizeof(big));
    } else {
        respond(fd, 404, "", "nope", 4);
    }
    close(fd);
}

static inline void *srv_main(void *arg)
{
    struct srv *s = arg;
    for (;;) {
        struct pollfd p[2] = {{s->lfd, POLLIN, 0}, {s->stop[0], POLLIN, 0}};
        if (poll(p, 2, -1) < 0 || p[1].revents)
            break;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd >= 0)
            serve(s, fd);
    }
    return NULL;
}

static inline int listen_any(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static inline void srv_start(struct srv *s)
{
    memset(s, 0, sizeof(*s));
    s->lfd = listen_any(&s->port);
    cr_assert_eq(listen(s->lfd, 256), 0);
    cr_assert_eq(pipe(s->stop), 0);
    cr_assert_eq(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static inline void srv_stop(struct srv *s)
{
    cr_assert_eq(write(s->stop[1], "x", 1), 1);
    cr_assert_eq(pthread_join(s->th, NULL), 0);
    for (int i = 0; i < s->n_held; i++)
        close(s->held[i]);
    close(s->lfd), close(s->stop[0]), close(s->stop[1]);
}

/* ---- the client side ----------------------------------------------------- */

struct got {
    int calls;
    int err;
    long status;
    char body[256];
    size_t body_len;
    char hv[2][64];
    int has[2];
};

static inline void on_done(void *ud, const struct ob_response *res)
{
    struct got *g = ud;
    g->calls++;
    g->err = res->err;
    g->status = res->status;
    g->body_len = res->body_len;
    if (res->body_len && res->body_len < sizeof(g->body))
        memcpy(g->body, res->body, res->body_len);
    for (size_t i = 0; i < res->n_headers && i < 2; i++) {
        g->has[i] = res->headers[i].value != NULL;
        if (g->has[i])
            snprintf(g->hv[i], sizeof(g->hv[i]), "%s", res->headers[i].value);
    }
}

static int closed_calls;
static inline void on_closed(void *ud)
{
    closed_calls++;
}

static uv_loop_t loop;
static struct srv srv;
static ob_client *cl;

static inline void setup(void)
{
    srv_start(&srv);
    cr_assert_eq(uv_loop_init(&loop), 0);
    closed_calls = 0;
}

static inline void open_client(size_t inflight, size_t max_body)
{
    struct ob_opts o = {.max_inflight = inflight, .max_resp_body = max_body};
    cr_assert_eq(ob_new(&loop, &o, &cl), 0);
}

/* Closes the client, runs the loop dry, and checks that every handle closed. */
static inline void finish(void)
{
    ob_close(cl, on_closed, NULL);
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    cr_assert_eq(closed_calls, 1);
    cr_assert_eq(uv_loop_close(&loop), 0, "a handle was left open");
    srv_stop(&srv);
}

static inline void url(char *out, size_t cap, const char *path)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", srv.port, path);
}

/* Runs the loop until `n` callbacks have run. */
static inline void wait_calls(const int *calls, int n)
{
    while (*calls < n) {
        int alive = uv_run(&loop, UV_RUN_ONCE);
        cr_assert(alive || *calls >= n, "the loop ran dry after %d calls", *calls);
    }
}

#endif
