/* push_topic.c - the Topic header's token (RFC 8030 5.4): a push service
 * keeps only the newest undelivered push of a topic, so one per chat
 * collapses a burst. The token is HMAC-SHA256 keyed with the VAPID private
 * key, so every instance of a cluster (same key) computes the same token
 * and the push service cannot tell which chat it is. */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "push.h"
#include "push_int.h"

int push_topic(const push_vapid *v, const uint8_t *data, size_t len, char out[PUSH_TOPIC_SIZE])
{
    uint8_t priv[PUSH_PRIV_LEN], mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    BIGNUM *d = NULL;
    int rc = -EIO;
    if (v == NULL || data == NULL)
        return -EINVAL;
    if (!EVP_PKEY_get_bn_param(v->key, OSSL_PKEY_PARAM_PRIV_KEY, &d) ||
        BN_bn2binpad(d, priv, sizeof(priv)) != PUSH_PRIV_LEN)
        goto done;
    if (HMAC(EVP_sha256(), priv, sizeof(priv), data, len, mac, &mac_len) == NULL || mac_len < 24)
        goto done;
    /* 24 bytes: 32 base64url characters, the most RFC 8030 allows. */
    rc = push_b64_encode(mac, 24, out, PUSH_TOPIC_SIZE);
done:
    OPENSSL_cleanse(priv, sizeof(priv));
    BN_clear_free(d);
    return rc;
}
