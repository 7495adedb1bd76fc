/* main.c - duet-bench: options, users, worker processes, results.
 *
 * The parent creates (or reuses) the users over HTTP, then for each run of a
 * scenario forks worker processes (each may open at most 20,000 files), each
 * owning whole friend pairs. A worker connects its users, says ready on its
 * result pipe, waits for go on its control pipe (so every worker starts at
 * once, and the parent can read the server's memory in between), runs, and
 * writes its flat result back. */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#define READY_TIMEOUT_MS (20 * 60 * 1000)

static void usage(FILE *f)
{
    fprintf(f,
            "usage: duet-bench [options]\n"
            "  --server HOST:PORT      duetd to load [127.0.0.1:8080]\n"
            "  --scenario LIST         throughput,latency,idle,storm,backlog,history,search,upload "
            "or all "
            "[latency]\n"
            "  --runs N                runs of each scenario; the summary gives the median [1]\n"
            "  --users-file PATH       created users and sessions, reused by reruns "
            "[bench-users.txt]\n"
            "  --out PATH              JSON result file\n"
            "  --pairs N               friend pairs exchanging messages [500]\n"
            "  --rate N                latency: messages/s in total [25000; upload: 200]\n"
            "  --duration S            seconds per measured step [10]\n"
            "  --warmup S              latency: seconds before measuring [3]\n"
            "  --ramp START:STEP:MAX   throughput: target rates [5000:5000:60000]\n"
            "  --p99-bound MS          throughput: a rate is sustained with p99 under this [50]\n"
            "  --text-len N            bytes of message text [100]\n"
            "  --delete-every N        latency, throughput: of every N acknowledged sends, the\n"
            "                          sender deletes one for everyone [0: never]\n"
            "  --conns N               idle, storm: connections (one user each) [15000]\n"
            "  --idle-hold S           idle: seconds from all synced to the RSS reading [3]\n"
            "  --backlog N             backlog: pending messages [10000]\n"
            "  --history-msgs N        history, search: conversation length [1000000]\n"
            "  --history-pages N       history: pages read; search: searches [2000]\n"
            "  --page N                history: page size [100]\n"
            "  --uploads N             upload: concurrent tus uploads, one user each, each\n"
            "                          uploading again until --duration s have passed [8]\n"
            "  --upload-size SIZE      upload: bytes of each, as 1M, 50M, 512K or bytes [1M]\n"
            "  --upload-patch SIZE     upload: bytes per PATCH request [8M]\n"
            "  --window N              sends in flight while filling [256]\n"
            "  --workers N             worker processes [as the connection count needs]\n"
            "  --connect-window N      handshakes in flight per worker; the storm's default\n"
            "                          is all at once [500]\n"
            "  --drain S               seconds to wait for the last answers [15]\n"
            "  --server-pid PID        duetd's pid, for its memory (idle)\n"
            "  --smoke                 tiny run of every scenario (CI)\n"
            "  --verbose\n");
}

static int parse_server(struct bench_opts *o, const char *s)
{
    const char *c = strrchr(s, ':');
    if (c == NULL || (size_t)(c - s) >= sizeof(o->host))
        return -EINVAL;
    memcpy(o->host, s, (size_t)(c - s));
    o->host[c - s] = '\0';
    o->port = atoi(c + 1);
    if (o->port <= 0 || o->port > 65535)
        return -EINVAL;
    return uv_ip4_addr(o->host, o->port, &o->dst);
}

static int parse_scenarios(const char *s, int *want)
{
    memset(want, 0, sizeof(int) * SC_COUNT);
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", s);
    for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (int i = 0; i < SC_COUNT; i++)
            if (strcmp(t, "all") == 0 || strcmp(t, scenario_name(i)) == 0)
                want[i] = found = 1;
        if (!found)
            return -EINVAL;
    }
    return 0;
}

