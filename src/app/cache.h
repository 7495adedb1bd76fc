/* cache.h - what is cached in the hub's shared cache, and its invalidation
 * (cache.c). */
#ifndef DUET_CACHE_H
#define DUET_CACHE_H

#include "app.h"

/* The shared cache (cache.c). get: 0 or an error (then use the store). */
#define CACHE_KEY_MAX 80
void cache_key_peer(char out[CACHE_KEY_MAX], const duet_id *user, const duet_id *chat);
void cache_key_peers(char out[CACHE_KEY_MAX], const duet_id *user);
int cache_get(struct app *app, const char *key, hub_cache_cb cb, void *data);
void cache_set(struct app *app, const char *key, const char *value, size_t len, const char *gen);
/* Forgets what a friend or block change between a and b affects. */
void cache_forget_pair(struct app *app, const duet_id *a, const duet_id *b, hub_dropped_cb done,
                       void *data);
/* Forgets the presence fan-out lists of users (a last-seen setting moved). */
void cache_forget_peers(struct app *app, const duet_id *users, size_t n, hub_dropped_cb done,
                        void *data);

#endif
