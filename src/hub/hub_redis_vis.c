/* hub_redis_vis.c - Web Push visibility across instances. Each instance
 * keeps, per user, whether one of its connections is visible, and mirrors
 * that into duet:vis:<uid> (a set of session ids) when it changes; asking
 * whether a user has a visible tab anywhere is one script that also drops
 * the members of sessions that died (no longer in duet:on:<uid>). After a
 * Redis outage every client reconnects (hr_users_up), and its join
 * publishes again under the new session. */
#include <stdlib.h>

#include "../base/log.h"
#include "hub_redis_int.h"

#define HEX_ID 32

/* An ask in flight. Ownership: the command's data, freed by its callback. */
struct vis_op {
    hub_visible_cb cb;
    void *data;
};

void hr_vis_sync(struct hub_redis *hr, struct hr_user *u)
{
    int now = hub_conns_visible(&u->conns);
    if (hr->state != HR_UP || (now == u->vis_pub && u->vis_epoch == hr->epoch))
        return;
    if (!now && u->vis_epoch != hr->epoch) {
        u->vis_pub = 0; /* an older session's entry: stale already */
        u->vis_epoch = hr->epoch;
        return;
    }
    char uid[HEX_ID + 1];
    duet_hex_encode(u->id.b, 16, uid);
    const char *av[] = {hr->sid, uid, now ? "1" : "0"};
    if (hr_eval(hr, HR_S_VIS_SET, 3, av, NULL, NULL, NULL) < 0) {
        log_warn("redis: cannot publish a tab's visibility");
        return;
    }
    u->vis_pub = now;
    u->vis_epoch = hr->epoch;
}

void hr_visibility(struct hub *h, struct hub_conn *cl)
{
    struct hub_redis *hr = (struct hub_redis *)h;
    struct hr_user *u = map_get(&hr->users, cl->user.b, 16);
    if (u != NULL)
        hr_vis_sync(hr, u);
}

static void on_vis(struct hub_redis *hr, redisReply *reply, void *data)
{
    struct vis_op *op = data;
    /* Unknown (Redis failed): no visible tab elsewhere, so a push rather
     * than a missed notification. */
    op->cb(op->data, reply != NULL && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0);
    free(op);
}

void hr_visible(struct hub *h, const duet_id *user, hub_visible_cb cb, void *data)
{
    struct hub_redis *hr = (struct hub_redis *)h;
    const struct hr_user *u = map_get(&hr->users, user->b, 16);
    if (u != NULL && hub_conns_visible(&u->conns)) {
        cb(data, 1);
        return;
    }
    struct vis_op *op = malloc(sizeof(*op));
    char uid[HEX_ID + 1];
    if (op == NULL || hr->state != HR_UP) {
        free(op);
        cb(data, 0);
        return;
    }
    *op = (struct vis_op){.cb = cb, .data = data};
    duet_hex_encode(user->b, 16, uid);
    const char *av[] = {hr->sid, uid};
    if (hr_eval(hr, HR_S_VIS_GET, 2, av, NULL, on_vis, op) < 0)
        on_vis(hr, NULL, op);
}
