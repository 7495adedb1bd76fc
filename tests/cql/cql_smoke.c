/* cql_smoke.c - the CQL driver against a real Cassandra node or cluster.
 *
 *   make cql-live CQL_HOSTS=127.0.0.1      (or: build-cql/cql-smoke HOSTS)
 *   build-cql/cql-smoke HOSTS --failover SECONDS   (load while nodes are
 *                                                    killed and restarted by hand)
 *
 * Uses (and creates) the keyspace cql_smoke; never touches another one. Each
 * check prints "ok - ..." or "FAIL - ..."; the exit status is nonzero when
 * any check failed. Checks: discovery and the ring, DDL via QUERY, prepared
 * EXECUTE with every bound type of cql.h read back, token-aware routing
 * (the driver's token equals the server's token(k)), paging over more than 3
 * pages, a LOGGED batch, an LWT's [applied], UNPREPARED recovery, a syntax
 * error decoded, request timeouts with late answers, closing with requests
 * in flight. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "../../src/cql/cql.h"
#include "../../src/cql/cql_codec.h"
#include "../../src/cql/cql_int.h"
#include "cql_smoke.h"

int failures;
uv_loop_t loop;

/* ---- running things to completion ------------------------------------------ */
void on_req_done(cql_req *req)
{
    (*(int *)req->data)++;
}

int run(cql_cluster *cl, cql_req *req)
{
    int done = 0;
    req->cb = on_req_done;
    req->data = &done;
    int r = cql_submit(cl, req);
    if (r < 0)
        return r;
    if (done != 0) {
        printf("FAIL - callback ran inside cql_submit\n");
        failures++;
    }
    while (!done)
        uv_run(&loop, UV_RUN_ONCE);
    if (req->status == CQL_ESERVER)
        printf("# server error %s: %s\n", cql_error_name(req->err.code), req->err.message);
    return req->status;
}

int query(cql_cluster *cl, const char *q)
{
    cql_req req;
    cql_req_init(&req, CQL_REQ_QUERY, NULL, NULL);
    req.query = q;
    int r = run(cl, &req);
    cql_req_reset(&req);
    return r;
}

struct ready {
    int done, status;
};

static void on_ready(cql_cluster *cl, int status, void *data)
{
    struct ready *r = data;
    (void)cl;
    r->done = 1;
    r->status = status;
}

cql_cluster *open_cluster(const char *hosts, const char *ks, int64_t timeout_ms, int *status)
{
    struct cql_cluster_opts o = {
        .contact_points = hosts,
        .keyspace = ks,
        /* Read-your-writes with RF 3 (and trivially with one node). */
        .consistency = CQL_QUORUM,
        .request_timeout_ms = timeout_ms,
        .max_retries = -1,
    };
    struct ready rd = {0, 0};
    cql_cluster *cl;
    int r = cql_cluster_open(&loop, &o, on_ready, &rd, &cl);
    if (r < 0) {
        *status = r;
        return NULL;
    }
    while (!rd.done)
        uv_run(&loop, UV_RUN_ONCE);
    *status = rd.status;
    return cl;
}

void noop_timer(uv_timer_t *t)
{
    (void)t;
}

void on_closed(void *data)
{
    *(int *)data = 1;
}

void close_cluster(cql_cluster *cl)
{
    int closed = 0;
    cql_cluster_close(cl, on_closed, &closed);
    while (!closed)
        uv_run(&loop, UV_RUN_ONCE);
}

/* ---- --failover SECONDS: load while nodes are killed by hand -------------
 * Keeps 16 idempotent writes at CL ONE in flight for SECONDS, printing once a
 * second how many succeeded or failed and how many nodes are up; the run
 * fails if more than 3 s in a row pass without a success while a node is up
 * (a frozen node is given up after 2 s of silence). */
struct load {
    cql_cluster *cl;
    cql_stmt *ins;
    cql_req reqs[16];
    int64_t ok, failed, n;
    int stop, in_flight;
};

static void load_send(struct load *l, cql_req *req);

static void on_load_done(cql_req *req)
{
    struct load *l = req->data;
    l->in_flight--;
    if (req->status == 0)
        l->ok++;
    else
        l->failed++;
    cql_req_reset(req);
    if (!l->stop)
        load_send(l, req);
}

static void load_send(struct load *l, cql_req *req)
{
    cql_req_init(req, CQL_REQ_EXECUTE, on_load_done, l);
    req->stmt = l->ins;
    req->idempotent = 1;
    req->consistency = CQL_ONE;
    char key[32];
    snprintf(key, sizeof(key), "f-%lld", (long long)(l->n++ % 1000));
    cql_bind_cstr(&req->values, key);
    cql_bind_int(&req->values, 1);
    cql_bind_int(&req->values, (int32_t)l->n);
    if (cql_submit(l->cl, req) == 0)
        l->in_flight++;
    else
        l->failed++;
}

