/* scen.c - the scenarios' phases inside a worker: what to send when, and
 * when the run is over. */
#include "worker.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

enum {
    PH_WAIT = 0, /* before go */
    PH_SEND,     /* open loop at the step's rate */
    PH_DRAIN,    /* waiting for the last answers */
    PH_DROP,     /* storm: connections closing */
    PH_RESUME,   /* storm: reconnecting */
    PH_FILL,     /* backlog, history: sending the messages */
    PH_OFFLINE,  /* backlog: the recipient connects */
    PH_PROBE,    /* history: how long is the conversation */
    PH_SETTLE,   /* history: the recipient catches up before paging */
    PH_PAGES,    /* history: paging */
    PH_SEARCH,   /* search: searching */
};

#define STORM_TIMEOUT_S 120.0
/* upload: after --duration s no upload starts; those in flight must end
 * within this, else the run fails with a note instead of hanging */
#define UPLOAD_GRACE_S 120.0
#define DRAIN_MAX_S    300.0

static double local_rate(const struct worker *w, int i)
{
    return w->res.steps[i].rate * w->spec->share;
}

void scen_init(struct worker *w)
{
    const struct bench_opts *o = w->o;
    struct worker_result *r = &w->res;
    switch (w->spec->sc) {
    case SC_THROUGHPUT: {
        double t = 0;
        for (double rate = o->ramp_start; rate <= o->ramp_max + 1e-9 && r->nsteps < BENCH_MAX_STEPS;
             rate += o->ramp_step) {
            struct step_result *s = &r->steps[r->nsteps++];
            s->rate = rate;
            s->t0 = t;
            s->t1 = t += o->duration;
        }
        break;
    }
    case SC_LATENCY:
        r->nsteps = 2; /* a warm-up, then the measured step */
        r->steps[0] = (struct step_result){.rate = o->rate, .t0 = 0, .t1 = o->warmup};
        r->steps[1] =
            (struct step_result){.rate = o->rate, .t0 = o->warmup, .t1 = o->warmup + o->duration};
        break;
    case SC_UPLOAD:
        /* a warm-up, the baseline without uploads, then the same chat
         * traffic while the uploads run: that step ends when they do */
        r->nsteps = 3;
        r->steps[0] = (struct step_result){.rate = o->upload_rate, .t0 = 0, .t1 = o->warmup};
        r->steps[1] = (struct step_result){
            .rate = o->upload_rate, .t0 = o->warmup, .t1 = o->warmup + o->duration};
        r->steps[2] = (struct step_result){.rate = o->upload_rate,
                                           .t0 = o->warmup + o->duration,
                                           .t1 = o->warmup + 2 * o->duration + UPLOAD_GRACE_S};
        break;
    default:
        r->nsteps = 1;
        r->steps[0].t1 = 1e12;
        break;
    }
    w->cum[0] = 0;
    for (int i = 0; i < r->nsteps; i++)
        w->cum[i + 1] = w->cum[i] + local_rate(w, i) * (r->steps[i].t1 - r->steps[i].t0);
    if (w->spec->sc == SC_BACKLOG)
        w->c[1].want_online = 0; /* the recipient is offline while its backlog grows */
}

static void finish(struct worker *w)
{
    worker_tally(w);
    worker_finish(w);
}

static void send_history(struct worker *w, struct bconn *c, int64_t before, int limit)
{
    char buf[200];
    int n;
    if (before > 0)
        n = snprintf(buf, sizeof(buf),
                     "{\"type\":\"history\",\"ref\":%d,\"chat_id\":\"%s\",\"before\":%" PRId64
                     ",\"limit\":%d}",
                     w->pages_done, c->u->chat, before, limit);
    else
        n = snprintf(buf, sizeof(buf),
                     "{\"type\":\"history\",\"ref\":%d,\"chat_id\":\"%s\",\"limit\":%d}",
                     w->pages_done, c->u->chat, limit);
    c->hist_t = now_us();
    if (worker_send_raw(c, buf, (size_t)n) < 0) {
        w->res.errors++;
        finish(w);
    }
}

