/* test_sigv4.c - src/s3/s3_sigv4.c against the examples AWS publishes for
 * S3 ("Signature Calculations for the Authorization Header" and "Query
 * String Authentication"): GET object with a Range, PUT object, and a
 * presigned GET URL, with the AKIAIOSFODNN7EXAMPLE key. Each step (the
 * canonical request, its hash in the string to sign, the signing key, the
 * signature) is checked, so a wrong step fails its own test. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../src/base/duet.h"
#include "../../src/s3/s3_sigv4.h"

static const struct sigv4_key KEY = {"AKIAIOSFODNN7EXAMPLE",
                                     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3"};
#define HOST "examplebucket.s3.amazonaws.com"
#define DATE "20130524T000000Z"

static const struct sigv4_hdr GET_HDRS[] = {
    {"host", HOST},
    {"range", "bytes=0-9"},
    {"x-amz-content-sha256", SIGV4_EMPTY_HASH},
    {"x-amz-date", DATE},
};
static const struct sigv4_in GET_IN = {"GET", "/test.txt", "", GET_HDRS, 4, SIGV4_EMPTY_HASH};

Test(sigv4, get_object_canonical_request)
{
    char out[2048];
    int n = sigv4_canonical_request(&GET_IN, out, sizeof(out));
    const char *want = "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
                       "x-amz-content-sha256:" SIGV4_EMPTY_HASH "\nx-amz-date:20130524T000000Z\n\n"
                       "host;range;x-amz-content-sha256;x-amz-date\n" SIGV4_EMPTY_HASH;
    cr_assert_eq(n, (int)strlen(want));
    cr_assert_str_eq(out, want);
}

Test(sigv4, get_object_string_to_sign)
{
    char creq[2048], scope[128], sts[512];
    cr_assert_geq(sigv4_canonical_request(&GET_IN, creq, sizeof(creq)), 0);
    cr_assert_geq(sigv4_scope(&KEY, DATE, scope, sizeof(scope)), 0);
    cr_assert_str_eq(scope, "20130524/us-east-1/s3/aws4_request");
    cr_assert_geq(sigv4_string_to_sign(DATE, scope, creq, sts, sizeof(sts)), 0);
    cr_assert_str_eq(sts, "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                          "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
}

/* The signing key example of AWS's general reference (IAM, 2015-08-30). */
Test(sigv4, signing_key)
{
    const struct sigv4_key iam = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                  "us-east-1", "iam"};
    uint8_t k[32];
    char hex[65];
    cr_assert_eq(sigv4_signing_key(&iam, "20150830T123600Z", k), 0);
    duet_hex_encode(k, 32, hex);
    cr_assert_str_eq(hex, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
}

