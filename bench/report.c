/* report.c - the human summary and the JSON record of one run. */
#include "bench.h"

#include <stdio.h>

static const char *const names[SC_COUNT] = {"throughput", "latency", "idle",   "storm",
                                            "backlog",    "history", "search", "upload"};

const char *scenario_name(enum scenario sc)
{
    return sc < SC_COUNT ? names[sc] : "?";
}

static double ms(uint64_t us)
{
    return (double)us / 1000.0;
}

static int step_ok(const struct bench_opts *o, const struct step_result *s)
{
    double secs = s->t1 - s->t0;
    return s->recv.count > 0 && ms(hist_pct(&s->recv, 99)) < o->p99_bound_ms &&
           (double)s->received >= 0.95 * s->rate * secs;
}

/* The highest sustained step of a ramp, or -1. */
static int best_step(const struct bench_opts *o, const struct worker_result *r)
{
    int best = -1;
    for (int i = 0; i < r->nsteps; i++)
        if (step_ok(o, &r->steps[i]))
            best = i;
    return best;
}

double report_key(const struct bench_opts *o, const struct scen_report *rep, const char **name)
{
    const struct worker_result *r = &rep->r;
    switch (rep->sc) {
    case SC_THROUGHPUT: {
        *name = "sustained_msg_per_s";
        int b = best_step(o, r);
        if (b < 0)
            return 0;
        return (double)r->steps[b].received / (r->steps[b].t1 - r->steps[b].t0);
    }
    case SC_LATENCY:
        *name = "p99_send_to_receive_ms";
        return ms(hist_pct(&r->steps[r->nsteps - 1].recv, 99));
    case SC_IDLE:
        *name = "rss_kib_per_connection";
        return r->conns ? (double)(rep->rss_kib - rep->rss_base_kib) / (double)r->conns : 0;
    case SC_STORM:
        *name = "all_resumed_s";
        return r->phase_s;
    case SC_BACKLOG:
        *name = "backlog_received_s";
        return r->phase_s;
    case SC_HISTORY:
        *name = "page_p99_ms";
        return ms(hist_pct(&r->pages, 99));
    case SC_SEARCH:
        *name = "search_p99_ms";
        return ms(hist_pct(&r->pages, 99));
    case SC_UPLOAD:
        *name = "upload_mb_per_s";
        return r->up_s > 0 ? (double)r->up_bytes / 1e6 / r->up_s : 0;
    default:
        *name = "?";
        return 0;
    }
}

static void print_hist(const char *what, const struct hist *h)
{
    if (h->count == 0) {
        printf("    %-22s (none)\n", what);
        return;
    }
    printf("    %-22s p50 %8.2f  p90 %8.2f  p99 %8.2f  p99.9 %8.2f  max %8.2f ms  (n=%llu)\n", what,
           ms(hist_pct(h, 50)), ms(hist_pct(h, 90)), ms(hist_pct(h, 99)), ms(hist_pct(h, 99.9)),
           ms(h->max), (unsigned long long)h->count);
}

