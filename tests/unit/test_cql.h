/* test_cql.h - helpers shared by the CQL codec tests: a body builder and
 * a check that every strict prefix of a body is refused. */
#ifndef DUET_TEST_CQL_H
#define DUET_TEST_CQL_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cql/cql_codec.h"

/* ---- a little body builder ------------------------------------------------- */
struct bb {
    uint8_t b[4096];
    size_t n;
};

static inline void b_u8(struct bb *b, uint8_t x)
{
    cr_assert(b->n < sizeof(b->b));
    b->b[b->n++] = x;
}
static inline void b_u16(struct bb *b, uint16_t x)
{
    b_u8(b, (uint8_t)(x >> 8));
    b_u8(b, (uint8_t)x);
}
static inline void b_i32(struct bb *b, int32_t x)
{
    b_u16(b, (uint16_t)((uint32_t)x >> 16));
    b_u16(b, (uint16_t)x);
}
static inline void b_raw(struct bb *b, const void *p, size_t n)
{
    cr_assert(b->n + n <= sizeof(b->b));
    memcpy(b->b + b->n, p, n);
    b->n += n;
}
static inline void b_str(struct bb *b, const char *s)
{
    b_u16(b, (uint16_t)strlen(s));
    b_raw(b, s, strlen(s));
}
static inline void b_bytes(struct bb *b, const void *p, int32_t n)
{
    b_i32(b, n);
    if (n > 0)
        b_raw(b, p, (size_t)n);
}

static inline uint16_t g16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t g32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Every strict prefix of a body must be refused, and never read past it:
 * each prefix is copied to a buffer of exactly its size so ASan catches an
 * overread. */
static inline void all_prefixes_fail(const uint8_t *body, size_t len,
                                     int (*dec)(const uint8_t *, size_t, pool_t *))
{
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        cr_assert_not_null(copy);
        memcpy(copy, body, n);
        pool_t pool;
        pool_init(&pool);
        int r = dec(copy, n, &pool);
        cr_assert_eq(r, CQL_EPROTO, "prefix %zu of %zu: %d", n, len, r);
        pool_destroy(&pool);
        free(copy);
    }
}

static inline int dec_result(const uint8_t *p, size_t n, pool_t *pool)
{
    struct cql_result res;
    return cql_dec_result(p, n, pool, &res);
}

static inline int dec_error(const uint8_t *p, size_t n, pool_t *pool)
{
    struct cql_error e;
    return cql_dec_error(p, n, pool, &e);
}

#endif
