/* push_int.h - what the push module's files share: the key struct and the
 * conversions between raw P-256 keys and libcrypto's EVP_PKEY. */
#ifndef DUET_PUSH_INT_H
#define DUET_PUSH_INT_H

#include <openssl/evp.h>

#include "push.h"

/* Ownership: owns key (a P-256 key pair). */
struct push_vapid {
    EVP_PKEY *key;
};

/* A P-256 key pair from a raw private scalar (the public point computed);
 * 0, -EINVAL (zero or out of range) or -EIO/-ENOMEM. */
int push__key_from_priv(const uint8_t priv[PUSH_PRIV_LEN], EVP_PKEY **out);
/* A P-256 public key from an uncompressed point, checked to be on the
 * curve; 0 or -EINVAL. */
int push__key_from_pub(const uint8_t pub[PUSH_PUB_LEN], EVP_PKEY **out);
/* The uncompressed public point of a P-256 key; 0 or -EIO. */
int push__key_pub(EVP_PKEY *key, uint8_t out[PUSH_PUB_LEN]);
/* A fresh P-256 key pair; 0 or -EIO. */
int push__key_generate(EVP_PKEY **out);

#endif
