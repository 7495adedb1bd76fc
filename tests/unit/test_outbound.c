/* test_outbound.c - src/outbound against a real HTTP server on loopback: a
 * tiny one on a thread of the test. 200 with a body, 404, a POST echoed,
 * a timeout, a refused connection, a body over the bound, many requests at
 * once with the in-flight cap, bad input, and cancelling at shutdown (under
 * `make SAN=1`, ASan checks that nothing leaks). */
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

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w, n -= (size_t)w;
    }
}

static void respond(int fd, int status, const char *extra, const char *body, size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
                     len, extra);
    send_all(fd, head, (size_t)n);
    send_all(fd, body, len);
}

/* Reads one request (head and Content-Length body) into buf; its length or -1. */
static int read_request(int fd, char *buf, size_t cap, char **body, size_t *blen)
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

static void serve(struct srv *s, int fd)
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

static void *srv_main(void *arg)
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

static int listen_any(int *port)
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

static void srv_start(struct srv *s)
{
    memset(s, 0, sizeof(*s));
    s->lfd = listen_any(&s->port);
    cr_assert_eq(listen(s->lfd, 256), 0);
    cr_assert_eq(pipe(s->stop), 0);
    cr_assert_eq(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(struct srv *s)
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

static void on_done(void *ud, const struct ob_response *res)
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
static void on_closed(void *ud)
{
    closed_calls++;
}

static uv_loop_t loop;
static struct srv srv;
static ob_client *cl;

static void setup(void)
{
    srv_start(&srv);
    cr_assert_eq(uv_loop_init(&loop), 0);
    closed_calls = 0;
}

static void open_client(size_t inflight, size_t max_body)
{
    struct ob_opts o = {.max_inflight = inflight, .max_resp_body = max_body};
    cr_assert_eq(ob_new(&loop, &o, &cl), 0);
}

/* Closes the client, runs the loop dry, and checks that every handle closed. */
static void finish(void)
{
    ob_close(cl, on_closed, NULL);
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    cr_assert_eq(closed_calls, 1);
    cr_assert_eq(uv_loop_close(&loop), 0, "a handle was left open");
    srv_stop(&srv);
}

static void url(char *out, size_t cap, const char *path)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", srv.port, path);
}

/* Runs the loop until `n` callbacks have run. */
static void wait_calls(const int *calls, int n)
{
    while (*calls < n) {
        int alive = uv_run(&loop, UV_RUN_ONCE);
        cr_assert(alive || *calls >= n, "the loop ran dry after %d calls", *calls);
    }
}

TestSuite(outbound, .init = setup, .timeout = 60);

Test(outbound, get_200_with_body_and_selected_headers)
{
    open_client(0, 0);
    char u[64];
    url(u, sizeof(u), "/hello");
    struct got g = {0};
    const char *want[] = {"x-test", "x-absent"};
    struct ob_request r = {.method = "GET",
                           .url = u,
                           .want = want,
                           .n_want = 2,
                           .timeout_ms = 10000,
                           .cb = on_done,
                           .ud = &g};
    cr_assert_eq(ob_request(cl, &r), 0);
    cr_assert_eq(g.calls, 0, "never called back from inside ob_request");
    cr_assert_eq(ob_inflight(cl), 1);
    wait_calls(&g.calls, 1);
    cr_assert_eq(g.err, 0);
    cr_assert_eq(g.status, 200);
    cr_assert_eq(g.body_len, 11);
    cr_assert_eq(memcmp(g.body, "hello world", 11), 0);
    cr_assert(g.has[0]);
    cr_assert_str_eq(g.hv[0], "yes");
    cr_assert_not(g.has[1]);
    cr_assert_eq(ob_inflight(cl), 0);
    finish();
}

Test(outbound, post_sends_method_headers_and_body)
{
    open_client(0, 0);
    char u[64];
    url(u, sizeof(u), "/echo");
    struct got g = {0};
    const char *want[] = {"X-Method", "X-Echo"};
    struct ob_header h[] = {{"X-Echo", "a value"}, {"Content-Type", "application/octet-stream"}};
    const char body[] = "\x01\x02\0binary";
    struct ob_request r = {.method = "POST",
                           .url = u,
                           .headers = h,
                           .n_headers = 2,
                           .body = body,
                           .body_len = sizeof(body) - 1,
                           .want = want,
                           .n_want = 2,
                           .cb = on_done,
                           .ud = &g};
    cr_assert_eq(ob_request(cl, &r), 0);
    wait_calls(&g.calls, 1);
    cr_assert_eq(g.err, 0);
    cr_assert_eq(g.status, 201);
    cr_assert_eq(g.body_len, sizeof(body) - 1);
    cr_assert_eq(memcmp(g.body, body, g.body_len), 0);
    cr_assert_str_eq(g.hv[0], "POST");
    cr_assert_str_eq(g.hv[1], "a value");

    struct got p = {0};
    r.method = "PUT", r.ud = &p;
    cr_assert_eq(ob_request(cl, &r), 0);
    wait_calls(&p.calls, 1);
    cr_assert_str_eq(p.hv[0], "PUT");
    finish();
}

Test(outbound, not_found_is_a_response)
{
    open_client(0, 0);
    char u[64];
    url(u, sizeof(u), "/missing");
    struct got g = {0};
    struct ob_request r = {.method = "GET", .url = u, .cb = on_done, .ud = &g};
    cr_assert_eq(ob_request(cl, &r), 0);
    wait_calls(&g.calls, 1);
    cr_assert_eq(g.err, 0);
    cr_assert_eq(g.status, 404);
    cr_assert_eq(g.body_len, 4);
    finish();
}

Test(outbound, a_silent_server_times_out)
{
    open_client(0, 0);
    char u[64];
    url(u, sizeof(u), "/slow");
    struct got g = {0};
    struct ob_request r = {.method = "GET", .url = u, .timeout_ms = 300, .cb = on_done, .ud = &g};
    uint64_t t0 = uv_hrtime();
    cr_assert_eq(ob_request(cl, &r), 0);
    wait_calls(&g.calls, 1);
    cr_assert_eq(g.err, -ETIMEDOUT, "err %d", g.err);
    cr_assert((uv_hrtime() - t0) / 1000000 >= 250, "not before its timeout");
    finish();
}

Test(outbound, a_refused_connection_fails)
{
    open_client(0, 0);
    int port, fd = listen_any(&port); /* bound, not listening: refused */
    char u[64];
    snprintf(u, sizeof(u), "http://127.0.0.1:%d/x", port);
    struct got g = {0};
    struct ob_request r = {.method = "GET", .url = u, .cb = on_done, .ud = &g};
    cr_assert_eq(ob_request(cl, &r), 0);
    wait_calls(&g.calls, 1);
    close(fd);
    cr_assert_eq(g.err, -ECONNREFUSED, "err %d", g.err);
    finish();
}

Test(outbound, a_body_over_the_bound_fails)
{
    open_client(0, 1000);
    char u[64];
    url(u, sizeof(u), "/big");
    struct got g = {0};
    struct ob_request r = {.method = "GET", .url = u, .cb = on_done, .ud = &g};
    cr_assert_eq(ob_request(cl, &r), 0);
    wait_calls(&g.calls, 1);
    cr_assert_eq(g.err, -EMSGSIZE, "err %d", g.err);
    finish();
}

Test(outbound, many_at_once_and_the_cap)
{
    enum { N = 40 };
    open_client(N, 0);
    char u[64];
    url(u, sizeof(u), "/hello");
    static struct got g[N + 1];
    int calls = 0;
    memset(g, 0, sizeof(g));
    for (int i = 0; i < N; i++) {
        struct ob_request r = {.method = "GET", .url = u, .cb = on_done, .ud = &g[i]};
        cr_assert_eq(ob_request(cl, &r), 0, "request %d", i);
    }
    struct ob_request over = {.method = "GET", .url = u, .cb = on_done, .ud = &g[N]};
    cr_assert_eq(ob_request(cl, &over), DUET_EBUSY);
    cr_assert_eq(ob_inflight(cl), N);
    while (calls < N) {
        int alive = uv_run(&loop, UV_RUN_ONCE);
        calls = 0;
        for (int i = 0; i < N; i++)
            calls += g[i].calls;
        cr_assert(alive || calls == N, "the loop ran dry after %d calls", calls);
    }
    for (int i = 0; i < N; i++) {
        cr_assert_eq(g[i].calls, 1);
        cr_assert_eq(g[i].err, 0, "request %d: %d", i, g[i].err);
        cr_assert_eq(g[i].status, 200);
        cr_assert_eq(memcmp(g[i].body, "hello world", 11), 0);
    }
    cr_assert_eq(g[N].calls, 0, "a refused request is never called back");
    /* room again once they are done */
    cr_assert_eq(ob_request(cl, &over), 0);
    wait_calls(&g[N].calls, 1);
    cr_assert_eq(g[N].status, 200);
    finish();
}

Test(outbound, bad_requests_are_refused)
{
    struct ob_opts o = {.max_req_body = 10};
    cr_assert_eq(ob_new(&loop, &o, &cl), 0);
    char u[64];
    url(u, sizeof(u), "/hello");
    struct got g = {0};
    struct ob_header crlf[] = {{"X-A", "v\r\nX-Injected: 1"}};
    struct ob_header badname[] = {{"X A", "v"}};
    const char *badwant[] = {"a:b"};
    struct ob_request ok = {.method = "GET", .url = u, .cb = on_done, .ud = &g}, r;
    r = ok, r.method = "GE T";
    cr_assert_eq(ob_request(cl, &r), -EINVAL);
    r = ok, r.url = "ftp://127.0.0.1/";
    cr_assert_eq(ob_request(cl, &r), -EINVAL);
    r = ok, r.headers = crlf, r.n_headers = 1;
    cr_assert_eq(ob_request(cl, &r), -EINVAL);
    r = ok, r.headers = badname, r.n_headers = 1;
    cr_assert_eq(ob_request(cl, &r), -EINVAL);
    r = ok, r.want = badwant, r.n_want = 1;
    cr_assert_eq(ob_request(cl, &r), -EINVAL);
    r = ok, r.cb = NULL;
    cr_assert_eq(ob_request(cl, &r), -EINVAL);
    r = ok, r.method = "POST", r.body = "01234567890", r.body_len = 11;
    cr_assert_eq(ob_request(cl, &r), -EMSGSIZE);
    cr_assert_eq(ob_inflight(cl), 0);
    /* an https request to a server that does not speak TLS */
    snprintf(u, sizeof(u), "https://127.0.0.1:%d/hello", srv.port);
    r = ok, r.url = u, r.timeout_ms = 5000;
    cr_assert_eq(ob_request(cl, &r), 0);
    wait_calls(&g.calls, 1);
    cr_assert_eq(g.err, -EPROTO, "err %d", g.err);
    finish();
}

static void close_now(uv_timer_t *t)
{
    ob_close(cl, on_closed, NULL);
    uv_close((uv_handle_t *)t, NULL);
}

static void start_again(void *ud, const struct ob_response *res)
{
    struct got *g = ud;
    on_done(ud, res);
    /* From a callback during the close, a new request is refused. */
    char u[64];
    url(u, sizeof(u), "/hello");
    struct ob_request r = {.method = "GET", .url = u, .cb = on_done, .ud = g};
    g->status = ob_request(cl, &r);
}

Test(outbound, close_cancels_requests_in_flight)
{
    enum { N = 5 };
    open_client(0, 0);
    char u[64];
    url(u, sizeof(u), "/slow");
    struct got g[N];
    memset(g, 0, sizeof(g));
    for (int i = 0; i < N; i++) {
        struct ob_request r = {
            .method = "GET", .url = u, .timeout_ms = 30000, .cb = start_again, .ud = &g[i]};
        cr_assert_eq(ob_request(cl, &r), 0);
    }
    /* Let the connections open and the requests go out, then close. */
    uv_timer_t t;
    cr_assert_eq(uv_timer_init(&loop, &t), 0);
    cr_assert_eq(uv_timer_start(&t, close_now, 300, 0), 0);
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(g[i].calls, 1);
        cr_assert_eq(g[i].err, -ECANCELED);
        cr_assert_eq(g[i].status, -ECANCELED, "ob_request during the close");
    }
    cr_assert_eq(closed_calls, 1);
    cr_assert_eq(uv_loop_close(&loop), 0, "a handle was left open");
    cr_assert(srv.n_held >= 1, "the requests reached the server");
    srv_stop(&srv);
}

