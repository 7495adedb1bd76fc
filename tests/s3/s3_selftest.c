/* s3_selftest.c - drives src/s3 (and src/outbound under it) against a real
 * S3 server for tests/s3/60-s3-client.test.mjs, one operation per run;
 * prints one JSON line with the result, which the test checks (and
 * verifies independently: presigned URLs fetched with Node's HTTP client,
 * objects looked at in S3Proxy's data folder).
 *
 *   s3-selftest put KEY FILE [CONTENT_TYPE [SIZE]]   (SIZE: as if the file had it)
 *   s3-selftest head KEY | delete KEY
 *   s3-selftest presign KEY SECONDS [CONTENT_TYPE [DISPOSITION]]
 *   s3-selftest many N FILE          N puts at once (max_ops 2: queued)
 *   s3-selftest cancel KEY FILE      a put, then s3_close() at once
 *   s3-selftest blob-put KEY FILE    blob_put_file() of the S3 blob store
 *   s3-selftest blob-remove KEY      blob_remove() (KEY: 32 hex digits)
 *
 * Configuration from the environment: DUET_S3_ENDPOINT, DUET_S3_BUCKET,
 * DUET_S3_REGION (us-east-1), DUET_S3_ACCESS_KEY_FILE,
 * DUET_S3_SECRET_KEY_FILE (or DUET_S3_SECRET_KEY: a wrong one, for the
 * refusal test), DUET_S3_PART_SIZE, DUET_S3_MULTIPART_MIN.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../src/blob/blob_s3.h"
#include "../../src/s3/s3.h"

struct got {
    int calls, err;
    long status;
    char code[64], etag[160];
    unsigned long long size;
};

static void on_done(void *ud, const struct s3_result *r)
{
    struct got *g = ud;
    g->calls++;
    g->err = r->err, g->status = r->status, g->size = (unsigned long long)r->size;
    snprintf(g->code, sizeof(g->code), "%s", r->code);
    snprintf(g->etag, sizeof(g->etag), "%s", r->etag);
}

static int closed;
static void on_closed(void *ud)
{
    closed = 1;
}

static void print(const struct got *g);

static void on_blob(int status, void *ud)
{
    struct got *g = ud;
    g->calls++;
    g->err = status;
}

static void on_blob_closed(void *ud)
{
    closed = 1;
}

/* The blob commands: the S3 backend of the blob store, as duetd runs it. */
static int blob_cmd(uv_loop_t *loop, const struct s3_opts *so, int argc, char **argv)
{
    struct blob_s3_opts o = {.endpoint = so->endpoint,
                             .bucket = so->bucket,
                             .region = so->region,
                             .access_key = so->access_key,
                             .secret_key = so->secret_key,
                             .part_size = so->part_size,
                             .multipart_min = so->multipart_min};
    blob_store *b;
    struct got g = {0};
    int rc = blob_s3_open(loop, &o, &b);
    if (rc) {
        printf("{\"open\":%d}\n", rc);
        return 0;
    }
    if (strcmp(argv[1], "blob-put") == 0 && argc >= 4) {
        struct stat st;
        rc = stat(argv[3], &st) != 0 ? -errno
                                     : blob_put_file(b, argv[2], argv[3], (uint64_t)st.st_size,
                                                     "application/octet-stream", on_blob, &g);
    } else {
        rc = blob_remove(b, argv[2], on_blob, &g);
    }
    if (rc)
        printf("{\"start\":%d}\n", rc);
    while (!rc && g.calls == 0 && uv_run(loop, UV_RUN_ONCE))
        ;
    if (!rc)
        print(&g);
    blob_close(b, on_blob_closed, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    return closed && uv_loop_close(loop) == 0 ? 0 : 3;
}

/* The first line of a file, into out. */
static int read_line(const char *path, char *out, size_t cap)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f || !fgets(out, (int)cap, f)) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static void print(const struct got *g)
{
    /* ETags carry quotes: drop them for the JSON. */
    char etag[160];
    size_t n = 0;
    for (const char *p = g->etag; *p && n + 1 < sizeof(etag); p++)
        if (*p != '"' && *p != '\\')
            etag[n++] = *p;
    etag[n] = '\0';
    printf(
        "{\"calls\":%d,\"err\":%d,\"status\":%ld,\"code\":\"%s\",\"etag\":\"%s\",\"size\":%llu}\n",
        g->calls, g->err, g->status, g->code, etag, g->size);
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        exit(2);
    }
    return (uint64_t)st.st_size;
}

