/* hub.c - the hub's interface to the application (hub.h): thin wrappers
 * over the backend's table, as store_submit is for the store. */
#include "hub.h"

#include <errno.h>

int hub_join(struct hub *h, struct hub_conn *cl, hub_ready_cb ready)
{
    return h->backend->join(h, cl, ready);
}

int hub_live(struct hub *h, struct hub_conn *cl, const struct store_req *backlog)
{
    return h->backend->live(h, cl, backlog);
}

void hub_leave(struct hub *h, struct hub_conn *cl)
{
    h->backend->leave(h, cl);
}

void hub_publish(struct hub *h, const duet_id *user, const struct hub_event *ev,
                 const struct hub_conn *except)
{
    h->backend->publish(h, user, ev, except);
}

void hub_end_sessions(struct hub *h, const duet_id *user, const uint8_t token_hash[32], int keep)
{
    h->backend->end_sessions(h, user, token_hash, keep);
}

void hub_online(struct hub *h, const duet_id *users, size_t n, hub_online_cb cb, void *data)
{
    h->backend->online(h, users, n, cb, data);
}

int hub_has_cache(const struct hub *h)
{
    return h->backend->cache_get != NULL;
}

int hub_cache_get(struct hub *h, const char *key, hub_cache_cb cb, void *data)
{
    if (h->backend->cache_get == NULL)
        return -ENOTSUP;
    return h->backend->cache_get(h, key, cb, data);
}

void hub_cache_set(struct hub *h, const char *key, const char *value, size_t len, const char *gen,
                   int ttl_s)
{
    if (h->backend->cache_set != NULL)
        h->backend->cache_set(h, key, value, len, gen, ttl_s);
}

void hub_cache_drop(struct hub *h, const char *const *keys, size_t n, hub_dropped_cb done,
                    void *data)
{
    if (h->backend->cache_drop == NULL) {
        done(data);
        return;
    }
    h->backend->cache_drop(h, keys, n, done, data);
}

void hub_visible(struct hub *h, const duet_id *user, hub_visible_cb cb, void *data)
{
    h->backend->visible(h, user, cb, data);
}

void hub_visibility(struct hub *h, struct hub_conn *cl)
{
    if (h->backend->visibility != NULL)
        h->backend->visibility(h, cl);
}

size_t hub_online_count(struct hub *h)
{
    return h->backend->online_count(h);
}

int hub_throttle_take(struct hub *h, const char *user_key, const char *addr_key, int64_t max_user,
                      int64_t max_addr, int64_t window_ms, hub_throttle_cb cb, void *data)
{
    if (h->backend->throttle_take == NULL)
        return -ENOTSUP;
    return h->backend->throttle_take(h, user_key, addr_key, max_user, max_addr, window_ms, cb,
                                     data);
}

void hub_throttle_ok(struct hub *h, const char *user_key, const char *addr_key)
{
    if (h->backend->throttle_ok != NULL)
        h->backend->throttle_ok(h, user_key, addr_key);
}

void hub_shutdown(struct hub *h, hub_done_cb done)
{
    h->backend->shutdown(h, done);
}

void hub_free(struct hub *h)
{
    h->backend->free(h);
}
