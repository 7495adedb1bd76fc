/* The hub's pure parts (src/hub): the per-user connection list, and the
 * in-process backend telling its host when users come and go. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../src/hub/hub.h"
#include "../../src/hub/hub_conns.h"

TestSuite(hub);

Test(hub, conns_list_add_remove)
{
    struct hub_conns l = {0};
    struct hub_conn a = {0}, b = {0}, c = {0};
    hub_conns_add(&l, &a);
    hub_conns_add(&l, &b);
    hub_conns_add(&l, &c);
    cr_assert_eq(l.n, 3);
    cr_assert_eq(hub_conns_remove(&l, &b), 1);
    cr_assert_eq(l.n, 2);
    cr_assert_eq(hub_conns_remove(&l, &b), 0, "a connection left twice");
    cr_assert_eq(l.n, 2);
    size_t seen = 0;
    for (struct hub_conn *x = l.head; x != NULL; x = x->next) {
        cr_assert(x == &a || x == &c);
        seen++;
    }
    cr_assert_eq(seen, 2);
    cr_assert_eq(hub_conns_remove(&l, &c), 1);
    cr_assert_eq(hub_conns_remove(&l, &a), 1);
    cr_assert_null(l.head);
    cr_assert_eq(l.n, 0);
}

/* A host that records what the hub told it. */
struct rec {
    int online, offline;
    duet_id last;
    int64_t at;
};

static void rec_online(void *ctx, const duet_id *user, int64_t version)
{
    struct rec *r = ctx;
    r->online++;
    r->last = *user;
}

static void rec_offline(void *ctx, const duet_id *user, int64_t at, int64_t version)
{
    struct rec *r = ctx;
    r->offline++;
    r->last = *user;
    r->at = at;
}

static int64_t rec_now(void *ctx)
{
    return 4242;
}

static void ready_cb(struct hub_conn *c)
{
    c->open = 2; /* marks that ready ran */
}

Test(hub, local_tells_the_host_first_and_last)
{
    struct rec r = {0};
    struct hub_host host = {
        .ctx = &r, .online = rec_online, .offline = rec_offline, .now_ms = rec_now};
    struct hub *h;
    cr_assert_eq(hub_local_new(&host, &h), 0);
    struct hub_conn a = {.user = {{1}}}, b = {.user = {{1}}};
    cr_assert_eq(hub_join(h, &a, ready_cb), 0);
    cr_assert_eq(a.open, 2, "the local hub is ready at once");
    cr_assert_eq(hub_join(h, &b, ready_cb), 0);
    cr_assert_eq(r.online, 0, "joined is not yet online: the backlog comes first");
    cr_assert_eq(hub_live(h, &a, NULL), 0);
    cr_assert_eq(hub_live(h, &b, NULL), 0);
    cr_assert_eq(hub_live(h, &b, NULL), -EINVAL, "live once, after join");
    cr_assert_eq(r.online, 1, "online once, for the first connection");
    cr_assert_eq(hub_online_count(h), 1);
    hub_leave(h, &a);
    cr_assert_eq(r.offline, 0);
    hub_leave(h, &b);
    cr_assert_eq(r.offline, 1, "offline once, after the last");
    cr_assert_eq(r.at, 4242, "last seen from the host's clock");
    cr_assert_eq(r.last.b[0], 1);
    cr_assert_eq(hub_online_count(h), 0);
    cr_assert_eq(hub_cache_get(h, "k", NULL, NULL), -ENOTSUP);
    hub_free(h);
}
