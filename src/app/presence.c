/* presence.c - pushing online/offline and last seen to friends, under the
 * privacy rules of docs/protocol.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "cache.h"
#include "presence.h"
#include "proto.h"
#include "retry.h"

/* A presence fan-out in flight: last seen (when going offline), the user's
 * settings, then the friends to tell.
 * Ownership: allocated by presence_change, freed in its last step; a step
 * the store refused for a reason that passes waits in app->retry (retry.h),
 * so that a friend going offline while the store is busy is still told. */
struct presence_op {
    struct retry_item retry; /* first: the item is the op */
    struct app *app;
    duet_id user;
    int online;
    int64_t at;
    int64_t version;  /* the hub's order of this user's changes */
    int lastseen_vis; /* the user's own setting */
    store_req sreq;
    char key[CACHE_KEY_MAX]; /* the cached fan-out list */
    char *gen;               /* set on a cache miss: fill it after the reads */
    enum store_op step;      /* the step last submitted, and its callback */
    store_cb step_cb;
};

/* One friend to tell, with their own last-seen setting. */
struct presence_peer {
    duet_id id;
    int lastseen_vis;
};

int presence_shared(int viewer_vis, int subject_vis)
{
    return viewer_vis == LASTSEEN_FRIENDS && subject_vis == LASTSEEN_FRIENDS;
}

int presence_view(const struct duet_user *viewer, const struct duet_user *subject, int blocked,
                  int online, json_t *into)
{
    /* Hidden last seen hides online too: the moment "online" turns off
     * would be the last seen (issue 14 item 4). */
    int shared = !blocked && presence_shared(viewer->lastseen_vis, subject->lastseen_vis);
    online = shared && online;
    int show_seen = shared && !online;
    if (json_object_set_new(into, "online", json_boolean(online)) < 0 ||
        json_object_set_new(into, "last_seen", proto_time(show_seen ? subject->last_seen : 0)) < 0)
        return -1;
    return 0;
}

static void op_end(struct presence_op *op)
{
    free(op->gen);
    store_req_reset(&op->sreq);
    free(op);
}

/* Ends op after a failed step, unless the step waits to be tried again. */
static void op_fail(struct presence_op *op, int r)
{
    if (retry_later(op->app, &op->retry, r))
        return;
    if (retry_transient(r)) /* given up: tried enough, or shutting down */
        log_warn("presence: change dropped: %s", duet_strerror_code(r));
    op_end(op);
}

static int op_submit(struct presence_op *op)
{
    store_req_reset(&op->sreq);
    store_req_init(&op->sreq, op->step, op->step_cb, op);
    op->sreq.in.user = op->user;
    op->sreq.in.now = op->at;
    return app_store(op->app, &op->sreq);
}

static void op_step(struct presence_op *op, enum store_op type, store_cb cb)
{
    op->step = type;
    op->step_cb = cb;
    int r = op_submit(op);
    if (r < 0)
        op_fail(op, r);
}

static void op_refire(struct retry_item *it)
{
    struct presence_op *op = (struct presence_op *)it;
    op_step(op, op->step, op->step_cb);
}

/* Publishes one presence event, dropped by the hub if a newer change of the
 * user overtook this fan-out. */
static void publish_to(struct presence_op *op, const duet_id *peer, json_t *ev)
{
    if (ev == NULL) {
        log_error("presence: out of memory");
        return;
    }
    char *s = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    if (s == NULL) {
        log_error("presence: out of memory");
        return;
    }
    struct hub_event he = {.json = s,
                           .len = strlen(s),
                           .kind = HUB_EV_OTHER,
                           .presence_of = &op->user,
                           .online = op->online,
                           .version = op->version};
    hub_publish(op->app->hub, peer, &he, NULL);
    free(s);
}

static void fan_out(struct presence_op *op, const struct presence_peer *peers, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        /* Between two users of whom either hides last seen nothing is
         * pushed, online or offline: the arrival of either tells the time. */
        if (!presence_shared(op->lastseen_vis, peers[i].lastseen_vis))
            continue;
        publish_to(op, &peers[i].id,
                   json_pack("{s:s, s:o, s:b, s:o}", "type", "presence", "user",
                             proto_id(&op->user), "online", op->online, "last_seen",
                             proto_time(op->online ? 0 : op->at)));
    }
}

/* The cached form: "<own setting>\n" then "<friend id> <setting>\n" each. */
static char *peers_format(int own, const struct presence_peer *p, size_t n, size_t *len)
{
    size_t cap = 4 + n * (DUET_ID_STRLEN + 4);
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    size_t o = (size_t)snprintf(s, cap, "%d\n", own);
    for (size_t i = 0; i < n; i++) {
        duet_id_format(&p[i].id, s + o);
        o += DUET_ID_STRLEN;
        o += (size_t)snprintf(s + o, cap - o, " %d\n", p[i].lastseen_vis);
    }
    *len = o;
    return s;
}

