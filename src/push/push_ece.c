/* push_ece.c - Web Push message encryption (RFC 8291): ECDH between a fresh
 * sender key and the subscription's p256dh, HKDF with the auth secret, and
 * one aes128gcm record (RFC 8188) ending in the 0x02 delimiter. */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "push_int.h"

int push_sub_keys_parse(const char *p256dh, const char *auth, struct push_sub_keys *out)
{
    EVP_PKEY *key = NULL;
    if (!p256dh || !auth ||
        push_b64_decode_exact(p256dh, strlen(p256dh), out->p256dh, PUSH_PUB_LEN) != 0 ||
        push_b64_decode_exact(auth, strlen(auth), out->auth, PUSH_AUTH_LEN) != 0)
        return -EINVAL;
    int rc = push__key_from_pub(out->p256dh, &key); /* on the curve? */
    EVP_PKEY_free(key);
    return rc ? -EINVAL : 0;
}

/* HKDF-SHA-256 (RFC 5869), extract and expand, out_len <= 32. */
static int hkdf(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
    int rc = -EIO;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len),
        OSSL_PARAM_construct_end(),
    };
    if (ctx && EVP_KDF_derive(ctx, out, out_len, p) == 1)
        rc = 0;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rc;
}

/* The ECDH shared secret (the X coordinate, 32 bytes). */
static int ecdh(EVP_PKEY *mine, EVP_PKEY *peer, uint8_t out[32])
{
    int rc = -EIO;
    size_t len = 32;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(mine, NULL);
    if (ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
        EVP_PKEY_derive(ctx, out, &len) == 1 && len == 32)
        rc = 0;
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

/* The content encryption key and nonce of RFC 8291 Section 3.4. */
static int derive(const struct push_sub_keys *sub, const uint8_t as_pub[PUSH_PUB_LEN],
                  const uint8_t secret[32], const uint8_t salt[PUSH_SALT_LEN], uint8_t cek[16],
                  uint8_t nonce[12])
{
    static const char info_cek[] = "Content-Encoding: aes128gcm"; /* sizeof counts the NUL */
    static const char info_nonce[] = "Content-Encoding: nonce";
    static const char info_key[] = "WebPush: info";
    uint8_t key_info[sizeof(info_key) + 2 * PUSH_PUB_LEN], ikm[32];
    memcpy(key_info, info_key, sizeof(info_key));
    memcpy(key_info + sizeof(info_key), sub->p256dh, PUSH_PUB_LEN);
    memcpy(key_info + sizeof(info_key) + PUSH_PUB_LEN, as_pub, PUSH_PUB_LEN);
    int rc = hkdf(sub->auth, PUSH_AUTH_LEN, secret, 32, key_info, sizeof(key_info), ikm, 32);
    if (rc == 0)
        rc = hkdf(salt, PUSH_SALT_LEN, ikm, 32, (const uint8_t *)info_cek, sizeof(info_cek), cek,
                  16);
    if (rc == 0)
        rc = hkdf(salt, PUSH_SALT_LEN, ikm, 32, (const uint8_t *)info_nonce, sizeof(info_nonce),
                  nonce, 12);
    OPENSSL_cleanse(ikm, sizeof(ikm));
    return rc;
}

/* AES-128-GCM over pt || 0x02 || pad zero bytes, the tag appended. */
static int seal(const uint8_t cek[16], const uint8_t nonce[12], const uint8_t *pt, size_t len,
                size_t pad, uint8_t *out)
{
    static const uint8_t zeros[256];
    static const uint8_t delim = 0x02; /* the last (and only) record */
    int rc = -EIO, n;
    uint8_t *o = out;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx)
        return -ENOMEM;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, cek, nonce) != 1)
        goto err;
    if (len > 0 && EVP_EncryptUpdate(ctx, o, &n, pt, (int)len) != 1)
        goto err;
    o += len > 0 ? n : 0;
    if (EVP_EncryptUpdate(ctx, o, &n, &delim, 1) != 1)
        goto err;
    o += n;
    for (size_t left = pad; left > 0;) {
        size_t step = left < sizeof(zeros) ? left : sizeof(zeros);
        if (EVP_EncryptUpdate(ctx, o, &n, zeros, (int)step) != 1)
            goto err;
        o += n, left -= step;
    }
    if (EVP_EncryptFinal_ex(ctx, o, &n) != 1)
        goto err;
    o += n;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, PUSH_TAG_LEN, o) != 1)
        goto err;
    rc = 0;
err:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

static int encrypt_key(const struct push_sub_keys *sub, const uint8_t salt[PUSH_SALT_LEN],
                       EVP_PKEY *eph, const uint8_t *pt, size_t len, size_t pad, uint8_t *out,
                       size_t cap, size_t *out_len)
{
    EVP_PKEY *ua = NULL;
    uint8_t as_pub[PUSH_PUB_LEN], secret[32], cek[16], nonce[12];
    if (len > PUSH_MAX_PLAINTEXT || pad > PUSH_MAX_PLAINTEXT - len)
        return -EMSGSIZE;
    size_t total = PUSH_HEADER_LEN + len + 1 + pad + PUSH_TAG_LEN;
    if (cap < total)
        return -ENOSPC;
    int rc = push__key_from_pub(sub->p256dh, &ua);
    if (rc)
        return rc;
    if ((rc = push__key_pub(eph, as_pub)) != 0 || (rc = ecdh(eph, ua, secret)) != 0 ||
        (rc = derive(sub, as_pub, secret, salt, cek, nonce)) != 0)
        goto err;
    /* The header: salt, record size (big-endian), key id = sender's key. */
    memcpy(out, salt, PUSH_SALT_LEN);
    out[16] = (uint8_t)(PUSH_RS >> 24), out[17] = (uint8_t)(PUSH_RS >> 16);
    out[18] = (uint8_t)(PUSH_RS >> 8), out[19] = (uint8_t)PUSH_RS;
    out[20] = PUSH_PUB_LEN;
    memcpy(out + 21, as_pub, PUSH_PUB_LEN);
    if ((rc = seal(cek, nonce, pt, len, pad, out + PUSH_HEADER_LEN)) != 0)
        goto err;
    *out_len = total;
err:
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(cek, sizeof(cek));
    EVP_PKEY_free(ua);
    return rc;
}

int push_encrypt_with(const struct push_sub_keys *sub, const uint8_t salt[PUSH_SALT_LEN],
                      const uint8_t eph_priv[PUSH_PRIV_LEN], const uint8_t *pt, size_t len,
                      size_t pad, uint8_t *out, size_t cap, size_t *out_len)
{
    EVP_PKEY *eph;
    int rc = push__key_from_priv(eph_priv, &eph);
    if (rc)
        return rc;
    rc = encrypt_key(sub, salt, eph, pt, len, pad, out, cap, out_len);
    EVP_PKEY_free(eph);
    return rc;
}

int push_encrypt(const struct push_sub_keys *sub, const uint8_t *pt, size_t len, size_t pad,
                 uint8_t *out, size_t cap, size_t *out_len)
{
    EVP_PKEY *eph;
    uint8_t salt[PUSH_SALT_LEN];
    if (RAND_bytes(salt, sizeof(salt)) != 1)
        return -EIO;
    int rc = push__key_generate(&eph);
    if (rc)
        return rc;
    rc = encrypt_key(sub, salt, eph, pt, len, pad, out, cap, out_len);
    EVP_PKEY_free(eph);
    return rc;
}
