/* s3_sigv4.c - AWS Signature Version 4 (see s3_sigv4.h). */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "../base/duet.h"
#include "s3_sigv4.h"

#define ALGO "AWS4-HMAC-SHA256"

/* A bounded string being appended to. Ownership: the caller's buffer. */
struct sb {
    char *p;
    size_t len, cap;
    int err;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
    if (b->err)
        return;
    if (n >= b->cap - b->len) {
        b->err = -ENOSPC;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static int sb_done(const struct sb *b)
{
    return b->err ? b->err : (int)b->len;
}

void sigv4_amz_date(time_t t, char out[SIGV4_DATE_SIZE])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, SIGV4_DATE_SIZE, "19700101T000000Z");
        return;
    }
    strftime(out, SIGV4_DATE_SIZE, "%Y%m%dT%H%M%SZ", &tm);
}

int sigv4_sha256_hex(const void *p, size_t n, char out[SIGV4_HASH_SIZE])
{
    uint8_t md[32];
    unsigned int mdlen = 0;
    if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return -EIO;
    duet_hex_encode(md, 32, out);
    return 0;
}

static int hmac(const uint8_t *key, size_t klen, const char *msg, size_t mlen, uint8_t out[32])
{
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, out, &len) ||
        len != 32)
        return -EIO;
    return 0;
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static void sb_encode(struct sb *b, const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (unreserved(c) || (keep_slash && c == '/')) {
            sb_add(b, (const char *)&c, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            sb_add(b, e, 3);
        }
    }
}

int sigv4_uri_encode(const char *s, int keep_slash, char *out, size_t cap)
{
    if (!s || cap == 0)
        return -EINVAL;
    struct sb b = {out, 0, cap, 0};
    out[0] = '\0';
    sb_encode(&b, s, keep_slash);
    return sb_done(&b);
}

static int hdrs_ok(const struct sigv4_in *in)
{
    if (in->n_hdrs == 0 || !in->hdrs)
        return 0;
    for (size_t i = 0; i < in->n_hdrs; i++) {
        const char *n = in->hdrs[i].name;
        if (!n || !*n || !in->hdrs[i].value)
            return 0;
        for (const char *c = n; *c; c++)
            if ((*c >= 'A' && *c <= 'Z') || *c <= ' ' || *c == ':' || *c == ';')
                return 0;
        if (i > 0 && strcmp(in->hdrs[i - 1].name, n) >= 0)
            return 0; /* unsorted or repeated */
    }
    return 1;
}

static void sb_signed_headers(struct sb *b, const struct sigv4_in *in)
{
    for (size_t i = 0; i < in->n_hdrs; i++) {
        if (i)
            sb_add(b, ";", 1);
        sb_str(b, in->hdrs[i].name);
    }
}

int sigv4_canonical_request(const struct sigv4_in *in, char *out, size_t cap)
{
    if (!in || !in->method || !in->path || in->path[0] != '/' || !in->query || !in->payload_hash ||
        !hdrs_ok(in) || cap == 0)
        return -EINVAL;
    struct sb b = {out, 0, cap, 0};
    out[0] = '\0';
    sb_str(&b, in->method);
    sb_add(&b, "\n", 1);
    /* S3 encodes the path once, each segment, keeping the slashes. */
    sb_encode(&b, in->path, 1);
    sb_add(&b, "\n", 1);
    sb_str(&b, in->query);
    sb_add(&b, "\n", 1);
    for (size_t i = 0; i < in->n_hdrs; i++) {
        sb_str(&b, in->hdrs[i].name);
        sb_add(&b, ":", 1);
        sb_str(&b, in->hdrs[i].value);
        sb_add(&b, "\n", 1);
    }
    sb_add(&b, "\n", 1);
    sb_signed_headers(&b, in);
    sb_add(&b, "\n", 1);
    sb_str(&b, in->payload_hash);
    return sb_done(&b);
}

static int date_ok(const char *d)
{
    return d && strlen(d) == SIGV4_DATE_SIZE - 1 && d[8] == 'T' && d[15] == 'Z';
}

int sigv4_scope(const struct sigv4_key *k, const char *amz_date, char *out, size_t cap)
{
    if (!k || !k->region || !k->service || !date_ok(amz_date) || cap == 0)
        return -EINVAL;
    struct sb b = {out, 0, cap, 0};
    out[0] = '\0';
    sb_add(&b, amz_date, 8);
    sb_add(&b, "/", 1);
    sb_str(&b, k->region);
    sb_add(&b, "/", 1);
    sb_str(&b, k->service);
    sb_str(&b, "/aws4_request");
    return sb_done(&b);
}

int sigv4_string_to_sign(const char *amz_date, const char *scope, const char *creq, char *out,
                         size_t cap)
{
    char h[SIGV4_HASH_SIZE];
    if (!date_ok(amz_date) || !scope || !creq || cap == 0)
        return -EINVAL;
    if (sigv4_sha256_hex(creq, strlen(creq), h) != 0)
        return -EIO;
    struct sb b = {out, 0, cap, 0};
    out[0] = '\0';
    sb_str(&b, ALGO "\n");
    sb_str(&b, amz_date);
    sb_add(&b, "\n", 1);
    sb_str(&b, scope);
    sb_add(&b, "\n", 1);
    sb_str(&b, h);
    return sb_done(&b);
}