/* Parses peers_format's output; NULL when malformed or out of memory. */
static struct presence_peer *peers_parse(const char *s, size_t len, int *own, size_t *n)
{
    const size_t line = DUET_ID_STRLEN + 3;
    if (len < 2 || (s[0] != '0' && s[0] != '1') || s[1] != '\n' || (len - 2) % line != 0)
        return NULL;
    *own = s[0] - '0';
    *n = (len - 2) / line;
    struct presence_peer *p = calloc(*n > 0 ? *n : 1, sizeof(*p));
    for (size_t i = 0; p != NULL && i < *n; i++) {
        const char *l = s + 2 + i * line;
        if (duet_id_parse(l, DUET_ID_STRLEN, &p[i].id) < 0 || l[DUET_ID_STRLEN] != ' ' ||
            (l[DUET_ID_STRLEN + 1] != '0' && l[DUET_ID_STRLEN + 1] != '1') ||
            l[DUET_ID_STRLEN + 2] != '\n') {
            free(p);
            return NULL;
        }
        p[i].lastseen_vis = l[DUET_ID_STRLEN + 1] - '0';
    }
    return p;
}

static void peers_loaded(store_req *r)
{
    struct presence_op *op = r->data;
    if (r->status < 0) {
        op_fail(op, r->status);
        return;
    }
    struct presence_peer *p = calloc(r->out.n_users > 0 ? r->out.n_users : 1, sizeof(*p));
    if (p == NULL) {
        log_error("presence: out of memory");
        op_end(op);
        return;
    }
    for (size_t i = 0; i < r->out.n_users; i++) {
        p[i].id = r->out.users[i].id;
        p[i].lastseen_vis = r->out.users[i].lastseen_vis;
    }
    if (op->gen != NULL) {
        size_t len;
        char *v = peers_format(op->lastseen_vis, p, r->out.n_users, &len);
        if (v != NULL)
            cache_set(op->app, op->key, v, len, op->gen);
        free(v);
    }
    fan_out(op, p, r->out.n_users);
    free(p);
    op_end(op);
}

static void user_loaded(store_req *r)
{
    struct presence_op *op = r->data;
    if (r->status < 0) {
        op_fail(op, r->status);
        return;
    }
    op->lastseen_vis = r->out.user.lastseen_vis;
    op_step(op, STORE_PRESENCE_PEERS, peers_loaded);
}

static void peers_cached(void *data, const char *value, size_t len, const char *gen)
{
    struct presence_op *op = data;
    size_t n;
    struct presence_peer *p = value != NULL ? peers_parse(value, len, &op->lastseen_vis, &n) : NULL;
    if (p != NULL) {
        fan_out(op, p, n);
        free(p);
        op_end(op);
        return;
    }
    if (gen != NULL && (op->gen = strdup(gen)) == NULL)
        log_warn("presence: out of memory; not caching");
    op_step(op, STORE_USER_GET, user_loaded);
}

/* Who to tell: the cache, else the store. */
static void peers_lookup(struct presence_op *op)
{
    cache_key_peers(op->key, &op->user);
    if (cache_get(op->app, op->key, peers_cached, op) < 0)
        op_step(op, STORE_USER_GET, user_loaded);
}

static void last_seen_set(store_req *r)
{
    struct presence_op *op = r->data;
    if (r->status < 0) {
        if (retry_later(op->app, &op->retry, r->status))
            return;
        /* Friends still hear of it; the stored last seen stays older. */
        log_warn("presence: last seen not stored: %s", duet_strerror_code(r->status));
    }
    peers_lookup(op);
}

static void presence_change(struct app *app, const duet_id *user, int online, int64_t at,
                            int64_t version)
{
    struct presence_op *op = calloc(1, sizeof(*op));
    if (op == NULL) {
        log_error("presence: out of memory");
        return;
    }
    op->app = app;
    op->user = *user;
    op->online = online;
    op->at = at;
    op->version = version;
    op->retry.fire = op_refire;
    store_req_init(&op->sreq, STORE_USER_GET, NULL, op);
    if (online)
        peers_lookup(op);
    else
        op_step(op, STORE_USER_SET_LAST_SEEN, last_seen_set);
}

void presence_online(void *app, const duet_id *user, int64_t version)
{
    presence_change(app, user, 1, duet_now_ms(), version);
}

void presence_offline(void *app, const duet_id *user, int64_t at, int64_t version)
{
    presence_change(app, user, 0, at, version);
}
