/* retry.h - store requests submitted again after a refusal that passes
 * (retry.c): the store's queue was full, or the store failed in a way that
 * may not last (a Cassandra timeout or lost connection, memory). One timer
 * for the instance; an item waits 100 ms, doubling up to 5 s, at most
 * RETRY_TRIES times (about 16 s in all), and at most RETRY_MAX wait at
 * once. Used where a refusal would otherwise lose something no client will
 * ask for again: presence changes (presence.c) and push jobs
 * (push_hooks.c). */
#ifndef DUET_RETRY_H
#define DUET_RETRY_H

#include <stdint.h>
#include <uv.h>

#define RETRY_TRIES 8
#define RETRY_MAX   10000

struct app;

/* One request waiting to be submitted again. Ownership: embedded in its
 * owner's struct, which stays alive while the item waits; fire runs once
 * per wait (also at shutdown, see retry_close) and owns what follows:
 * submitting again, or ending the owner. */
struct retry_item {
    struct retry_item *prev, *next; /* the queue's list, while waiting */
    int64_t due;                    /* loop time (ms) to fire at */
    int tries;                      /* waits so far */
    void (*fire)(struct retry_item *it);
};

/* The waiting items. Ownership: embedded in struct app; the timer is
 * initialised on first use and closed by retry_close(). */
struct retry_queue {
    uv_timer_t timer;
    int timer_on; /* initialised */
    int closed;   /* retry_close() ran: nothing waits any more */
    struct retry_item *head;
    size_t n;
};

/* 1 for a failure that may pass; 0 for an answer about the data. */
int retry_transient(int r);
/* Queues it to fire later after failure r: 1 if queued, 0 if not
 * (not transient, tried enough, too many waiting, shutting down). */
int retry_later(struct app *app, struct retry_item *it, int r);
/* At shutdown, before the hub closes: fires every waiting item once more
 * (a failure then is not retried) and closes the timer. */
void retry_close(struct app *app);

#endif
