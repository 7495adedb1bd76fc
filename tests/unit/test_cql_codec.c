/* Unit tests of the CQL v4 codec: frames, request encoding, values,
 * routing keys and Murmur3 (src/cql/cql_codec.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_cql.h"

/* ---- frames ------------------------------------------------------------------ */
TestSuite(cql_codec_frame);

Test(cql_codec_frame, header_round_trip)
{
    struct cql_header h = {CQL_VERSION_RESP, CQL_FLAG_WARNING, -1, CQL_OP_EVENT, 123456}, d;
    uint8_t buf[CQL_HEADER_LEN];
    cql_header_encode(buf, &h);
    cr_assert_eq(cql_header_decode(buf, sizeof(buf), CQL_VERSION_RESP, &d), 0);
    cr_assert_eq(d.version, 0x84);
    cr_assert_eq(d.flags, CQL_FLAG_WARNING);
    cr_assert_eq(d.stream, -1);
    cr_assert_eq(d.opcode, CQL_OP_EVENT);
    cr_assert_eq(d.length, 123456);
    h.stream = 32767;
    cql_header_encode(buf, &h);
    cr_assert_eq(cql_header_decode(buf, sizeof(buf), CQL_VERSION_RESP, &d), 0);
    cr_assert_eq(d.stream, 32767);
    cql_frame_set_stream(buf, 513);
    cr_assert_eq(cql_header_decode(buf, sizeof(buf), CQL_VERSION_RESP, &d), 0);
    cr_assert_eq(d.stream, 513);
    cr_assert_eq(buf[2], 2);
    cr_assert_eq(buf[3], 1);
}

Test(cql_codec_frame, header_rejects_bad_input)
{
    struct cql_header h = {CQL_VERSION_RESP, 0, 1, CQL_OP_RESULT, CQL_MAX_BODY}, d;
    uint8_t buf[CQL_HEADER_LEN];
    cql_header_encode(buf, &h);
    for (size_t n = 0; n < CQL_HEADER_LEN; n++)
        cr_assert_eq(cql_header_decode(buf, n, CQL_VERSION_RESP, &d), -EAGAIN);
    cr_assert_eq(cql_header_decode(buf, 9, CQL_VERSION_RESP, &d), 0, "256 MiB is allowed");
    h.length = CQL_MAX_BODY + 1;
    cql_header_encode(buf, &h);
    cr_assert_eq(cql_header_decode(buf, 9, CQL_VERSION_RESP, &d), CQL_EPROTO);
    h.length = 0xFFFFFFFFu;
    cql_header_encode(buf, &h);
    cr_assert_eq(cql_header_decode(buf, 9, CQL_VERSION_RESP, &d), CQL_EPROTO);
    static const uint8_t versions[] = {0x03, 0x04, 0x83, 0x85, 0x05, 0x00};
    for (size_t i = 0; i < sizeof(versions); i++) {
        h.version = versions[i];
        h.length = 0;
        cql_header_encode(buf, &h);
        cr_assert_eq(cql_header_decode(buf, 9, CQL_VERSION_RESP, &d), CQL_EPROTO);
    }
}

/* ---- requests ----------------------------------------------------------------- */
TestSuite(cql_codec_enc);

Test(cql_codec_enc, startup_and_options)
{
    struct cql_buf b;
    cql_buf_init(&b);
    cr_assert_eq(cql_enc_startup(&b, 7), 0);
    static const uint8_t want[] = {0x04, 0,   0,   7,   0x01, 0,   0,   0,   22,  0,   1,
                                   0,    11,  'C', 'Q', 'L',  '_', 'V', 'E', 'R', 'S', 'I',
                                   'O',  'N', 0,   5,   '3',  '.', '0', '.', '0'};
    cr_assert_eq(b.len, sizeof(want));
    cr_assert_arr_eq(b.p, want, sizeof(want));
    cr_assert_eq(cql_enc_options(&b, 8), 0);
    static const uint8_t opt[] = {0x04, 0, 0, 8, 0x05, 0, 0, 0, 0};
    cr_assert_eq(b.len, sizeof(want) + 9);
    cr_assert_arr_eq(b.p + sizeof(want), opt, 9);
    cql_buf_free(&b);
}

