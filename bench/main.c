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
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#define READY_TIMEOUT_MS (20 * 60 * 1000)

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
    out->n = 0;
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
            if (out->n < SCHED_THREADS) {
                out->tid[out->n] = atoi(e->d_name);
                out->tcpu[out->n++] = (double)c / 1e9;
            }
        }
    }
    closedir(d);
    out->cpu = (double)tc / 1e9;
    out->wait = (double)tw / 1e9;
    return 0;
}

/* CPU time between s0 and s1 of the busiest thread other than pid's main
 * one (a thread missing from s0 started meanwhile: all its time counts). */
static double busiest_other(int pid, const struct sched_sample *s0, const struct sched_sample *s1)
{
    double top = 0;
    for (int i = 0; i < s1->n; i++) {
        if (s1->tid[i] == pid)
            continue;
        double d = s1->tcpu[i];
        for (int k = 0; k < s0->n; k++)
            if (s0->tid[k] == s1->tid[i])
                d -= s0->tcpu[k];
        if (d > top)
            top = d;
    }
    return top;
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
        rep->other_cpu_s = busiest_other(o->server_pid, &s0, &s1);
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

int main(int argc, char **argv)
{
    struct bench_opts o;
    struct bench_cli cli;
    int a = bench_args(argc, argv, &o, &cli);
    if (a != 0)
        return a > 0 ? 0 : 2;
    int need = 4;
    for (int i = 0; i < SC_COUNT; i++) {
        int first, n;
        scen_users(&o, (enum scenario)i, &first, &n);
        if (cli.want[i] && first + n > need)
            need = first + n;
    }
    if (cli.want[SC_UPLOAD] && 2 * o.pairs + o.uploads + o.uploads % 2 > need)
        need = 2 * o.pairs + o.uploads + o.uploads % 2; /* an even number */
    struct users us = {0};
    if (users_ensure(&o, need, &us) < 0)
        return 2;
    json_t *all = json_array();
    int ok = all != NULL;
    for (int s = 0; s < SC_COUNT; s++) {
        if (!cli.want[s])
            continue;
        if (s == SC_IDLE && o.server_pid <= 0)
            fprintf(stderr, "duet-bench: idle: no --server-pid, so no server memory\n");
        double keys[99];
        const char *kn = "";
        json_t *jruns = json_array();
        int spass = 1;
        for (int k = 0; k < cli.runs; k++) {
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
        qsort(keys, (size_t)cli.runs, sizeof(double), cmp_double);
        double med =
            cli.runs % 2 ? keys[cli.runs / 2] : (keys[cli.runs / 2 - 1] + keys[cli.runs / 2]) / 2;
        printf("** %s: %s median %.3f (min %.3f, max %.3f) over %d run%s%s\n", scenario_name(s), kn,
               med, keys[0], keys[cli.runs - 1], cli.runs, cli.runs > 1 ? "s" : "",
               spass ? "" : "  -- FAILED");
        json_array_append_new(all,
                              json_pack("{s:s, s:s, s:f, s:f, s:f, s:b, s:o}", "scenario",
                                        scenario_name(s), "key", kn, "median", med, "min", keys[0],
                                        "max", keys[cli.runs - 1], "pass", spass, "runs", jruns));
        fflush(stdout);
    }
    if (o.out != NULL && all != NULL) {
        json_t *doc = json_pack("{s:s, s:s, s:b, s:b, s:I, s:I, s:f, s:o}", "tool", "duet-bench",
                                "server", cli.server, "smoke", o.smoke, "pass", ok, "pairs",
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
