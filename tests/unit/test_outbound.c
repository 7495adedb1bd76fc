/* test_outbound.c - src/outbound against a real HTTP server on loopback: a
 * tiny one on a thread of the test. 200 with a body, 404, a POST echoed,
 * a timeout, a refused connection, a body over the bound, many requests at
 * once with the in-flight cap, bad input, and cancelling at shutdown (under
 * `make SAN=1`, ASan checks that nothing leaks). File bodies:
 * test_outbound_file.c; the harness: test_outbound.h. */
#include "test_outbound.h"

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
