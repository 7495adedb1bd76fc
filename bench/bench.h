/* bench.h - duet-bench: a load generator that speaks duet's real protocol
 * (HTTP API for accounts and friends, WebSocket events for messages).
 *
 * Layout: main.c (options, orchestration, worker processes), users.c (users
 * and their credential file), http.c (tiny HTTP/1.1 client), ws.c (WebSocket
 * client on wslay), worker.c (one worker's connections and message checks),
 * scen.c (the scenarios' phases inside a worker), upload.c (the upload
 * scenario's tus clients), hist.c (latency histograms), report.c (human
 * summary and JSON).
 */
#ifndef DUET_BENCH_H
#define DUET_BENCH_H

#include <http_parser.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <wslay/wslay.h>

#define BENCH_MAX_STEPS 24
#define BENCH_FD_BUDGET 18000 /* connections per worker (20,000 files a process) */

/* ---- histograms (hist.c) -------------------------------------------------
 * HDR-style log-linear buckets of microseconds: exact below 64 us, then 32
 * sub-buckets per power of two (about 3% precision) up to 2^40 us. Flat, so
 * a worker can send it to the parent through a pipe as bytes. */
#define HIST_N (32 * 37)

struct hist {
    uint64_t count;
    uint64_t max;
    uint64_t sum;
    uint64_t b[HIST_N];
};

void hist_record(struct hist *h, uint64_t us);
void hist_merge(struct hist *into, const struct hist *from);
/* The value at percentile p (0-100), in microseconds; 0 when empty. */
uint64_t hist_pct(const struct hist *h, double p);

/* ---- options (main.c) ---------------------------------------------------- */
enum scenario {
    SC_THROUGHPUT = 0, /* rate ramp: highest rate with p99 under the bound */
    SC_LATENCY,        /* fixed rate */
    SC_IDLE,           /* idle authenticated WebSockets, server RSS */
    SC_STORM,          /* all drop and resume at once */
    SC_BACKLOG,        /* one user gets N pending messages on connect */
    SC_HISTORY,        /* paging in a long conversation */
    SC_SEARCH,         /* GET /api/search over a long conversation (issue 17) */
    SC_UPLOAD,         /* latency, then latency while tus uploads run (issue 15) */
    SC_COUNT
};

struct bench_opts {
    char host[64];
    int port;
    struct sockaddr_in dst;
    const char *users_file; /* credentials of created users, reused by reruns */
    const char *out;        /* JSON result file, or NULL */
    int pairs;              /* friend pairs exchanging messages */
    int conns;              /* idle and storm: connections (= users) */
    double rate;            /* latency: msg/s in total */
    double upload_rate;     /* upload: msg/s in total (--rate sets it too) */
    double duration;        /* seconds per measured step */
    double warmup;          /* seconds before measuring (latency) */
    double ramp_start, ramp_step, ramp_max;
    double p99_bound_ms; /* throughput: a step is sustained under this */
    int text_len;        /* bytes of each message's text */
    int delete_every;    /* latency, throughput: every Nth acknowledged send is deleted (0: none) */
    int backlog;         /* backlog: pending messages */
    int idle_hold;       /* idle: seconds from all synced to reading RSS */
    int history_msgs;    /* history: messages in the conversation */
    int history_pages;   /* history: pages requested */
    int page;            /* history: page size */
    int window;          /* sends in flight per connection while filling */
    int workers;         /* 0: as many as the connection count needs */
    int connect_window;  /* handshakes in flight per worker (storm: 0 = all at once) */
    int uploads;         /* upload: concurrent uploads, one user each */
    uint64_t upload_size;  /* upload: bytes of each */
    uint64_t upload_patch; /* upload: bytes per PATCH request */
    int server_pid;
    int smoke;
    int verbose;
    double drain_s; /* how long to wait for stragglers after sending */
};

/* --upload-size and --upload-patch (upload.c): "50M", "512K", "1G" (powers
 * of 1024) or plain bytes; 0 when bad. */
