/* hub_redis_cache.c - the shared cache of the Redis hub.
 *
 * Values live under duet:c:<epoch>:<key> with a TTL. Every key has a
 * generation (duet:cg:<key>) that an invalidation moves on; a value read
 * from the store is stored only if the generation it was read under is
 * still current, so a read that raced with a block or an unfriend never
 * lands. The cache epoch moves on whenever an instance reconnects after an
 * outage, since an invalidation it tried meanwhile may have failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "hub_redis_int.h"

/* Ownership: the command's data, freed by its callback. */
struct hrc_get {
    hub_cache_cb cb;
    void *data;
};

struct hrc_drop {
    hub_dropped_cb done;
    void *data;
};

static void on_get(struct hub_redis *hr, redisReply *reply, void *data)
{
    struct hrc_get *g = data;
    if (reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
        reply->element[0]->type == REDIS_REPLY_STRING &&
        reply->element[1]->type == REDIS_REPLY_STRING) {
        const redisReply *v = reply->element[0];
        g->cb(g->data, v->len > 0 ? v->str : NULL, v->len, reply->element[1]->str);
    } else {
        g->cb(g->data, NULL, 0, NULL); /* failed: read the store, store nothing */
    }
    free(g);
}

int hub_redis_cache_get(struct hub *h, const char *key, hub_cache_cb cb, void *data)
{
    struct hub_redis *hr = (struct hub_redis *)h;
    struct hrc_get *g = malloc(sizeof(*g));
    if (g == NULL)
        return -ENOMEM;
    g->cb = cb;
    g->data = data;
    const char *av[] = {key};
    int r = hr_eval(hr, HR_S_CACHE_GET, 1, av, NULL, on_get, g);
    if (r < 0)
        free(g);
    return r;
}

void hub_redis_cache_set(struct hub *h, const char *key, const char *value, size_t len,
                         const char *gen, int ttl_s)
{
    struct hub_redis *hr = (struct hub_redis *)h;
    if (gen == NULL)
        return;
    char ttl[16];
    snprintf(ttl, sizeof(ttl), "%d", ttl_s);
    const char *av[] = {key, value, ttl, gen};
    const size_t al[] = {strlen(key), len, strlen(ttl), strlen(gen)};
    if (hr_eval(hr, HR_S_CACHE_SET, 4, av, al, NULL, NULL) < 0)
        log_debug("redis: a cache fill was skipped");
}

static void on_dropped(struct hub_redis *hr, redisReply *reply, void *data)
{
    struct hrc_drop *d = data;
    d->done(d->data);
    free(d);
}

void hub_redis_cache_drop(struct hub *h, const char *const *keys, size_t n, hub_dropped_cb done,
                          void *data)
{
    struct hub_redis *hr = (struct hub_redis *)h;
    struct hrc_drop *d = malloc(sizeof(*d));
    if (d != NULL) {
        d->done = done;
        d->data = data;
        if (n > 0 && hr_eval(hr, HR_S_CACHE_DROP, n, keys, NULL, on_dropped, d) == 0)
            return;
        free(d);
    }
    if (n > 0)
        log_warn("redis: an invalidation could not be sent; the cache epoch moves on at reconnect");
    done(data);
}
