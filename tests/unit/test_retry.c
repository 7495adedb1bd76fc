/* Unit tests of src/app/retry.c on a real loop: what waits, when it fires
 * (never before its back-off), when it gives up, and shutdown. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/app/app.h"
#include "../../src/app/retry.h"

struct item {
    struct retry_item it; /* first */
    int fired;
    uint64_t fired_at[RETRY_TRIES + 1];
    uv_loop_t *loop;
};

static void on_fire(struct retry_item *it)
{
    struct item *x = (struct item *)it;
    x->fired_at[x->fired++] = uv_now(x->loop);
}

static struct app *app_new(uv_loop_t *loop)
{
    struct app *app = calloc(1, sizeof(*app));
    cr_assert_not_null(app);
    cr_assert_eq(uv_loop_init(loop), 0);
    app->loop = loop;
    return app;
}

static void app_end(struct app *app, uv_loop_t *loop)
{
    retry_close(app);
    cr_assert_eq(uv_run(loop, UV_RUN_DEFAULT), 0);
    cr_assert_eq(uv_loop_close(loop), 0, "the timer was left open");
    free(app);
}

Test(retry, transient_failures_only)
{
    cr_assert(retry_transient(DUET_EBUSY));
    cr_assert(retry_transient(DUET_ESTORE));
    cr_assert(retry_transient(-ENOMEM));
    cr_assert(!retry_transient(DUET_ENOTFOUND));
    cr_assert(!retry_transient(DUET_EFORBIDDEN));
    cr_assert(!retry_transient(-EINVAL));
    cr_assert(!retry_transient(0));
}

/* Each wait is at least twice the one before (100 ms first), up to
 * RETRY_TRIES; then the item is given up and counted. */
Test(retry, backs_off_then_gives_up)
{
    uv_loop_t loop;
    struct app *app = app_new(&loop);
    struct item x = {.it.fire = on_fire, .loop = &loop};
    cr_assert_eq(retry_later(app, &x.it, DUET_ENOTFOUND), 0, "an answer about the data");
    cr_assert_eq(app->metrics.store_retry_dropped, 0);
    uint64_t t0 = uv_now(&loop);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(retry_later(app, &x.it, DUET_EBUSY), 1, "wait %d", i);
        cr_assert_eq(app->retry.n, 1);
        uv_run(&loop, UV_RUN_DEFAULT); /* the timer stops once nothing waits */
        cr_assert_eq(x.fired, i + 1);
        uint64_t prev = i == 0 ? t0 : x.fired_at[i - 1];
        cr_assert_geq(x.fired_at[i] - prev, (uint64_t)(100 << i), "wait %d lasted %llu ms", i,
                      (unsigned long long)(x.fired_at[i] - prev));
    }
    cr_assert_eq(app->metrics.store_retried, 4);
    x.it.tries = RETRY_TRIES;
    cr_assert_eq(retry_later(app, &x.it, DUET_EBUSY), 0, "tried enough");
    cr_assert_eq(app->metrics.store_retry_dropped, 1);
    app_end(app, &loop);
}

/* At most RETRY_MAX wait at once. */
Test(retry, bounded)
{
    uv_loop_t loop;
    struct app *app = app_new(&loop);
    struct item *xs = calloc(RETRY_MAX + 1, sizeof(*xs));
    cr_assert_not_null(xs);
    for (size_t i = 0; i <= RETRY_MAX; i++) {
        xs[i].it.fire = on_fire;
        xs[i].loop = &loop;
        cr_assert_eq(retry_later(app, &xs[i].it, DUET_EBUSY), i < RETRY_MAX, "item %zu", i);
    }
    cr_assert_eq(app->retry.n, RETRY_MAX);
    cr_assert_eq(app->metrics.store_retry_dropped, 1);
    app_end(app, &loop); /* fires each waiting item once */
    for (size_t i = 0; i <= RETRY_MAX; i++)
        cr_assert_eq(xs[i].fired, i < RETRY_MAX, "item %zu", i);
    free(xs);
}

/* Shutdown fires what waits once, closes the timer, and queues nothing
 * more; nor does a stopping app. */
Test(retry, close_fires_once_and_refuses_after)
{
    uv_loop_t loop;
    struct app *app = app_new(&loop);
    struct item a = {.it.fire = on_fire, .loop = &loop};
    struct item b = {.it.fire = on_fire, .loop = &loop};
    cr_assert_eq(retry_later(app, &a.it, DUET_EBUSY), 1);
    retry_close(app);
    cr_assert_eq(a.fired, 1);
    cr_assert_eq(app->retry.n, 0);
    cr_assert_eq(retry_later(app, &b.it, DUET_EBUSY), 0);
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    cr_assert_eq(uv_loop_close(&loop), 0);
    free(app);

    app = app_new(&loop);
    app->stopping = 1;
    cr_assert_eq(retry_later(app, &b.it, DUET_EBUSY), 0);
    cr_assert_eq(app->metrics.store_retry_dropped, 1);
    app_end(app, &loop);
}
