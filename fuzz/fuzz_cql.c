/* fuzz_cql.c - the CQL v4 response decoders (src/cql/cql_decode.c) and the
 * helpers that read decoded cells, on bytes as a server could send them.
 *
 * The input is read as a stream of response frames (header, then body),
 * the way cql_conn.c splits what it reads; each body is copied to a buffer of
 * exactly its size (so ASan sees any overread) and decoded by opcode. The
 * whole input is also decoded as a RESULT and an ERROR body directly, so the
 * deep decoders are reached without a valid header. Oracles besides the
 * sanitizers:
 *  - every cell, paging state and prepared id lies inside the body;
 *  - every partition-key index names a bind marker;
 *  - the routing key built from decoded cells hashes without error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cql/cql_codec.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_cql: oracle failed: %s\n", what);
        abort();
    }
}

static int inside(const uint8_t *p, size_t n, const uint8_t *body, size_t len)
{
    return p >= body && p <= body + len && n <= (size_t)(body + len - p);
}

static int count_elem(void *ctx, const uint8_t *e, int32_t elen)
{
    volatile uint8_t sink = 0;
    for (int32_t i = 0; i < elen; i++)
        sink ^= e[i];
    (void)sink;
    (*(int *)ctx)++;
    return 0;
}

static void walk_rows(const struct cql_rows *rows, const uint8_t *body, size_t len, pool_t *pool)
{
    check(rows->n_rows >= 0 && rows->n_cols >= 0, "counts");
    if (rows->paging_state != NULL)
        check(inside(rows->paging_state, rows->paging_state_len, body, len), "paging state");
    struct cql_values v;
    cql_values_init(&v);
    for (int64_t r = 0; r < rows->n_rows; r++) {
        for (int c = 0; c < rows->n_cols; c++) {
            const struct cql_cell *cell = cql_cell(rows, r, c);
            if (cell->value == NULL) {
                check(cell->len == -1, "null cell length");
                continue;
            }
            check(cell->len >= 0 && inside(cell->value, (size_t)cell->len, body, len), "cell");
            int32_t i32;
            int64_t i64;
            int b;
            uint8_t u[16];
            (void)cql_get_int(cell, &i32);
            (void)cql_get_bigint(cell, &i64);
            (void)cql_get_bool(cell, &b);
            (void)cql_get_uuid(cell, u);
            check(cql_get_text(cell, pool) != NULL, "text copy");
            int n = 0;
            (void)cql_dec_collection(cell->value, cell->len, count_elem, &n);
            if (r == 0)
                cql_bind_blob(&v, cell->value, (size_t)cell->len);
        }
    }
    (void)cql_rows_applied(rows);
    if (v.n >= 1 && !v.oom) {
        uint8_t key[512];
        size_t kl;
        uint16_t pk[] = {0, (uint16_t)(v.n - 1)};
        if (cql_routing_key(&v, pk, v.n >= 2 ? 2 : 1, key, sizeof(key), &kl) == 0)
            (void)cql_murmur3_token(key, kl);
    }
    cql_values_free(&v);
}

static void decode_body(uint8_t opcode, uint8_t flags, const uint8_t *body, size_t len)
{
    pool_t pool;
    pool_init(&pool);
    size_t off = 0;
    if (cql_dec_prefix(flags, body, len, &off) == 0) {
        check(off <= len, "prefix inside the body");
        const uint8_t *b = body + off;
        size_t n = len - off;
        struct cql_result res;
        struct cql_error err;
        const char *s;
        const uint8_t *tok;
        int32_t tl;
        struct cql_option_values *o;
        int no;
        switch (opcode) {
        case CQL_OP_RESULT:
            if (cql_dec_result(b, n, &pool, &res) == 0) {
                if (res.kind == CQL_RESULT_ROWS)
                    walk_rows(&res.rows, b, n, &pool);
                if (res.kind == CQL_RESULT_PREPARED) {
                    check(inside(res.prepared.id, res.prepared.id_len, b, n), "prepared id");
                    for (int i = 0; i < res.prepared.n_pk; i++)
                        check(res.prepared.pk_indexes[i] < res.prepared.n_params, "pk index");
                }
            }
            break;
        case CQL_OP_ERROR:
            if (cql_dec_error(b, n, &pool, &err) == 0)
                check(err.message != NULL && cql_error_name(err.code) != NULL, "error message");
            break;
        case CQL_OP_AUTHENTICATE:
            (void)cql_dec_authenticate(b, n, &pool, &s);
            break;
        case CQL_OP_AUTH_CHALLENGE:
        case CQL_OP_AUTH_SUCCESS:
            if (cql_dec_auth_token(b, n, &tok, &tl) == 0 && tok != NULL)
                check(tl >= 0 && inside(tok, (size_t)tl, b, n), "auth token");
            break;
        case CQL_OP_SUPPORTED:
            if (cql_dec_supported(b, n, &pool, &o, &no) == 0)
                for (int i = 0; i < no; i++)
                    check(o[i].key != NULL, "supported key");
            break;
        default:
            break;
        }
    }
    pool_destroy(&pool);
}

/* Decodes a copy of exactly len bytes, so an overread is an ASan error. */
static void decode_copy(uint8_t opcode, uint8_t flags, const uint8_t *p, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (copy == NULL)
        return;
    if (len > 0)
        memcpy(copy, p, len);
    decode_body(opcode, flags, copy, len);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        struct cql_header h;
        int r = cql_header_decode(data + off, size - off, CQL_VERSION_RESP, &h);
        if (r < 0)
            break;
        size_t left = size - off - CQL_HEADER_LEN;
        if (h.length > left)
            break;
        decode_copy(h.opcode, h.flags, data + off + CQL_HEADER_LEN, h.length);
        off += CQL_HEADER_LEN + h.length;
    }
    /* The whole input as bodies, without any frame around them. */
    decode_copy(CQL_OP_RESULT, 0, data, size);
    decode_copy(CQL_OP_ERROR, 0, data, size);
    return 0;
}
