/* args.c - duet-bench's command line: the options, their defaults, the
 * --smoke sizes and the checks (main.c runs what they ask for).
 */
#include "bench.h"

#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The options that set one field of bench_opts from their argument. */
enum field_kind { F_INT, F_DBL, F_STR, F_SIZE };
struct field_opt {
    const char *name;
    enum field_kind kind;
    size_t off; /* in struct bench_opts */
};
#define FIELD(name, kind, field)                                                                   \
    {                                                                                              \
        name, kind, offsetof(struct bench_opts, field)                                             \
    }
static const struct field_opt fields[] = {
    FIELD("users-file", F_STR, users_file),
    FIELD("out", F_STR, out),
    FIELD("pairs", F_INT, pairs),
    FIELD("duration", F_DBL, duration),
    FIELD("warmup", F_DBL, warmup),
    FIELD("p99-bound", F_DBL, p99_bound_ms),
    FIELD("text-len", F_INT, text_len),
    FIELD("delete-every", F_INT, delete_every),
    FIELD("conns", F_INT, conns),
    FIELD("backlog", F_INT, backlog),
    FIELD("history-msgs", F_INT, history_msgs),
    FIELD("history-pages", F_INT, history_pages),
    FIELD("idle-hold", F_INT, idle_hold),
    FIELD("page", F_INT, page),
    FIELD("window", F_INT, window),
    FIELD("uploads", F_INT, uploads),
    FIELD("upload-size", F_SIZE, upload_size),
    FIELD("upload-patch", F_SIZE, upload_patch),
    FIELD("workers", F_INT, workers),
    FIELD("connect-window", F_INT, connect_window),
    FIELD("drain", F_DBL, drain_s),
    FIELD("server-pid", F_INT, server_pid),
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

/* The options handled one by one; getopt_long returns a field's index. */
enum { O_SERVER = 256, O_SCEN, O_RUNS, O_RATE, O_RAMP, O_SMOKE, O_VERBOSE, O_HELP };
static const struct option others[] = {
    {"server", 1, 0, O_SERVER},   {"scenario", 1, 0, O_SCEN}, {"runs", 1, 0, O_RUNS},
    {"rate", 1, 0, O_RATE},       {"ramp", 1, 0, O_RAMP},     {"smoke", 0, 0, O_SMOKE},
    {"verbose", 0, 0, O_VERBOSE}, {"help", 0, 0, O_HELP},
};
#define N_OTHERS (sizeof(others) / sizeof(others[0]))

static void set_field(struct bench_opts *o, const struct field_opt *f, const char *v)
{
    char *p = (char *)o + f->off;
    switch (f->kind) {
    case F_INT:
        *(int *)p = atoi(v);
        break;
    case F_DBL:
        *(double *)p = atof(v);
        break;
    case F_STR:
        *(const char **)p = v;
        break;
    case F_SIZE:
        *(uint64_t *)p = upload_parse_size(v);
        break;
    }
}

static void set_defaults(struct bench_opts *o, struct bench_cli *cli)
{
    *o = (struct bench_opts){
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
    cli->server = "127.0.0.1:8080";
    cli->runs = 1;
}

static int args_ok(const struct bench_opts *o, const struct bench_cli *cli)
{
    return cli->runs >= 1 && cli->runs <= 99 && o->pairs >= 1 && o->rate > 0 &&
           o->upload_rate > 0 && o->duration > 0 && o->text_len >= 30 && o->text_len <= 400 &&
           o->conns >= 2 && o->backlog >= 1 && o->idle_hold >= 0 && o->history_msgs >= 1 &&
           o->page >= 1 && o->page <= 100 && o->window >= 1 && o->ramp_start > 0 &&
           o->ramp_step > 0 && o->workers >= 0 && o->workers <= 64 && o->uploads >= 1 &&
           o->uploads <= 1000 && o->upload_size != 0 && o->upload_patch != 0;
}

/* What the command line said besides bench_opts' fields. */
struct parsed {
    const char *scen;
    int smoke, scen_given;
};

/* One option of the others: 0, 1 after --help, -1 when bad. */
static int other_opt(int c, struct bench_opts *o, struct bench_cli *cli, struct parsed *p)
{
    switch (c) {
    case O_SERVER:
        cli->server = optarg;
        return 0;
    case O_SCEN:
        p->scen = optarg;
        p->scen_given = 1;
        return 0;
    case O_RUNS:
        cli->runs = atoi(optarg);
        return 0;
    case O_RATE:
        o->rate = o->upload_rate = atof(optarg);
        return 0;
    case O_RAMP:
        if (sscanf(optarg, "%lf:%lf:%lf", &o->ramp_start, &o->ramp_step, &o->ramp_max) != 3) {
            fprintf(stderr, "duet-bench: --ramp wants START:STEP:MAX\n");
            return -1;
        }
        return 0;
    case O_SMOKE:
        p->smoke = 1;
        return 0;
    case O_VERBOSE:
        o->verbose = 1;
        return 0;
    case O_HELP:
        usage(stdout);
        return 1;
    default:
        usage(stderr);
        return -1;
    }
}

int bench_args(int argc, char **argv, struct bench_opts *o, struct bench_cli *cli)
{
    struct option lo[N_FIELDS + N_OTHERS + 1];
    struct parsed p = {.scen = "latency"};
    int c, rc;
    set_defaults(o, cli);
    for (size_t i = 0; i < N_FIELDS; i++)
        lo[i] = (struct option){fields[i].name, 1, 0, (int)i};
    memcpy(lo + N_FIELDS, others, sizeof(others));
    lo[N_FIELDS + N_OTHERS] = (struct option){0, 0, 0, 0};
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c >= 0 && (size_t)c < N_FIELDS)
            set_field(o, &fields[c], optarg);
        else if ((rc = other_opt(c, o, cli, &p)) != 0)
            return rc;
    }
    if (p.smoke) {
        set_smoke(o);
        o->smoke = 1;
        if (!p.scen_given)
            p.scen = "all";
    }
    if (optind < argc || parse_server(o, cli->server) < 0 ||
        parse_scenarios(p.scen, cli->want) < 0 || !args_ok(o, cli)) {
        fprintf(stderr, "duet-bench: bad arguments\n");
        usage(stderr);
        return -1;
    }
    return 0;
}
