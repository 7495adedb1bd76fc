/* test_push.c - src/push: RFC 8291's worked example byte for byte, the VAPID
 * JWT (its signature verifies with the public key, its claims), the key
 * file, and bad input. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include "../../src/push/push_int.h"

static void init(void)
{
    cr_assert(sodium_init() >= 0);
}

TestSuite(push, .init = init);

static size_t b64dec(const char *s, uint8_t *out, size_t cap)
{
    size_t got;
    cr_assert_eq(sodium_base642bin(out, cap, s, strlen(s), NULL, &got, NULL,
                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                 0, "bad test vector %s", s);
    return got;
}

/* RFC 8291 Section 5 and Appendix A. */
#define RFC_PLAINTEXT "When I grow up, I want to be a watermelon"
#define RFC_AS_PRIV   "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
#define RFC_AS_PUB                                                                                 \
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
#define RFC_UA_PUB                                                                                 \
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
#define RFC_SALT "DGv6ra1nlYgDCS1FRnbzlw"
#define RFC_AUTH "BTBZMqHH6r4Tts7J_aSIgg"
#define RFC_OUTPUT                                                                                 \
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS" \
    "6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_"   \
    "Qulcy4a-fN"

Test(push, rfc8291_worked_example_byte_for_byte)
{
    struct push_sub_keys sub;
    uint8_t salt[16], priv[32], want[512], out[512];
    cr_assert_eq(push_sub_keys_parse(RFC_UA_PUB, RFC_AUTH, &sub), 0);
    cr_assert_eq(b64dec(RFC_SALT, salt, sizeof(salt)), 16);
    cr_assert_eq(b64dec(RFC_AS_PRIV, priv, sizeof(priv)), 32);
    size_t want_len = b64dec(RFC_OUTPUT, want, sizeof(want)), len = 0;
    const char *pt = RFC_PLAINTEXT;
    cr_assert_eq(push_encrypt_with(&sub, salt, priv, (const uint8_t *)pt, strlen(pt), 0, out,
                                   sizeof(out), &len),
                 0);
    cr_assert_eq(len, want_len);
    cr_assert_eq(memcmp(out, want, len), 0, "the output differs from RFC 8291 Appendix A");

    /* The sender's public key in the header is the RFC's, from its private key. */
    push_vapid *v;
    char k[PUSH_PUB_B64_SIZE];
    cr_assert_eq(push_vapid_from_priv(priv, &v), 0);
    cr_assert_eq(push_vapid_public_b64(v, k), 0);
    cr_assert_str_eq(k, RFC_AS_PUB);
    push_vapid_free(v);
}

Test(push, encrypt_is_fresh_and_sized)
{
    struct push_sub_keys sub;
    uint8_t a[PUSH_MAX_BODY], b[PUSH_MAX_BODY];
    size_t la, lb;
    cr_assert_eq(push_sub_keys_parse(RFC_UA_PUB, RFC_AUTH, &sub), 0);
    cr_assert_eq(push_encrypt(&sub, (const uint8_t *)"hi", 2, 10, a, sizeof(a), &la), 0);
    cr_assert_eq(push_encrypt(&sub, (const uint8_t *)"hi", 2, 10, b, sizeof(b), &lb), 0);
    cr_assert_eq(la, PUSH_HEADER_LEN + 2 + 1 + 10 + PUSH_TAG_LEN);
    cr_assert_eq(la, lb);
    cr_assert_neq(memcmp(a, b, 16), 0, "a fresh salt each time");
    cr_assert_neq(memcmp(a + 21, b + 21, PUSH_PUB_LEN), 0, "a fresh sender key each time");
    /* The largest payload fills the 4096 bytes push services accept. */
    static uint8_t big[PUSH_MAX_PLAINTEXT + 1];
    cr_assert_eq(push_encrypt(&sub, big, PUSH_MAX_PLAINTEXT, 0, a, sizeof(a), &la), 0);
    cr_assert_eq(la, PUSH_MAX_BODY);
    cr_assert_eq(push_encrypt(&sub, big, PUSH_MAX_PLAINTEXT + 1, 0, a, sizeof(a), &la), -EMSGSIZE);
    cr_assert_eq(push_encrypt(&sub, big, 10, PUSH_MAX_PLAINTEXT, a, sizeof(a), &la), -EMSGSIZE);
    cr_assert_eq(push_encrypt(&sub, big, 10, 0, a, 50, &la), -ENOSPC);
}