void report_print(const struct bench_opts *o, const struct scen_report *rep)
{
    const struct worker_result *r = &rep->r;
    const char *kn;
    double key = report_key(o, rep, &kn);
    printf("== %s (load %.2f): %s = %.3f  [%s]\n", scenario_name(rep->sc), rep->load1, kn, key,
           rep->pass ? "PASS" : "FAIL");
    if (rep->wall_s > 0)
        printf(
            "    server (all threads): %.2f s on CPU (main thread %.2f s, busiest other %.2f s), "
            "%.2f s waiting for a CPU, in %.2f s\n",
            rep->cpu_s, rep->main_cpu_s, rep->other_cpu_s, rep->wait_s, rep->wall_s);
    if (rep->wall_s > 0 && r->received > 0)
        printf("    server CPU per message %.1f us (%.0f msg/s per fully used core)\n",
               rep->cpu_s * 1e6 / (double)r->received,
               (double)r->received / (rep->cpu_s > 0 ? rep->cpu_s : 1));
    printf("    connections %llu (failed %llu), connect+sync %.2f s\n",
           (unsigned long long)r->conns, (unsigned long long)r->conn_fail,
           (double)r->connect_us / 1e6);
    if (rep->sc == SC_THROUGHPUT || rep->sc == SC_LATENCY || rep->sc == SC_UPLOAD) {
        for (int i = 0; i < r->nsteps; i++) {
            const struct step_result *s = &r->steps[i];
            double secs = s->t1 - s->t0;
            const char *what = rep->sc == SC_LATENCY && i == 0 ? " (warm-up)" : "";
            if (rep->sc == SC_UPLOAD)
                what = i == 0 ? " (warm-up)" : i == 1 ? " (no uploads)" : " (uploads running)";
            printf("  step %d%s: target %.0f msg/s, sent %.0f/s, received %.0f/s over %.1f s%s\n",
                   i, what, s->rate, (double)s->sent / secs, (double)s->received / secs, secs,
                   rep->sc == SC_THROUGHPUT ? (step_ok(o, s) ? " ok" : " NOT sustained") : "");
            print_hist("send -> receive", &s->recv);
            print_hist("send -> sent", &s->ack);
            print_hist("send -> delivered", &s->rcpt);
            if (s->deletes > 0) {
                printf("    deletes %llu\n", (unsigned long long)s->deletes);
                print_hist("delete -> deleted", &s->del);
            }
        }
    }
    if (rep->sc == SC_UPLOAD) {
        printf("    uploads %llu by %d users done (failed %llu), %.1f MiB each, %.2f MB in %.2f s "
               "= %.2f "
               "MB/s\n",
               (unsigned long long)r->up_done, o->uploads, (unsigned long long)r->up_failed,
               (double)o->upload_size / 1048576.0, (double)r->up_bytes / 1e6, r->up_s,
               r->up_s > 0 ? (double)r->up_bytes / 1e6 / r->up_s : 0.0);
        print_hist("time per upload", &r->up_time);
        printf("    server VmRSS %ld KiB before, %ld KiB at most during (+%ld KiB, %.1f KiB per "
               "upload); VmHWM %ld -> %ld KiB\n",
               r->rss_up0_kib, r->rss_up_max_kib, r->rss_up_max_kib - r->rss_up0_kib,
               (double)(r->rss_up_max_kib - r->rss_up0_kib) / o->uploads, r->hwm_up0_kib,
               r->hwm_up_kib);
    }
    if (rep->sc == SC_IDLE)
        printf("    server RSS %ld KiB before, %ld KiB with the connections\n", rep->rss_base_kib,
               rep->rss_kib);
    if (rep->sc == SC_BACKLOG || rep->sc == SC_HISTORY || rep->sc == SC_SEARCH)
        printf("    filled %llu messages in %.2f s (%.0f msg/s)\n",
               (unsigned long long)r->fill_msgs, r->fill_s,
               r->fill_s > 0 ? (double)r->fill_msgs / r->fill_s : 0.0);
    if (rep->sc == SC_HISTORY) {
        printf("    conversation of %lld messages, pages of %d, bad pages %llu\n",
               (long long)r->last_seq, o->page, (unsigned long long)r->bad_pages);
        print_hist("history page", &r->pages);
    }
    if (rep->sc == SC_SEARCH) {
        printf("    conversation of %lld messages, searches that failed %llu\n",
               (long long)r->last_seq, (unsigned long long)r->bad_pages);
        print_hist("search", &r->pages);
    }
    printf("    sends %llu, sent %llu, received %llu, receipts %llu, pending replayed %llu\n",
           (unsigned long long)r->sends, (unsigned long long)r->sent_ok,
           (unsigned long long)r->received, (unsigned long long)r->receipts,
           (unsigned long long)r->pending_seen);
    printf("    errors %llu, lost %llu, duplicates %llu, out of order %llu, seq order %llu, "
           "unanswered %llu, missing receipts %llu\n",
           (unsigned long long)r->errors, (unsigned long long)r->lost, (unsigned long long)r->dup,
           (unsigned long long)r->reorder, (unsigned long long)r->bad_seq,
           (unsigned long long)r->unanswered, (unsigned long long)r->missing_rcpt);
    if (r->note[0])
        printf("    note: %s\n", r->note);
}

static json_t *hist_json(const struct hist *h)
{
    return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}", "count", (json_int_t)h->count, "p50_ms",
                     ms(hist_pct(h, 50)), "p90_ms", ms(hist_pct(h, 90)), "p99_ms",
                     ms(hist_pct(h, 99)), "p99_9_ms", ms(hist_pct(h, 99.9)), "max_ms", ms(h->max));
}

