/* recent.h - which keys were marked within the last interval: a throttle
 * with O(1) work per call.
 *
 * Entries sit in a list in the order they were marked; a key is marked
 * again only after its entry expired and was dropped, and loop time never
 * goes back, so expired entries are always at the head and each call drops
 * them there: no scan of the whole set, whatever its size.
 *
 * Ownership: struct recent owns its map and every entry. */
#ifndef DUET_RECENT_H
#define DUET_RECENT_H

#include <stddef.h>
#include <stdint.h>

#include "map.h"

#define RECENT_KEY_MAX 32

struct recent_entry;

struct recent {
    map_t map;                        /* key -> struct recent_entry* */
    struct recent_entry *head, *tail; /* oldest mark first */
    uint64_t interval;                /* ms a mark lasts */
};

int recent_init(struct recent *r, uint64_t interval_ms);
void recent_free(struct recent *r);

/* 1 if key was marked less than the interval before now, else 0. Marks
 * nothing (a check before work that may not happen). klen <= RECENT_KEY_MAX. */
int recent_seen(struct recent *r, const void *key, size_t klen, uint64_t now);

/* 1 if key was marked less than the interval before now (then nothing
 * changes); else marks it at now and returns 0. Out of memory: 0, and
 * nothing marked (the caller goes on unthrottled rather than drop). */
int recent_mark(struct recent *r, const void *key, size_t klen, uint64_t now);

/* How many keys are held (expired ones are dropped lazily). */
size_t recent_count(const struct recent *r);

#endif
