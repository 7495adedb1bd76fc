/* media_s3.c - see media_s3.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../blob/blob_s3.h"
#include "media_s3.h"

static int read_key(const char *file, const char *env, const char *what, char *out, size_t cap)
{
    int rc = blob_s3_read_key(file, env, out, cap);
    if (rc == 0)
        return 0;
    if (file)
        fprintf(stderr, "duetd: %s file %s: %s\n", what, file,
                rc == -EPERM    ? "readable by others (chmod 600 it)"
                : rc == -EINVAL ? "empty, too long or not a regular file"
                                : strerror(-rc));
    else
        fprintf(stderr, "duetd: --media s3 needs the %s: --s3-%s-file or %s\n", what,
                strcmp(what, "access key") == 0 ? "access-key" : "secret-key", env);
    return rc;
}

int media_s3_open(const struct config *cfg, uv_loop_t *loop, blob_store **out)
{
    char ak[BLOB_S3_KEY_MAX], sk[BLOB_S3_KEY_MAX];
    if (!cfg->s3_endpoint || !cfg->s3_bucket) {
        fprintf(stderr, "duetd: --media s3 needs --s3-endpoint and --s3-bucket\n");
        return -EINVAL;
    }
    int rc = read_key(cfg->s3_access_key_file, "DUET_S3_ACCESS_KEY", "access key", ak, sizeof(ak));
    if (rc == 0)
        rc = read_key(cfg->s3_secret_key_file, "DUET_S3_SECRET_KEY", "secret key", sk, sizeof(sk));
    if (rc == 0) {
        struct blob_s3_opts o = {.endpoint = cfg->s3_endpoint,
                                 .bucket = cfg->s3_bucket,
                                 .region = cfg->s3_region,
                                 .access_key = ak,
                                 .secret_key = sk,
                                 .presign_secs = (uint32_t)cfg->s3_presign_s,
                                 .part_size = (uint64_t)cfg->s3_part_mib << 20,
                                 .multipart_min = (uint64_t)cfg->s3_multipart_min_mib << 20};
        if ((rc = blob_s3_open(loop, &o, out)) != 0)
            fprintf(stderr, "duetd: --media s3: %s (endpoint, bucket or region)\n", strerror(-rc));
    }
    explicit_bzero(sk, sizeof(sk));
    explicit_bzero(ak, sizeof(ak));
    return rc;
}

const char *media_s3_origin(const struct config *cfg)
{
    return cfg->media && strcmp(cfg->media, "s3") == 0 ? cfg->s3_endpoint : NULL;
}
