/* cql_smoke.h - what cql_smoke.c (set-up, --failover, main) and
 * cql_smoke_checks.c (the checks against a node) share. */
#ifndef DUET_CQL_SMOKE_H
#define DUET_CQL_SMOKE_H

#include <stdio.h>
#include <uv.h>

#include "../../src/cql/cql.h"

extern int failures;
extern uv_loop_t loop;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            printf("ok - ");                                                                       \
        } else {                                                                                   \
            printf("FAIL - ");                                                                     \
            failures++;                                                                            \
        }                                                                                          \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        fflush(stdout);                                                                            \
    } while (0)

/* Callbacks that count: (*(int *)req->data)++ and *(int *)data = 1. */
void on_req_done(cql_req *req);
void on_closed(void *data);
/* Submits and runs the loop until the callback ran; returns req->status. */
int run(cql_cluster *cl, cql_req *req);
int query(cql_cluster *cl, const char *q);
cql_cluster *open_cluster(const char *hosts, const char *ks, int64_t timeout_ms, int *status);
void close_cluster(cql_cluster *cl);
/* A timer callback that does nothing: the loop only wakes up. */
void noop_timer(uv_timer_t *t);

/* The checks, in the order main runs them. */
void check_types(cql_cluster *cl);
void check_tokens(cql_cluster *cl);
void check_routing(cql_cluster *cl);
void check_paging(cql_cluster *cl);
void check_batch_and_lwt(cql_cluster *cl);
void check_unprepared(cql_cluster *cl);
void check_errors(cql_cluster *cl);
void check_timeouts(const char *hosts);
void check_close_with_requests(cql_cluster *cl);

#endif
