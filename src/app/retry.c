/* retry.c - store requests submitted again after a refusal that passes
 * (retry.h). */
#include "retry.h"

#include <errno.h>

#include "../base/dlist.h"
#include "../base/log.h"
#include "app.h"

#define RETRY_FIRST_MS 100
#define RETRY_CAP_MS   5000
/* The timer scans the list this often while anything waits: no order to
 * keep, and a scan of a few waiting items costs less than a heap. */
#define RETRY_TICK_MS 50

int retry_transient(int r)
{
    return r == DUET_EBUSY || r == DUET_ESTORE || r == -ENOMEM || r == -ETIMEDOUT;
}

/* Fires every item that is due; one that fails again is queued again by
 * its owner through retry_later. */
static void on_tick(uv_timer_t *t)
{
    struct app *app = t->data;
    struct retry_queue *q = &app->retry;
    int64_t now = (int64_t)uv_now(app->loop);
    struct retry_item *due = NULL, *it, *next;
    for (it = q->head; it != NULL; it = next) {
        next = it->next;
        if (it->due > now)
            continue;
        DLIST_UNLINK(q->head, it);
        q->n--;
        DLIST_LINK(due, it);
    }
    if (q->n == 0)
        (void)uv_timer_stop(&q->timer); /* always 0 */
    for (it = due; it != NULL; it = next) {
        next = it->next;
        it->fire(it);
    }
}

/* Starts the timer for the first waiting item; 0 or a libuv error. */
static int timer_arm(struct app *app)
{
    struct retry_queue *q = &app->retry;
    int e;
    if (!q->timer_on) {
        if ((e = uv_timer_init(app->loop, &q->timer)) < 0)
            return e;
        q->timer.data = app;
        q->timer_on = 1;
    }
    return q->n == 0 ? uv_timer_start(&q->timer, on_tick, RETRY_TICK_MS, RETRY_TICK_MS) : 0;
}

int retry_later(struct app *app, struct retry_item *it, int r)
{
    struct retry_queue *q = &app->retry;
    if (!retry_transient(r))
        return 0;
    int e = 0;
    if (app->stopping || q->closed || it->tries >= RETRY_TRIES || q->n >= RETRY_MAX ||
        (e = timer_arm(app)) < 0) {
        if (e < 0)
            log_warn("retry: timer: %s", uv_strerror(e));
        app->metrics.store_retry_dropped++;
        return 0;
    }
    int64_t wait = (int64_t)RETRY_FIRST_MS << it->tries;
    it->due = (int64_t)uv_now(app->loop) + (wait < RETRY_CAP_MS ? wait : RETRY_CAP_MS);
    it->tries++;
    DLIST_LINK(q->head, it);
    q->n++;
    app->metrics.store_retried++;
    return 1;
}

void retry_close(struct app *app)
{
    struct retry_queue *q = &app->retry;
    if (q->closed)
        return;
    q->closed = 1;
    /* One last try each: before a shutdown the store drains what was
     * submitted; what still fails is dropped by its owner. */
    struct retry_item *it, *next;
    for (it = q->head; it != NULL; it = next) {
        next = it->next;
        DLIST_UNLINK(q->head, it);
        q->n--;
        it->fire(it);
    }
    if (q->timer_on)
        uv_close((uv_handle_t *)&q->timer, NULL);
}