Test(cql_codec_enc, auth_plain)
{
    struct cql_buf b;
    cql_buf_init(&b);
    cr_assert_eq(cql_enc_auth_plain(&b, 1, "bob", "pw"), 0);
    static const uint8_t want[] = {0x04, 0, 0, 1, 0x0F, 0,   0,   0, 11,  0,
                                   0,    0, 7, 0, 'b',  'o', 'b', 0, 'p', 'w'};
    cr_assert_eq(b.len, sizeof(want));
    cr_assert_arr_eq(b.p, want, sizeof(want));
    cql_buf_free(&b);
}

Test(cql_codec_enc, query_with_every_parameter)
{
    struct cql_values v;
    cql_values_init(&v);
    cql_bind_int(&v, -2);
    cql_bind_null(&v);
    cql_bind_cstr(&v, "hé");
    cr_assert_eq(v.n, 3);
    uint8_t ps[] = {1, 2, 3};
    struct cql_params p = {.consistency = CQL_LOCAL_QUORUM,
                           .serial_consistency = CQL_LOCAL_SERIAL,
                           .values = &v,
                           .page_size = 100,
                           .paging_state = ps,
                           .paging_state_len = 3,
                           .timestamp_us = 0x0102030405060708LL};
    struct cql_buf b;
    cql_buf_init(&b);
    cr_assert_eq(cql_enc_query(&b, 300, "SELECT ?", 8, &p), 0);
    const uint8_t *f = b.p;
    cr_assert_eq(f[0], 4);
    cr_assert_eq(g16(f + 2), 300);
    cr_assert_eq(f[4], CQL_OP_QUERY);
    cr_assert_eq(g32(f + 5), b.len - 9);
    const uint8_t *q = f + 9;
    cr_assert_eq(g32(q), 8);
    cr_assert_arr_eq(q + 4, "SELECT ?", 8);
    q += 12;
    cr_assert_eq(g16(q), CQL_LOCAL_QUORUM);
    cr_assert_eq(q[2], 0x01 | 0x04 | 0x08 | 0x10 | 0x20);
    q += 3;
    cr_assert_eq(g16(q), 3);
    q += 2;
    cr_assert_eq(g32(q), 4);
    cr_assert_eq(g32(q + 4), 0xFFFFFFFEu);
    cr_assert_eq(g32(q + 8), 0xFFFFFFFFu, "null");
    cr_assert_eq(g32(q + 12), 3);
    cr_assert_arr_eq(q + 16, "hé", 3);
    q += 19;
    cr_assert_eq(g32(q), 100);
    cr_assert_eq(g32(q + 4), 3);
    cr_assert_arr_eq(q + 8, ps, 3);
    q += 11;
    cr_assert_eq(g16(q), CQL_LOCAL_SERIAL);
    cr_assert_eq(g32(q + 2), 0x01020304);
    cr_assert_eq(g32(q + 6), 0x05060708);
    cr_assert_eq((size_t)(q + 10 - b.p), b.len);
    cql_buf_free(&b);
    cql_values_free(&v);
}

Test(cql_codec_enc, query_without_parameters_is_minimal)
{
    struct cql_params p = {.consistency = CQL_ONE};
    struct cql_buf b;
    cql_buf_init(&b);
    cr_assert_eq(cql_enc_query(&b, 0, "USE ks", 6, &p), 0);
    cr_assert_eq(b.len, 9 + 4 + 6 + 2 + 1);
    cr_assert_eq(b.p[b.len - 1], 0, "no flags");
    cql_buf_free(&b);
}