uint64_t upload_parse_size(const char *s);

/* ---- users (users.c) ----------------------------------------------------- */
/* One benchmark user; pairs are users 2i and 2i+1 (friends, one chat). */
struct buser {
    char name[33];
    char pass[33];
    char cookie[64]; /* the duet_session value */
    char id[37];
    char chat[37];
};

struct users {
    struct buser *u; /* owned */
    int n;
};

/* Makes sure the file holds at least `need` users (an even number), creating
 * the missing ones over HTTP; leaves them in *us. */
int users_ensure(const struct bench_opts *o, int need, struct users *us);
void users_free(struct users *us);
/* Client source address of user i: 127.a.b.c, one per user, so per-address
 * limits and ephemeral ports are never shared between users. */
void users_src(int i, struct sockaddr_in *sa);

/* ---- HTTP client (http.c) -------------------------------------------------
 * One request per connection (Connection: close); the answer's status,
 * duet_session cookie and JSON body. Ownership: the caller owns the struct
 * and may free it in (or after) the callback. */
struct hreq;
typedef void (*hreq_cb)(struct hreq *h, int err);
struct hreq {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    http_parser parser;
    char *out; /* the request, owned */
    size_t out_len;
    int status;
    int err;
    int complete;
    int hdr_is_cookie;
    char hdr[16];
    size_t hdr_len;
    char cookie[64];
    char *body; /* owned, NUL-terminated */
    size_t body_len, body_cap;
    hreq_cb cb;
    void *data;
};

int hreq_start(struct hreq *h, uv_loop_t *loop, const struct sockaddr_in *src,
               const struct sockaddr_in *dst, const char *method, const char *path,
               const char *cookie, const char *json, hreq_cb cb, void *data);
/* Releases the request's buffers (after the callback ran). */
void hreq_free(struct hreq *h);

/* ---- WebSocket client (ws.c) --------------------------------------------- */
struct wsc;
struct wsc_cbs {
    void (*on_open)(struct wsc *w);
    void (*on_text)(struct wsc *w, const char *s, size_t n);
    void (*on_read_end)(struct wsc *w);        /* after each read's frames */
    void (*on_closed)(struct wsc *w, int err); /* handle closed; may reconnect */
};

enum wsc_state { WSC_IDLE, WSC_CONNECTING, WSC_HANDSHAKE, WSC_OPEN, WSC_CLOSING };

/* Ownership: embedded in its owner; buffers and the wslay context are freed
 * when the handle has closed, before on_closed. */
struct wsc {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    wslay_event_context_ptr ctx;
    enum wsc_state state;
    int err;
    char *in;
    size_t in_len, in_off, in_cap;
    char *out; /* queued bytes */
    size_t out_len, out_cap;
    char *wbuf; /* bytes being written */
    size_t wbuf_cap;
    int writing;
    char accept[29];
    uint64_t rng;
    const struct wsc_cbs *cbs;
    void *data;
};

int wsc_connect(struct wsc *w, uv_loop_t *loop, const struct sockaddr_in *src,
                const struct sockaddr_in *dst, const char *host, const char *cookie,
                const struct wsc_cbs *cbs, void *data);
/* Queues one text message; wsc_flush writes everything queued. */
int wsc_send(struct wsc *w, const char *s, size_t n);
void wsc_flush(struct wsc *w);
/* Drops the connection (no close handshake: a client that vanishes). */
void wsc_drop(struct wsc *w, int err);

/* ---- results (worker -> parent, flat) ------------------------------------ */
struct step_result {
    double rate;       /* target msg/s of the whole run */
    double t0, t1;     /* seconds since go */
    uint64_t sent;     /* sends issued */
    uint64_t sent_ok;  /* answered with sent */
    uint64_t received; /* messages received by recipients, in this step's window */
    struct hist recv;  /* send -> recipient receives message */
    struct hist ack;   /* send -> sent */
    struct hist rcpt;  /* send -> delivered receipt */
    uint64_t deletes;  /* delete requests issued, of every N acknowledged sends (--delete-every) */
    struct hist del;   /* delete -> deleted */
};

