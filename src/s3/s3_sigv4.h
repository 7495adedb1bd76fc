/* s3_sigv4.h - AWS Signature Version 4 for S3 (header-signed requests and
 * presigned query-string URLs), on OpenSSL's libcrypto.
 *
 * Pure functions: no loop, no network, no clock (the caller passes the
 * time). Every output goes into a caller's buffer; -ENOSPC when it does not
 * fit, -EINVAL for bad input (a header name that is not lower case, headers
 * out of order, an expiry over 7 days), -EIO when libcrypto fails.
 *
 * The steps are exposed one by one (canonical request, string to sign,
 * signing key) so that the unit tests check each against AWS's published
 * examples.
 */
#ifndef DUET_S3_SIGV4_H
#define DUET_S3_SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SIGV4_DATE_SIZE   17          /* "20130524T000000Z" and a NUL */
#define SIGV4_HASH_SIZE   65          /* 64 hex digits and a NUL */
#define SIGV4_MAX_EXPIRES (7 * 86400) /* S3's ceiling for X-Amz-Expires */
#define SIGV4_UNSIGNED    "UNSIGNED-PAYLOAD"
#define SIGV4_EMPTY_HASH  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Who signs, and for what. Borrowed strings. */
struct sigv4_key {
    const char *access_key;
    const char *secret_key;
    const char *region;  /* "us-east-1" */
    const char *service; /* "s3" */
};

/* A header to sign: the name in lower case, the value already trimmed. */
struct sigv4_hdr {
    const char *name;
    const char *value;
};

/* What a request signs. Borrowed. */
struct sigv4_in {
    const char *method;
    const char *path;  /* raw (not encoded) absolute path: "/bucket/media/x" */
    const char *query; /* canonical query (sorted, encoded), "" for none */
    /* Sorted by name, names unique; host always among them. */
    const struct sigv4_hdr *hdrs;
    size_t n_hdrs;
    const char *payload_hash; /* hex SHA-256 of the body, or SIGV4_UNSIGNED */
};

/* "YYYYMMDDTHHMMSSZ" of t, in UTC. */
void sigv4_amz_date(time_t t, char out[SIGV4_DATE_SIZE]);

/* Hex SHA-256 of n bytes. 0 or -EIO. */
int sigv4_sha256_hex(const void *p, size_t n, char out[SIGV4_HASH_SIZE]);

/* RFC 3986 encoding as SigV4 wants it: unreserved characters
 * (A-Z a-z 0-9 - . _ ~) as they are, everything else %XX in upper case;
 * '/' kept when keep_slash. Returns the length written (NUL excluded). */
int sigv4_uri_encode(const char *s, int keep_slash, char *out, size_t cap);

/* Step 1: the canonical request. Length, or a negative error. */
int sigv4_canonical_request(const struct sigv4_in *in, char *out, size_t cap);

/* "<date8>/<region>/<service>/aws4_request". Length or -ENOSPC. */
int sigv4_scope(const struct sigv4_key *k, const char *amz_date, char *out, size_t cap);

/* Step 2: the string to sign for a canonical request. Length or error. */
int sigv4_string_to_sign(const char *amz_date, const char *scope, const char *creq, char *out,
                         size_t cap);

/* Step 3: the signing key, HMAC chain from "AWS4" + secret. 0 or -EIO. */
int sigv4_signing_key(const struct sigv4_key *k, const char *amz_date, uint8_t out[32]);

/* Steps 1-4: the hex signature of a request. 0 or a negative error. */
int sigv4_signature(const struct sigv4_key *k, const char *amz_date, const struct sigv4_in *in,
                    char out[SIGV4_HASH_SIZE]);

/* The Authorization header value for a header-signed request (the caller
 * sends x-amz-date and x-amz-content-sha256 and signs them among hdrs).
 * Length or a negative error. */
int sigv4_authorization(const struct sigv4_key *k, const char *amz_date, const struct sigv4_in *in,
                        char *out, size_t cap);

/* A presigned URL's query: the X-Amz-* parameters, then `extra`
 * (canonical, sorted query parameters that sort after
 * "X-Amz-SignedHeaders", i.e. lower-case names such as
 * response-content-disposition; or ""), then X-Amz-Signature. Only host is signed;
 * the payload is UNSIGNED-PAYLOAD. expires in 1..SIGV4_MAX_EXPIRES seconds.
 * Length or a negative error. */
int sigv4_presign_query(const struct sigv4_key *k, const char *amz_date, uint32_t expires,
                        const char *method, const char *host, const char *path, const char *extra,
                        char *out, size_t cap);

#endif