Test(cql_codec_enc, execute_prepare_and_batch)
{
    struct cql_values v1, v2;
    cql_values_init(&v1);
    cql_values_init(&v2);
    cql_bind_bigint(&v1, -1);
    cql_bind_bool(&v2, 1);
    cql_bind_blob(&v2, "\0x", 2);
    const uint8_t id[] = {0xAA, 0xBB};
    struct cql_params p = {.consistency = CQL_QUORUM, .values = &v1};
    struct cql_buf b;
    cql_buf_init(&b);
    cr_assert_eq(cql_enc_execute(&b, 5, id, 2, &p), 0);
    const uint8_t *q = b.p + 9;
    cr_assert_eq(b.p[4], CQL_OP_EXECUTE);
    cr_assert_eq(g16(q), 2);
    cr_assert_eq(q[2], 0xAA);
    cr_assert_eq(g16(q + 4), CQL_QUORUM);
    cr_assert_eq(q[6], 0x01);
    cr_assert_eq(g16(q + 7), 1);
    cr_assert_eq(g32(q + 9), 8);
    cr_assert_eq(g32(q + 13), 0xFFFFFFFFu);
    cr_assert_eq(b.len, 9 + 4 + 3 + 2 + 12);

    size_t at = b.len;
    cr_assert_eq(cql_enc_prepare(&b, 6, "SELECT 1", 8), 0);
    cr_assert_eq(b.p[at + 4], CQL_OP_PREPARE);
    cr_assert_eq(g32(b.p + at + 9), 8);

    at = b.len;
    struct cql_batch_entry e[2] = {{id, 2, &v1}, {id, 1, &v2}};
    cr_assert_eq(cql_enc_batch(&b, 7, CQL_BATCH_LOGGED, e, 2, CQL_ONE, CQL_SERIAL, 99), 0);
    q = b.p + at;
    cr_assert_eq(q[4], CQL_OP_BATCH);
    q += 9;
    cr_assert_eq(q[0], 0, "logged");
    cr_assert_eq(g16(q + 1), 2);
    q += 3;
    cr_assert_eq(q[0], 1, "prepared kind");
    cr_assert_eq(g16(q + 1), 2);
    cr_assert_eq(g16(q + 5), 1);
    q += 7 + 12;
    cr_assert_eq(q[0], 1);
    cr_assert_eq(g16(q + 1), 1);
    cr_assert_eq(q[3], 0xAA);
    cr_assert_eq(g16(q + 4), 2);
    cr_assert_eq(g32(q + 6), 1);
    cr_assert_eq(q[10], 1);
    cr_assert_eq(g32(q + 11), 2);
    q += 17;
    cr_assert_eq(g16(q), CQL_ONE);
    cr_assert_eq(q[2], 0x10 | 0x20);
    cr_assert_eq(g16(q + 3), CQL_SERIAL);
    cr_assert_eq(g32(q + 9), 99);
    cr_assert_eq((size_t)(q + 13 - b.p), b.len);
    cr_assert_eq(cql_enc_batch(&b, 7, 3, e, 2, CQL_ONE, 0, 0), -EINVAL);
    cr_assert_eq(cql_enc_batch(&b, 7, 0, e, 2, CQL_ONE, 0, -1), -EINVAL);

    at = b.len;
    const char *ev[] = {"STATUS_CHANGE"};
    cr_assert_eq(cql_enc_register(&b, 8, ev, 1), 0);
    cr_assert_eq(b.p[at + 4], CQL_OP_REGISTER);
    cr_assert_eq(g16(b.p + at + 9), 1);
    cql_buf_free(&b);
    cql_values_free(&v1);
    cql_values_free(&v2);
}

