/* test_s3.c - src/s3's client against a scripted HTTP server on a thread
 * of the test: retries on 503 and 429 (and not on 403), the retry bound,
 * DELETE of a missing object as success, HEAD's size, the signed headers
 * sent, an S3 error Code handed back, bad arguments. The real S3 protocol
 * is tested against S3Proxy (tests/s3). */
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

#include "../../src/s3/s3.h"

/* Ownership: the test's; fake_stop() joins the thread and closes the fds. */
struct fake {
    int lfd, stop[2], port;
    pthread_t th;
    const int *statuses; /* answer i gets statuses[i]; the last repeats */
    int n_statuses;
    int requests;
    char last[4096];     /* the last request's head */
    int multipart;       /* answer by method: Create, failing parts, Abort */
    int held[8], n_held; /* status 0: never answered (a time-out); closed at the end */
    char lines[16][160]; /* the first request lines */
};

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    for (;;) {
        struct pollfd p[2] = {{f->lfd, POLLIN, 0}, {f->stop[0], POLLIN, 0}};
        if (poll(p, 2, -1) < 0 || p[1].revents)
            break;
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        size_t len = 0;
        f->last[0] = '\0';
        while (len < sizeof(f->last) - 1 && !strstr(f->last, "\r\n\r\n")) {
            struct pollfd q = {fd, POLLIN, 0};
            ssize_t n =
                poll(&q, 1, 5000) > 0 ? recv(fd, f->last + len, sizeof(f->last) - 1 - len, 0) : -1;
            if (n <= 0)
                break;
            len += (size_t)n;
            f->last[len] = '\0';
        }
        /* Drain the body (a part): the client must see the answer, not a reset. */
        const char *cl = strcasestr(f->last, "\r\nContent-Length:");
        char *eoh = strstr(f->last, "\r\n\r\n");
        if (cl && eoh) {
            long left = atol(cl + 17) - (long)(len - (size_t)(eoh + 4 - f->last));
            char sink[65536];
            while (left > 0) {
                struct pollfd q = {fd, POLLIN, 0};
                ssize_t n = poll(&q, 1, 5000) > 0 ? recv(fd, sink, sizeof(sink), 0) : -1;
                if (n <= 0)
                    break;
                left -= n;
            }
        }
        int i = f->requests < f->n_statuses ? f->requests : f->n_statuses - 1;
        int st = f->statuses[i];
        if (f->requests < 16)
            snprintf(f->lines[f->requests], sizeof(f->lines[0]), "%.*s",
                     (int)strcspn(f->last, "\r"), f->last);
        f->requests++;
        if (st == 0 && f->n_held < 8) {
            f->held[f->n_held++] = fd;
            continue;
        }
        const char *body = st == 403 ? "<Error><Code>AccessDenied</Code></Error>" : "";
        if (f->multipart) {
            int create = strncmp(f->last, "POST ", 5) == 0;
            st = create ? 200 : strncmp(f->last, "PUT ", 4) == 0 ? 503 : 204;
            body = create ? "<InitiateMultipartUploadResult><UploadId>up/1+x</UploadId>"
                            "</InitiateMultipartUploadResult>"
                          : "";
        }
        char head[512];
        int n = snprintf(head, sizeof(head),
                         "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nETag: \"e1\"\r\n"
                         "Connection: close\r\n\r\n%s",
                         st, strlen(body), body);
        if (strncmp(f->last, "HEAD ", 5) == 0) /* no body to a HEAD, but its length */
            n = snprintf(head, sizeof(head),
                         "HTTP/1.1 %d X\r\nContent-Length: 12345\r\nETag: \"e1\"\r\n"
                         "Connection: close\r\n\r\n",
                         st);
        (void)!send(fd, head, (size_t)n, MSG_NOSIGNAL);
        close(fd);
    }
    return NULL;
}

static struct fake fake;
static uv_loop_t loop;
static s3_client *cl;