Test(sigv4, get_object_authorization)
{
    char sig[SIGV4_HASH_SIZE], auth[512];
    cr_assert_eq(sigv4_signature(&KEY, DATE, &GET_IN, sig), 0);
    cr_assert_str_eq(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    cr_assert_geq(sigv4_authorization(&KEY, DATE, &GET_IN, auth, sizeof(auth)), 0);
    cr_assert_str_eq(auth,
                     "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                     "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                     "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

/* PUT "Welcome to Amazon S3." to /test$file.text: the path is encoded
 * ($ as %24) and the payload hash is the body's. */
Test(sigv4, put_object)
{
    const char *body = "Welcome to Amazon S3.";
    char ph[SIGV4_HASH_SIZE], creq[2048], scope[128], sts[512], sig[SIGV4_HASH_SIZE];
    cr_assert_eq(sigv4_sha256_hex(body, strlen(body), ph), 0);
    cr_assert_str_eq(ph, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    const struct sigv4_hdr h[] = {
        {"date", "Fri, 24 May 2013 00:00:00 GMT"},
        {"host", HOST},
        {"x-amz-content-sha256", ph},
        {"x-amz-date", DATE},
        {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
    };
    const struct sigv4_in in = {"PUT", "/test$file.text", "", h, 5, ph};
    cr_assert_geq(sigv4_canonical_request(&in, creq, sizeof(creq)), 0);
    cr_assert(strncmp(creq, "PUT\n/test%24file.text\n\ndate:", 28) == 0, "%s", creq);
    cr_assert_geq(sigv4_scope(&KEY, DATE, scope, sizeof(scope)), 0);
    cr_assert_geq(sigv4_string_to_sign(DATE, scope, creq, sts, sizeof(sts)), 0);
    cr_assert_str_eq(strrchr(sts, '\n') + 1,
                     "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
    cr_assert_eq(sigv4_signature(&KEY, DATE, &in, sig), 0);
    cr_assert_str_eq(sig, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

Test(sigv4, presigned_get)
{
    char q[1024];
    int n = sigv4_presign_query(&KEY, DATE, 86400, "GET", HOST, "/test.txt", "", q, sizeof(q));
    cr_assert_eq(n, (int)strlen(q));
    cr_assert_str_eq(q, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F"
                        "20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&"
                        "X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
                        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

Test(sigv4, presign_bounds_and_extra)
{
    char q[1024], q2[1024];
    cr_assert_eq(sigv4_presign_query(&KEY, DATE, 0, "GET", HOST, "/a", "", q, sizeof(q)), -EINVAL);
    cr_assert_eq(
        sigv4_presign_query(&KEY, DATE, SIGV4_MAX_EXPIRES + 1, "GET", HOST, "/a", "", q, sizeof(q)),
        -EINVAL);
    cr_assert_gt(
        sigv4_presign_query(&KEY, DATE, SIGV4_MAX_EXPIRES, "GET", HOST, "/a", "", q, sizeof(q)), 0);
    /* An extra parameter is signed: the signature changes with it. */
    cr_assert_gt(sigv4_presign_query(&KEY, DATE, 300, "GET", HOST, "/a",
                                     "response-cache-control=no-store", q, sizeof(q)),
                 0);
    cr_assert_gt(sigv4_presign_query(&KEY, DATE, 300, "GET", HOST, "/a", "", q2, sizeof(q2)), 0);
    cr_assert_not_null(strstr(q, "&response-cache-control=no-store&X-Amz-Signature="));
    cr_assert_str_neq(strstr(q, "X-Amz-Signature="), strstr(q2, "X-Amz-Signature="));
    cr_assert_eq(sigv4_presign_query(&KEY, DATE, 300, "GET", HOST, "/a", "", q, 40), -ENOSPC);
}

Test(sigv4, bad_input)
{
    char out[256];
    const struct sigv4_hdr upper[] = {{"Host", HOST}};
    const struct sigv4_in a = {"GET", "/x", "", upper, 1, SIGV4_EMPTY_HASH};
    cr_assert_eq(sigv4_canonical_request(&a, out, sizeof(out)), -EINVAL);
    const struct sigv4_hdr unsorted[] = {{"x-amz-date", DATE}, {"host", HOST}};
    const struct sigv4_in b = {"GET", "/x", "", unsorted, 2, SIGV4_EMPTY_HASH};
    cr_assert_eq(sigv4_canonical_request(&b, out, sizeof(out)), -EINVAL);
    const struct sigv4_in c = {"GET", "x", "", GET_HDRS, 4, SIGV4_EMPTY_HASH};
    cr_assert_eq(sigv4_canonical_request(&c, out, sizeof(out)), -EINVAL);
    cr_assert_eq(sigv4_canonical_request(&GET_IN, out, 20), -ENOSPC);
    cr_assert_eq(sigv4_scope(&KEY, "2013-05-24", out, sizeof(out)), -EINVAL);
}

Test(sigv4, uri_encode)
{
    char out[64];
    cr_assert_eq(sigv4_uri_encode("/media/a b+c~é", 1, out, sizeof(out)), 23);
    cr_assert_str_eq(out, "/media/a%20b%2Bc~%C3%A9");
    cr_assert_gt(sigv4_uri_encode("a/b", 0, out, sizeof(out)), 0);
    cr_assert_str_eq(out, "a%2Fb");
    char amz[SIGV4_DATE_SIZE];
    sigv4_amz_date(1369353600, amz);
    cr_assert_str_eq(amz, DATE);
}