static int failover(const char *hosts, int seconds)
{
    int status;
    struct cql_cluster_opts o = {.contact_points = hosts,
                                 .consistency = CQL_ONE,
                                 .request_timeout_ms = 2000,
                                 .connect_timeout_ms = 2000,
                                 .max_retries = -1};
    struct ready rd = {0, 0};
    static struct load l;
    if (cql_cluster_open(&loop, &o, on_ready, &rd, &l.cl) < 0)
        return 1;
    while (!rd.done)
        uv_run(&loop, UV_RUN_ONCE);
    status = rd.status;
    CHECK(status == 0, "failover: cluster ready, %d node(s) up", cql_cluster_up(l.cl));
    query(l.cl, "CREATE KEYSPACE IF NOT EXISTS cql_fail WITH replication = "
                "{'class': 'SimpleStrategy', 'replication_factor': 3}");
    query(l.cl, "CREATE TABLE IF NOT EXISTS cql_fail.t (k text, c int, n int, PRIMARY KEY (k, c))");
    cql_stmt_new(l.cl, "INSERT INTO cql_fail.t (k, c, n) VALUES (?, ?, ?)", &l.ins);
    for (int i = 0; i < 16; i++)
        load_send(&l, &l.reqs[i]);
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    int stall = 0, longest = 0;
    for (int sec = 0; sec < seconds; sec++) {
        int64_t ok0 = l.ok, failed0 = l.failed;
        uv_timer_start(&t, noop_timer, 1000, 0);
        while (uv_is_active((uv_handle_t *)&t))
            uv_run(&loop, UV_RUN_ONCE);
        int up = cql_cluster_up(l.cl);
        printf("# t=%3ds up=%d ok=%lld failed=%lld\n", sec + 1, up, (long long)(l.ok - ok0),
               (long long)(l.failed - failed0));
        fflush(stdout);
        stall = up > 0 && l.ok == ok0 ? stall + 1 : 0;
        longest = stall > longest ? stall : longest;
    }
    l.stop = 1;
    while (l.in_flight > 0)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    close_cluster(l.cl);
    uv_run(&loop, UV_RUN_DEFAULT);
    /* A hung node is given up after 2 s of silence (cql_conn.c). */
    CHECK(longest <= 3, "failover: at most 3 s in a row without progress while a node was up (%d)",
          longest);
    CHECK(uv_loop_close(&loop) == 0, "every handle closed");
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *hosts = argc > 1 ? argv[1] : "127.0.0.1";
    if (uv_loop_init(&loop) != 0)
        return 2;
    if (argc > 3 && strcmp(argv[2], "--failover") == 0)
        return failover(hosts, atoi(argv[3]));
    int status;
    cql_cluster *cl = open_cluster(hosts, NULL, 0, &status);
    CHECK(cl != NULL && status == 0, "cluster ready (%s)", cql_strerror(status));
    if (cl == NULL || status != 0)
        return 1;
    int up = cql_cluster_up(cl);
    CHECK(up >= 1 && (size_t)cl->n_nodes * 1 <= cl->n_ring,
          "%d node(s) up of %d discovered, %zu tokens in the ring", up, cl->n_nodes, cl->n_ring);
    int rf = up >= 3 ? 3 : up;
    char q[256];
    snprintf(q, sizeof(q),
             "CREATE KEYSPACE IF NOT EXISTS cql_smoke WITH replication = "
             "{'class': 'SimpleStrategy', 'replication_factor': %d}",
             rf);
    int r = query(cl, q);
    CHECK(r == 0, "CREATE KEYSPACE (%s)", cql_strerror(r));
    CHECK(cql_cluster_use(cl, "cql_smoke") == 0, "USE cql_smoke on every connection");
    r = query(cl, "DROP TABLE IF EXISTS types");
    CHECK(r == 0, "DROP TABLE IF EXISTS (%s)", cql_strerror(r));
    r = query(cl, "CREATE TABLE types (k text, c int, big bigint, ts timestamp, "
                  "b boolean, t text, bl blob, u uuid, tu timeuuid, n int, PRIMARY KEY (k, c))");
    CHECK(r == 0, "CREATE TABLE via QUERY in the USE'd keyspace (%s)", cql_strerror(r));

    check_types(cl);
    check_tokens(cl);
    check_routing(cl);
    check_paging(cl);
    check_batch_and_lwt(cl);
    check_unprepared(cl);
    check_errors(cl);
    check_timeouts(hosts);
    check_close_with_requests(cl);

    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0, "every handle closed");
    printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}
