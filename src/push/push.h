/* push.h - the cryptography of Web Push: the application server's VAPID
 * identity (RFC 8292) and the message encryption of RFC 8291 (the
 * aes128gcm content coding of RFC 8188), on OpenSSL 3's libcrypto.
 *
 * Pure functions apart from the key file: nothing here touches the loop or
 * the network (src/outbound sends what this builds). Base64url is without
 * padding everywhere, as the Push API and JWTs use it.
 *
 * Errors: -EINVAL for bad input (a key of the wrong length, a point not on
 * the curve, bad base64url, an endpoint that is not an http(s) URL),
 * -ENOSPC when an output buffer is too small, -EMSGSIZE for a payload over
 * PUSH_MAX_PLAINTEXT, -EIO when libcrypto fails, a negated errno from the
 * file system, -EPERM for a key file readable by others.
 */
#ifndef DUET_PUSH_H
#define DUET_PUSH_H

#include <stddef.h>
#include <stdint.h>

#define PUSH_PUB_LEN  65 /* uncompressed P-256 point: 0x04 || X || Y */
#define PUSH_PRIV_LEN 32
#define PUSH_AUTH_LEN 16
#define PUSH_SALT_LEN 16
#define PUSH_RS       4096 /* record size written in the header */
/* salt(16) || rs(4) || idlen(1) || keyid (the sender's public key, 65) */
#define PUSH_HEADER_LEN (PUSH_SALT_LEN + 4 + 1 + PUSH_PUB_LEN)
#define PUSH_TAG_LEN    16
/* Push services accept 4096 bytes of body: one record, header included. */
#define PUSH_MAX_BODY      4096
#define PUSH_MAX_PLAINTEXT (PUSH_MAX_BODY - PUSH_HEADER_LEN - PUSH_TAG_LEN - 1)
/* Base64url lengths without padding, plus room for the NUL. */
#define PUSH_PUB_B64_SIZE 88
/* A VAPID JWT is under 400 bytes for any sane sub; 1 KiB leaves room. */
#define PUSH_JWT_SIZE  1024
#define PUSH_EXP_MAX_S 86400 /* RFC 8292: exp no more than 24 hours ahead */

/* The key file under the data directory (PKCS#8 PEM, mode 0600). */
#define PUSH_VAPID_FILE "vapid.pem"

/* ---- base64url ----------------------------------------------------------- */

/* Encodes len bytes into out (cap bytes, NUL included); 0 or -ENOSPC. */
int push_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap);
/* Decodes unpadded base64url into out; exactly `want` bytes must result
 * (the only use is fixed-size keys); 0 or -EINVAL. */
int push_b64_decode_exact(const char *s, size_t slen, uint8_t *out, size_t want);

/* ---- VAPID ------------------------------------------------------------- */

/* The application server's P-256 key pair. Ownership: opaque, owns its
 * libcrypto key; freed by push_vapid_free(). Immutable once made, so one
 * may be shared by everything on the loop. */
typedef struct push_vapid push_vapid;

int push_vapid_generate(push_vapid **out);
/* The key from a raw 32-byte private scalar (tests, imports). */
int push_vapid_from_priv(const uint8_t priv[PUSH_PRIV_LEN], push_vapid **out);
void push_vapid_free(push_vapid *v);

/* Writes the key to path atomically (a 0600 temporary file, fsync, rename,
 * fsync of the directory). */
int push_vapid_save(const push_vapid *v, const char *path);
/* Reads a key written by push_vapid_save(); -ENOENT when there is none,
 * -EPERM when group or others may read it, -EINVAL when it is not a P-256
 * private key. */
int push_vapid_load(const char *path, push_vapid **out);
/* dir/vapid.pem: loaded, or generated and saved on first start. */
int push_vapid_load_or_create(const char *dir, push_vapid **out);

/* The public key as the uncompressed point, raw or in base64url (the
 * `applicationServerKey` browsers subscribe with, and the k= parameter). */
int push_vapid_public(const push_vapid *v, uint8_t out[PUSH_PUB_LEN]);
int push_vapid_public_b64(const push_vapid *v, char out[PUSH_PUB_B64_SIZE]);

/* The origin of an endpoint URL ("https://host[:port]", scheme and host in
 * lower case), the JWT's aud; 0, -EINVAL or -ENOSPC. */
int push_origin(const char *endpoint, char *out, size_t cap);

/* The signed JWT for one endpoint: header {"typ":"JWT","alg":"ES256"},
 * claims {"aud":<origin>,"exp":now_s+ttl_s,"sub":<sub>} with 0 < ttl_s <=
 * PUSH_EXP_MAX_S, signed ES256 (the raw 64-byte r||s). sub is a mailto: or
 * https: URL of printable ASCII without quotes or backslashes. */
int push_vapid_jwt(const push_vapid *v, const char *endpoint, const char *sub, int64_t now_s,
                   int64_t ttl_s, char *out, size_t cap);
/* The Authorization header's value: "vapid t=<jwt>, k=<public key>". */
int push_vapid_auth(const push_vapid *v, const char *endpoint, const char *sub, int64_t now_s,
                    int64_t ttl_s, char *out, size_t cap);

/* ---- RFC 8291 encryption ------------------------------------------------ */

/* A browser's subscription keys (PushSubscription.getKey()). Plain data. */
struct push_sub_keys {
    uint8_t p256dh[PUSH_PUB_LEN];
    uint8_t auth[PUSH_AUTH_LEN];
};

/* Parses the base64url p256dh and auth of a subscription and checks that
 * p256dh is a point on P-256; 0 or -EINVAL. */
int push_sub_keys_parse(const char *p256dh, const char *auth, struct push_sub_keys *out);

/* Encrypts len bytes of plaintext as one aes128gcm record, followed by pad
 * zero bytes of padding after the 0x02 delimiter (hides the length), with a
 * fresh ephemeral key and salt. out needs PUSH_HEADER_LEN + len + 1 + pad +
 * PUSH_TAG_LEN bytes; *out_len is set. -EMSGSIZE when len + pad exceeds
 * PUSH_MAX_PLAINTEXT. */
int push_encrypt(const struct push_sub_keys *sub, const uint8_t *pt, size_t len, size_t pad,
                 uint8_t *out, size_t cap, size_t *out_len);
/* The same with the salt and the ephemeral private key given: only for the
 * RFC's worked example in the tests (reusing either breaks the scheme). */
int push_encrypt_with(const struct push_sub_keys *sub, const uint8_t salt[PUSH_SALT_LEN],
                      const uint8_t eph_priv[PUSH_PRIV_LEN], const uint8_t *pt, size_t len,
                      size_t pad, uint8_t *out, size_t cap, size_t *out_len);

/* ---- Topic ------------------------------------------------------------ */

#define PUSH_TOPIC_SIZE 33 /* 32 base64url characters + NUL */

/* A Topic token for data (a chat id): HMAC-SHA256 under the VAPID private
 * key, 24 bytes in base64url. Same key, same token on every instance; it
 * tells the push service nothing about data. */
int push_topic(const push_vapid *v, const uint8_t *data, size_t len, char out[PUSH_TOPIC_SIZE]);

#endif