/* Sends from connection 0 until goal messages are out, window at a time. */
static void fill_more(struct worker *w)
{
    struct bconn *a = &w->c[0];
    while (w->issued < w->goal && a->issued - a->sent_ok < (uint64_t)w->o->window) {
        if (worker_send_msg(w, a, now_us()) < 0) {
            w->res.errors++;
            finish(w);
            return;
        }
        w->issued++;
    }
}

static void next_search(struct worker *w);

static void search_done(struct hreq *h, int err)
{
    struct worker *w = h->data;
    hist_record(&w->res.pages, now_us() - w->search_t);
    if (err != 0 || h->status != 200 || h->body == NULL || strstr(h->body, "\"results\"") == NULL)
        w->res.bad_pages++;
    hreq_free(h);
    if (++w->pages_done >= w->o->history_pages) {
        finish(w);
        return;
    }
    next_search(w);
}

/* One search, one at a time: a word of the vocabulary (about 1 message in
 * 700, across all the user's chats), two words (both must be there), or a
 * 3-letter prefix (26 words), in turn. */
static void next_search(struct worker *w)
{
    char path[160], a[5], b[5];
    uint64_t k = worker_rand(w);
    worker_vocab(k % 2000, a);
    worker_vocab((k >> 16) % 2000, b);
    switch (w->pages_done % 3) {
    case 0:
        snprintf(path, sizeof(path), "/api/search?q=%s&limit=20", a);
        break;
    case 1:
        snprintf(path, sizeof(path), "/api/search?q=%s+%s&limit=20", a, b);
        break;
    default:
        a[3] = '\0';
        snprintf(path, sizeof(path), "/api/search?q=%s&limit=20", a);
        break;
    }
    struct sockaddr_in src;
    users_src(w->c[0].user, &src);
    w->search_t = now_us();
    if (hreq_start(&w->sreq, &w->loop, &src, &w->o->dst, "GET", path, w->c[0].u->cookie, NULL,
                   search_done, w) < 0) {
        w->res.errors++;
        finish(w);
    }
}

static void next_page(struct worker *w)
{
    struct bconn *a = &w->c[0];
    int64_t last = w->res.last_seq;
    int p = w->o->page;
    if (last < p) {
        snprintf(w->res.note, sizeof(w->res.note), "conversation shorter than a page");
        finish(w);
        return;
    }
    /* a random page that is whole: before in [p + 1, last + 1] */
    w->page_before = p + 1 + (int64_t)(worker_rand(w) % (uint64_t)(last - p + 1));
    send_history(w, a, w->page_before, p);
}

void scen_on_go(struct worker *w)
{
    w->phase_t0 = now_s();
    switch (w->spec->sc) {
    case SC_THROUGHPUT:
    case SC_LATENCY:
    case SC_UPLOAD:
        w->phase = PH_SEND;
        break;
    case SC_IDLE:
        finish(w); /* the parent has read the server's memory */
        break;
    case SC_STORM:
        w->phase = PH_DROP;
        w->connect_window = w->o->connect_window; /* 0: all at once */
        for (int i = 0; i < w->n; i++)
            wsc_drop(&w->c[i].ws, 0);
        break;
    case SC_BACKLOG:
        w->phase = PH_FILL;
        w->goal = (uint64_t)w->o->backlog;
        fill_more(w);
        break;
    case SC_HISTORY:
    case SC_SEARCH:
        w->phase = PH_PROBE;
        send_history(w, &w->c[0], 0, 1);
        break;
    default:
        finish(w);
    }
}

/* Open loop: the k-th message of the run is due at a fixed time whatever
 * happened to earlier ones, and that due time is its timestamp, so a slow
 * server cannot hide its queueing (no coordinated omission). */
