/* Unit tests of the CQL v4 response decoders (src/cql/cql_decode.c):
 * errors and results (the rest: test_cql_decode_misc.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_cql.h"

/* ---- errors --------------------------------------------------------------------- */
TestSuite(cql_decode_error);

Test(cql_decode_error, every_code_and_its_fields)
{
    static const int plain[] = {
        CQL_ERR_SERVER,           CQL_ERR_PROTOCOL, CQL_ERR_BAD_CREDENTIALS, CQL_ERR_OVERLOADED,
        CQL_ERR_IS_BOOTSTRAPPING, CQL_ERR_TRUNCATE, CQL_ERR_SYNTAX,          CQL_ERR_UNAUTHORIZED,
        CQL_ERR_INVALID,          CQL_ERR_CONFIG};
    pool_t pool;
    pool_init(&pool);
    struct cql_error e;
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        struct bb b = {.n = 0};
        b_i32(&b, plain[i]);
        b_str(&b, "boom");
        cr_assert_eq(cql_dec_error(b.b, b.n, &pool, &e), 0);
        cr_assert_eq(e.code, plain[i]);
        cr_assert_str_eq(e.message, "boom");
        cr_assert_str_neq(cql_error_name(plain[i]), "UNKNOWN_ERROR");
        all_prefixes_fail(b.b, b.n, dec_error);
    }

    struct bb b = {.n = 0};
    b_i32(&b, CQL_ERR_UNAVAILABLE);
    b_str(&b, "Cannot achieve consistency level QUORUM");
    b_u16(&b, CQL_QUORUM);
    b_i32(&b, 2);
    b_i32(&b, 1);
    cr_assert_eq(cql_dec_error(b.b, b.n, &pool, &e), 0);
    cr_assert_eq(e.code, CQL_ERR_UNAVAILABLE);
    cr_assert_eq(e.consistency, CQL_QUORUM);
    cr_assert_eq(e.required, 2);
    cr_assert_eq(e.received, 1);
    all_prefixes_fail(b.b, b.n, dec_error);

    b.n = 0;
    b_i32(&b, CQL_ERR_WRITE_TIMEOUT);
    b_str(&b, "wt");
    b_u16(&b, CQL_LOCAL_QUORUM);
    b_i32(&b, 1);
    b_i32(&b, 2);
    b_str(&b, "CAS");
    cr_assert_eq(cql_dec_error(b.b, b.n, &pool, &e), 0);
    cr_assert_eq(e.consistency, CQL_LOCAL_QUORUM);
    cr_assert_eq(e.received, 1);
    cr_assert_eq(e.required, 2);
    cr_assert_str_eq(e.write_type, "CAS");
    all_prefixes_fail(b.b, b.n, dec_error);

    b.n = 0;
    b_i32(&b, CQL_ERR_READ_TIMEOUT);
    b_str(&b, "rt");
    b_u16(&b, CQL_ONE);
    b_i32(&b, 0);
    b_i32(&b, 1);
    b_u8(&b, 1);
    cr_assert_eq(cql_dec_error(b.b, b.n, &pool, &e), 0);
    cr_assert_eq(e.required, 1);
    cr_assert_eq(e.data_present, 1);
    all_prefixes_fail(b.b, b.n, dec_error);

    b.n = 0;
    b_i32(&b, CQL_ERR_READ_FAILURE);
    b_str(&b, "rf");
    b_u16(&b, CQL_ALL);
    b_i32(&b, 1);
    b_i32(&b, 3);
    b_i32(&b, 2);
    b_u8(&b, 0);
    cr_assert_eq(cql_dec_error(b.b, b.n, &pool, &e), 0);
    cr_assert_eq(e.consistency, CQL_ALL);
    cr_assert_eq(e.num_failures, 2);
    cr_assert_eq(e.required, 3);
    cr_assert_eq(e.data_present, 0);
    all_prefixes_fail(b.b, b.n, dec_error);

    b.n = 0;
    b_i32(&b, CQL_ERR_WRITE_FAILURE);
    b_str(&b, "wf");
    b_u16(&b, CQL_TWO);
    b_i32(&b, 1);
    b_i32(&b, 2);
    b_i32(&b, 1);
    b_str(&b, "BATCH_LOG");
    cr_assert_eq(cql_dec_error(b.b, b.n, &pool, &e), 0);
    cr_assert_eq(e.num_failures, 1);
    cr_assert_str_eq(e.write_type, "BATCH_LOG");
    all_prefixes_fail(b.b, b.n, dec_error);

    b.n = 0;
    b_i32(&b, CQL_ERR_FUNCTION_FAILURE);
    b_str(&b, "ff");
    b_str(&b, "ks");
    b_str(&b, "fn");
    b_u16(&b, 2);
    b_str(&b, "int");
    b_str(&b, "text");
    cr_assert_eq(cql_dec_error(b.b, b.n, &pool, &e), 0);
    cr_assert_str_eq(e.keyspace, "ks");
    cr_assert_str_eq(e.table, "fn");
    cr_assert_str_eq(e.arg_types, "int,text");
    all_prefixes_fail(b.b, b.n, dec_error);

    b.n = 0;
    b_i32(&b, CQL_ERR_ALREADY_EXISTS);
    b_str(&b, "ae");
    b_str(&b, "ks");
    b_str(&b, "");
    cr_assert_eq(cql_dec_error(b.b, b.n, &pool, &e), 0);
    cr_assert_str_eq(e.keyspace, "ks");
    cr_assert_str_eq(e.table, "");
    all_prefixes_fail(b.b, b.n, dec_error);

    b.n = 0;
    b_i32(&b, CQL_ERR_UNPREPARED);
    b_str(&b, "unknown id");
    b_u16(&b, 3);
    b_raw(&b, "\x01\x02\x03", 3);
    cr_assert_eq(cql_dec_error(b.b, b.n, &pool, &e), 0);
    cr_assert_eq(e.unprepared_id_len, 3);
    cr_assert_arr_eq(e.unprepared_id, "\x01\x02\x03", 3);
    all_prefixes_fail(b.b, b.n, dec_error);

    /* An unknown code keeps its message; extra bytes are ignored. */
    b.n = 0;
    b_i32(&b, 0x7777);
    b_str(&b, "new");
    b_raw(&b, "junk", 4);
    cr_assert_eq(cql_dec_error(b.b, b.n, &pool, &e), 0);
    cr_assert_eq(e.code, 0x7777);
    cr_assert_str_eq(cql_error_name(0x7777), "UNKNOWN_ERROR");
    pool_destroy(&pool);
}