Test(cql_codec_enc, failed_value_fails_the_request_and_leaves_the_buffer)
{
    struct cql_values v;
    cql_values_init(&v);
    cql_bind_int(&v, 1);
    v.oom = 1; /* as after a failed append */
    struct cql_params p = {.consistency = CQL_ONE, .values = &v};
    struct cql_buf b;
    cql_buf_init(&b);
    cr_assert_eq(cql_enc_options(&b, 1), 0);
    cr_assert_eq(cql_enc_query(&b, 2, "x", 1, &p), -ENOMEM);
    cr_assert_eq(b.len, 9, "the failed frame was removed");
    cql_buf_free(&b);
    cql_values_free(&v);
}

/* ---- values and routing -------------------------------------------------------- */
TestSuite(cql_codec_values);

Test(cql_codec_values, get_and_getters)
{
    struct cql_values v;
    cql_values_init(&v);
    uint8_t u[16];
    for (int i = 0; i < 16; i++)
        u[i] = (uint8_t)(i * 17);
    cql_bind_int(&v, INT32_MIN);
    cql_bind_bigint(&v, INT64_MIN + 5);
    cql_bind_bool(&v, 7);
    cql_bind_uuid(&v, u);
    cql_bind_text(&v, "abc", 3);
    cql_bind_null(&v);
    cql_bind_blob(&v, "", 0);
    cr_assert_eq(v.n, 7);
    cr_assert_eq(v.oom, 0);
    const uint8_t *p;
    int32_t n;
    struct cql_cell c;
    int32_t i32;
    int64_t i64;
    int b;
    uint8_t u2[16];
    cr_assert_eq(cql_values_get(&v, 0, &p, &n), 0);
    c = (struct cql_cell){p, n};
    cr_assert_eq(cql_get_int(&c, &i32), 0);
    cr_assert_eq(i32, INT32_MIN);
    cr_assert_eq(cql_get_bigint(&c, &i64), -EINVAL, "wrong size");
    cr_assert_eq(cql_values_get(&v, 1, &p, &n), 0);
    c = (struct cql_cell){p, n};
    cr_assert_eq(cql_get_bigint(&c, &i64), 0);
    cr_assert_eq(i64, INT64_MIN + 5);
    cr_assert_eq(cql_values_get(&v, 2, &p, &n), 0);
    c = (struct cql_cell){p, n};
    cr_assert_eq(cql_get_bool(&c, &b), 0);
    cr_assert_eq(b, 1);
    cr_assert_eq(cql_values_get(&v, 3, &p, &n), 0);
    c = (struct cql_cell){p, n};
    cr_assert_eq(cql_get_uuid(&c, u2), 0);
    cr_assert_arr_eq(u, u2, 16);
    pool_t pool;
    pool_init(&pool);
    cr_assert_eq(cql_values_get(&v, 4, &p, &n), 0);
    c = (struct cql_cell){p, n};
    cr_assert_str_eq(cql_get_text(&c, &pool), "abc");
    cr_assert_eq(cql_values_get(&v, 5, &p, &n), 0);
    cr_assert_null(p);
    cr_assert_eq(n, -1);
    c = (struct cql_cell){p, n};
    cr_assert_eq(cql_get_int(&c, &i32), -EINVAL, "null");
    cr_assert_str_eq(cql_get_text(&c, &pool), "");
    cr_assert_eq(cql_values_get(&v, 6, &p, &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(cql_values_get(&v, 7, &p, &n), -EINVAL);
    cr_assert_eq(cql_values_get(&v, -1, &p, &n), -EINVAL);
    pool_destroy(&pool);
    cql_values_free(&v);
    cr_assert_null(v.buf);
}

Test(cql_codec_values, routing_key_single_and_composite)
{
    struct cql_values v;
    cql_values_init(&v);
    cql_bind_int(&v, 42);        /* 0 */
    cql_bind_cstr(&v, "user-1"); /* 1 */
    cql_bind_null(&v);           /* 2 */
    uint8_t k[64];
    size_t n;
    uint16_t one[] = {1};
    cr_assert_eq(cql_routing_key(&v, one, 1, k, sizeof(k), &n), 0);
    cr_assert_eq(n, 6);
    cr_assert_arr_eq(k, "user-1", 6);
    uint16_t two[] = {1, 0};
    cr_assert_eq(cql_routing_key(&v, two, 2, k, sizeof(k), &n), 0);
    static const uint8_t want[] = {0, 6, 'u', 's', 'e', 'r', '-', '1', 0, 0, 4, 0, 0, 0, 42, 0};
    cr_assert_eq(n, sizeof(want));
    cr_assert_arr_eq(k, want, sizeof(want));
    cr_assert_eq(cql_routing_key(&v, two, 2, k, 10, &n), -ENOSPC);
    uint16_t with_null[] = {2};
    cr_assert_eq(cql_routing_key(&v, with_null, 1, k, sizeof(k), &n), -EINVAL);
    uint16_t missing[] = {0, 9};
    cr_assert_eq(cql_routing_key(&v, missing, 2, k, sizeof(k), &n), -EINVAL);
    cr_assert_eq(cql_routing_key(&v, one, 0, k, sizeof(k), &n), -EINVAL);
    cql_values_free(&v);
}

/* Tokens read from a Cassandra 5.0.6 node with
 * SELECT token(k), k FROM t (k blob) and token(a, b) for PRIMARY KEY ((a, b)). */
Test(cql_codec_values, murmur3_matches_cassandra)
{
    static const struct {
        const char *hex;
        uint64_t token;
    } vec[] = {
        {"61", 0x85555565f6597889ULL},
        {"80", 0xb6aa75aff6f3b434ULL},
        {"68656c6c6f", 0xcbd8a7b341bd9b02ULL},
        {"ffffffffffffff", 0x4372d2da163be786ULL},
        {"fe8081fe8081fe8081fe8081fe8081", 0x06b817e94dea9592ULL},
        {"303132333435363738396162636465", 0, /* unused: see below */},
        {"30313233343536373839616263646566", 0x4be06d94cf4ad1a7ULL},
        {"909192939495969798999a9b9c9d9e9fa0", 0xc98a40ca164c276bULL},
        {"30313233343536373839616263646566aabbccddeeff998877", 0x57d1a6f02cdb568bULL},
        {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
         0x7d41281bfaba4612ULL},
    };
    for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        if (vec[i].token == 0)
            continue;
        uint8_t key[64];
        size_t n = strlen(vec[i].hex) / 2;
        for (size_t k = 0; k < n; k++) {
            unsigned x;
            cr_assert_eq(sscanf(vec[i].hex + 2 * k, "%2x", &x), 1);
            key[k] = (uint8_t)x;
        }
        cr_assert_eq(cql_murmur3_token(key, n), (int64_t)vec[i].token, "key %s", vec[i].hex);
    }
    /* Composite partition keys: token('user-1', 42) and token('été', -7). */
    struct cql_values v;
    cql_values_init(&v);
    cql_bind_cstr(&v, "user-1");
    cql_bind_int(&v, 42);
    cql_bind_cstr(&v, "\xc3\xa9t\xc3\xa9");
    cql_bind_int(&v, -7);
    uint8_t k[64];
    size_t n;
    uint16_t a[] = {0, 1}, b[] = {2, 3};
    cr_assert_eq(cql_routing_key(&v, a, 2, k, sizeof(k), &n), 0);
    cr_assert_eq(cql_murmur3_token(k, n), (int64_t)0x7e6ffb7cc3e68e6bULL);
    cr_assert_eq(cql_routing_key(&v, b, 2, k, sizeof(k), &n), 0);
    cr_assert_eq(cql_murmur3_token(k, n), (int64_t)0x4897a5d5d4493811ULL);
    cql_values_free(&v);
}

Test(cql_codec_values, murmur3_empty_key)
{
    /* MurmurHash3 x64 128 of nothing with seed 0 is all zeros. */
    uint64_t h[2];
    cql_murmur3_x64_128("", 0, 0, h);
    cr_assert_eq(h[0], 0);
    cr_assert_eq(h[1], 0);
}
