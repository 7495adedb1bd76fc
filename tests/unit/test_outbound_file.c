/* test_outbound_file.c - src/outbound with a file range as the request body
 * (the server and client harness: test_outbound.h). */
#include "test_outbound.h"

TestSuite(outbound_file, .init = setup, .timeout = 60);

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

Test(outbound_file, a_file_range_is_streamed_as_the_body)
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

Test(outbound_file, bad_file_bodies_are_refused)
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
