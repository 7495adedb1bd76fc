/* push_jwt.c - the VAPID token (RFC 8292): an ES256 JWT whose aud is the
 * push service's origin, and the Authorization header that carries it. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include "push_int.h"

#define SUB_MAX 255
#define AUD_MAX 300

int push_origin(const char *endpoint, char *out, size_t cap)
{
    size_t skip;
    const char *scheme, *defport;
    if (!endpoint)
        return -EINVAL;
    if (strncasecmp(endpoint, "https://", 8) == 0) {
        scheme = "https://", skip = 8, defport = ":443";
    } else if (strncasecmp(endpoint, "http://", 7) == 0) {
        /* Only loopback test services speak plain HTTP; the caller decides. */
        scheme = "http://", skip = 7, defport = ":80";
    } else {
        return -EINVAL;
    }
    const char *host = endpoint + skip;
    size_t n = strcspn(host, "/?#");
    if (n == 0)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)host[i];
        /* No user info, nothing that would need escaping in the JSON. */
        if (c <= 0x20 || c >= 0x7f || c == '@' || c == '"' || c == '\\')
            return -EINVAL;
    }
    size_t dl = strlen(defport);
    if (n > dl && strncmp(host + n - dl, defport, dl) == 0)
        n -= dl; /* the default port is not part of the serialised origin */
    if (strlen(scheme) + n + 1 > cap)
        return -ENOSPC;
    size_t o = (size_t)sprintf(out, "%s", scheme);
    for (size_t i = 0; i < n; i++)
        out[o++] = (char)tolower((unsigned char)host[i]);
    out[o] = '\0';
    return 0;
}

static int sub_ok(const char *sub)
{
    size_t n = sub ? strlen(sub) : 0;
    if (n == 0 || n > SUB_MAX)
        return 0;
    if (strncmp(sub, "mailto:", 7) != 0 && strncmp(sub, "https:", 6) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (sub[i] < 0x21 || sub[i] > 0x7e || sub[i] == '"' || sub[i] == '\\')
            return 0;
    return 1;
}

/* Signs msg with ES256 and writes the JOSE form: r and s, 32 bytes each,
 * big-endian (libcrypto gives a DER SEQUENCE of two INTEGERs). */
static int sign_es256(EVP_PKEY *key, const char *msg, size_t len, uint8_t rs[64])
{
    int rc = -EIO;
    uint8_t der[80]; /* at most 72 bytes for P-256 */
    size_t der_len = sizeof(der);
    ECDSA_SIG *sig = NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md)
        return -ENOMEM;
    if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, der, &der_len, (const uint8_t *)msg, len) != 1)
        goto err;
    const uint8_t *p = der;
    if (!(sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len)))
        goto err;
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, rs, 32) != 32 || BN_bn2binpad(s, rs + 32, 32) != 32)
        goto err;
    rc = 0;
err:
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(md);
    return rc;
}

int push_vapid_jwt(const push_vapid *v, const char *endpoint, const char *sub, int64_t now_s,
                   int64_t ttl_s, char *out, size_t cap)
{
    static const char header[] = "{\"typ\":\"JWT\",\"alg\":\"ES256\"}";
    char aud[AUD_MAX], claims[AUD_MAX + SUB_MAX + 64];
    uint8_t rs[64];
    int rc;
    if (ttl_s <= 0 || ttl_s > PUSH_EXP_MAX_S || now_s < 0 || !sub_ok(sub))
        return -EINVAL;
    if ((rc = push_origin(endpoint, aud, sizeof(aud))) != 0)
        return rc == -ENOSPC ? -EINVAL : rc;
    int n = snprintf(claims, sizeof(claims), "{\"aud\":\"%s\",\"exp\":%" PRId64 ",\"sub\":\"%s\"}",
                     aud, now_s + ttl_s, sub);
    if (n < 0 || (size_t)n >= sizeof(claims))
        return -EINVAL;
    /* header.claims, then .signature, each in base64url */
    if ((rc = push_b64_encode((const uint8_t *)header, sizeof(header) - 1, out, cap)) != 0)
        return rc;
    size_t o = strlen(out);
    if (o + 2 > cap)
        return -ENOSPC;
    out[o++] = '.';
    if ((rc = push_b64_encode((const uint8_t *)claims, (size_t)n, out + o, cap - o)) != 0)
        return rc;
    o += strlen(out + o);
    if ((rc = sign_es256(v->key, out, o, rs)) != 0)
        return rc;
    if (o + 2 > cap)
        return -ENOSPC;
    out[o++] = '.';
    return push_b64_encode(rs, sizeof(rs), out + o, cap - o);
}

int push_vapid_auth(const push_vapid *v, const char *endpoint, const char *sub, int64_t now_s,
                    int64_t ttl_s, char *out, size_t cap)
{
    char jwt[PUSH_JWT_SIZE], k[PUSH_PUB_B64_SIZE];
    int rc = push_vapid_jwt(v, endpoint, sub, now_s, ttl_s, jwt, sizeof(jwt));
    if (rc == 0)
        rc = push_vapid_public_b64(v, k);
    if (rc)
        return rc;
    int n = snprintf(out, cap, "vapid t=%s, k=%s", jwt, k);
    return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}
