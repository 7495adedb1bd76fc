/* worker.h - inside one worker process: its connections and the hooks
 * between the message plumbing (worker.c) and the scenarios (scen.c). */
#ifndef DUET_BENCH_WORKER_H
#define DUET_BENCH_WORKER_H

#include "bench.h"

struct worker;

/* A delivered-receipt wait: a message of ours with its send time. */
struct rq_item {
    int64_t seq;
    uint64_t t_us;
};

/* One user's WebSocket. Ownership: in worker.c (array), the wsc inside it. */
struct bconn {
    struct wsc ws;
    struct worker *w;
    const struct buser *u;
    int user;  /* global index */
    int local; /* index in worker.c, peer is local ^ 1 */
    int want_online;
    int connecting;
    int synced;
    int failed;
    int dirty;
    uint64_t next_ctr; /* next counter this connection sends */
    uint64_t issued;   /* sends of this run */
    uint64_t sent_ok;  /* answered with sent */
    uint64_t recv_next, recv_count;
    int64_t last_seq; /* highest seq of this run's messages from the peer */
    int64_t ack_want, ack_done, rcpt_want, rcpt_done;
    struct rq_item *rq; /* owned ring */
    size_t rq_head, rq_len, rq_cap;
    uint64_t hist_t; /* history: request time */
};

/* Ownership: on worker_main's stack; owns c[] and the handles. */
struct worker {
    const struct worker_spec *spec;
    const struct bench_opts *o;
    uv_loop_t loop;
    struct bconn *c;
    int n;
    struct worker_result res;
    char nonce[9];
    char host[80];
    char *pad; /* message text padding */
    int n_synced, n_failed;
    int connecting, next_connect, connect_window;
    int *dirty; /* indices of connections with queued sends */
    int n_dirty;
    double go; /* monotonic seconds at go; 0 before */
    uv_timer_t tick;
    uv_poll_t ctl;
    int ready_sent, finished;
    uint64_t rng;
    /* scenario state (scen.c) */
    int phase;
    double phase_t0;
    uint64_t goal; /* messages to send (fill) or pages to read */
    uint64_t issued, rr;
    double cum[BENCH_MAX_STEPS + 1]; /* sends expected before each step */
    uint64_t drain_seen;             /* answers counted when the drain last saw progress */
    double drain_t;
    int pages_done;
    int64_t page_before;
    struct hreq sreq;       /* search: the request in flight */
    uint64_t search_t;      /* search: its start (us) */
    struct upload_set *ups; /* upload: owned (upload.c), NULL before */
    int uploads_started;
};

/* worker.c */
void worker_connect_all(struct worker *w); /* the ones with want_online */
int worker_send_msg(struct worker *w, struct bconn *c, uint64_t t_us);
/* search: the k-th word of the scenario's vocabulary ("q" + 3 letters). */
void worker_vocab(uint64_t k, char out[5]);
int worker_send_raw(struct bconn *c, const char *s, size_t n);
void worker_flush_dirty(struct worker *w);
void worker_finish(struct worker *w);
int worker_step_of(const struct worker *w, uint64_t t_us);
void worker_tally(struct worker *w); /* loss and missing answers, at the end */
int worker_drained(const struct worker *w);
uint64_t worker_rand(struct worker *w);

/* upload.c: the upload scenario's tus clients */
int upload_start(struct worker *w);
/* Samples the server's memory; 1 once every upload has ended. */
int upload_tick(struct worker *w);
void upload_stop(struct worker *w); /* closes the connections (finish) */
void upload_free(struct worker *w); /* after the loop has run them closed */
int upload_read_mem(int pid, long *rss_kib, long *hwm_kib);

/* scen.c */
void scen_init(struct worker *w);    /* before connecting */
void scen_on_go(struct worker *w);   /* the parent said go */
void scen_on_tick(struct worker *w); /* every millisecond after go */
void scen_on_synced(struct worker *w, struct bconn *c);
void scen_on_sent(struct worker *w, struct bconn *c);
void scen_on_history(struct worker *w, struct bconn *c, json_t *ev, uint64_t t);
/* 1 when the scenario takes care of the closed connection (reconnects). */
int scen_on_closed(struct worker *w, struct bconn *c);

#endif
