/* test_cql_decode_misc.c - the CQL v4 decoders (src/cql/cql_decode.c) on
 * the rest: the frame prefix flags, handshake messages, collections, and
 * truncated or random input refused safely. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_cql.h"

TestSuite(cql_decode_misc);

Test(cql_decode_misc, prefix_flags)
{
    struct bb b = {.n = 0};
    b_raw(&b, "0123456789abcdef", 16); /* tracing id */
    b_u16(&b, 1);
    b_str(&b, "Aggregation query used without partition key");
    b_u16(&b, 1);
    b_str(&b, "k");
    b_bytes(&b, "v", 1);
    size_t start = b.n;
    b_i32(&b, CQL_RESULT_VOID);
    size_t off;
    cr_assert_eq(cql_dec_prefix(CQL_FLAG_TRACING | CQL_FLAG_WARNING | CQL_FLAG_CUSTOM_PAYLOAD, b.b,
                                b.n, &off),
                 0);
    cr_assert_eq(off, start);
    cr_assert_eq(cql_dec_prefix(0, b.b, b.n, &off), 0);
    cr_assert_eq(off, 0);
    cr_assert_eq(cql_dec_prefix(CQL_FLAG_COMPRESSION, b.b, b.n, &off), CQL_EPROTO);
    cr_assert_eq(cql_dec_prefix(CQL_FLAG_TRACING | CQL_FLAG_WARNING, b.b, 20, &off), CQL_EPROTO);
    cr_assert_eq(cql_dec_prefix(CQL_FLAG_TRACING, b.b, 15, &off), CQL_EPROTO);
}

Test(cql_decode_misc, handshake_messages)
{
    pool_t pool;
    pool_init(&pool);
    struct bb b = {.n = 0};
    b_str(&b, "org.apache.cassandra.auth.PasswordAuthenticator");
    const char *name;
    cr_assert_eq(cql_dec_authenticate(b.b, b.n, &pool, &name), 0);
    cr_assert_str_eq(name, "org.apache.cassandra.auth.PasswordAuthenticator");
    cr_assert_eq(cql_dec_authenticate(b.b, b.n - 1, &pool, &name), CQL_EPROTO);
    b.n = 0;
    b_i32(&b, -1);
    const uint8_t *tok;
    int32_t tl;
    cr_assert_eq(cql_dec_auth_token(b.b, b.n, &tok, &tl), 0);
    cr_assert_null(tok);
    cr_assert_eq(tl, -1);
    b.n = 0;
    b_bytes(&b, "xy", 2);
    cr_assert_eq(cql_dec_auth_token(b.b, b.n, &tok, &tl), 0);
    cr_assert_eq(tl, 2);
    cr_assert_eq(cql_dec_auth_token(b.b, b.n - 1, &tok, &tl), CQL_EPROTO);
    b.n = 0;
    b_u16(&b, 2);
    b_str(&b, "CQL_VERSION");
    b_u16(&b, 1);
    b_str(&b, "3.4.7");
    b_str(&b, "COMPRESSION");
    b_u16(&b, 2);
    b_str(&b, "snappy");
    b_str(&b, "lz4");
    struct cql_option_values *o;
    int n;
    cr_assert_eq(cql_dec_supported(b.b, b.n, &pool, &o, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(o[0].values[0], "3.4.7");
    cr_assert_eq(o[1].n_values, 2);
    cr_assert_str_eq(o[1].values[1], "lz4");
    for (size_t k = 0; k < b.n; k++)
        cr_assert_eq(cql_dec_supported(b.b, k, &pool, &o, &n), CQL_EPROTO);
    pool_destroy(&pool);
}

static int count_elem(void *ctx, const uint8_t *e, int32_t el)
{
    (void)e;
    cr_assert(el > 0);
    (*(int *)ctx)++;
    return 0;
}

Test(cql_decode_misc, collection_of_text)
{
    struct bb b = {.n = 0};
    b_i32(&b, 2);
    b_bytes(&b, "-9", 2);
    b_bytes(&b, "123", 3);
    int count = 0;
    cr_assert_eq(cql_dec_collection(b.b, (int32_t)b.n, count_elem, &count), 0);
    cr_assert_eq(count, 2);
    cr_assert_eq(cql_dec_collection(b.b, (int32_t)b.n - 1, count_elem, &count), CQL_EPROTO);
    cr_assert_eq(cql_dec_collection(NULL, -1, count_elem, &count), CQL_EPROTO);
}

/* Random bytes through every decoder: no crash, no overread, no leak. */
Test(cql_decode_misc, garbage_is_refused_safely)
{
    uint32_t seed = 12345;
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t buf[96];
        size_t n = (size_t)(iter % 96);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (uint8_t)(seed >> 16);
            if ((seed >> 8) % 4 == 0)
                buf[i] = 0; /* small lengths are more interesting */
        }
        /* Plausible starts now and then, so the deeper decoders run. */
        if (n >= 4 && iter % 3 == 0) {
            buf[0] = buf[1] = buf[2] = 0;
            buf[3] = (uint8_t)(1 + iter % 5);
        }
        uint8_t *copy = malloc(n ? n : 1);
        cr_assert_not_null(copy);
        memcpy(copy, buf, n);
        pool_t pool;
        pool_init(&pool);
        struct cql_result r;
        struct cql_error e;
        size_t off;
        const char *s;
        struct cql_option_values *o;
        int k;
        int x = cql_dec_result(copy, n, &pool, &r);
        cr_assert(x == 0 || x == CQL_EPROTO);
        x = cql_dec_error(copy, n, &pool, &e);
        cr_assert(x == 0 || x == CQL_EPROTO);
        (void)cql_dec_prefix((uint8_t)iter & 0x0E, copy, n, &off);
        (void)cql_dec_authenticate(copy, n, &pool, &s);
        (void)cql_dec_supported(copy, n, &pool, &o, &k);
        pool_destroy(&pool);
        free(copy);
    }
}