static void fake_start(const int *statuses, int n)
{
    memset(&fake, 0, sizeof(fake));
    fake.statuses = statuses, fake.n_statuses = n;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t al = sizeof(a);
    fake.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fake.lfd >= 0);
    cr_assert_eq(bind(fake.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(getsockname(fake.lfd, (struct sockaddr *)&a, &al), 0);
    fake.port = ntohs(a.sin_port);
    cr_assert_eq(listen(fake.lfd, 16), 0);
    cr_assert_eq(pipe(fake.stop), 0);
    cr_assert_eq(pthread_create(&fake.th, NULL, fake_main, &fake), 0);
    char ep[64];
    snprintf(ep, sizeof(ep), "http://127.0.0.1:%d/", fake.port);
    struct s3_opts o = {.endpoint = ep,
                        .bucket = "duet-media",
                        .region = "us-east-1",
                        .access_key = "AKIDTEST",
                        .secret_key = "secret",
                        .retries = 3,
                        .backoff_ms = 10,
                        .timeout_ms = 1000,
                        .multipart_min = S3_PART_MIN};
    cr_assert_eq(uv_loop_init(&loop), 0);
    cr_assert_eq(s3_new(&loop, &o, &cl), 0);
}

static int closed;
static void on_closed(void *ud)
{
    closed++;
}

static void fake_stop(void)
{
    closed = 0;
    s3_close(cl, on_closed, NULL);
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    cr_assert_eq(closed, 1);
    cr_assert_eq(uv_loop_close(&loop), 0, "a handle was left open");
    cr_assert_eq(write(fake.stop[1], "x", 1), 1);
    cr_assert_eq(pthread_join(fake.th, NULL), 0);
    for (int i = 0; i < fake.n_held; i++)
        close(fake.held[i]);
    close(fake.lfd), close(fake.stop[0]), close(fake.stop[1]);
}

struct got {
    int calls, err;
    long status;
    char code[64];
    unsigned long long size;
};

static void on_done(void *ud, const struct s3_result *r)
{
    struct got *g = ud;
    g->calls++;
    g->err = r->err, g->status = r->status, g->size = (unsigned long long)r->size;
    snprintf(g->code, sizeof(g->code), "%s", r->code);
}

static void wait_for(struct got *g)
{
    while (g->calls == 0)
        cr_assert(uv_run(&loop, UV_RUN_ONCE) || g->calls, "the loop ran dry");
}

TestSuite(s3, .timeout = 60);

Test(s3, retries_5xx_and_429_then_succeeds)
{
    static const int st[] = {503, 429, 200};
    fake_start(st, 3);
    struct got g = {0};
    cr_assert_eq(s3_head(cl, "media/abc", on_done, &g), 0);
    cr_assert_eq(g.calls, 0, "never from inside the call");
    wait_for(&g);
    cr_assert_eq(g.err, 0);
    cr_assert_eq(g.status, 200);
    cr_assert_eq(g.size, 12345);
    cr_assert_eq(fake.requests, 3);
    /* Path-style, signed. */
    cr_assert(strncmp(fake.last, "HEAD /duet-media/media/abc HTTP/1.1\r\n", 37) == 0, "%s",
              fake.last);
    cr_assert_not_null(strcasestr(fake.last, "\r\nAuthorization: AWS4-HMAC-SHA256 Credential="
                                             "AKIDTEST/"));
    cr_assert_not_null(strcasestr(fake.last, "SignedHeaders=host;x-amz-content-sha256;x-amz-date"));
    cr_assert_not_null(strcasestr(fake.last, "\r\nx-amz-content-sha256: e3b0c442"));
    fake_stop();
}

Test(s3, gives_up_after_the_retries)
{
    static const int st[] = {500};
    fake_start(st, 1);
    struct got g = {0};
    cr_assert_eq(s3_head(cl, "media/abc", on_done, &g), 0);
    wait_for(&g);
    cr_assert_eq(g.err, -EIO);
    cr_assert_eq(g.status, 500, "status %ld", g.status);
    cr_assert_eq(fake.requests, 4, "1 + 3 retries, got %d", fake.requests);
    fake_stop();
}

Test(s3, refusals_are_not_retried)
{
    static const int st[] = {403};
    fake_start(st, 1);
    struct got g = {0};
    cr_assert_eq(s3_delete(cl, "media/abc", on_done, &g), 0);
    wait_for(&g);
    cr_assert_eq(g.err, -EACCES);
    cr_assert_str_eq(g.code, "AccessDenied");
    cr_assert_eq(fake.requests, 1);
    fake_stop();
}

Test(s3, deleting_a_missing_object_succeeds)
{
    static const int st[] = {404};
    fake_start(st, 1);
    struct got g = {0}, h = {0};
    cr_assert_eq(s3_delete(cl, "media/abc", on_done, &g), 0);
    cr_assert_eq(s3_head(cl, "media/abc", on_done, &h), 0);
    wait_for(&g);
    wait_for(&h);
    cr_assert_eq(g.err, 0);
    cr_assert_eq(h.err, -ENOENT);
    fake_stop();
}

Test(s3, bad_arguments)
{
    static const int st[] = {200};
    fake_start(st, 1);
    struct got g = {0};
    char url[1024];
    cr_assert_eq(s3_head(cl, "/media/abc", on_done, &g), -EINVAL);
    cr_assert_eq(s3_head(cl, "media/a b", on_done, &g), -EINVAL);
    cr_assert_eq(s3_head(cl, "", on_done, &g), -EINVAL);
    cr_assert_eq(s3_head(cl, "media/abc", NULL, &g), -EINVAL);
    cr_assert_eq(s3_put_file(cl, "media/x", "/dev/null", 100000ull << 20, NULL, on_done, &g),
                 -EINVAL, "more than 10000 parts");
    cr_assert_eq(s3_presign_get(cl, "media/abc", 0, NULL, NULL, url, sizeof(url)), -EINVAL);
    cr_assert_eq(s3_presign_get(cl, "media/abc", 8 * 86400, NULL, NULL, url, sizeof(url)), -EINVAL);
    cr_assert_gt(s3_presign_get(cl, "media/abc", 300, "image/png", NULL, url, sizeof(url)), 0);
    char want[64];
    snprintf(want, sizeof(want), "http://127.0.0.1:%d/duet-media/media/abc?", fake.port);
    cr_assert(strncmp(url, want, strlen(want)) == 0, "%s", url);
    cr_assert_not_null(strstr(url, "&response-cache-control=private%2C%20no-store&"
                                   "response-content-type=image%2Fpng&X-Amz-Signature="));
    cr_assert_eq(g.calls, 0);
    fake_stop();
}

/* A multipart upload whose parts keep failing (503): after the retries
 * the upload is aborted (DELETE ?uploadId=, encoded) and the error
 * reported; the file's bytes never had to be read whole. */
Test(s3, a_failing_multipart_upload_is_aborted)
{
    static const int st[] = {200};
    char path[] = "/tmp/duet-s3-mp-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(ftruncate(fd, 6 << 20), 0);
    close(fd);
    fake_start(st, 1);
    fake.multipart = 1;
    struct got g = {0};
    cr_assert_eq(s3_put_file(cl, "media/big", path, 6 << 20, "video/mp4", on_done, &g), 0);
    wait_for(&g);
    unlink(path);
    cr_assert_eq(g.err, -EIO, "err %d", g.err);
    cr_assert_eq(g.status, 503);
    /* Create, 1 + 3 tries of part 1, then Abort. */
    cr_assert_eq(fake.requests, 6, "%d requests", fake.requests);
    cr_assert_str_eq(fake.lines[0], "POST /duet-media/media/big?uploads= HTTP/1.1");
    cr_assert(strncmp(fake.lines[1], "PUT /duet-media/media/big?partNumber=1&uploadId=up%2F1%2Bx ",
                      59) == 0,
              "%s", fake.lines[1]);
    cr_assert_str_eq(fake.lines[5], "DELETE /duet-media/media/big?uploadId=up%2F1%2Bx HTTP/1.1");
    fake_stop();
}

Test(s3, a_time_out_is_retried)
{
    static const int st[] = {0, 200};
    fake_start(st, 2);
    struct got g = {0};
    cr_assert_eq(s3_delete(cl, "media/abc", on_done, &g), 0);
    wait_for(&g);
    cr_assert_eq(g.err, 0, "err %d", g.err);
    cr_assert_eq(g.status, 200);
    cr_assert_eq(fake.requests, 2, "the silent first try, then the answered retry");
    fake_stop();
}
