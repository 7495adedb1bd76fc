#include "limits.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct bucket {
    double tokens;
    uint64_t at; /* ms of the last refill */
};

/* Beyond this many buckets, full ones are dropped: a full bucket is the
 * same as no bucket. */
#define LIMITS_SWEEP_AT 4096

int limits_init(struct limits *l, double rate, double burst, int64_t per_addr)
{
    memset(l, 0, sizeof(*l));
    l->rate = rate;
    l->burst = burst < 1 ? 1 : burst;
    l->per_addr = per_addr;
    if (map_init(&l->buckets) < 0)
        return -ENOMEM;
    if (map_init(&l->ws_addr) < 0) {
        map_free(&l->buckets);
        return -ENOMEM;
    }
    return 0;
}

void limits_free(struct limits *l)
{
    for (struct map_entry *e = map_first(&l->buckets); e != NULL; e = map_next(&l->buckets, e))
        free(e->value);
    map_free(&l->buckets);
    map_free(&l->ws_addr);
}

static void refill(const struct limits *l, struct bucket *b, uint64_t now)
{
    if (now > b->at) {
        b->tokens += (double)(now - b->at) * l->rate / 1000.0;
        if (b->tokens > l->burst)
            b->tokens = l->burst;
    }
    b->at = now;
}

struct sweep {
    const struct limits *l;
    uint64_t now;
};

static int bucket_full(void *value, void *ctx)
{
    const struct sweep *s = ctx;
    struct bucket *b = value;
    refill(s->l, b, s->now);
    if (b->tokens < s->l->burst)
        return 0;
    free(b);
    return 1;
}

int64_t limits_take_message(struct limits *l, const duet_id *user, uint64_t now)
{
    struct bucket *b = map_get(&l->buckets, user->b, 16);
    if (b == NULL) {
        if (l->buckets.count >= LIMITS_SWEEP_AT) {
            struct sweep s = {l, now};
            map_filter(&l->buckets, bucket_full, &s);
        }
        b = malloc(sizeof(*b));
        if (b == NULL)
            return 0; /* allow rather than refuse on memory pressure */
        b->tokens = l->burst;
        b->at = now;
        if (map_put(&l->buckets, user->b, 16, b) < 0) {
            free(b);
            return 0;
        }
    }
    refill(l, b, now);
    if (b->tokens >= 1) {
        b->tokens -= 1;
        return 0;
    }
    int64_t wait = (int64_t)((1 - b->tokens) * 1000.0 / l->rate) + 1;
    return wait < 1 ? 1 : wait;
}

int limits_ws_open(struct limits *l, const char *addr)
{
    size_t len = strlen(addr);
    intptr_t n = (intptr_t)map_get(&l->ws_addr, addr, len);
    if (l->per_addr > 0 && n >= l->per_addr)
        return -EBUSY;
    /* Counting fails open: a missed count only loosens the cap. */
    (void)map_put(&l->ws_addr, addr, len, (void *)(n + 1));
    return 0;
}

void limits_ws_close(struct limits *l, const char *addr)
{
    size_t len = strlen(addr);
    intptr_t n = (intptr_t)map_get(&l->ws_addr, addr, len);
    if (n <= 1)
        map_del(&l->ws_addr, addr, len);
    else
        (void)map_put(&l->ws_addr, addr, len, (void *)(n - 1));
}
