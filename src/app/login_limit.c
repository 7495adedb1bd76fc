/* login_limit.c - the login throttle of one attempt (login_limit.h).
 *
 * With --redis the shared counters decide (a success on one instance then
 * clears the username everywhere). When Redis cannot answer, this
 * instance's counters decide, counting the attempts made meanwhile: this
 * fails to the per-instance limit (at most N x 5 per username in a cluster
 * of N while Redis is down), not open (no limit) and not closed (no
 * logins). Refusing every login during a Redis outage would turn it into
 * an outage for everyone; the per-instance bound still holds. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/log.h"
#include "../net/net.h"
#include "login_limit.h"

static void refused(struct api_call *call, int64_t wait_s)
{
    call->app->metrics.logins_throttled++;
    api_rate_limited(call, wait_s, "too many failed attempts; wait before trying again");
}

/* This instance's counters decide: alone, or while Redis cannot answer. */
static void local_begin(struct api_call *call, void (*go)(struct api_call *call))
{
    int64_t wait = auth_login_begin(&call->app->auth, call->name, call->addr, duet_now_ms());
    if (wait > 0)
        refused(call, wait);
    else
        go(call);
}

static void shared_taken(void *data, int64_t wait_ms)
{
    struct api_call *call = data;
    if (wait_ms > 0) {
        refused(call, (wait_ms + 999) / 1000);
        return;
    }
    if (wait_ms < 0) {
        log_warn("login throttle: Redis did not answer; this instance's counters decide");
        local_begin(call, call->after);
        return;
    }
    call->after(call);
}

void login_limit_begin(struct api_call *call, void (*go)(struct api_call *call))
{
    struct app *app = call->app;
    const struct auth *a = &app->auth;
    char akey[NET_ADDR_GROUP_LEN];
    net_addr_group(call->addr, akey);
    call->after = go;
    int r = hub_throttle_take(app->hub, call->name, akey, a->max_user, a->max_addr, a->window_ms,
                              shared_taken, call);
    if (r < 0) /* one instance (-ENOTSUP), or Redis down */
        local_begin(call, go);
}

void login_limit_ok(struct api_call *call, const char *user)
{
    struct app *app = call->app;
    auth_login_ok(&app->auth, user, call->addr);
    char akey[NET_ADDR_GROUP_LEN];
    net_addr_group(call->addr, akey);
    hub_throttle_ok(app->hub, user, akey);
}