/* A callback that starts the next request, as a retry would. */
struct chain {
    struct got g;
    int left;
};

static void on_chain(void *ud, const struct ob_response *res)
{
    struct chain *ch = ud;
    on_done(&ch->g, res);
    if (res->err || res->status != 200 || --ch->left == 0)
        return;
    char u[64];
    url(u, sizeof(u), "/hello");
    struct ob_request r = {.method = "GET", .url = u, .cb = on_chain, .ud = ch};
    cr_assert_eq(ob_request(cl, &r), 0);
}

Test(outbound, a_callback_may_start_the_next_request)
{
    open_client(1, 0); /* the finished request no longer counts */
    char u[64];
    url(u, sizeof(u), "/hello");
    struct chain ch = {.left = 3};
    struct ob_request r = {.method = "GET", .url = u, .cb = on_chain, .ud = &ch};
    cr_assert_eq(ob_request(cl, &r), 0);
    wait_calls(&ch.g.calls, 3);
    cr_assert_eq(ch.g.status, 200);
    cr_assert_eq(ob_inflight(cl), 0);
    finish();
}

static void close_from_callback(void *ud, const struct ob_response *res)
{
    on_done(ud, res);
    ob_close(cl, on_closed, NULL);
}

Test(outbound, a_callback_may_close_the_client)
{
    open_client(0, 0);
    char fast[64], slow[64];
    url(fast, sizeof(fast), "/hello");
    url(slow, sizeof(slow), "/slow");
    struct got a = {0}, b = {0};
    struct ob_request rb = {.method = "GET", .url = slow, .cb = on_done, .ud = &b};
    struct ob_request ra = {.method = "GET", .url = fast, .cb = close_from_callback, .ud = &a};
    cr_assert_eq(ob_request(cl, &rb), 0);
    cr_assert_eq(ob_request(cl, &ra), 0);
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    cr_assert_eq(a.calls, 1);
    cr_assert_eq(a.status, 200);
    cr_assert_eq(b.calls, 1);
    cr_assert_eq(b.err, -ECANCELED);
    cr_assert_eq(closed_calls, 1);
    cr_assert_eq(uv_loop_close(&loop), 0, "a handle was left open");
    srv_stop(&srv);
}

