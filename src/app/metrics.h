/* metrics.h - counters and histograms for GET /metrics (Prometheus text). */
#ifndef DUET_METRICS_H
#define DUET_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "../hub/hub.h"

#define METRICS_BUCKETS 12

struct histogram {
    uint64_t buckets[METRICS_BUCKETS]; /* cumulative at render time only */
    uint64_t count;
    double sum; /* seconds */
};

/* Ownership: embedded in struct app; touched only on the loop thread. */
struct metrics {
    uint64_t http_requests;
    uint64_t http_errors; /* 4xx and 5xx answered by the API */
    uint64_t ws_connects;
    uint64_t messages_sent;      /* newly stored messages */
    uint64_t messages_duplicate; /* retries answered from the store */
    uint64_t messages_delivered; /* delivered receipts */
    uint64_t pending_replayed;   /* pending items sent on connect */
    uint64_t ws_errors;          /* error events sent */
    uint64_t ws_paused;          /* WebSockets no longer read: requests in flight or output */
    uint64_t store_errors;
    uint64_t store_retried;       /* requests queued to be submitted again (retry.h) */
    uint64_t store_retry_dropped; /* given up after refusals that pass */
    uint64_t logins_failed;
    uint64_t logins_throttled;
    struct histogram send_latency; /* send received -> "sent" ack */
    /* Web Push (push_svc.c) */
    uint64_t push_delivered; /* accepted by the push service (2xx) */
    uint64_t push_gone;      /* 404/410: the subscription was deleted */
    uint64_t push_failed;    /* given up (other 4xx, too many tries) */
    uint64_t push_retried;   /* attempts repeated after 429, 5xx or a network error */
    uint64_t push_dropped;   /* refused by a full queue, or replaced by a newer push */
};

void metrics_observe(struct histogram *h, double seconds);
/* Renders the text exposition; the caller frees *out. gauges and the hub's
 * counters are passed in. */
int metrics_render(const struct metrics *m, const struct hub_stats *hub, size_t conns,
                   size_t websockets, size_t parked, size_t online_users, const char *instance,
                   char **out, size_t *len);

#endif
