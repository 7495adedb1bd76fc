/* hub_redis_throttle.c - the login throttle's counters, shared by the
 * instances through Redis (issue 14 item 3): one script per login start
 * counts the attempt under the username and the client address at once
 * (hub_redis_lua.c), so N instances allow 5 attempts per username, not
 * N x 5. What to do when Redis cannot answer is the caller's choice
 * (app/login_limit.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../base/log.h"
#include "hub_redis_int.h"

/* Ownership: the command's data, freed by its callback. */
struct hrt_take {
    hub_throttle_cb cb;
    void *data;
};

static void on_take(struct hub_redis *hr, redisReply *reply, void *data)
{
    struct hrt_take *t = data;
    int64_t wait = -EIO;
    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER && reply->integer >= 0)
        wait = (int64_t)reply->integer;
    t->cb(t->data, wait);
    free(t);
}

int hub_redis_throttle_take(struct hub *h, const char *user_key, const char *addr_key,
                            int64_t max_user, int64_t max_addr, int64_t window_ms,
                            hub_throttle_cb cb, void *data)
{
    struct hub_redis *hr = (struct hub_redis *)h;
    struct hrt_take *t = malloc(sizeof(*t));
    if (t == NULL)
        return -ENOMEM;
    t->cb = cb;
    t->data = data;
    char mu[24], ma[24], w[24];
    snprintf(mu, sizeof(mu), "%lld", (long long)max_user);
    snprintf(ma, sizeof(ma), "%lld", (long long)max_addr);
    snprintf(w, sizeof(w), "%lld", (long long)window_ms);
    const char *av[] = {user_key, addr_key, mu, ma, w};
    int r = hr_eval(hr, HR_S_THROTTLE_TAKE, 5, av, NULL, on_take, t);
    if (r < 0)
        free(t);
    return r;
}

void hub_redis_throttle_ok(struct hub *h, const char *user_key, const char *addr_key)
{
    struct hub_redis *hr = (struct hub_redis *)h;
    const char *av[] = {user_key, addr_key};
    /* Lost, the username keeps its count until the window ends: the user
     * may wait a window, never gets more tries. */
    if (hr_eval(hr, HR_S_THROTTLE_OK, 2, av, NULL, NULL, NULL) < 0)
        log_warn("redis: a login's throttle reset was not sent");
}