static int pub4(const char *ip)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    cr_assert_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1, "%s", ip);
    return ob_addr_public((struct sockaddr *)&a);
}

static int pub6(const char *ip)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6};
    cr_assert_eq(inet_pton(AF_INET6, ip, &a.sin6_addr), 1, "%s", ip);
    return ob_addr_public((struct sockaddr *)&a);
}

Test(outbound, which_addresses_are_public)
{
    const char *no4[] = {"127.0.0.1",      "127.9.9.9",   "10.1.2.3",        "172.16.0.1",
                         "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                         "0.0.0.0",        "224.0.0.1",   "255.255.255.255", "198.18.0.1",
                         "192.0.0.8"};
    const char *yes4[] = {"8.8.8.8",     "1.1.1.1",     "172.32.0.1", "172.15.255.255",
                          "192.169.0.1", "100.128.0.1", "142.250.1.1"};
    const char *no6[] = {"::",         "::1",     "fe80::1",          "fd00::1",
                         "fc00::1",    "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
                         "::127.0.0.1"};
    const char *yes6[] = {"2001:4860:4860::8888", "2a00:1450::1", "::ffff:8.8.8.8"};
    for (size_t i = 0; i < sizeof(no4) / sizeof(*no4); i++)
        cr_assert_not(pub4(no4[i]), "%s is not public", no4[i]);
    for (size_t i = 0; i < sizeof(yes4) / sizeof(*yes4); i++)
        cr_assert(pub4(yes4[i]), "%s is public", yes4[i]);
    for (size_t i = 0; i < sizeof(no6) / sizeof(*no6); i++)
        cr_assert_not(pub6(no6[i]), "%s is not public", no6[i]);
    for (size_t i = 0; i < sizeof(yes6) / sizeof(*yes6); i++)
        cr_assert(pub6(yes6[i]), "%s is public", yes6[i]);
    srv_stop(&srv);
    cr_assert_eq(uv_loop_close(&loop), 0);
}

