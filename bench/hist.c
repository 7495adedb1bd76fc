/* hist.c - log-linear latency histograms (HDR-style). */
#include "bench.h"

/* Values below 64 land in their own bucket; above, the top 6 significant
 * bits (32 mantissas per power of two) pick the bucket. */
static size_t hist_index(uint64_t v)
{
    if (v < 64)
        return (size_t)v;
    int msb = 63 - __builtin_clzll(v);
    uint64_t m = v >> (msb - 5); /* 32..63 */
    size_t i = (size_t)(32 * (msb - 4)) + (size_t)(m - 32);
    return i < HIST_N ? i : HIST_N - 1;
}

/* The middle of bucket i. */
static uint64_t hist_value(size_t i)
{
    if (i < 64)
        return i;
    int msb = (int)(i / 32) + 4;
    uint64_t m = i % 32 + 32;
    uint64_t lo = m << (msb - 5);
    return lo + ((1ull << (msb - 5)) >> 1);
}

void hist_record(struct hist *h, uint64_t us)
{
    h->b[hist_index(us)]++;
    h->count++;
    h->sum += us;
    if (us > h->max)
        h->max = us;
}

void hist_merge(struct hist *into, const struct hist *from)
{
    for (size_t i = 0; i < HIST_N; i++)
        into->b[i] += from->b[i];
    into->count += from->count;
    into->sum += from->sum;
    if (from->max > into->max)
        into->max = from->max;
}

uint64_t hist_pct(const struct hist *h, double p)
{
    if (h->count == 0)
        return 0;
    if (p >= 100.0)
        return h->max;
    uint64_t rank = (uint64_t)(p / 100.0 * (double)h->count + 0.999999);
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < HIST_N; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t v = hist_value(i);
            return v < h->max ? v : h->max;
        }
    }
    return h->max;
}