Test(cql_decode_error, strerror_never_null)
{
    static const int codes[] = {0,           CQL_ESERVER, CQL_ETIMEOUT, CQL_ENOHOST, CQL_EPROTO,
                                CQL_ECLOSED, CQL_EAUTH,   -ENOMEM,      -99999};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        cr_assert_not_null(cql_strerror(codes[i]));
    cr_assert_str_eq(cql_error_name(CQL_ERR_SYNTAX), "SYNTAX_ERROR");
}

/* ---- results ---------------------------------------------------------------------- */
TestSuite(cql_decode_result);

/* Rows with per-column table specs, paging state, nested types and a null. */
static void build_rows(struct bb *b, int global)
{
    b_i32(b, CQL_RESULT_ROWS);
    b_i32(b, CQL_RF_HAS_MORE_PAGES | (global ? CQL_RF_GLOBAL_TABLES_SPEC : 0));
    b_i32(b, 4);
    b_bytes(b, "PAGE", 4);
    if (global) {
        b_str(b, "ks");
        b_str(b, "t");
    }
    static const char *const names[] = {"id", "name", "tags", "m"};
    for (int i = 0; i < 4; i++) {
        if (!global) {
            b_str(b, "ks");
            b_str(b, "t");
        }
        b_str(b, names[i]);
        switch (i) {
        case 0:
            b_u16(b, CQL_T_INT);
            break;
        case 1:
            b_u16(b, CQL_T_VARCHAR);
            break;
        case 2: /* set<frozen<list<text>>> */
            b_u16(b, CQL_T_SET);
            b_u16(b, CQL_T_LIST);
            b_u16(b, CQL_T_VARCHAR);
            break;
        default: /* map<text, tuple<int, custom>> */
            b_u16(b, CQL_T_MAP);
            b_u16(b, CQL_T_VARCHAR);
            b_u16(b, 0x0031);
            b_u16(b, 2);
            b_u16(b, CQL_T_INT);
            b_u16(b, CQL_T_CUSTOM);
            b_str(b, "org.example.T");
        }
    }
    b_i32(b, 2);
    /* row 0 */
    b_bytes(b, "\0\0\0\1", 4);
    b_bytes(b, "ann", 3);
    b_bytes(b, "\0\0\0\0", 4);
    b_i32(b, -1);
    /* row 1: a null name */
    b_bytes(b, "\0\0\0\2", 4);
    b_i32(b, -1);
    b_i32(b, -1);
    b_bytes(b, "", 0);
}