Test(outbound, public_only_never_connects_to_loopback)
{
    struct ob_opts o = {.public_only = 1};
    cr_assert_eq(ob_new(&loop, &o, &cl), 0);
    char u[64];
    url(u, sizeof(u), "/hello");
    struct got g = {0};
    struct ob_request r = {.method = "GET", .url = u, .cb = on_done, .ud = &g};
    cr_assert_eq(ob_request(cl, &r), 0);
    wait_calls(&g.calls, 1);
    cr_assert_eq(g.err, -EACCES, "err %d", g.err);
    struct got h = {0};
    snprintf(u, sizeof(u), "http://localhost:%d/hello", srv.port);
    r.url = u, r.ud = &h;
    cr_assert_eq(ob_request(cl, &r), 0);
    wait_calls(&h.calls, 1);
    cr_assert_eq(h.err, -EACCES, "a name that resolves to loopback: err %d", h.err);
    finish();
}

/* ---- file bodies --------------------------------------------------------- */

/* A file of n pseudo-random bytes; its path into out. */
static void make_file(char *out, size_t cap, size_t n)
{
    snprintf(out, cap, "/tmp/duet-ob-XXXXXX");
    int fd = mkstemp(out);
    cr_assert(fd >= 0);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        uint8_t b = (uint8_t)(x >> 16);
        cr_assert_eq(write(fd, &b, 1), 1);
    }
    close(fd);
}

