/* push_keys.c - base64url, raw P-256 keys <-> EVP_PKEY, and the VAPID key
 * pair: generation and its file under the data directory. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "push_int.h"

#define KEY_FILE_MAX 8192 /* a P-256 PKCS#8 PEM is about 240 bytes */

/* ---- base64url ----------------------------------------------------------- */

int push_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
    const int v = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    if (cap < sodium_base64_ENCODED_LEN(len, v))
        return -ENOSPC;
    sodium_bin2base64(out, cap, in, len, v);
    return 0;
}

int push_b64_decode_exact(const char *s, size_t slen, uint8_t *out, size_t want)
{
    size_t got = 0;
    const char *end = NULL;
    if (!s)
        return -EINVAL;
    if (sodium_base642bin(out, want, s, slen, NULL, &got, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return -EINVAL;
    /* The whole string must be consumed and give exactly `want` bytes. */
    if (got != want || end != s + slen)
        return -EINVAL;
    return 0;
}

/* ---- raw keys ------------------------------------------------------------ */

static int key_from_params(const uint8_t *pub, const BIGNUM *priv, EVP_PKEY **out)
{
    int rc = -EIO;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *key = NULL;
    if (!bld)
        return -ENOMEM;
    if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, PUSH_PUB_LEN) ||
        (priv && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv)))
        goto err;
    if (!(params = OSSL_PARAM_BLD_to_param(bld)))
        goto err;
    if (!(ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) || EVP_PKEY_fromdata_init(ctx) <= 0)
        goto err;
    /* fromdata decodes the point and refuses one that is not on the curve. */
    if (EVP_PKEY_fromdata(ctx, &key, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        rc = -EINVAL;
        goto err;
    }
    *out = key;
    rc = 0;
err:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return rc;
}

int push__key_from_pub(const uint8_t pub[PUSH_PUB_LEN], EVP_PKEY **out)
{
    if (pub[0] != 0x04) /* uncompressed form only, as the Push API gives it */
        return -EINVAL;
    return key_from_params(pub, NULL, out);
}

int push__key_from_priv(const uint8_t priv[PUSH_PRIV_LEN], EVP_PKEY **out)
{
    int rc = -EIO;
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *d = BN_bin2bn(priv, PUSH_PRIV_LEN, NULL);
    EC_POINT *pt = NULL;
    uint8_t pub[PUSH_PUB_LEN];
    if (!group || !d)
        goto err;
    if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(group)) >= 0) {
        rc = -EINVAL;
        goto err;
    }
    if (!(pt = EC_POINT_new(group)) || !EC_POINT_mul(group, pt, d, NULL, NULL, NULL) ||
        EC_POINT_point2oct(group, pt, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub), NULL) !=
            sizeof(pub))
        goto err;
    rc = key_from_params(pub, d, out);
err:
    EC_POINT_free(pt);
    BN_clear_free(d);
    EC_GROUP_free(group);
    return rc;
}

int push__key_pub(EVP_PKEY *key, uint8_t out[PUSH_PUB_LEN])
{
    size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, PUSH_PUB_LEN,
                                        &len) != 1 ||
        len != PUSH_PUB_LEN || out[0] != 0x04)
        return -EIO;
    return 0;
}

int push__key_generate(EVP_PKEY **out)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (!key)
        return -EIO;
    *out = key;
    return 0;
}

/* ---- the VAPID key pair -------------------------------------------------- */

static int vapid_wrap(EVP_PKEY *key, push_vapid **out)
{
    push_vapid *v = malloc(sizeof(*v));
    if (!v) {
        EVP_PKEY_free(key);
        return -ENOMEM;
    }
    v->key = key;
    *out = v;
    return 0;
}

int push_vapid_generate(push_vapid **out)
{
    EVP_PKEY *key;
    int rc = push__key_generate(&key);
    return rc ? rc : vapid_wrap(key, out);
}

int push_vapid_from_priv(const uint8_t priv[PUSH_PRIV_LEN], push_vapid **out)
{
    EVP_PKEY *key;
    int rc = push__key_from_priv(priv, &key);
    return rc ? rc : vapid_wrap(key, out);
}

void push_vapid_free(push_vapid *v)
{
    if (!v)
        return;
    EVP_PKEY_free(v->key);
    free(v);
}

int push_vapid_public(const push_vapid *v, uint8_t out[PUSH_PUB_LEN])
{
    return push__key_pub(v->key, out);
}

