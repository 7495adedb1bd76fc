/* test_blob_s3.c - src/blob/blob_s3.c without a server: reading the key
 * pair (from a file nobody else may read, or from the environment), and
 * the options blob_s3_open() refuses. The S3 traffic itself is tested
 * against S3Proxy (tests/s3). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/blob/blob_s3.h"

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    cr_assert_eq(chmod(path, mode), 0);
}

Test(blob_s3, key_from_a_private_file)
{
    char dir[] = "/tmp/duet-blob-s3-XXXXXX", path[64], out[BLOB_S3_KEY_MAX];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/key", dir);
    write_file(path, "AKIAEXAMPLE\nignored\n", 0600);
    cr_assert_eq(blob_s3_read_key(path, NULL, out, sizeof(out)), 0);
    cr_assert_str_eq(out, "AKIAEXAMPLE");
    /* Readable by the group or others: refused, like the VAPID key. */
    cr_assert_eq(chmod(path, 0640), 0);
    cr_assert_eq(blob_s3_read_key(path, NULL, out, sizeof(out)), -EPERM);
    cr_assert_eq(chmod(path, 0604), 0);
    cr_assert_eq(blob_s3_read_key(path, NULL, out, sizeof(out)), -EPERM);
    /* Empty, too long, missing, not a file. */
    write_file(path, "\n", 0600);
    cr_assert_eq(blob_s3_read_key(path, NULL, out, sizeof(out)), -EINVAL);
    write_file(path, "0123456789", 0600);
    cr_assert_eq(blob_s3_read_key(path, NULL, out, 8), -EINVAL);
    cr_assert_eq(blob_s3_read_key(path, NULL, out, 11), -EINVAL, "maybe cut: refused");
    cr_assert_eq(blob_s3_read_key(path, NULL, out, 12), 0);
    cr_assert_eq(blob_s3_read_key(dir, NULL, out, sizeof(out)), -EINVAL);
    unlink(path);
    cr_assert_eq(blob_s3_read_key(path, NULL, out, sizeof(out)), -ENOENT);
    rmdir(dir);
}

Test(blob_s3, key_from_the_environment)
{
    char out[BLOB_S3_KEY_MAX];
    cr_assert_eq(setenv("DUET_TEST_S3_KEY", "secret-from-env", 1), 0);
    cr_assert_eq(blob_s3_read_key(NULL, "DUET_TEST_S3_KEY", out, sizeof(out)), 0);
    cr_assert_str_eq(out, "secret-from-env");
    cr_assert_eq(unsetenv("DUET_TEST_S3_KEY"), 0);
    cr_assert_eq(blob_s3_read_key(NULL, "DUET_TEST_S3_KEY", out, sizeof(out)), -ENOENT);
}

Test(blob_s3, bad_options_are_refused)
{
    uv_loop_t loop;
    blob_store *b = NULL;
    cr_assert_eq(uv_loop_init(&loop), 0);
    struct blob_s3_opts ok = {.endpoint = "http://127.0.0.1:9",
                              .bucket = "duet-media",
                              .access_key = "a",
                              .secret_key = "s"},
                        o;
    o = ok, o.endpoint = "ftp://x";
    cr_assert_eq(blob_s3_open(&loop, &o, &b), -EINVAL);
    o = ok, o.endpoint = "http://host/path";
    cr_assert_eq(blob_s3_open(&loop, &o, &b), -EINVAL);
    o = ok, o.bucket = "Bad_Bucket";
    cr_assert_eq(blob_s3_open(&loop, &o, &b), -EINVAL);
    o = ok, o.region = "us east";
    cr_assert_eq(blob_s3_open(&loop, &o, &b), -EINVAL);
    o = ok, o.secret_key = NULL;
    cr_assert_eq(blob_s3_open(&loop, &o, &b), -EINVAL);
    o = ok, o.part_size = 1024; /* under S3's 5 MiB */
    cr_assert_eq(blob_s3_open(&loop, &o, &b), -EINVAL);
    cr_assert_null(b);
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    cr_assert_eq(uv_loop_close(&loop), 0);
}