json_t *report_json(const struct bench_opts *o, const struct scen_report *rep)
{
    const struct worker_result *r = &rep->r;
    const char *kn;
    double key = report_key(o, rep, &kn);
    json_t *j = json_pack(
        "{s:s, s:b, s:f, s:s, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
        "s:I, s:f}",
        "scenario", scenario_name(rep->sc), "pass", rep->pass, "load1", rep->load1, "key", kn,
        "value", key, "connections", (json_int_t)r->conns, "connection_failures",
        (json_int_t)r->conn_fail, "sends", (json_int_t)r->sends, "sent", (json_int_t)r->sent_ok,
        "received", (json_int_t)r->received, "receipts", (json_int_t)r->receipts, "errors",
        (json_int_t)r->errors, "lost", (json_int_t)r->lost, "duplicates", (json_int_t)r->dup,
        "out_of_order", (json_int_t)r->reorder, "seq_out_of_order", (json_int_t)r->bad_seq,
        "unanswered", (json_int_t)r->unanswered, "missing_receipts", (json_int_t)r->missing_rcpt,
        "connect_s", (double)r->connect_us / 1e6);
    if (j == NULL)
        return NULL;
    if (rep->sc == SC_THROUGHPUT || rep->sc == SC_LATENCY || rep->sc == SC_UPLOAD) {
        json_t *steps = json_array();
        for (int i = 0; i < r->nsteps; i++) {
            const struct step_result *s = &r->steps[i];
            double secs = s->t1 - s->t0;
            json_array_append_new(
                steps,
                json_pack("{s:f, s:f, s:f, s:f, s:b, s:o, s:o, s:o}", "target_rate", s->rate,
                          "seconds", secs, "sent_rate", (double)s->sent / secs, "received_rate",
                          (double)s->received / secs, "sustained", step_ok(o, s), "send_to_receive",
                          hist_json(&s->recv), "send_to_sent", hist_json(&s->ack),
                          "send_to_delivered", hist_json(&s->rcpt)));
        }
        json_object_set_new(j, "steps", steps);
        for (int i = 0; i < r->nsteps && o->delete_every > 0; i++) {
            json_t *st = json_array_get(steps, (size_t)i);
            json_object_set_new(st, "deletes", json_integer((json_int_t)r->steps[i].deletes));
            json_object_set_new(st, "delete_to_deleted", hist_json(&r->steps[i].del));
        }
    }
    if (rep->wall_s > 0) {
        json_object_set_new(j, "server_wall_s", json_real(rep->wall_s));
        json_object_set_new(j, "server_cpu_s", json_real(rep->cpu_s));
        json_object_set_new(j, "server_runqueue_wait_s", json_real(rep->wait_s));
        json_object_set_new(j, "server_main_cpu_s", json_real(rep->main_cpu_s));
        json_object_set_new(j, "server_other_cpu_s", json_real(rep->other_cpu_s));
        if (r->received > 0)
            json_object_set_new(j, "server_cpu_us_per_message",
                                json_real(rep->cpu_s * 1e6 / (double)r->received));
    }
    if (rep->sc == SC_IDLE) {
        json_object_set_new(j, "rss_base_kib", json_integer(rep->rss_base_kib));
        json_object_set_new(j, "rss_kib", json_integer(rep->rss_kib));
    }
    if (rep->sc == SC_STORM || rep->sc == SC_BACKLOG)
        json_object_set_new(j, "pending_replayed", json_integer((json_int_t)r->pending_seen));
    if (rep->sc == SC_BACKLOG || rep->sc == SC_HISTORY || rep->sc == SC_SEARCH) {
        json_object_set_new(j, "fill_messages", json_integer((json_int_t)r->fill_msgs));
        json_object_set_new(j, "fill_s", json_real(r->fill_s));
    }
    if (rep->sc == SC_HISTORY) {
        json_object_set_new(j, "conversation_length", json_integer(r->last_seq));
        json_object_set_new(j, "page", hist_json(&r->pages));
        json_object_set_new(j, "bad_pages", json_integer((json_int_t)r->bad_pages));
    }
    if (rep->sc == SC_SEARCH) {
        json_object_set_new(j, "conversation_length", json_integer(r->last_seq));
        json_object_set_new(j, "search", hist_json(&r->pages));
        json_object_set_new(j, "failed_searches", json_integer((json_int_t)r->bad_pages));
    }
    if (rep->sc == SC_UPLOAD)
        json_object_set_new(
            j, "upload",
            json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:o, s:I, s:I, s:I, s:I}", "uploads",
                      (json_int_t)o->uploads, "size", (json_int_t)o->upload_size, "done",
                      (json_int_t)r->up_done, "failed", (json_int_t)r->up_failed, "bytes",
                      (json_int_t)r->up_bytes, "seconds", r->up_s, "mb_per_s",
                      r->up_s > 0 ? (double)r->up_bytes / 1e6 / r->up_s : 0.0, "time_per_upload",
                      hist_json(&r->up_time), "rss_before_kib", (json_int_t)r->rss_up0_kib,
                      "rss_max_during_kib", (json_int_t)r->rss_up_max_kib, "hwm_before_kib",
                      (json_int_t)r->hwm_up0_kib, "hwm_after_kib", (json_int_t)r->hwm_up_kib));
    if (r->note[0])
        json_object_set_new(j, "note", json_string(r->note));
    return j;
}