int push_vapid_public_b64(const push_vapid *v, char out[PUSH_PUB_B64_SIZE])
{
    uint8_t pub[PUSH_PUB_LEN];
    int rc = push__key_pub(v->key, pub);
    return rc ? rc : push_b64_encode(pub, sizeof(pub), out, PUSH_PUB_B64_SIZE);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int fsync_dir_of(const char *path)
{
    char copy[PATH_MAX];
    if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
        return -ENAMETOOLONG;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) ? -errno : 0;
    close(fd);
    return rc;
}

/* Writes the PEM to a fresh 0600 temporary file next to path and syncs it;
 * tmp receives its name. */
static int write_tmp(const push_vapid *v, const char *path, char *tmp, size_t cap)
{
    int rc = -EIO, fd = -1;
    char *pem = NULL;
    long len = 0;
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio)
        return -ENOMEM;
    if (!PEM_write_bio_PrivateKey(bio, v->key, NULL, NULL, 0, NULL, NULL) ||
        (len = BIO_get_mem_data(bio, &pem)) <= 0)
        goto err;
    if (snprintf(tmp, cap, "%s.XXXXXX", path) >= (int)cap) {
        rc = -ENAMETOOLONG;
        goto err;
    }
    if ((fd = mkstemp(tmp)) < 0) { /* mkstemp creates it 0600 */
        rc = -errno;
        goto err;
    }
    if ((rc = write_all(fd, pem, (size_t)len)) == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc)
        unlink(tmp);
err:
    if (pem && len > 0)
        OPENSSL_cleanse(pem, (size_t)len);
    BIO_free(bio);
    return rc;
}

int push_vapid_save(const push_vapid *v, const char *path)
{
    char tmp[PATH_MAX];
    int rc = write_tmp(v, path, tmp, sizeof(tmp));
    if (rc)
        return rc;
    if (rename(tmp, path) != 0) {
        rc = -errno;
        unlink(tmp);
        return rc;
    }
    return fsync_dir_of(path);
}

int push_vapid_load(const char *path, push_vapid **out)
{
    int rc = -EIO;
    char buf[KEY_FILE_MAX];
    ssize_t n = 0;
    struct stat st;
    EVP_PKEY *key = NULL;
    BIO *bio = NULL;
    char group[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        goto err;
    }
    /* Like ssh with its keys: a private key others can read is refused. */
    if (!S_ISREG(st.st_mode) || st.st_size >= KEY_FILE_MAX) {
        rc = -EINVAL;
        goto err;
    }
    if (st.st_mode & 077) {
        rc = -EPERM;
        goto err;
    }
    for (ssize_t r; (r = read(fd, buf + n, sizeof(buf) - (size_t)n)) != 0; n += r) {
        if (r < 0 && errno == EINTR)
            r = 0;
        else if (r < 0 || n + r >= KEY_FILE_MAX) {
            rc = r < 0 ? -errno : -EINVAL;
            goto err;
        }
    }
    if (!(bio = BIO_new_mem_buf(buf, (int)n))) {
        rc = -ENOMEM;
        goto err;
    }
    size_t glen = 0;
    if (!(key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) || !EVP_PKEY_is_a(key, "EC") ||
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &glen) != 1 ||
        strcmp(group, "prime256v1") != 0) {
        rc = -EINVAL;
        goto err;
    }
    rc = vapid_wrap(key, out);
    key = NULL;
err:
    OPENSSL_cleanse(buf, sizeof(buf));
    EVP_PKEY_free(key);
    BIO_free(bio);
    close(fd);
    return rc;
}

int push_vapid_load_or_create(const char *dir, push_vapid **out)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", dir, PUSH_VAPID_FILE) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    int rc = push_vapid_load(path, out);
    if (rc != -ENOENT)
        return rc;
    push_vapid *v;
    if ((rc = push_vapid_generate(&v)) != 0)
        return rc;
    if ((rc = write_tmp(v, path, tmp, sizeof(tmp))) != 0)
        goto err;
    /* link(), unlike rename(), never replaces: when two instances start on
     * one shared directory at once, the first key written wins and the
     * other instance loads it. */
    if (link(tmp, path) != 0) {
        rc = -errno;
        unlink(tmp);
        if (rc != -EEXIST)
            goto err;
        push_vapid_free(v);
        return push_vapid_load(path, out);
    }
    unlink(tmp);
    if ((rc = fsync_dir_of(path)) != 0)
        goto err;
    *out = v;
    return 0;
err:
    push_vapid_free(v);
    return rc;
}
