#include "limits.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../net/net.h"

struct bucket {
    double tokens;
    uint64_t at; /* ms of the last refill */
};

/* Beyond this many buckets, full ones are dropped: a full bucket is the
 * same as no bucket. */
#define LIMITS_SWEEP_AT 4096

static int set_init(struct bucket_set *s, double rate_per_ms, double burst)
{
    s->rate = rate_per_ms;
    s->burst = burst < 1 ? 1 : burst;
    return map_init(&s->map) < 0 ? -ENOMEM : 0;
}

static void set_free(struct bucket_set *s)
{
    for (struct map_entry *e = map_first(&s->map); e != NULL; e = map_next(&s->map, e))
        free(e->value);
    map_free(&s->map);
}

int limits_init(struct limits *l, double rate, double burst, int64_t per_addr)
{
    memset(l, 0, sizeof(*l));
    l->per_addr = per_addr;
    if (set_init(&l->msgs, rate / 1000.0, burst) < 0)
        return -ENOMEM;
    if (set_init(&l->signup, 0, 1) < 0)
        goto err_msgs;
    if (set_init(&l->lookup, 0, 1) < 0)
        goto err_signup;
    if (set_init(&l->erase, 0, 1) < 0)
        goto err_lookup;
    if (set_init(&l->typing, LIMITS_TYPING_PER_S / 1000.0, LIMITS_TYPING_BURST) < 0)
        goto err_erase;
    if (map_init(&l->ws_addr) < 0)
        goto err_typing;
    if (map_init(&l->inflight) < 0)
        goto err_ws;
    return 0;

err_ws:
    map_free(&l->ws_addr);
err_typing:
    set_free(&l->typing);
err_erase:
    set_free(&l->erase);
err_lookup:
    set_free(&l->lookup);
err_signup:
    set_free(&l->signup);
err_msgs:
    set_free(&l->msgs);
    return -ENOMEM;
}

void limits_free(struct limits *l)
{
    set_free(&l->msgs);
    set_free(&l->signup);
    set_free(&l->lookup);
    set_free(&l->erase);
    set_free(&l->typing);
    map_free(&l->ws_addr);
    for (struct map_entry *e = map_first(&l->inflight); e != NULL; e = map_next(&l->inflight, e))
        free(e->value);
    map_free(&l->inflight);
}

void limits_set_signup(struct limits *l, double per_hour, double burst)
{
    l->signup.rate = per_hour / 3600000.0;
    l->signup.burst = burst < 1 ? 1 : burst;
}

void limits_set_lookup(struct limits *l, double per_hour, double burst)
{
    l->lookup.rate = per_hour / 3600000.0;
    l->lookup.burst = burst < 1 ? 1 : burst;
}

void limits_set_erase(struct limits *l, double per_hour, double burst)
{
    l->erase.rate = per_hour / 3600000.0;
    l->erase.burst = burst < 1 ? 1 : burst;
}

static void refill(const struct bucket_set *s, struct bucket *b, uint64_t now)
{
    if (now > b->at) {
        b->tokens += (double)(now - b->at) * s->rate;
        if (b->tokens > s->burst)
            b->tokens = s->burst;
    }
    b->at = now;
}

struct sweep {
    const struct bucket_set *s;
    uint64_t now;
};

static int bucket_full(void *value, void *ctx)
{
    const struct sweep *sw = ctx;
    struct bucket *b = value;
    refill(sw->s, b, sw->now);
    if (b->tokens < sw->s->burst)
        return 0;
    free(b);
    return 1;
}

static int64_t take(struct bucket_set *s, const void *key, size_t klen, uint64_t now)
{
    if (s->rate <= 0)
        return 0;
    struct bucket *b = map_get(&s->map, key, klen);
    if (b == NULL) {
        if (s->map.count >= LIMITS_SWEEP_AT) {
            struct sweep sw = {s, now};
            map_filter(&s->map, bucket_full, &sw);
        }
        b = malloc(sizeof(*b));
        if (b == NULL)
            return 0; /* allow rather than refuse on memory pressure */
        b->tokens = s->burst;
        b->at = now;
        if (map_put(&s->map, key, klen, b) < 0) {
            free(b);
            return 0;
        }
    }
    refill(s, b, now);
    if (b->tokens >= 1) {
        b->tokens -= 1;
        return 0;
    }
    int64_t wait = (int64_t)((1 - b->tokens) / s->rate) + 1;
    return wait < 1 ? 1 : wait;
}

int64_t limits_take_message(struct limits *l, const duet_id *user, uint64_t now)
{
    return take(&l->msgs, user->b, 16, now);
}

int64_t limits_take_erase(struct limits *l, const duet_id *user, uint64_t now)
{
    return take(&l->erase, user->b, 16, now);
}