static void send_due(struct worker *w, double t)
{
    struct worker_result *r = &w->res;
    int i = 0;
    while (i < r->nsteps && t >= r->steps[i].t1)
        i++;
    if (i >= r->nsteps) {
        w->phase = PH_DRAIN;
        w->phase_t0 = now_s();
        return;
    }
    /* An open loop against a server that cannot keep up only builds queues
     * (its output caps, our memory): stop once over 2 s of messages are
     * outstanding, and say so. */
    double behind = (double)(r->sends - r->received);
    if (behind > 2.0 * local_rate(w, i) + 1000) {
        snprintf(r->note, sizeof(r->note),
                 "overloaded: %.0f messages outstanding at %.1f s; sending stopped", behind, t);
        if (w->spec->sc == SC_THROUGHPUT)
            r->note[0] = '\0'; /* expected at the top of a ramp */
        r->nsteps = i + 1;
        w->phase = PH_DRAIN;
        w->phase_t0 = now_s();
        return;
    }
    /* stop a ramp once a step was clearly not sustained */
    if (w->spec->sc == SC_THROUGHPUT && i > 0 && w->issued >= (uint64_t)w->cum[i]) {
        const struct step_result *prev = &r->steps[i - 1];
        if (behind > local_rate(w, i - 1) * 1.0 ||
            (double)hist_pct(&prev->recv, 99) > 4e3 * w->o->p99_bound_ms) {
            r->nsteps = i;
            w->phase = PH_DRAIN;
            w->phase_t0 = now_s();
            return;
        }
    }
    double due = w->cum[i] + local_rate(w, i) * (t - r->steps[i].t0);
    int guard = 0;
    while ((double)w->issued < due && guard++ < 100000) {
        /* the step this message belongs to, and its due time */
        int j = 0;
        while (j + 1 < r->nsteps && (double)w->issued >= w->cum[j + 1])
            j++;
        double at = w->go + r->steps[j].t0 + ((double)w->issued - w->cum[j]) / local_rate(w, j);
        struct bconn *c = NULL;
        for (int k = 0; k < w->n && c == NULL; k++) {
            struct bconn *x = &w->c[w->rr++ % (uint64_t)w->n];
            if (x->synced)
                c = x;
        }
        if (c == NULL)
            return;
        if (worker_send_msg(w, c, (uint64_t)(at * 1e6)) < 0)
            r->errors++;
        w->issued++;
    }
}

/* upload: the uploads start with the last step, which ends when they have
 * all ended (or UPLOAD_GRACE_S after the last could start: a note says so). */
static void upload_step(struct worker *w, double t)
{
    struct step_result *last = &w->res.steps[2];
    if (!w->uploads_started) {
        if (t < last->t0)
            return;
        w->uploads_started = 1;
        if (upload_start(w) < 0) {
            snprintf(w->res.note, sizeof(w->res.note), "uploads could not start");
            last->t1 = t;
        }
        return;
    }
    if (upload_tick(w)) {
        if (last->t1 > t)
            last->t1 = t;
    } else if (t >= last->t1) {
        snprintf(w->res.note, sizeof(w->res.note), "uploads not done %.0f s after the last started",
                 UPLOAD_GRACE_S);
    }
}

void scen_on_tick(struct worker *w)
{
    double now = now_s();
    if (w->n_failed > 0 &&
        (w->spec->sc == SC_BACKLOG || w->spec->sc == SC_HISTORY || w->spec->sc == SC_SEARCH)) {
        snprintf(w->res.note, sizeof(w->res.note), "a connection failed");
        finish(w);
        return;
    }
    switch (w->phase) {
    case PH_SETTLE:
        if (worker_drained(w) || now - w->phase_t0 > w->o->drain_s) {
            if (w->spec->sc == SC_SEARCH) {
                w->phase = PH_SEARCH;
                next_search(w);
                break;
            }
            w->phase = PH_PAGES;
            next_page(w);
        }
        break;
    case PH_SEND:
        if (w->spec->sc == SC_UPLOAD)
            upload_step(w, now - w->go);
        if (w->phase == PH_SEND)
            send_due(w, now - w->go);
        break;
    case PH_DRAIN: {
        /* wait while answers keep coming: --drain s without progress, at
         * most DRAIN_MAX_S in all */
        uint64_t progress = w->res.received + w->res.sent_ok + w->res.receipts;
        if (progress != w->drain_seen || w->drain_t == 0) {
            w->drain_seen = progress;
            w->drain_t = now;
        }
        if (worker_drained(w) || now - w->drain_t > w->o->drain_s ||
            now - w->phase_t0 > DRAIN_MAX_S)
            finish(w);
        break;
    }
    case PH_DROP:
    case PH_RESUME:
        if (now - w->phase_t0 > STORM_TIMEOUT_S) {
            snprintf(w->res.note, sizeof(w->res.note), "%d of %d not back after %.0f s",
                     w->n - w->n_synced, w->n, STORM_TIMEOUT_S);
            w->res.phase_s = now - w->phase_t0;
            finish(w);
        }
        break;
    case PH_OFFLINE:
        /* waiting for the sender's receipts, then done */
        if (w->c[1].synced ? w->c[0].rq_len == 0 || now - w->phase_t0 - w->res.fill_s > 60
                           : now - w->phase_t0 - w->res.fill_s > 60)
            finish(w);
        break;
    case PH_FILL:
        if (now - w->phase_t0 > 3600) {
            snprintf(w->res.note, sizeof(w->res.note), "fill took over an hour");
            finish(w);
        }
        break;
    default:
        break;
    }
}

