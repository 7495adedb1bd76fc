#include "map.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int map_init(map_t *m)
{
    m->nbuckets = 16;
    m->count = 0;
    m->buckets = calloc(m->nbuckets, sizeof(*m->buckets));
    if (m->buckets == NULL)
        return -ENOMEM;
    randombytes_buf(m->seed, sizeof(m->seed));
    return 0;
}

void map_free(map_t *m)
{
    if (m->buckets == NULL)
        return;
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct map_entry *e = m->buckets[i];
        while (e != NULL) {
            struct map_entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = NULL;
    m->count = 0;
}

static uint64_t map_hash(const map_t *m, const void *key, size_t klen)
{
    uint64_t h;
    crypto_shorthash((unsigned char *)&h, key, klen, m->seed);
    return h;
}

static struct map_entry **map_slot(const map_t *m, const void *key, size_t klen, uint64_t h)
{
    struct map_entry **p = &m->buckets[h & (m->nbuckets - 1)];
    while (*p != NULL) {
        struct map_entry *e = *p;
        if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
            break;
        p = &e->next;
    }
    return p;
}

void *map_get(const map_t *m, const void *key, size_t klen)
{
    struct map_entry **p = map_slot(m, key, klen, map_hash(m, key, klen));
    return *p ? (*p)->value : NULL;
}

static void map_grow(map_t *m)
{
    size_t n = m->nbuckets * 2;
    struct map_entry **b = calloc(n, sizeof(*b));
    if (b == NULL)
        return; /* stay at the current size: slower, still correct */
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct map_entry *e = m->buckets[i];
        while (e != NULL) {
            struct map_entry *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

int map_put(map_t *m, const void *key, size_t klen, void *value)
{
    uint64_t h = map_hash(m, key, klen);
    struct map_entry **p = map_slot(m, key, klen, h);
    if (*p != NULL) {
        (*p)->value = value;
        return 0;
    }
    struct map_entry *e = malloc(sizeof(*e) + klen);
    if (e == NULL)
        return -ENOMEM;
    e->next = NULL;
    e->hash = h;
    e->value = value;
    e->klen = klen;
    memcpy(e->key, key, klen);
    *p = e;
    if (++m->count > m->nbuckets)
        map_grow(m);
    return 0;
}

void *map_del(map_t *m, const void *key, size_t klen)
{
    struct map_entry **p = map_slot(m, key, klen, map_hash(m, key, klen));
    struct map_entry *e = *p;
    if (e == NULL)
        return NULL;
    void *v = e->value;
    *p = e->next;
    free(e);
    m->count--;
    return v;
}

struct map_entry *map_first(const map_t *m)
{
    for (size_t i = 0; i < m->nbuckets; i++)
        if (m->buckets[i] != NULL)
            return m->buckets[i];
    return NULL;
}

struct map_entry *map_next(const map_t *m, const struct map_entry *e)
{
    if (e->next != NULL)
        return e->next;
    for (size_t i = (e->hash & (m->nbuckets - 1)) + 1; i < m->nbuckets; i++)
        if (m->buckets[i] != NULL)
            return m->buckets[i];
    return NULL;
}

void map_filter(map_t *m, int (*drop)(void *value, void *ctx), void *ctx)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct map_entry **p = &m->buckets[i];
        while (*p != NULL) {
            struct map_entry *e = *p;
            if (drop(e->value, ctx)) {
                *p = e->next;
                free(e);
                m->count--;
            } else {
                p = &e->next;
            }
        }
    }
}