Test(cql_decode_result, rows_with_paging_state_and_nulls)
{
    for (int global = 0; global < 2; global++) {
        struct bb b = {.n = 0};
        build_rows(&b, global);
        pool_t pool;
        pool_init(&pool);
        struct cql_result r;
        cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), 0);
        cr_assert_eq(r.kind, CQL_RESULT_ROWS);
        cr_assert_eq(r.rows.n_cols, 4);
        cr_assert_eq(r.rows.n_rows, 2);
        cr_assert_str_eq(r.rows.col_names[0], "id");
        cr_assert_str_eq(r.rows.col_names[3], "m");
        cr_assert_eq(r.rows.col_types[0], CQL_T_INT);
        cr_assert_eq(r.rows.col_types[1], CQL_T_VARCHAR);
        cr_assert_eq(r.rows.col_types[2], CQL_T_SET);
        cr_assert_eq(r.rows.col_types[3], CQL_T_MAP);
        cr_assert_eq(r.rows.paging_state_len, 4);
        cr_assert_arr_eq(r.rows.paging_state, "PAGE", 4);
        int32_t x;
        cr_assert_eq(cql_get_int(cql_cell(&r.rows, 1, 0), &x), 0);
        cr_assert_eq(x, 2);
        cr_assert_str_eq(cql_get_text(cql_cell(&r.rows, 0, 1), &pool), "ann");
        cr_assert_null(cql_cell(&r.rows, 1, 1)->value);
        cr_assert_eq(cql_cell(&r.rows, 1, 1)->len, -1);
        cr_assert_eq(cql_cell(&r.rows, 1, 3)->len, 0);
        cr_assert_not_null(cql_cell(&r.rows, 1, 3)->value, "empty is not null");
        cr_assert_eq(cql_rows_applied(&r.rows), -1);
        pool_destroy(&pool);
        all_prefixes_fail(b.b, b.n, dec_result);
    }
}

Test(cql_decode_result, rows_no_metadata_and_applied)
{
    struct bb b = {.n = 0};
    b_i32(&b, CQL_RESULT_ROWS);
    b_i32(&b, CQL_RF_NO_METADATA);
    b_i32(&b, 1);
    b_i32(&b, 1);
    b_bytes(&b, "\x01", 1);
    pool_t pool;
    pool_init(&pool);
    struct cql_result r;
    cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), 0);
    cr_assert_null(r.rows.col_names);
    cr_assert_null(r.rows.paging_state);
    cr_assert_eq(cql_rows_applied(&r.rows), -1, "no names, no [applied]");

    b.n = 0;
    b_i32(&b, CQL_RESULT_ROWS);
    b_i32(&b, CQL_RF_GLOBAL_TABLES_SPEC);
    b_i32(&b, 2);
    b_str(&b, "ks");
    b_str(&b, "t");
    b_str(&b, "[applied]");
    b_u16(&b, CQL_T_BOOLEAN);
    b_str(&b, "k");
    b_u16(&b, CQL_T_INT);
    b_i32(&b, 1);
    b_bytes(&b, "\x00", 1);
    b_bytes(&b, "\0\0\0\7", 4);
    cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), 0);
    cr_assert_eq(cql_rows_applied(&r.rows), 0);
    b.b[b.n - 9] = 1;
    cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), 0);
    cr_assert_eq(cql_rows_applied(&r.rows), 1);
    pool_destroy(&pool);
}