static long read_rss_kib(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    long kib = -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* On-CPU and run-queue wait time of one thread (/proc/.../schedstat), ns. */
static int read_schedstat(const char *path, unsigned long long *cpu, unsigned long long *wait)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -errno;
    int n = fscanf(f, "%llu %llu", cpu, wait);
    fclose(f);
    return n == 2 ? 0 : -EINVAL;
}

/* On-CPU and run-queue wait time of the whole server process (every thread:
 * duetd's SQLite store runs on a writer thread of its own) and of its main
 * (loop) thread alone, seconds. */
static int read_sched(int pid, struct sched_sample *out)
{
    char path[300];
    unsigned long long c, w, tc = 0, tw = 0;
    snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
    int r = read_schedstat(path, &c, &w);
    if (r < 0)
        return r;
    out->main_cpu = (double)c / 1e9;
    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return -errno;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/%d/task/%.32s/schedstat", pid, e->d_name);
        /* A thread that ended meanwhile is skipped. */
        if (read_schedstat(path, &c, &w) == 0) {
            tc += c;
            tw += w;
        }
    }
    closedir(d);
    out->cpu = (double)tc / 1e9;
    out->wait = (double)tw / 1e9;
    return 0;
}

static double load1(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f != NULL) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

static int read_all(int fd, void *p, size_t n, int timeout_ms)
{
    char *b = p;
    while (n > 0) {
        struct pollfd pf = {fd, POLLIN, 0};
        int pr = poll(&pf, 1, timeout_ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return pr == 0 ? -ETIMEDOUT : -errno;
        ssize_t k = read(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k == 0 ? -EPIPE : -errno;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

static void merge(struct worker_result *into, const struct worker_result *w, int first)
{
    if (first) {
        *into = *w;
        return;
    }
    if (w->nsteps < into->nsteps)
        into->nsteps = w->nsteps;
    for (int i = 0; i < into->nsteps; i++) {
        struct step_result *s = &into->steps[i];
        const struct step_result *x = &w->steps[i];
        s->sent += x->sent;
        s->sent_ok += x->sent_ok;
        s->received += x->received;
        hist_merge(&s->recv, &x->recv);
        hist_merge(&s->ack, &x->ack);
        hist_merge(&s->rcpt, &x->rcpt);
        s->deletes += x->deletes;
        hist_merge(&s->del, &x->del);
    }
#define SUM(f) into->f += w->f
    SUM(conns);
    SUM(conn_fail);
    SUM(sends);
    SUM(sent_ok);
    SUM(received);
    SUM(receipts);
    SUM(errors);
    SUM(dup);
    SUM(reorder);
    SUM(lost);
    SUM(bad_seq);
    SUM(unanswered);
    SUM(missing_rcpt);
    SUM(pending_seen);
    SUM(fill_msgs);
    SUM(bad_pages);
    SUM(up_done);
    SUM(up_failed);
    SUM(up_bytes);
#undef SUM
    hist_merge(&into->up_time, &w->up_time);
    if (w->up_s > into->up_s)
        into->up_s = w->up_s;
#define KEEP_MAX(f) into->f = w->f > into->f ? w->f : into->f
    KEEP_MAX(rss_up0_kib);
    KEEP_MAX(hwm_up0_kib);
    KEEP_MAX(rss_up_max_kib);
    KEEP_MAX(hwm_up_kib);
#undef KEEP_MAX
    hist_merge(&into->pages, &w->pages);
    if (w->phase_s > into->phase_s)
        into->phase_s = w->phase_s;
    if (w->fill_s > into->fill_s)
        into->fill_s = w->fill_s;
    if (w->connect_us > into->connect_us)
        into->connect_us = w->connect_us;
    if (w->last_seq > into->last_seq)
        into->last_seq = w->last_seq;
    if (w->note[0] && !into->note[0])
        memcpy(into->note, w->note, sizeof(into->note));
}

/* Users a scenario works with: pairs from user 0 (history uses pair 0,
 * backlog pair 1). */
static void scen_users(const struct bench_opts *o, enum scenario sc, int *first, int *n)
{
    *first = 0;
    switch (sc) {
    case SC_THROUGHPUT:
    case SC_LATENCY:
    case SC_UPLOAD: /* the uploaders follow the pairs (upload.c) */
        *n = 2 * o->pairs;
        break;
    case SC_IDLE:
    case SC_STORM:
        *n = o->conns + o->conns % 2;
        break;
    case SC_BACKLOG:
        *first = 2;
        *n = 2;
        break;
    case SC_SEARCH: /* a conversation of its own, with words to find */
        *first = 4;
        *n = 2;
        break;
    default:
        *n = 2;
        break;
    }
}

struct child {
    pid_t pid;
    int ctl, res;
};

static int run_once(const struct bench_opts *o, enum scenario sc, const struct users *us,
                    struct scen_report *rep)
{
    int first, n;
    scen_users(o, sc, &first, &n);
    int npairs = n / 2;
    int nw = o->workers > 0 ? o->workers : (n + BENCH_FD_BUDGET - 1) / BENCH_FD_BUDGET;
    if (nw > npairs)
        nw = npairs;
    if (nw < 1 || sc == SC_UPLOAD)
        nw = 1; /* upload: the worker that runs the uploads ends the last step */
    memset(rep, 0, sizeof(*rep));
    rep->sc = sc;
    rep->load1 = load1();
    if (o->server_pid > 0)
        rep->rss_base_kib = read_rss_kib(o->server_pid);
    uint8_t rnd[4];
    char nonce[9];
    if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
        return -EIO;
    snprintf(nonce, sizeof(nonce), "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
    struct child ch[64];
    if (nw > 64)
        return -EINVAL;
    int started = 0, r = 0;
    struct worker_result *wr = malloc(sizeof(*wr));
    if (wr == NULL)
        return -ENOMEM;
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < nw; i++) {
        int cp[2], rp[2];
        if (pipe(cp) < 0) {
            r = -errno;
            break;
        }
        if (pipe(rp) < 0) {
            r = -errno;
            close(cp[0]);
            close(cp[1]);
            break;
        }
        int p0 = npairs * i / nw, p1 = npairs * (i + 1) / nw;
        struct worker_spec spec = {.o = o,
                                   .sc = sc,
                                   .us = us,
                                   .first_user = first + 2 * p0,
                                   .n_users = 2 * (p1 - p0),
                                   .share = (double)(p1 - p0) / npairs,
                                   .ctl_fd = cp[0],
                                   .res_fd = rp[1]};
        memcpy(spec.nonce, nonce, sizeof(nonce));
        pid_t pid = fork();
        if (pid < 0) {
            r = -errno;
            close(cp[0]);
            close(cp[1]);
            close(rp[0]);
            close(rp[1]);
            break;
        }
        if (pid == 0) {
            close(cp[1]);
            close(rp[0]);
            for (int k = 0; k < started; k++) {
                close(ch[k].ctl);
                close(ch[k].res);
            }
            _exit(worker_main(&spec));
        }
        close(cp[0]);
        close(rp[1]);
        ch[started++] = (struct child){pid, cp[1], rp[0]};
    }
    /* everyone connected and synced */
    for (int i = 0; r == 0 && i < started; i++) {
        char b;
        int e = read_all(ch[i].res, &b, 1, READY_TIMEOUT_MS);
        if (e < 0 || b != 'R') {
            fprintf(stderr, "duet-bench: worker %d did not get ready: %s\n", i,
                    e < 0 ? strerror(-e) : "bad byte");
            r = e < 0 ? e : -EPROTO;
        }
    }
    if (r == 0 && sc == SC_IDLE && o->server_pid > 0) {
        /* let the server settle (quiet WebSockets park within 2 s); longer
         * holds see pings and pongs (every --ws-ping seconds) too */
        sleep((unsigned)o->idle_hold);
        rep->rss_kib = read_rss_kib(o->server_pid);
    }
    struct sched_sample s0 = {0}, s1;
    double t0 = now_s();
    int have_sched = o->server_pid > 0 && read_sched(o->server_pid, &s0) == 0;
    for (int i = 0; r == 0 && i < started; i++)
        if (write(ch[i].ctl, "G", 1) != 1)
            r = -errno;
    for (int i = 0; i < started; i++) {
        if (r == 0) {
            int e = read_all(ch[i].res, wr, sizeof(*wr), READY_TIMEOUT_MS * 6);
            if (e < 0) {
                fprintf(stderr, "duet-bench: worker %d: no result: %s\n", i, strerror(-e));
                r = e;
            } else {
                merge(&rep->r, wr, i == 0);
            }
        }
        close(ch[i].ctl); /* a worker still waiting sees EOF and stops */
        close(ch[i].res);
    }
    if (have_sched && read_sched(o->server_pid, &s1) == 0) {
        rep->wall_s = now_s() - t0;
        rep->cpu_s = s1.cpu - s0.cpu;
        rep->main_cpu_s = s1.main_cpu - s0.main_cpu;
        rep->wait_s = s1.wait - s0.wait;
    }
    for (int i = 0; i < started; i++) {
        int st;
        while (waitpid(ch[i].pid, &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "duet-bench: worker %d exited badly (status %d)\n", i, st);
            if (r == 0)
                r = -EPROTO;
        }
    }
    free(wr);
    const struct worker_result *m = &rep->r;
    rep->pass = r == 0 && m->conn_fail == 0 && m->errors == 0 && m->lost == 0 && m->dup == 0 &&
                m->reorder == 0 && m->bad_seq == 0 && m->unanswered == 0 && m->missing_rcpt == 0 &&
                m->bad_pages == 0 && m->up_failed == 0 &&
                (sc != SC_UPLOAD || m->up_done >= (uint64_t)o->uploads) && m->note[0] == '\0';
    return r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void set_smoke(struct bench_opts *o)
{
    o->pairs = 4;
    o->conns = 16;
    o->rate = 400;
    o->duration = 2;
    o->warmup = 1;
    o->ramp_start = 200;
    o->ramp_step = 200;
    o->ramp_max = 600;
    o->backlog = 300;
    o->history_msgs = 3000;
    o->history_pages = 50;
    o->uploads = 3;
    o->upload_size = 3 << 20;
    o->upload_patch = 1 << 20; /* several PATCH requests per upload */
}

int main(int argc, char **argv)
{
    struct bench_opts o = {
        .users_file = "bench-users.txt",
        .pairs = 500,
        .conns = 15000,
        .rate = 25000,
        .duration = 10,
        .warmup = 3,
        .ramp_start = 5000,
        .ramp_step = 5000,
        .ramp_max = 60000,
        .p99_bound_ms = 50,
        .text_len = 100,
        .backlog = 10000,
        .idle_hold = 3,
        .history_msgs = 1000000,
        .history_pages = 2000,
        .page = 100,
        .window = 256,
        .drain_s = 15,
        .upload_rate = 200,
        .uploads = 8,
        .upload_size = 1 << 20,
        .upload_patch = 8 << 20,
    };
    const char *server = "127.0.0.1:8080", *scen = "latency";
    int runs = 1, smoke = 0, scen_given = 0;
    enum {
        O_SERVER = 256,
        O_SCEN,
        O_RUNS,
        O_USERS,
        O_OUT,
        O_PAIRS,
        O_RATE,
        O_DUR,
        O_WARM,
        O_RAMP,
        O_BOUND,
        O_TEXT,
        O_DELETE,
        O_CONNS,
        O_BACKLOG,
        O_HMSGS,
        O_HPAGES,
        O_IDLE_HOLD,
        O_PAGE,
        O_WINDOW,
        O_UPLOADS,
        O_USIZE,
        O_UPATCH,
        O_WORKERS,
        O_CWIN,
        O_DRAIN,
        O_PID,
        O_SMOKE,
        O_VERBOSE,
        O_HELP
    };
    static const struct option lo[] = {{"server", 1, 0, O_SERVER},
                                       {"scenario", 1, 0, O_SCEN},
                                       {"runs", 1, 0, O_RUNS},
                                       {"users-file", 1, 0, O_USERS},
                                       {"out", 1, 0, O_OUT},
                                       {"pairs", 1, 0, O_PAIRS},
                                       {"rate", 1, 0, O_RATE},
                                       {"duration", 1, 0, O_DUR},
                                       {"warmup", 1, 0, O_WARM},
                                       {"ramp", 1, 0, O_RAMP},
                                       {"p99-bound", 1, 0, O_BOUND},
                                       {"text-len", 1, 0, O_TEXT},
                                       {"delete-every", 1, 0, O_DELETE},
                                       {"conns", 1, 0, O_CONNS},
                                       {"backlog", 1, 0, O_BACKLOG},
                                       {"history-msgs", 1, 0, O_HMSGS},
                                       {"history-pages", 1, 0, O_HPAGES},
                                       {"idle-hold", 1, 0, O_IDLE_HOLD},
                                       {"page", 1, 0, O_PAGE},
                                       {"window", 1, 0, O_WINDOW},
                                       {"uploads", 1, 0, O_UPLOADS},
                                       {"upload-size", 1, 0, O_USIZE},
                                       {"upload-patch", 1, 0, O_UPATCH},
                                       {"workers", 1, 0, O_WORKERS},
                                       {"connect-window", 1, 0, O_CWIN},
                                       {"drain", 1, 0, O_DRAIN},
                                       {"server-pid", 1, 0, O_PID},
                                       {"smoke", 0, 0, O_SMOKE},
                                       {"verbose", 0, 0, O_VERBOSE},
                                       {"help", 0, 0, O_HELP},
                                       {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_SERVER:
            server = optarg;
            break;
        case O_SCEN:
            scen = optarg;
            scen_given = 1;
            break;
        case O_RUNS:
            runs = atoi(optarg);
            break;
        case O_USERS:
            o.users_file = optarg;
            break;
        case O_OUT:
            o.out = optarg;
            break;
        case O_PAIRS:
            o.pairs = atoi(optarg);
            break;
        case O_RATE:
            o.rate = o.upload_rate = atof(optarg);
            break;
        case O_DUR:
            o.duration = atof(optarg);
            break;
        case O_WARM:
            o.warmup = atof(optarg);
            break;
        case O_RAMP:
            if (sscanf(optarg, "%lf:%lf:%lf", &o.ramp_start, &o.ramp_step, &o.ramp_max) != 3) {
                fprintf(stderr, "duet-bench: --ramp wants START:STEP:MAX\n");
                return 2;
            }
            break;
        case O_BOUND:
            o.p99_bound_ms = atof(optarg);
            break;
        case O_TEXT:
            o.text_len = atoi(optarg);
            break;
        case O_DELETE:
            o.delete_every = atoi(optarg);
            break;
        case O_CONNS:
            o.conns = atoi(optarg);
            break;
        case O_BACKLOG:
            o.backlog = atoi(optarg);
            break;
        case O_HMSGS:
            o.history_msgs = atoi(optarg);
            break;
        case O_IDLE_HOLD:
            o.idle_hold = atoi(optarg);
            break;
        case O_HPAGES:
            o.history_pages = atoi(optarg);
            break;
        case O_PAGE:
            o.page = atoi(optarg);
            break;
        case O_WINDOW:
            o.window = atoi(optarg);
            break;
        case O_UPLOADS:
            o.uploads = atoi(optarg);
            break;
        case O_USIZE:
            o.upload_size = upload_parse_size(optarg);
            break;
        case O_UPATCH:
            o.upload_patch = upload_parse_size(optarg);
            break;
        case O_WORKERS:
            o.workers = atoi(optarg);
            break;
        case O_CWIN:
            o.connect_window = atoi(optarg);
            break;
        case O_DRAIN:
            o.drain_s = atof(optarg);
            break;
        case O_PID:
            o.server_pid = atoi(optarg);
            break;
        case O_SMOKE:
            smoke = 1;
            break;
        case O_VERBOSE:
            o.verbose = 1;
            break;
        case O_HELP:
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (smoke) {
        set_smoke(&o);
        o.smoke = 1;
        if (!scen_given)
            scen = "all";
    }
    int want[SC_COUNT];
    if (optind < argc || parse_server(&o, server) < 0 || parse_scenarios(scen, want) < 0 ||
        runs < 1 || runs > 99 || o.pairs < 1 || o.rate <= 0 || o.upload_rate <= 0 ||
        o.duration <= 0 || o.text_len < 30 || o.text_len > 400 || o.conns < 2 || o.backlog < 1 ||
        o.idle_hold < 0 || o.history_msgs < 1 || o.page < 1 || o.page > 100 || o.window < 1 ||
        o.ramp_start <= 0 || o.ramp_step <= 0 || o.workers < 0 || o.workers > 64 || o.uploads < 1 ||
        o.uploads > 1000 || o.upload_size == 0 || o.upload_patch == 0) {
        fprintf(stderr, "duet-bench: bad arguments\n");
        usage(stderr);
        return 2;
    }
    int need = 4;
    for (int i = 0; i < SC_COUNT; i++) {
        int first, n;
        scen_users(&o, (enum scenario)i, &first, &n);
        if (want[i] && first + n > need)
            need = first + n;
    }
    if (want[SC_UPLOAD] && 2 * o.pairs + o.uploads + o.uploads % 2 > need)
        need = 2 * o.pairs + o.uploads + o.uploads % 2; /* an even number */
    struct users us = {0};
    if (users_ensure(&o, need, &us) < 0)
        return 2;
    json_t *all = json_array();
    int ok = all != NULL;
    for (int s = 0; s < SC_COUNT; s++) {
        if (!want[s])
            continue;
        if (s == SC_IDLE && o.server_pid <= 0)
            fprintf(stderr, "duet-bench: idle: no --server-pid, so no server memory\n");
        double keys[99];
        const char *kn = "";
        json_t *jruns = json_array();
        int spass = 1;
        for (int k = 0; k < runs; k++) {
            struct scen_report rep;
            int r = run_once(&o, (enum scenario)s, &us, &rep);
            if (r < 0)
                fprintf(stderr, "duet-bench: %s: %s\n", scenario_name(s), strerror(-r));
            report_print(&o, &rep);
            keys[k] = report_key(&o, &rep, &kn);
            json_array_append_new(jruns, report_json(&o, &rep));
            spass &= rep.pass;
        }
        ok &= spass;
        qsort(keys, (size_t)runs, sizeof(double), cmp_double);
        double med = runs % 2 ? keys[runs / 2] : (keys[runs / 2 - 1] + keys[runs / 2]) / 2;
        printf("** %s: %s median %.3f (min %.3f, max %.3f) over %d run%s%s\n", scenario_name(s), kn,
               med, keys[0], keys[runs - 1], runs, runs > 1 ? "s" : "", spass ? "" : "  -- FAILED");
        json_array_append_new(all,
                              json_pack("{s:s, s:s, s:f, s:f, s:f, s:b, s:o}", "scenario",
                                        scenario_name(s), "key", kn, "median", med, "min", keys[0],
                                        "max", keys[runs - 1], "pass", spass, "runs", jruns));
        fflush(stdout);
    }
    if (o.out != NULL && all != NULL) {
        json_t *doc = json_pack("{s:s, s:s, s:b, s:b, s:I, s:I, s:f, s:o}", "tool", "duet-bench",
                                "server", server, "smoke", o.smoke, "pass", ok, "pairs",
                                (json_int_t)o.pairs, "conns", (json_int_t)o.conns, "text_len",
                                (double)o.text_len, "results", json_incref(all));
        if (doc == NULL || json_dump_file(doc, o.out, JSON_INDENT(2)) < 0) {
            fprintf(stderr, "duet-bench: cannot write %s\n", o.out);
            ok = 0;
        }
        json_decref(doc);
    }
    json_decref(all);
    users_free(&us);
    printf("duet-bench: %s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
