/* args.c - duet-bench's command line: the options, their defaults, the
 * --smoke sizes and the checks (main.c runs what they ask for).
 */
#include "bench.h"

#include <errno.h>
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

int bench_args(int argc, char **argv, struct bench_opts *o, struct bench_cli *cli)
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
    const char *scen = "latency";
    int smoke = 0, scen_given = 0;
    cli->server = "127.0.0.1:8080";
    cli->runs = 1;
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
            cli->server = optarg;
            break;
        case O_SCEN:
            scen = optarg;
            scen_given = 1;
            break;
        case O_RUNS:
            cli->runs = atoi(optarg);
            break;
        case O_USERS:
            o->users_file = optarg;
            break;
        case O_OUT:
            o->out = optarg;
            break;
        case O_PAIRS:
            o->pairs = atoi(optarg);
            break;
        case O_RATE:
            o->rate = o->upload_rate = atof(optarg);
            break;
        case O_DUR:
            o->duration = atof(optarg);
            break;
        case O_WARM:
            o->warmup = atof(optarg);
            break;
        case O_RAMP:
            if (sscanf(optarg, "%lf:%lf:%lf", &o->ramp_start, &o->ramp_step, &o->ramp_max) != 3) {
                fprintf(stderr, "duet-bench: --ramp wants START:STEP:MAX\n");
                return -1;
            }
            break;
        case O_BOUND:
            o->p99_bound_ms = atof(optarg);
            break;
        case O_TEXT:
            o->text_len = atoi(optarg);
            break;
        case O_DELETE:
            o->delete_every = atoi(optarg);
            break;
        case O_CONNS:
            o->conns = atoi(optarg);
            break;
        case O_BACKLOG:
            o->backlog = atoi(optarg);
            break;
        case O_HMSGS:
            o->history_msgs = atoi(optarg);
            break;
        case O_IDLE_HOLD:
            o->idle_hold = atoi(optarg);
            break;
        case O_HPAGES:
            o->history_pages = atoi(optarg);
            break;
        case O_PAGE:
            o->page = atoi(optarg);
            break;
        case O_WINDOW:
            o->window = atoi(optarg);
            break;
        case O_UPLOADS:
            o->uploads = atoi(optarg);
            break;
        case O_USIZE:
            o->upload_size = upload_parse_size(optarg);
            break;
        case O_UPATCH:
            o->upload_patch = upload_parse_size(optarg);
            break;
        case O_WORKERS:
            o->workers = atoi(optarg);
            break;
        case O_CWIN:
            o->connect_window = atoi(optarg);
            break;
        case O_DRAIN:
            o->drain_s = atof(optarg);
            break;
        case O_PID:
            o->server_pid = atoi(optarg);
            break;
        case O_SMOKE:
            smoke = 1;
            break;
        case O_VERBOSE:
            o->verbose = 1;
            break;
        case O_HELP:
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (smoke) {
        set_smoke(o);
        o->smoke = 1;
        if (!scen_given)
            scen = "all";
    }
    if (optind < argc || parse_server(o, cli->server) < 0 || parse_scenarios(scen, cli->want) < 0 ||
        cli->runs < 1 || cli->runs > 99 || o->pairs < 1 || o->rate <= 0 || o->upload_rate <= 0 ||
        o->duration <= 0 || o->text_len < 30 || o->text_len > 400 || o->conns < 2 ||
        o->backlog < 1 || o->idle_hold < 0 || o->history_msgs < 1 || o->page < 1 || o->page > 100 ||
        o->window < 1 || o->ramp_start <= 0 || o->ramp_step <= 0 || o->workers < 0 ||
        o->workers > 64 || o->uploads < 1 || o->uploads > 1000 || o->upload_size == 0 ||
        o->upload_patch == 0) {
        fprintf(stderr, "duet-bench: bad arguments\n");
        usage(stderr);
        return -1;
    }
    return 0;
}