Test(cql_decode_result, rows_counts_that_do_not_fit_are_refused)
{
    pool_t pool;
    pool_init(&pool);
    struct cql_result r;
    struct bb b = {.n = 0};
    /* 2^31-1 rows of 2^16 columns (no metadata): far more cells than bytes. */
    b_i32(&b, CQL_RESULT_ROWS);
    b_i32(&b, CQL_RF_NO_METADATA);
    b_i32(&b, 65535);
    b_i32(&b, INT32_MAX);
    b_raw(&b, "\0\0\0\0", 4);
    cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), CQL_EPROTO);
    /* A negative column count, a negative row count. */
    b.n = 0;
    b_i32(&b, CQL_RESULT_ROWS);
    b_i32(&b, 0);
    b_i32(&b, -1);
    cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), CQL_EPROTO);
    b.n = 0;
    b_i32(&b, CQL_RESULT_ROWS);
    b_i32(&b, CQL_RF_NO_METADATA);
    b_i32(&b, 1);
    b_i32(&b, -5);
    cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), CQL_EPROTO);
    /* Rows without columns: nothing bounds their count. */
    b.n = 0;
    b_i32(&b, CQL_RESULT_ROWS);
    b_i32(&b, CQL_RF_NO_METADATA);
    b_i32(&b, 0);
    b_i32(&b, INT32_MAX);
    cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), CQL_EPROTO);
    /* A cell longer than the body. */
    b.n = 0;
    b_i32(&b, CQL_RESULT_ROWS);
    b_i32(&b, CQL_RF_NO_METADATA);
    b_i32(&b, 1);
    b_i32(&b, 1);
    b_i32(&b, 100);
    b_raw(&b, "abc", 3);
    cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), CQL_EPROTO);
    /* Types nested deeper than anyone writes them. */
    b.n = 0;
    b_i32(&b, CQL_RESULT_ROWS);
    b_i32(&b, CQL_RF_GLOBAL_TABLES_SPEC);
    b_i32(&b, 1);
    b_str(&b, "k");
    b_str(&b, "t");
    b_str(&b, "c");
    for (int i = 0; i < 40; i++)
        b_u16(&b, CQL_T_LIST);
    b_u16(&b, CQL_T_INT);
    b_i32(&b, 0);
    cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), CQL_EPROTO);
    /* An unknown type id and an unknown result kind. */
    b.n = 0;
    b_i32(&b, CQL_RESULT_ROWS);
    b_i32(&b, CQL_RF_GLOBAL_TABLES_SPEC);
    b_i32(&b, 1);
    b_str(&b, "k");
    b_str(&b, "t");
    b_str(&b, "c");
    b_u16(&b, 0x0099);
    b_i32(&b, 0);
    cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), CQL_EPROTO);
    b.n = 0;
    b_i32(&b, 9);
    cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), CQL_EPROTO);
    pool_destroy(&pool);
}

Test(cql_decode_result, prepared_with_pk_indexes)
{
    struct bb b = {.n = 0};
    b_i32(&b, CQL_RESULT_PREPARED);
    b_u16(&b, 4);
    b_raw(&b, "\xde\xad\xbe\xef", 4);
    b_i32(&b, CQL_RF_GLOBAL_TABLES_SPEC);
    b_i32(&b, 3);
    b_i32(&b, 2);
    b_u16(&b, 2);
    b_u16(&b, 0);
    b_str(&b, "ks");
    b_str(&b, "t");
    b_str(&b, "b");
    b_u16(&b, CQL_T_INT);
    b_str(&b, "v");
    b_u16(&b, CQL_T_BLOB);
    b_str(&b, "a");
    b_u16(&b, CQL_T_VARCHAR);
    /* result metadata: none */
    b_i32(&b, CQL_RF_NO_METADATA);
    b_i32(&b, 0);
    pool_t pool;
    pool_init(&pool);
    struct cql_result r;
    cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), 0);
    cr_assert_eq(r.kind, CQL_RESULT_PREPARED);
    cr_assert_eq(r.prepared.id_len, 4);
    cr_assert_arr_eq(r.prepared.id, "\xde\xad\xbe\xef", 4);
    cr_assert_eq(r.prepared.n_params, 3);
    cr_assert_eq(r.prepared.n_pk, 2);
    cr_assert_eq(r.prepared.pk_indexes[0], 2);
    cr_assert_eq(r.prepared.pk_indexes[1], 0);
    cr_assert_eq(r.prepared.param_types[1], CQL_T_BLOB);
    cr_assert_eq(r.prepared.n_result_cols, 0);
    all_prefixes_fail(b.b, b.n, dec_result);
    /* A pk index that names no bind marker. */
    b.b[4 + 2 + 4 + 12] = 0;
    b.b[4 + 2 + 4 + 12 + 1] = 3;
    cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), CQL_EPROTO);
    pool_destroy(&pool);
}