Test(push, bad_subscription_keys_are_refused)
{
    struct push_sub_keys sub;
    /* wrong lengths */
    cr_assert_eq(push_sub_keys_parse(RFC_AUTH, RFC_AUTH, &sub), -EINVAL);
    cr_assert_eq(push_sub_keys_parse(RFC_UA_PUB, RFC_UA_PUB, &sub), -EINVAL);
    cr_assert_eq(push_sub_keys_parse(RFC_UA_PUB, "BTBZMqHH6r4Tts7J_aSI", &sub), -EINVAL);
    /* not base64url: padding, the standard alphabet, junk, empty */
    cr_assert_eq(push_sub_keys_parse(RFC_UA_PUB, "BTBZMqHH6r4Tts7J_aSIgg==", &sub), -EINVAL);
    cr_assert_eq(push_sub_keys_parse(RFC_UA_PUB, "BTBZMqHH6r4Tts7J/aSIgg", &sub), -EINVAL);
    cr_assert_eq(push_sub_keys_parse(RFC_UA_PUB, "BTBZMqHH6r4Tts7J aSIgg", &sub), -EINVAL);
    cr_assert_eq(push_sub_keys_parse("", RFC_AUTH, &sub), -EINVAL);
    cr_assert_eq(push_sub_keys_parse(NULL, RFC_AUTH, &sub), -EINVAL);
    /* 65 bytes, but not a point on P-256 (Y changed), or compressed form */
    char bad[100];
    strcpy(bad, RFC_UA_PUB);
    bad[80] = bad[80] == 'A' ? 'B' : 'A';
    cr_assert_eq(push_sub_keys_parse(bad, RFC_AUTH, &sub), -EINVAL);
    strcpy(bad, RFC_UA_PUB);
    bad[0] = 'A'; /* first byte 0x00.. instead of 0x04 */
    cr_assert_eq(push_sub_keys_parse(bad, RFC_AUTH, &sub), -EINVAL);
    /* a private key of zero or above the group order */
    uint8_t zero[32] = {0}, ff[32];
    memset(ff, 0xff, sizeof(ff));
    push_vapid *v;
    cr_assert_eq(push_vapid_from_priv(zero, &v), -EINVAL);
    cr_assert_eq(push_vapid_from_priv(ff, &v), -EINVAL);
}

Test(push, origin_of_endpoints)
{
    char o[64];
    cr_assert_eq(push_origin("https://FCM.googleapis.com/fcm/send/abc", o, sizeof(o)), 0);
    cr_assert_str_eq(o, "https://fcm.googleapis.com");
    cr_assert_eq(push_origin("https://push.example.net:443/x?y", o, sizeof(o)), 0);
    cr_assert_str_eq(o, "https://push.example.net");
    cr_assert_eq(push_origin("http://127.0.0.1:8080/p/1", o, sizeof(o)), 0);
    cr_assert_str_eq(o, "http://127.0.0.1:8080");
    cr_assert_eq(push_origin("https://h", o, sizeof(o)), 0);
    cr_assert_str_eq(o, "https://h");
    cr_assert_eq(push_origin("ftp://h/x", o, sizeof(o)), -EINVAL);
    cr_assert_eq(push_origin("https:///x", o, sizeof(o)), -EINVAL);
    cr_assert_eq(push_origin("https://user@h/x", o, sizeof(o)), -EINVAL);
    cr_assert_eq(push_origin("https://h\"x/", o, sizeof(o)), -EINVAL);
    cr_assert_eq(push_origin("https://a-very-long-host.example/x", o, 10), -ENOSPC);
}

/* Splits a JWT, checks its form and returns whether its ES256 signature
 * verifies with the public key alone. */
