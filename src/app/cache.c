/* cache.c - what duet keeps in the hub's shared cache (hub.h), and where it
 * is forgotten. Without a cache (the in-process hub) every lookup misses
 * and every forget is done at once.
 *
 *   peer:<user>:<chat>  the peer of user in chat while user may type to
 *                       them (STORE_CHAT_PEER succeeded): the typing check.
 *   peers:<user>        user's last-seen setting, then each friend with no
 *                       block either way and their setting: the presence
 *                       fan-out (STORE_USER_GET + STORE_PRESENCE_PEERS).
 *
 * Both are forgotten, before the change is answered, by every friend or
 * block change between two users (both sides' keys) and, for peers:, by a
 * change of the last-seen setting (the user's and their friends' keys).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "cache.h"

#define CACHE_TTL_S 600

void cache_key_peer(char out[CACHE_KEY_MAX], const duet_id *user, const duet_id *chat)
{
    char u[33], c[33];
    duet_hex_encode(user->b, 16, u);
    duet_hex_encode(chat->b, 16, c);
    snprintf(out, CACHE_KEY_MAX, "peer:%s:%s", u, c);
}

void cache_key_peers(char out[CACHE_KEY_MAX], const duet_id *user)
{
    char u[33];
    duet_hex_encode(user->b, 16, u);
    snprintf(out, CACHE_KEY_MAX, "peers:%s", u);
}

int cache_get(struct app *app, const char *key, hub_cache_cb cb, void *data)
{
    return hub_cache_get(app->hub, key, cb, data);
}

void cache_set(struct app *app, const char *key, const char *value, size_t len, const char *gen)
{
    if (gen != NULL)
        hub_cache_set(app->hub, key, value, len, gen, CACHE_TTL_S);
}

static void forget(struct app *app, char (*keys)[CACHE_KEY_MAX], size_t n, hub_dropped_cb done,
                   void *data)
{
    if (!hub_has_cache(app->hub) || n == 0) {
        done(data);
        return;
    }
    const char **k = malloc(n * sizeof(*k));
    if (k == NULL) {
        /* Stale entries expire with their TTL; say so loudly. */
        log_error("cache: out of memory invalidating %zu keys", n);
        done(data);
        return;
    }
    for (size_t i = 0; i < n; i++)
        k[i] = keys[i];
    hub_cache_drop(app->hub, k, n, done, data);
    free(k);
}

void cache_forget_pair(struct app *app, const duet_id *a, const duet_id *b, hub_dropped_cb done,
                       void *data)
{
    duet_id chat;
    char keys[4][CACHE_KEY_MAX];
    duet_chat_id(a, b, &chat);
    cache_key_peer(keys[0], a, &chat);
    cache_key_peer(keys[1], b, &chat);
    cache_key_peers(keys[2], a);
    cache_key_peers(keys[3], b);
    forget(app, keys, 4, done, data);
}

void cache_forget_peers(struct app *app, const duet_id *users, size_t n, hub_dropped_cb done,
                        void *data)
{
    char(*keys)[CACHE_KEY_MAX] = n > 0 ? malloc(n * CACHE_KEY_MAX) : NULL;
    if (n > 0 && keys == NULL) {
        log_error("cache: out of memory invalidating %zu keys", n);
        done(data);
        return;
    }
    for (size_t i = 0; i < n; i++)
        cache_key_peers(keys[i], &users[i]);
    forget(app, keys, n, done, data);
    free(keys);
}
