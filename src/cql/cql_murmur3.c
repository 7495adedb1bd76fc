/* cql_murmur3.c - Cassandra's Murmur3 partitioner token (token-aware
 * routing). Pure functions; no I/O. */
#include "cql_codec.h"

#include <stdint.h>
#include <string.h>

/* MurmurHash3 x64 128 as Cassandra's MurmurHash.hash3_x64_128 computes it:
 * the 16-byte blocks are read little-endian, but the tail bytes are Java
 * bytes, sign-extended to 64 bits before they are shifted into place. */
static uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = x << 8 | p[i];
    return x;
}

/* A tail byte as Java sees it: signed. */
static uint64_t sbyte(uint8_t b)
{
    return (uint64_t)(int64_t)(int8_t)b;
}

void cql_murmur3_x64_128(const void *key, size_t len, uint64_t seed, uint64_t out[2])
{
    const uint8_t *d = key;
    const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
    uint64_t h1 = seed, h2 = seed;
    size_t nblocks = len / 16;
    for (size_t i = 0; i < nblocks; i++) {
        uint64_t k1 = le64(d + i * 16), k2 = le64(d + i * 16 + 8);
        k1 *= c1;
        k1 = rotl64(k1, 31);
        k1 *= c2;
        h1 ^= k1;
        h1 = rotl64(h1, 27);
        h1 += h2;
        h1 = h1 * 5 + 0x52dce729;
        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
        h2 = rotl64(h2, 31);
        h2 += h1;
        h2 = h2 * 5 + 0x38495ab5;
    }
    const uint8_t *t = d + nblocks * 16;
    uint64_t k1 = 0, k2 = 0;
    size_t rest = len & 15;
    if (rest > 8) {
        for (size_t i = rest; i > 8; i--)
            k2 ^= sbyte(t[i - 1]) << ((i - 9) * 8);
        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
    }
    if (rest > 0) {
        for (size_t i = rest < 8 ? rest : 8; i > 0; i--)
            k1 ^= sbyte(t[i - 1]) << ((i - 1) * 8);
        k1 *= c1;
        k1 = rotl64(k1, 31);
        k1 *= c2;
        h1 ^= k1;
    }
    /* Cassandra XORs the length as a Java int (sign-extended to long). */
    h1 ^= (uint64_t)(int64_t)(int32_t)len;
    h2 ^= (uint64_t)(int64_t)(int32_t)len;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    h2 += h1;
    out[0] = h1;
    out[1] = h2;
}

int64_t cql_murmur3_token(const void *key, size_t len)
{
    uint64_t h[2];
    cql_murmur3_x64_128(key, len, 0, h);
    int64_t t = (int64_t)h[0];
    /* Murmur3Partitioner.normalize: MIN is reserved for the minimum token. */
    return t == INT64_MIN ? INT64_MAX : t;
}
