/* map.h - a hash map from byte-string keys to pointers.
 *
 * Keys are hashed with SipHash (libsodium's crypto_shorthash) under a random
 * per-map key, so clients that choose keys (usernames, addresses) cannot
 * force collisions.
 *
 * Ownership: the map copies keys and owns its entries; values are borrowed
 * (the caller frees them, e.g. while iterating before map_free()).
 */
#ifndef DUET_MAP_H
#define DUET_MAP_H

#include <stddef.h>
#include <stdint.h>

struct map_entry {
    struct map_entry *next;
    uint64_t hash;
    void *value;
    size_t klen;
    unsigned char key[];
};

typedef struct {
    struct map_entry **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
    unsigned char seed[16];
} map_t;

int map_init(map_t *m);
void map_free(map_t *m);
void *map_get(const map_t *m, const void *key, size_t klen);
/* Inserts or replaces. 0 or -ENOMEM. */
int map_put(map_t *m, const void *key, size_t klen, void *value);
/* Removes the entry; returns its value or NULL. */
void *map_del(map_t *m, const void *key, size_t klen);

/* Removes every entry for which drop(value, ctx) returns 1; drop frees the
 * value it drops. */
void map_filter(map_t *m, int (*drop)(void *value, void *ctx), void *ctx);

/* Iteration: for (it = map_first(m); it; it = map_next(m, it)). The current
 * entry may not be deleted during iteration; collect keys first. */
struct map_entry *map_first(const map_t *m);
struct map_entry *map_next(const map_t *m, const struct map_entry *e);

#endif