int64_t limits_take_lookup(struct limits *l, const duet_id *user, uint64_t now)
{
    return take(&l->lookup, user->b, 16, now);
}

int64_t limits_typing_take(struct limits *l, const duet_id *user, uint64_t now)
{
    return take(&l->typing, user->b, 16, now);
}

void limits_typing_refund(struct limits *l, const duet_id *user, uint64_t now)
{
    struct bucket *b = map_get(&l->typing.map, user->b, 16);
    if (b == NULL) /* swept meanwhile: it was full */
        return;
    refill(&l->typing, b, now);
    b->tokens += 1;
    if (b->tokens > l->typing.burst)
        b->tokens = l->typing.burst;
}

/* Per-address limits count an IPv6 client's whole /64 (net_addr_group). */
int64_t limits_take_signup(struct limits *l, const char *addr, uint64_t now)
{
    char key[NET_ADDR_GROUP_LEN];
    net_addr_group(addr, key);
    return take(&l->signup, key, strlen(key), now);
}

int limits_ws_open(struct limits *l, const char *addr)
{
    char key[NET_ADDR_GROUP_LEN];
    net_addr_group(addr, key);
    size_t len = strlen(key);
    intptr_t n = (intptr_t)map_get(&l->ws_addr, key, len);
    if (l->per_addr > 0 && n >= l->per_addr)
        return -EBUSY;
    /* Counting fails open: a missed count only loosens the cap. */
    (void)map_put(&l->ws_addr, key, len, (void *)(n + 1));
    return 0;
}

void limits_ws_close(struct limits *l, const char *addr)
{
    char key[NET_ADDR_GROUP_LEN];
    net_addr_group(addr, key);
    size_t len = strlen(key);
    intptr_t n = (intptr_t)map_get(&l->ws_addr, key, len);
    if (n <= 1)
        map_del(&l->ws_addr, key, len);
    else
        (void)map_put(&l->ws_addr, key, len, (void *)(n - 1));
}

/* ---- requests in flight per user ---- */

/* Ownership: l->inflight's value for its user; freed when nothing is in
 * flight and nobody waits. The waiters are borrowed. */
struct limits_inflight {
    int64_t n;
    struct limits_waiter *waiters;
};

static struct limits_inflight *inflight_get(struct limits *l, const duet_id *user, int add)
{
    struct limits_inflight *f = map_get(&l->inflight, user->b, 16);
    if (f != NULL || !add)
        return f;
    if ((f = calloc(1, sizeof(*f))) == NULL)
        return NULL;
    if (map_put(&l->inflight, user->b, 16, f) < 0) {
        free(f);
        return NULL;
    }
    return f;
}

static void inflight_maybe_free(struct limits *l, const duet_id *user, struct limits_inflight *f)
{
    if (f->n > 0 || f->waiters != NULL)
        return;
    map_del(&l->inflight, user->b, 16);
    free(f);
}

int limits_inflight_add(struct limits *l, const duet_id *user)
{
    struct limits_inflight *f = inflight_get(l, user, 1);
    if (f == NULL)
        return -ENOMEM;
    f->n++;
    return 0;
}

void limits_inflight_done(struct limits *l, const duet_id *user)
{
    struct limits_inflight *f = inflight_get(l, user, 0);
    if (f == NULL)
        return;
    if (f->n > 0)
        f->n--;
    /* Every waiter looks again (in the order they came); those still over
     * a bound queue again. */
    struct limits_waiter *w = f->waiters;
    f->waiters = NULL;
    while (w != NULL) {
        struct limits_waiter *next = w->next;
        w->next = NULL;
        w->queued = 0;
        w->wake(w);
        w = next;
    }
    if ((f = inflight_get(l, user, 0)) != NULL)
        inflight_maybe_free(l, user, f);
}

int limits_inflight_full(struct limits *l, const duet_id *user, int64_t max,
                         struct limits_waiter *w)
{
    struct limits_inflight *f = inflight_get(l, user, 0);
    if (f == NULL || f->n < max)
        return 0;
    if (!w->queued) {
        struct limits_waiter **p = &f->waiters;
        while (*p != NULL)
            p = &(*p)->next;
        w->next = NULL;
        *p = w;
        w->queued = 1;
    }
    return 1;
}

void limits_inflight_cancel(struct limits *l, const duet_id *user, struct limits_waiter *w)
{
    struct limits_inflight *f = inflight_get(l, user, 0);
    if (f == NULL || !w->queued)
        return;
    for (struct limits_waiter **p = &f->waiters; *p != NULL; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            break;
        }
    }
    w->next = NULL;
    w->queued = 0;
    inflight_maybe_free(l, user, f);
}
