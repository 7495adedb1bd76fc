/* The Cassandra store's two queue ceilings (cass_queue.c, cass_int.h): the ops
 * of a connection's opening and closing may queue up to CS_SETUP_MAX, the
 * others only up to CS_QUEUE_MAX, and neither takes room from the other.
 * The store points at an address where nothing listens, so every request
 * stays queued until the store closes, which completes them all. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <uv.h>

#include "../../src/base/duet.h"
#include "../../src/store/cassandra/cass_int.h"

TestSuite(store_cass_queue);

struct q_run {
    int done, failed;
};

static void q_cb(store_req *req)
{
    struct q_run *r = req->data;
    r->done++;
    if (req->status == DUET_ESTORE)
        r->failed++;
}

/* Submits n requests of op (from reqs[*at]): how many were accepted,
 * stopping at the first refusal, whose code goes to *refused. */
static int q_fill(store_t *st, store_req *reqs, int *at, int n, enum store_op op, struct q_run *r,
                  int *refused)
{
    int ok = 0;
    *refused = 0;
    for (int i = 0; i < n; i++) {
        store_req *q = &reqs[*at];
        store_req_init(q, op, q_cb, r);
        int rc = store_submit(st, q);
        if (rc < 0) {
            store_req_reset(q);
            *refused = rc;
            break;
        }
        (*at)++;
        ok++;
    }
    return ok;
}

/* A store on an address where nothing listens, on a new loop. */
static store_t *q_open(uv_loop_t *loop)
{
    cr_assert_eq(uv_loop_init(loop), 0);
    struct store_cass_opts o = {.hosts = "127.0.9.9:9",
                                .keyspace = "ks_queue_test",
                                .replication =
                                    "{'class': 'SimpleStrategy', 'replication_factor': 1}",
                                .timeout_ms = 1000};
    store_t *st = NULL;
    cr_assert_eq(store_cass_open(loop, &o, &st), 0);
    return st;
}

/* Closes the store, runs the loop until every request completed, checks
 * that all `at` did, failed (none ran: no node), and frees them. */
static void q_close(uv_loop_t *loop, store_t *st, store_req *reqs, int at, struct q_run *r)
{
    store_close(st);
    cr_assert_eq(uv_run(loop, UV_RUN_DEFAULT), 0);
    cr_assert_eq(r->done, at);
    cr_assert_eq(r->failed, at);
    for (int i = 0; i < at; i++)
        store_req_reset(&reqs[i]);
    free(reqs);
    cr_assert_eq(uv_loop_close(loop), 0);
}

Test(store_cass_queue, setup_ops_have_their_own_larger_ceiling)
{
    uv_loop_t loop;
    store_t *st = q_open(&loop);
    int total = CS_QUEUE_MAX + CS_SETUP_MAX + 2;
    store_req *reqs = calloc((size_t)total, sizeof(*reqs));
    cr_assert_not_null(reqs);
    struct q_run r = {0};
    int at = 0, refused = 0;

    /* Sends fill the short queue, and the next one is refused busy. */
    cr_assert_eq(q_fill(st, reqs, &at, CS_QUEUE_MAX + 1, STORE_MSG_SEND, &r, &refused),
                 CS_QUEUE_MAX);
    cr_assert_eq(refused, DUET_EBUSY);
    /* A full short queue leaves every setup op its room... */
    cr_assert_eq(q_fill(st, reqs, &at, CS_SETUP_MAX + 1, STORE_SESSION_GET, &r, &refused),
                 CS_SETUP_MAX);
    cr_assert_eq(refused, DUET_EBUSY);
    /* ...of every setup kind alike, and sends stay refused. */
    cr_assert_eq(q_fill(st, reqs, &at, 1, STORE_PENDING_LIST, &r, &refused), 0);
    cr_assert_eq(refused, DUET_EBUSY);
    cr_assert_eq(q_fill(st, reqs, &at, 1, STORE_MSG_ACK, &r, &refused), 0);
    cr_assert_eq(refused, DUET_EBUSY);
    /* Closing completes every accepted request (none ran: no node). */
    q_close(&loop, st, reqs, at, &r);
}

Test(store_cass_queue, setup_ops_leave_the_sends_their_room)
{
    uv_loop_t loop;
    store_t *st = q_open(&loop);
    store_req *reqs = calloc(CS_SETUP_MAX + CS_QUEUE_MAX, sizeof(*reqs));
    cr_assert_not_null(reqs);
    struct q_run r = {0};
    int at = 0, refused = 0;
    cr_assert_eq(q_fill(st, reqs, &at, CS_SETUP_MAX, STORE_USER_GET, &r, &refused), CS_SETUP_MAX);
    cr_assert_eq(refused, 0);
    cr_assert_eq(q_fill(st, reqs, &at, CS_QUEUE_MAX, STORE_MSG_ACK, &r, &refused), CS_QUEUE_MAX);
    cr_assert_eq(refused, 0);
    q_close(&loop, st, reqs, at, &r);
}