struct worker_result {
    int nsteps;
    struct step_result steps[BENCH_MAX_STEPS];
    uint64_t conns, conn_fail;
    uint64_t sends, sent_ok, received, receipts;
    uint64_t errors; /* error events, failed sends */
    uint64_t dup, reorder, lost, bad_seq, unanswered, missing_rcpt;
    uint64_t pending_seen; /* pending items replayed on connect */
    double phase_s;        /* storm: drop -> all synced; backlog: connect -> all */
    double fill_s;         /* history/backlog: time to send the messages */
    uint64_t fill_msgs;
    int64_t last_seq;    /* history: the conversation's length */
    struct hist pages;   /* history: page latency */
    uint64_t bad_pages;  /* history: pages that were not the expected run */
    uint64_t connect_us; /* time to connect and sync everything */
    /* upload (upload.c): finished and failed uploads, their bytes, first
     * POST to last byte acknowledged, time per upload; the server's VmRSS
     * and VmHWM just before the uploads, its highest VmRSS sampled while they
     * ran and its VmHWM after them (KiB) */
    uint64_t up_done, up_failed, up_bytes;
    double up_s;
    struct hist up_time;
    long rss_up0_kib, hwm_up0_kib, rss_up_max_kib, hwm_up_kib;
    char note[160];
};

/* ---- worker (worker.c, scen.c) ------------------------------------------- */
struct worker_spec {
    const struct bench_opts *o;
    enum scenario sc;
    const struct users *us;
    int first_user, n_users; /* a whole number of pairs */
    double share;            /* this worker's part of the message rate */
    char nonce[9];           /* this run's tag in message ids and texts */
    int ctl_fd, res_fd;      /* from / to the parent */
};

/* Runs in the child: connect, report ready, wait for go, run, send the
 * result. Returns the process exit status. */
int worker_main(const struct worker_spec *ws);

/* ---- report (report.c) ---------------------------------------------------- */
struct scen_report {
    enum scenario sc;
    int runs;
    struct worker_result r; /* merged */
    long rss_base_kib, rss_kib;
    int pass; /* exactly-once and no errors */
    double load1;
    /* the server from go to the end (/proc/PID/task/\*\/schedstat): time on
     * a CPU and time runnable but waiting for one (other load), summed over
     * its threads; the main (loop) thread's time on a CPU; and that of the
     * busiest other thread (duetd's SQLite writer) */
    double wall_s, cpu_s, wait_s, main_cpu_s, other_cpu_s;
};

/* One reading of the server's schedstat counters, seconds. */
#define SCHED_THREADS 64 /* threads read one by one; more are only summed */
struct sched_sample {
    double cpu, wait; /* every thread */
    double main_cpu;  /* the main thread */
    int n;            /* threads in tid and tcpu */
    int tid[SCHED_THREADS];
    double tcpu[SCHED_THREADS];
};

const char *scenario_name(enum scenario sc);
/* The scenario's headline number (name in *name). */
double report_key(const struct bench_opts *o, const struct scen_report *rep, const char **name);
void report_print(const struct bench_opts *o, const struct scen_report *rep);
json_t *report_json(const struct bench_opts *o, const struct scen_report *rep);

/* monotonic time */
static inline double now_s(void)
{
    return (double)uv_hrtime() / 1e9;
}
static inline uint64_t now_us(void)
{
    return uv_hrtime() / 1000;
}

/* args.c: the command line. */
struct bench_cli {
    const char *server; /* HOST:PORT as given */
    int runs;           /* of each scenario, 1..99 */
    int want[SC_COUNT]; /* the scenarios asked for */
};
/* Fills o and cli from argv: 0, 1 after --help (printed), -1 when the
 * arguments are bad (usage printed on stderr). */
int bench_args(int argc, char **argv, struct bench_opts *o, struct bench_cli *cli);

#endif
