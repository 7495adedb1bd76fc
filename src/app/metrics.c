#include "metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const double bounds[METRICS_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                               0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

void metrics_observe(struct histogram *h, double seconds)
{
    for (int i = 0; i < METRICS_BUCKETS; i++)
        if (seconds <= bounds[i]) {
            h->buckets[i]++;
            break;
        }
    h->count++;
    h->sum += seconds;
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
            (unsigned long long)v);
}

static void gauge(FILE *f, const char *name, const char *help, uint64_t v)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", name, help, name, name,
            (unsigned long long)v);
}

static void histo(FILE *f, const char *name, const char *help, const struct histogram *h)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (int i = 0; i < METRICS_BUCKETS; i++) {
        cum += h->buckets[i];
        fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], (unsigned long long)cum);
    }
    fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
    fprintf(f, "%s_sum %.6f\n%s_count %llu\n", name, h->sum, name, (unsigned long long)h->count);
}

int metrics_render(const struct metrics *m, const struct hub_stats *hub, size_t conns,
                   size_t websockets, size_t parked, size_t online_users, const char *instance,
                   char **out, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (f == NULL)
        return -ENOMEM;
    fprintf(f,
            "# HELP duet_info Static facts about this instance.\n# TYPE duet_info gauge\n"
            "duet_info{instance=\"%s\"} 1\n",
            instance);
    gauge(f, "duet_connections", "Open TCP connections (HTTP and WebSocket).", conns);
    gauge(f, "duet_websockets", "Open WebSocket connections.", websockets);
    gauge(f, "duet_websockets_parked",
          "Open WebSockets quiet enough to have freed their framing state.", parked);
    gauge(f, "duet_online_users", "Users with at least one WebSocket here.", online_users);
    counter(f, "duet_http_requests_total", "HTTP requests answered by the API.", m->http_requests);
    counter(f, "duet_http_errors_total", "API answers with a 4xx or 5xx status.", m->http_errors);
    counter(f, "duet_ws_connects_total", "WebSocket sessions opened.", m->ws_connects);
    counter(f, "duet_messages_sent_total", "Messages stored.", m->messages_sent);
    counter(f, "duet_messages_duplicate_total", "Retried sends answered without a new message.",
            m->messages_duplicate);
    counter(f, "duet_messages_delivered_total", "Delivered receipts produced.",
            m->messages_delivered);
    counter(f, "duet_pending_replayed_total", "Pending items sent to reconnecting clients.",
            m->pending_replayed);
    counter(f, "duet_ws_errors_total", "Error events sent over WebSockets.", m->ws_errors);
    counter(f, "duet_ws_paused_total",
            "Times a WebSocket was no longer read (requests in flight or output at their bound).",
            m->ws_paused);
    counter(f, "duet_store_errors_total", "Store requests that failed.", m->store_errors);
    counter(f, "duet_store_retried_total",
            "Store requests submitted again after a busy or failing store (presence, push jobs).",
            m->store_retried);
    counter(f, "duet_store_retry_dropped_total",
            "Store requests given up after refusals that pass: presence changes or push jobs lost.",
            m->store_retry_dropped);
    counter(f, "duet_logins_failed_total", "Failed logins.", m->logins_failed);
    counter(f, "duet_logins_throttled_total", "Logins refused by throttling.", m->logins_throttled);
    counter(f, "duet_hub_gap_fills_total",
            "Messages a connection missed live (another path lost or late), read from the store.",
            hub->gap_fills);
    counter(f, "duet_hub_resumes_total", "WebSockets asked to resume after Redis came back.",
            hub->resumes);
    counter(f, "duet_hub_redis_lost_total", "Times the connection to Redis was lost.",
            hub->redis_lost);
    counter(f, "duet_hub_presence_reaped_total",
            "Users of dead instances marked offline by this instance.", hub->presence_reaped);
    counter(f, "duet_push_delivered_total", "Pushes accepted by a push service.",
            m->push_delivered);
    counter(f, "duet_push_gone_total", "Push subscriptions deleted on 404 or 410.", m->push_gone);
    counter(f, "duet_push_failed_total", "Pushes given up on.", m->push_failed);
    counter(f, "duet_push_retried_total", "Push attempts repeated (429, 5xx, network).",
            m->push_retried);
    counter(f, "duet_push_dropped_total",
            "Pushes not sent: queue full, or replaced by a newer one.", m->push_dropped);
    histo(f, "duet_send_latency_seconds", "From a send request to its durable acknowledgement.",
          &m->send_latency);
    if (fclose(f) != 0) {
        free(buf);
        return -ENOMEM;
    }
    *out = buf;
    *len = n;
    return 0;
}