static uint32_t fnv_file(const char *path, size_t off, size_t len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    cr_assert_eq(fseek(f, (long)off, SEEK_SET), 0);
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        int c = fgetc(f);
        cr_assert_neq(c, EOF);
        h = (h ^ (uint8_t)c) * 16777619u;
    }
    fclose(f);
    return h;
}

Test(outbound, a_file_range_is_streamed_as_the_body)
{
    /* max_req_body stays at 64 KiB: a file body is not bounded by it. */
    open_client(0, 0);
    char u[64], path[64], want[64];
    url(u, sizeof(u), "/count");
    make_file(path, sizeof(path), 200000);
    struct got g = {0};
    struct ob_request r = {.method = "PUT",
                           .url = u,
                           .body_file = path,
                           .body_file_off = 1000,
                           .body_file_len = 150000,
                           .cb = on_done,
                           .ud = &g};
    cr_assert_eq(ob_request(cl, &r), 0);
    wait_calls(&g.calls, 1);
    cr_assert_eq(g.err, 0, "err %d", g.err);
    cr_assert_eq(g.status, 200);
    snprintf(want, sizeof(want), "PUT 150000 %08x", fnv_file(path, 1000, 150000));
    cr_assert_eq(g.body_len, strlen(want));
    cr_assert_eq(memcmp(g.body, want, g.body_len), 0, "%.*s", (int)g.body_len, g.body);

    /* Another method, an empty range. */
    struct got p = {0};
    r.method = "POST", r.body_file_off = 200000, r.body_file_len = 0, r.ud = &p;
    cr_assert_eq(ob_request(cl, &r), 0);
    wait_calls(&p.calls, 1);
    snprintf(want, sizeof(want), "POST 0 %08x", 2166136261u);
    cr_assert_eq(memcmp(p.body, want, strlen(want)), 0, "%.*s", (int)p.body_len, p.body);
    unlink(path);
    finish();
}

Test(outbound, bad_file_bodies_are_refused)
{
    open_client(0, 0);
    char u[64], path[64];
    url(u, sizeof(u), "/count");
    make_file(path, sizeof(path), 100);
    struct got g = {0};
    struct ob_request ok = {.method = "PUT",
                            .url = u,
                            .body_file = path,
                            .body_file_len = 100,
                            .cb = on_done,
                            .ud = &g},
                      r;
    r = ok, r.body_file_off = 1; /* past the end */
    cr_assert_eq(ob_request(cl, &r), -EINVAL);
    r = ok, r.body_file_len = 101;
    cr_assert_eq(ob_request(cl, &r), -EINVAL);
    r = ok, r.body = "x", r.body_len = 1; /* both kinds of body */
    cr_assert_eq(ob_request(cl, &r), -EINVAL);
    r = ok, r.body_file = "/nonexistent/duet-file";
    cr_assert_eq(ob_request(cl, &r), -ENOENT);
    r = ok, r.body_file = "/tmp"; /* not a regular file */
    cr_assert_eq(ob_request(cl, &r), -EINVAL);
    cr_assert_eq(ob_inflight(cl), 0);
    cr_assert_eq(g.calls, 0);
    unlink(path);
    finish();
}