static int verify_jwt(const char *jwt, const uint8_t pub[PUSH_PUB_LEN], char *claims, size_t cap)
{
    const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    cr_assert(d1 && d2 && !strchr(d2 + 1, '.'), "three parts: %s", jwt);
    char header[128];
    size_t hl, cl, sl;
    cr_assert_eq(sodium_base642bin((uint8_t *)header, sizeof(header) - 1, jwt, (size_t)(d1 - jwt),
                                   NULL, &hl, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                 0);
    header[hl] = '\0';
    cr_assert_str_eq(header, "{\"typ\":\"JWT\",\"alg\":\"ES256\"}");
    cr_assert_eq(sodium_base642bin((uint8_t *)claims, cap - 1, d1 + 1, (size_t)(d2 - d1 - 1), NULL,
                                   &cl, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                 0);
    claims[cl] = '\0';
    uint8_t rs[64];
    cr_assert_eq(sodium_base642bin(rs, sizeof(rs), d2 + 1, strlen(d2 + 1), NULL, &sl, NULL,
                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                 0);
    cr_assert_eq(sl, 64, "the signature is raw r||s, not DER");

    ECDSA_SIG *sig = ECDSA_SIG_new();
    cr_assert(sig && ECDSA_SIG_set0(sig, BN_bin2bn(rs, 32, NULL), BN_bin2bn(rs + 32, 32, NULL)));
    uint8_t *der = NULL;
    int der_len = i2d_ECDSA_SIG(sig, &der);
    cr_assert(der_len > 0);
    EVP_PKEY *key;
    cr_assert_eq(push__key_from_pub(pub, &key), 0);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    cr_assert(md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1);
    int ok = EVP_DigestVerify(md, der, (size_t)der_len, (const uint8_t *)jwt, (size_t)(d2 - jwt));
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    return ok == 1;
}

Test(push, vapid_jwt_verifies_with_the_public_key)
{
    push_vapid *v, *other;
    uint8_t pub[PUSH_PUB_LEN], opub[PUSH_PUB_LEN];
    char jwt[PUSH_JWT_SIZE], claims[512];
    cr_assert_eq(push_vapid_generate(&v), 0);
    cr_assert_eq(push_vapid_generate(&other), 0);
    cr_assert_eq(push_vapid_public(v, pub), 0);
    cr_assert_eq(push_vapid_public(other, opub), 0);
    cr_assert_eq(push_vapid_jwt(v, "https://Push.Example.net/send/xyz", "mailto:ops@example.org",
                                1700000000, 12 * 3600, jwt, sizeof(jwt)),
                 0);
    cr_assert(verify_jwt(jwt, pub, claims, sizeof(claims)), "the ES256 signature verifies");
    cr_assert_str_eq(claims, "{\"aud\":\"https://push.example.net\",\"exp\":1700043200,"
                             "\"sub\":\"mailto:ops@example.org\"}");

    char auth[PUSH_JWT_SIZE + 100], k[PUSH_PUB_B64_SIZE];
    cr_assert_eq(push_vapid_public_b64(v, k), 0);
    cr_assert_eq(push_vapid_auth(v, "https://p.example/x", "https://duet.example/", 5, 60, auth,
                                 sizeof(auth)),
                 0);
    cr_assert_eq(strncmp(auth, "vapid t=", 8), 0);
    const char *kp = strstr(auth, ", k=");
    cr_assert(kp);
    cr_assert_str_eq(kp + 4, k);
    cr_assert_eq(strlen(k), 87);

    /* exp is bounded by 24 hours; sub must be mailto: or https: */
    cr_assert_eq(push_vapid_jwt(v, "https://p/x", "mailto:a@b", 5, 86401, jwt, sizeof(jwt)),
                 -EINVAL);
    cr_assert_eq(push_vapid_jwt(v, "https://p/x", "mailto:a@b", 5, 0, jwt, sizeof(jwt)), -EINVAL);
    cr_assert_eq(push_vapid_jwt(v, "https://p/x", "ops@example.org", 5, 60, jwt, sizeof(jwt)),
                 -EINVAL);
    cr_assert_eq(push_vapid_jwt(v, "https://p/x", "mailto:a\"@b", 5, 60, jwt, sizeof(jwt)),
                 -EINVAL);
    cr_assert_eq(push_vapid_jwt(v, "gopher://p/x", "mailto:a@b", 5, 60, jwt, sizeof(jwt)), -EINVAL);
    cr_assert_eq(push_vapid_jwt(v, "https://p/x", "mailto:a@b", 5, 60, jwt, 40), -ENOSPC);
    push_vapid_free(v);
    push_vapid_free(other);
}

Test(push, another_keys_signature_fails_verification)
{
    push_vapid *v, *other;
    uint8_t pub[PUSH_PUB_LEN];
    char jwt[PUSH_JWT_SIZE], claims[512];
    cr_assert_eq(push_vapid_generate(&v), 0);
    cr_assert_eq(push_vapid_generate(&other), 0);
    cr_assert_eq(push_vapid_public(v, pub), 0);
    cr_assert_eq(push_vapid_jwt(other, "https://p/x", "mailto:a@b", 5, 60, jwt, sizeof(jwt)), 0);
    cr_assert_not(verify_jwt(jwt, pub, claims, sizeof(claims)));
    /* and a token whose claims were changed after signing */
    cr_assert_eq(push_vapid_jwt(v, "https://p/x", "mailto:a@b", 5, 60, jwt, sizeof(jwt)), 0);
    char *c = strchr(jwt, '.') + 3;
    *c = *c == 'A' ? 'B' : 'A';
    cr_assert_not(verify_jwt(jwt, pub, claims, sizeof(claims)));
    push_vapid_free(v);
    push_vapid_free(other);
}

static char *tmpdir(void)
{
    static char dir[64];
    strcpy(dir, "/tmp/duet-push-XXXXXX");
    cr_assert(mkdtemp(dir));
    return dir;
}

Test(push, key_file_round_trip)
{
    char *dir = tmpdir(), path[128];
    push_vapid *a, *b, *c;
    char ka[PUSH_PUB_B64_SIZE], kb[PUSH_PUB_B64_SIZE], kc[PUSH_PUB_B64_SIZE];
    snprintf(path, sizeof(path), "%s/%s", dir, PUSH_VAPID_FILE);
    cr_assert_eq(push_vapid_load(path, &a), -ENOENT);
    cr_assert_eq(push_vapid_load_or_create(dir, &a), 0);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
    cr_assert_eq(push_vapid_load_or_create(dir, &b), 0);
    cr_assert_eq(push_vapid_public_b64(a, ka), 0);
    cr_assert_eq(push_vapid_public_b64(b, kb), 0);
    cr_assert_str_eq(ka, kb, "the second start loads the first start's key");

    /* A key loaded from the file signs what the saved key's public part
     * verifies. */
    char jwt[PUSH_JWT_SIZE], claims[512];
    uint8_t pub[PUSH_PUB_LEN];
    cr_assert_eq(push_vapid_public(a, pub), 0);
    cr_assert_eq(push_vapid_jwt(b, "https://p/x", "mailto:a@b", 5, 60, jwt, sizeof(jwt)), 0);
    cr_assert(verify_jwt(jwt, pub, claims, sizeof(claims)));

    /* save replaces atomically; no temporary file is left behind */
    cr_assert_eq(push_vapid_generate(&c), 0);
    cr_assert_eq(push_vapid_save(c, path), 0);
    push_vapid_free(b);
    cr_assert_eq(push_vapid_load(path, &b), 0);
    cr_assert_eq(push_vapid_public_b64(b, kb), 0);
    cr_assert_eq(push_vapid_public_b64(c, kc), 0);
    cr_assert_str_eq(kb, kc);
    cr_assert_str_neq(ka, kc);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1", dir);
    cr_assert_eq(system(cmd), 0, "only vapid.pem in %s", dir);

    /* refused: readable by others, not a key, another curve */
    push_vapid *d;
    cr_assert_eq(chmod(path, 0644), 0);
    cr_assert_eq(push_vapid_load(path, &d), -EPERM);
    cr_assert_eq(chmod(path, 0600), 0);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n", f);
    fclose(f);
    cr_assert_eq(push_vapid_load(path, &d), -EINVAL);
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    cr_assert(ed);
    struct push_vapid wrong = {ed};
    cr_assert_eq(push_vapid_save(&wrong, path), 0);
    EVP_PKEY_free(ed);
    cr_assert_eq(push_vapid_load(path, &d), -EINVAL);

    push_vapid_free(a);
    push_vapid_free(b);
    push_vapid_free(c);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}