void scen_on_synced(struct worker *w, struct bconn *c)
{
    if (w->phase == PH_RESUME && w->n_synced + w->n_failed >= w->n) {
        w->res.phase_s = now_s() - w->phase_t0;
        finish(w);
    } else if (w->phase == PH_OFFLINE && c->local == 1) {
        w->res.phase_s = now_s() - w->res.fill_s - w->phase_t0;
    }
}

void scen_on_sent(struct worker *w, struct bconn *c)
{
    if (w->phase != PH_FILL || c->local != 0)
        return;
    if (c->sent_ok < w->goal) {
        fill_more(w);
        return;
    }
    double now = now_s();
    w->res.fill_s = now - w->phase_t0;
    w->res.fill_msgs = w->goal;
    if (w->spec->sc == SC_BACKLOG) {
        /* phase_t0 + fill_s is when the recipient starts connecting */
        w->phase = PH_OFFLINE;
        w->c[1].want_online = 1;
        worker_connect_all(w);
        return;
    }
    /* history: page once the recipient has everything */
    w->phase = PH_SETTLE;
    w->phase_t0 = now;
    w->res.last_seq += (int64_t)w->goal;
}

void scen_on_history(struct worker *w, struct bconn *c, json_t *ev, uint64_t t)
{
    json_t *msgs = json_object_get(ev, "messages");
    if (!json_is_array(msgs)) {
        w->res.errors++;
        finish(w);
        return;
    }
    if (w->phase == PH_PROBE) {
        size_t n = json_array_size(msgs);
        json_t *seq = n ? json_object_get(json_array_get(msgs, n - 1), "seq") : NULL;
        w->res.last_seq = seq ? json_integer_value(seq) : 0;
        w->phase_t0 = now_s();
        if (w->res.last_seq < w->o->history_msgs) {
            w->goal = (uint64_t)(w->o->history_msgs - w->res.last_seq);
            w->phase = PH_FILL;
            fprintf(stderr, "duet-bench: filling the conversation: %" PRIu64 " messages\n",
                    w->goal);
            fill_more(w);
        } else if (w->spec->sc == SC_SEARCH) {
            w->phase = PH_SEARCH;
            next_search(w);
        } else {
            w->phase = PH_PAGES;
            next_page(w);
        }
        return;
    }
    if (w->phase != PH_PAGES)
        return;
    hist_record(&w->res.pages, t - c->hist_t);
    /* the page must be the run of seqs just below `before` */
    size_t n = json_array_size(msgs);
    int ok = n == (size_t)w->o->page;
    for (size_t i = 0; ok && i < n; i++) {
        json_t *s = json_object_get(json_array_get(msgs, i), "seq");
        ok = json_integer_value(s) == w->page_before - (int64_t)n + (int64_t)i;
    }
    if (!ok)
        w->res.bad_pages++;
    if (++w->pages_done >= w->o->history_pages) {
        finish(w);
        return;
    }
    next_page(w);
}

int scen_on_closed(struct worker *w, struct bconn *c)
{
    if (w->spec->sc != SC_STORM || w->finished || (w->phase != PH_DROP && w->phase != PH_RESUME))
        return 0;
    if (w->phase == PH_DROP) {
        for (int i = 0; i < w->n; i++)
            if (w->c[i].ws.state != WSC_IDLE)
                return 1; /* still closing */
        /* all gone: everyone comes back at once */
        w->phase = PH_RESUME;
        worker_connect_all(w);
        return 1;
    }
    return 0; /* a resumed connection failed */
}