int main(int argc, char **argv)
{
    static char ak[256], sk[256];
    uv_loop_t loop;
    s3_client *c;
    if (argc < 3) {
        fprintf(stderr, "usage: see the top of tests/s3/s3_selftest.c\n");
        return 2;
    }
    const char *env_sk = getenv("DUET_S3_SECRET_KEY");
    if (read_line(getenv("DUET_S3_ACCESS_KEY_FILE"), ak, sizeof(ak)) != 0 ||
        (env_sk ? (snprintf(sk, sizeof(sk), "%s", env_sk), 0)
                : read_line(getenv("DUET_S3_SECRET_KEY_FILE"), sk, sizeof(sk))) != 0) {
        fprintf(stderr, "s3-selftest: no keys (DUET_S3_*_KEY_FILE)\n");
        return 2;
    }
    const char *region = getenv("DUET_S3_REGION");
    const char *ps = getenv("DUET_S3_PART_SIZE"), *mm = getenv("DUET_S3_MULTIPART_MIN");
    const char *cmd = argv[1];
    struct s3_opts o = {.endpoint = getenv("DUET_S3_ENDPOINT"),
                        .bucket = getenv("DUET_S3_BUCKET"),
                        .region = region ? region : "us-east-1",
                        .access_key = ak,
                        .secret_key = sk,
                        .part_size = ps ? strtoull(ps, NULL, 10) : 0,
                        .multipart_min = mm ? strtoull(mm, NULL, 10) : 0,
                        .max_ops = strcmp(cmd, "many") == 0 ? 2 : 0,
                        .retries = 2,
                        .backoff_ms = 100};
    if (uv_loop_init(&loop) != 0 || s3_new(&loop, &o, &c) != 0) {
        fprintf(stderr, "s3-selftest: s3_new failed (options?)\n");
        return 2;
    }
    struct got g = {0};
    int rc = 0;
    if (strncmp(cmd, "blob-", 5) == 0) {
        s3_close(c, NULL, NULL); /* the blob store has its own client */
        uv_run(&loop, UV_RUN_DEFAULT);
        return blob_cmd(&loop, &o, argc, argv);
    }
    if (strcmp(cmd, "put") == 0 && argc >= 4) {
        uint64_t size = argc > 5 ? strtoull(argv[5], NULL, 10) : file_size(argv[3]);
        rc = s3_put_file(c, argv[2], argv[3], size, argc > 4 ? argv[4] : NULL, on_done, &g);
    } else if (strcmp(cmd, "head") == 0) {
        rc = s3_head(c, argv[2], on_done, &g);
    } else if (strcmp(cmd, "delete") == 0) {
        rc = s3_delete(c, argv[2], on_done, &g);
    } else if (strcmp(cmd, "presign") == 0 && argc >= 4) {
        char url[4096];
        int n =
            s3_presign_get(c, argv[2], (uint32_t)strtoul(argv[3], NULL, 10),
                           argc > 4 ? argv[4] : NULL, argc > 5 ? argv[5] : NULL, url, sizeof(url));
        if (n < 0)
            printf("{\"err\":%d}\n", n);
        else
            printf("%s\n", url);
    } else if (strcmp(cmd, "many") == 0 && argc >= 4) {
        int n = atoi(argv[2]);
        static struct got gs[64];
        char key[64];
        if (n < 1 || n > 64)
            return 2;
        for (int i = 0; i < n && !rc; i++) {
            snprintf(key, sizeof(key), "many/%d", i);
            rc = s3_put_file(c, key, argv[3], file_size(argv[3]), NULL, on_done, &gs[i]);
        }
        size_t pending = s3_pending(c), most = 0;
        while (uv_run(&loop, UV_RUN_ONCE))
            if (s3_running(c) > most)
                most = s3_running(c);
        printf("{\"pending\":%zu,\"most_running\":%zu}\n", pending, most);
        for (int i = 0; i < n; i++)
            print(&gs[i]);
        n = 0; /* printed */
    } else if (strcmp(cmd, "cancel") == 0 && argc >= 4) {
        rc = s3_put_file(c, argv[2], argv[3], file_size(argv[3]), NULL, on_done, &g);
        if (!rc) {
            s3_close(c, on_closed, NULL);
            c = NULL;
        }
    } else {
        fprintf(stderr, "s3-selftest: unknown command %s\n", cmd);
        return 2;
    }
    if (rc) {
        printf("{\"start\":%d}\n", rc);
    } else if (strcmp(cmd, "presign") != 0 && strcmp(cmd, "many") != 0) {
        while (g.calls == 0 && uv_run(&loop, UV_RUN_ONCE))
            ;
        print(&g);
    }
    if (c)
        s3_close(c, on_closed, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (!closed || uv_loop_close(&loop) != 0) {
        fprintf(stderr, "s3-selftest: not closed cleanly\n");
        return 3;
    }
    return 0;
}