int sigv4_signing_key(const struct sigv4_key *k, const char *amz_date, uint8_t out[32])
{
    char first[256];
    uint8_t a[32], c[32];
    if (!k || !k->secret_key || !k->region || !k->service || !date_ok(amz_date))
        return -EINVAL;
    int n = snprintf(first, sizeof(first), "AWS4%s", k->secret_key);
    if (n < 0 || (size_t)n >= sizeof(first))
        return -EINVAL;
    int rc = hmac((const uint8_t *)first, (size_t)n, amz_date, 8, a);
    if (!rc)
        rc = hmac(a, 32, k->region, strlen(k->region), c);
    if (!rc)
        rc = hmac(c, 32, k->service, strlen(k->service), a);
    if (!rc)
        rc = hmac(a, 32, "aws4_request", 12, out);
    OPENSSL_cleanse(first, sizeof(first));
    OPENSSL_cleanse(a, sizeof(a));
    OPENSSL_cleanse(c, sizeof(c));
    return rc;
}

/* Canonical request, string to sign and key, for a request whose scope
 * the caller already wrote. */
static int sign(const struct sigv4_key *k, const char *amz_date, const char *scope,
                const struct sigv4_in *in, char out[SIGV4_HASH_SIZE])
{
    char creq[8192], sts[512];
    uint8_t key[32], sig[32];
    int rc = sigv4_canonical_request(in, creq, sizeof(creq));
    if (rc >= 0)
        rc = sigv4_string_to_sign(amz_date, scope, creq, sts, sizeof(sts));
    if (rc >= 0)
        rc = sigv4_signing_key(k, amz_date, key);
    if (rc >= 0)
        rc = hmac(key, 32, sts, strlen(sts), sig);
    OPENSSL_cleanse(key, sizeof(key));
    if (rc < 0)
        return rc;
    duet_hex_encode(sig, 32, out);
    return 0;
}

int sigv4_signature(const struct sigv4_key *k, const char *amz_date, const struct sigv4_in *in,
                    char out[SIGV4_HASH_SIZE])
{
    char scope[256];
    int rc = sigv4_scope(k, amz_date, scope, sizeof(scope));
    return rc < 0 ? rc : sign(k, amz_date, scope, in, out);
}

int sigv4_authorization(const struct sigv4_key *k, const char *amz_date, const struct sigv4_in *in,
                        char *out, size_t cap)
{
    char scope[256], sig[SIGV4_HASH_SIZE];
    if (!k || !k->access_key || cap == 0)
        return -EINVAL;
    int rc = sigv4_scope(k, amz_date, scope, sizeof(scope));
    if (rc < 0 || (rc = sign(k, amz_date, scope, in, sig)) < 0)
        return rc;
    struct sb b = {out, 0, cap, 0};
    out[0] = '\0';
    sb_str(&b, ALGO " Credential=");
    sb_str(&b, k->access_key);
    sb_add(&b, "/", 1);
    sb_str(&b, scope);
    sb_str(&b, ", SignedHeaders=");
    sb_signed_headers(&b, in);
    sb_str(&b, ", Signature=");
    sb_str(&b, sig);
    return sb_done(&b);
}

int sigv4_presign_query(const struct sigv4_key *k, const char *amz_date, uint32_t expires,
                        const char *method, const char *host, const char *path, const char *extra,
                        char *out, size_t cap)
{
    char scope[256], cred[512], sig[SIGV4_HASH_SIZE], num[16];
    if (!k || !k->access_key || !host || !extra || expires == 0 || expires > SIGV4_MAX_EXPIRES ||
        cap == 0)
        return -EINVAL;
    int rc = sigv4_scope(k, amz_date, scope, sizeof(scope));
    if (rc < 0)
        return rc;
    if (snprintf(cred, sizeof(cred), "%s/%s", k->access_key, scope) >= (int)sizeof(cred))
        return -EINVAL;
    snprintf(num, sizeof(num), "%u", (unsigned)expires);
    struct sb b = {out, 0, cap, 0};
    out[0] = '\0';
    sb_str(&b, "X-Amz-Algorithm=" ALGO "&X-Amz-Credential=");
    sb_encode(&b, cred, 0);
    sb_str(&b, "&X-Amz-Date=");
    sb_str(&b, amz_date);
    sb_str(&b, "&X-Amz-Expires=");
    sb_str(&b, num);
    sb_str(&b, "&X-Amz-SignedHeaders=host");
    if (extra[0]) {
        sb_add(&b, "&", 1);
        sb_str(&b, extra);
    }
    if ((rc = sb_done(&b)) < 0)
        return rc;
    struct sigv4_hdr h = {"host", host};
    struct sigv4_in in = {method, path, out, &h, 1, SIGV4_UNSIGNED};
    if ((rc = sign(k, amz_date, scope, &in, sig)) < 0)
        return rc;
    sb_str(&b, "&X-Amz-Signature=");
    sb_str(&b, sig);
    return sb_done(&b);
}