Test(cql_decode_result, void_keyspace_schema_change)
{
    pool_t pool;
    pool_init(&pool);
    struct cql_result r;
    struct bb b = {.n = 0};
    b_i32(&b, CQL_RESULT_VOID);
    cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), 0);
    cr_assert_eq(r.kind, CQL_RESULT_VOID);
    b.n = 0;
    b_i32(&b, CQL_RESULT_SET_KEYSPACE);
    b_str(&b, "duet");
    cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), 0);
    cr_assert_str_eq(r.keyspace, "duet");
    all_prefixes_fail(b.b, b.n, dec_result);
    b.n = 0;
    b_i32(&b, CQL_RESULT_SCHEMA_CHANGE);
    b_str(&b, "CREATED");
    b_str(&b, "TABLE");
    b_str(&b, "duet");
    b_str(&b, "users");
    cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), 0);
    cr_assert_str_eq(r.schema.change_type, "CREATED");
    cr_assert_str_eq(r.schema.name, "users");
    all_prefixes_fail(b.b, b.n, dec_result);
    b.n = 0;
    b_i32(&b, CQL_RESULT_SCHEMA_CHANGE);
    b_str(&b, "CREATED");
    b_str(&b, "KEYSPACE");
    b_str(&b, "duet");
    cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), 0);
    cr_assert_null(r.schema.name);
    b.n = 0;
    b_i32(&b, CQL_RESULT_SCHEMA_CHANGE);
    b_str(&b, "DROPPED");
    b_str(&b, "FUNCTION");
    b_str(&b, "ks");
    b_str(&b, "f");
    b_u16(&b, 1);
    b_str(&b, "int");
    cr_assert_eq(cql_dec_result(b.b, b.n, &pool, &r), 0);
    all_prefixes_fail(b.b, b.n, dec_result);
    pool_destroy(&pool);
}

/* A RESULT body captured from Cassandra 5.0.6:
 * SELECT token(a, b), a, b FROM cql_dev.tok2 (PRIMARY KEY ((a, b))). */
Test(cql_decode_result, real_rows_from_cassandra)
{
    static const char hex[] =
        "000000020000000100000003000763716c5f6465760004746f6b32001273797374656d2e746f6b656e28"
        "612c2062290002000161000d000162000900000002000000084897a5d5d449381100000005c3a974c3"
        "a900000004fffffff9000000087e6ffb7cc3e68e6b00000006757365722d31000000040000002a";
    uint8_t body[sizeof(hex) / 2];
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned x;
        cr_assert_eq(sscanf(hex + 2 * i, "%2x", &x), 1);
        body[i] = (uint8_t)x;
    }
    pool_t pool;
    pool_init(&pool);
    struct cql_result r;
    cr_assert_eq(cql_dec_result(body, n, &pool, &r), 0);
    cr_assert_eq(r.rows.n_cols, 3);
    cr_assert_eq(r.rows.n_rows, 2);
    cr_assert_str_eq(r.rows.col_names[0], "system.token(a, b)");
    cr_assert_eq(r.rows.col_types[0], CQL_T_BIGINT);
    cr_assert_eq(r.rows.col_types[2], CQL_T_INT);
    int64_t tok;
    cr_assert_eq(cql_get_bigint(cql_cell(&r.rows, 1, 0), &tok), 0);
    cr_assert_str_eq(cql_get_text(cql_cell(&r.rows, 1, 1), &pool), "user-1");
    /* The token the node computed equals ours for the same key. */
    struct cql_values v;
    cql_values_init(&v);
    cql_bind_text(&v, (const char *)cql_cell(&r.rows, 1, 1)->value, 6);
    cql_bind_blob(&v, cql_cell(&r.rows, 1, 2)->value, 4);
    uint16_t pk[] = {0, 1};
    uint8_t key[32];
    size_t kl;
    cr_assert_eq(cql_routing_key(&v, pk, 2, key, sizeof(key), &kl), 0);
    cr_assert_eq(cql_murmur3_token(key, kl), tok);
    cql_values_free(&v);
    pool_destroy(&pool);
    all_prefixes_fail(body, n, dec_result);
}
