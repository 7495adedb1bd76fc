/* presence_refresh.c - after a user changes their last-seen setting, both
 * sides of each friendship learn what they now see of the other.
 *
 * Why: presence is pushed only between users who both show last seen
 * (presence.c), so without this a friend would keep showing the user as
 * online forever after they hid it, and would not learn their state when
 * they show it again. The events carry no hub version: a presence change
 * racing with this refresh may arrive in either order (both are true at
 * their time; the next change corrects it). */
#include <errno.h>
#include <stdlib.h>

#include "../base/log.h"
#include "presence.h"
#include "proto.h"
#include "publish.h"

/* Ownership: allocated by presence_settings_changed, freed by refresh_end. */
struct presence_refresh {
    struct app *app;
    struct duet_user me; /* id, last_seen and lastseen_vis only */
    store_req sreq;
    duet_id *ids; /* me, then the friends: the hub's online query */
};

static void refresh_end(struct presence_refresh *p)
{
    store_req_reset(&p->sreq);
    free(p->ids);
    free(p);
}

static void send_view(struct app *app, const duet_id *to, const struct duet_user *viewer,
                      const struct duet_user *subject, int online)
{
    json_t *ev = json_pack("{s:s, s:o}", "type", "presence", "user", proto_id(&subject->id));
    if (ev != NULL && presence_view(viewer, subject, 0, online, ev) < 0) {
        json_decref(ev);
        ev = NULL; /* publish_event logs it */
    }
    publish_event(app, to, ev, NULL);
}

static void refresh_online(void *data, const uint8_t *online)
{
    struct presence_refresh *p = data;
    const store_req *r = &p->sreq;
    if (online == NULL)
        log_warn("presence: refresh: out of memory");
    for (size_t i = 0; online != NULL && i < r->out.n_users; i++) {
        const struct duet_user *peer = &r->out.users[i];
        send_view(p->app, &peer->id, peer, &p->me, online[0]);
        send_view(p->app, &p->me.id, &p->me, peer, online[i + 1]);
    }
    refresh_end(p);
}

static void refresh_peers(store_req *r)
{
    struct presence_refresh *p = r->data;
    if (r->status < 0) {
        log_warn("presence: refresh: %s", duet_strerror_code(r->status));
        refresh_end(p);
        return;
    }
    p->ids = calloc(r->out.n_users + 1, sizeof(*p->ids));
    if (p->ids == NULL) {
        log_warn("presence: refresh: out of memory");
        refresh_end(p);
        return;
    }
    p->ids[0] = p->me.id;
    for (size_t i = 0; i < r->out.n_users; i++)
        p->ids[i + 1] = r->out.users[i].id;
    hub_online(p->app->hub, p->ids, r->out.n_users + 1, refresh_online, p);
}

void presence_settings_changed(struct app *app, const struct duet_user *user)
{
    struct presence_refresh *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        log_warn("presence: refresh: out of memory");
        return;
    }
    p->app = app;
    p->me.id = user->id;
    p->me.last_seen = user->last_seen;
    p->me.lastseen_vis = user->lastseen_vis;
    store_req_init(&p->sreq, STORE_PRESENCE_PEERS, refresh_peers, p);
    p->sreq.in.user = user->id;
    int r = app_store(app, &p->sreq);
    if (r < 0) {
        log_warn("presence: refresh: %s", duet_strerror_code(r));
        refresh_end(p);
    }
}
