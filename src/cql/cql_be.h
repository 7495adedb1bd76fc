/* cql_be.h - the big-endian integers of the CQL wire format, shared by the
 * encoder (cql_codec.c) and the bound values (cql_values.c). */
#ifndef DUET_CQL_BE_H
#define DUET_CQL_BE_H

#include <stdint.h>

static inline void be16(uint8_t *p, uint16_t x)
{
    p[0] = (uint8_t)(x >> 8);
    p[1] = (uint8_t)x;
}

static inline void be32(uint8_t *p, uint32_t x)
{
    p[0] = (uint8_t)(x >> 24);
    p[1] = (uint8_t)(x >> 16);
    p[2] = (uint8_t)(x >> 8);
    p[3] = (uint8_t)x;
}

static inline void be64(uint8_t *p, uint64_t x)
{
    be32(p, (uint32_t)(x >> 32));
    be32(p + 4, (uint32_t)x);
}

static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
