/* Unit tests of the Cassandra store's scheduler (cass_sched.c's wait
 * lists): cases, a randomised comparison with the old pairwise rule (the
 * scan cass.c did before, re-implemented here), and a printed measurement
 * of what a completion costs with a full queue, old and new. The keys
 * themselves are tested in test_store_cass.c's cass_sched suite. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/store/cassandra/cass_int.h"

static void lists_init(void)
{
    cr_assert(sodium_init() >= 0);
}

TestSuite(store_cass_sched_lists, .init = lists_init);

/* ---- the scheduler's lists (cs_sched_*) ---- */

/* A queue as cass_queue.c keeps it, around the scheduler: ops linked in
 * submission order, finished ones removed from the head only. */
struct hq {
    struct cs_sched sc;
    cs_op *head, *tail;
    int n;
};

static void hq_init(struct hq *h)
{
    memset(h, 0, sizeof(*h));
    cr_assert_eq(cs_sched_init(&h->sc), 0);
}

static cs_op *hq_link(struct hq *h, int barrier, int nkeys, const duet_id *keys)
{
    cs_op *op = calloc(1, sizeof(*op));
    cr_assert_not_null(op);
    op->barrier = barrier;
    op->nkeys = nkeys;
    if (nkeys > 0)
        memcpy(op->keys, keys, sizeof(*keys) * (size_t)nkeys);
    op->state = CS_QUEUED;
    if (h->tail != NULL)
        h->tail->next = op;
    else
        h->head = op;
    h->tail = op;
    h->n++;
    return op;
}

static cs_op *hq_add(struct hq *h, int barrier, int nkeys, const duet_id *keys)
{
    cs_op *op = hq_link(h, barrier, nkeys, keys);
    cs_sched_add(&h->sc, op);
    return op;
}

static void hq_pop_done(struct hq *h)
{
    cs_op *op;
    while ((op = h->head) != NULL && op->state == CS_DONE) {
        h->head = op->next;
        if (h->head == NULL)
            h->tail = NULL;
        h->n--;
        free(op);
    }
}

/* Marks running what the scheduler hands out; returns how many. */
static int hq_start(struct hq *h)
{
    int n = 0;
    cs_op *op;
    while ((op = cs_sched_next(&h->sc)) != NULL) {
        cr_assert_eq(op->state, CS_QUEUED, "an op handed out twice");
        op->state = CS_RUNNING;
        n++;
    }
    return n;
}

static void hq_finish(struct hq *h, cs_op *op)
{
    cr_assert_eq(op->state, CS_RUNNING);
    op->state = CS_DONE;
    cs_sched_done(&h->sc, op);
    hq_pop_done(h);
}

/* Finishes everything, then checks that the scheduler holds nothing. */
static void hq_fini(struct hq *h)
{
    hq_start(h);
    while (h->head != NULL) {
        cs_op *op = h->head;
        while (op->state != CS_RUNNING)
            op = op->next;
        hq_finish(h, op);
        hq_start(h);
    }
    cr_assert_eq(h->sc.keys.count, 0, "a wait list outlived its ops");
    cr_assert_null(h->sc.gate);
    cr_assert_eq(h->sc.open, 0);
    cs_sched_free(&h->sc);
}

/* The old rule (cass.c before the lists): op may start when no earlier
 * unfinished op conflicts with it. */
static int ref_may_start(const struct hq *h, const cs_op *op)
{
    for (const cs_op *e = h->head; e != op; e = e->next)
        if (e->state != CS_DONE && cs_conflict(e, op))
            return 0;
    return 1;
}

/* The old scheduler itself, window included, for the measurement. */
static int old_schedule(struct hq *h, int window)
{
    int scanned = 0, started = 0;
    for (cs_op *op = h->head; op != NULL && scanned < window; op = op->next, scanned++) {
        if (op->state != CS_QUEUED)
            continue;
        int blocked = 0, earlier = 0;
        for (cs_op *e = h->head; e != op; e = e->next) {
            if (e->state == CS_DONE)
                continue;
            earlier = 1;
            if (cs_conflict(e, op)) {
                blocked = 1;
                break;
            }
        }
        if (op->barrier && earlier)
            return started;
        if (!blocked) {
            op->state = CS_RUNNING;
            started++;
        }
    }
    return started;
}

static duet_id K[8];

static void keys_init(void)
{
    for (size_t i = 0; i < sizeof(K) / sizeof(K[0]); i++)
        duet_id_random(&K[i]);
}

Test(store_cass_sched_lists, a_chain_on_one_key_runs_one_at_a_time_in_order)
{
    struct hq h;
    hq_init(&h);
    keys_init();
    cs_op *ops[5];
    for (int i = 0; i < 5; i++)
        ops[i] = hq_add(&h, 0, 1, &K[0]);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(hq_start(&h), 1, "step %d", i);
        cr_assert_eq(ops[i]->state, CS_RUNNING, "op %d runs", i);
        for (int j = i + 1; j < 5; j++)
            cr_assert_eq(ops[j]->state, CS_QUEUED);
        hq_finish(&h, ops[i]);
    }
    hq_fini(&h);
}

Test(store_cass_sched_lists, independent_keys_run_in_parallel)
{
    struct hq h;
    hq_init(&h);
    keys_init();
    for (int i = 0; i < 5; i++)
        hq_add(&h, 0, 1, &K[i]);
    cr_assert_eq(hq_start(&h), 5);
    /* A sixth on a busy key waits; one on a fresh key does not. */
    cs_op *busy = hq_add(&h, 0, 1, &K[2]);
    cs_op *fresh = hq_add(&h, 0, 1, &K[5]);
    cr_assert_eq(hq_start(&h), 1);
    cr_assert_eq(busy->state, CS_QUEUED);
    cr_assert_eq(fresh->state, CS_RUNNING);
    hq_fini(&h);
}

Test(store_cass_sched_lists, a_barrier_in_the_middle_waits_for_all_before_and_holds_all_after)
{
    struct hq h;
    hq_init(&h);
    keys_init();
    cs_op *a = hq_add(&h, 0, 1, &K[0]);
    cs_op *b = hq_add(&h, 0, 1, &K[1]);
    cs_op *bar = hq_add(&h, 1, 0, NULL);
    cs_op *c = hq_add(&h, 0, 1, &K[2]); /* shares nothing, still waits */
    cs_op *d = hq_add(&h, 0, 1, &K[0]);
    cs_op *bar2 = hq_add(&h, 1, 0, NULL);
    cs_op *bar3 = hq_add(&h, 1, 0, NULL);
    cs_op *e = hq_add(&h, 0, 1, &K[3]);
    cr_assert_eq(hq_start(&h), 2);
    cr_assert(a->state == CS_RUNNING && b->state == CS_RUNNING);
    hq_finish(&h, b);
    cr_assert_eq(hq_start(&h), 0, "the barrier waits for a");
    hq_finish(&h, a);
    cr_assert_eq(hq_start(&h), 1);
    cr_assert_eq(bar->state, CS_RUNNING);
    hq_finish(&h, bar);
    cr_assert_eq(hq_start(&h), 2);
    cr_assert(c->state == CS_RUNNING && d->state == CS_RUNNING);
    hq_finish(&h, d);
    cr_assert_eq(hq_start(&h), 0, "the second barrier waits for c");
    hq_finish(&h, c);
    cr_assert_eq(hq_start(&h), 1);
    cr_assert_eq(bar2->state, CS_RUNNING);
    hq_finish(&h, bar2);
    cr_assert_eq(hq_start(&h), 1, "barriers in a row run one by one");
    cr_assert_eq(bar3->state, CS_RUNNING);
    cr_assert_eq(e->state, CS_QUEUED);
    hq_finish(&h, bar3);
    cr_assert_eq(hq_start(&h), 1);
    cr_assert_eq(e->state, CS_RUNNING);
    hq_fini(&h);
}

Test(store_cass_sched_lists, four_keys_wait_on_two_different_earlier_ops)
{
    struct hq h;
    hq_init(&h);
    keys_init();
    cs_op *a = hq_add(&h, 0, 1, &K[0]);
    cs_op *b = hq_add(&h, 0, 1, &K[1]);
    cs_op *c = hq_add(&h, 0, 4, &K[0]); /* K[0..3] */
    cs_op *d = hq_add(&h, 0, 1, &K[3]); /* behind c */
    cs_op *e = hq_add(&h, 0, 1, &K[4]);
    cr_assert_eq(hq_start(&h), 3);
    cr_assert(a->state == CS_RUNNING && b->state == CS_RUNNING && e->state == CS_RUNNING);
    hq_finish(&h, a);
    cr_assert_eq(hq_start(&h), 0, "c still waits for b");
    hq_finish(&h, b);
    cr_assert_eq(hq_start(&h), 1);
    cr_assert_eq(c->state, CS_RUNNING);
    cr_assert_eq(d->state, CS_QUEUED);
    hq_finish(&h, c);
    cr_assert_eq(hq_start(&h), 1);
    cr_assert_eq(d->state, CS_RUNNING);
    hq_fini(&h);
}

Test(store_cass_sched_lists, a_message_op_whose_user_is_a_member_does_not_wait_for_itself)
{
    duet_id a, b, c, chat;
    duet_id_random(&a);
    duet_id_random(&b);
    duet_id_random(&c);
    duet_chat_id(&a, &b, &chat);
    cs_store s;
    memset(&s, 0, sizeof(s));
    cr_assert_eq(map_init(&s.members), 0);
    cs_members_put(&s, &chat, &a, &b);
    struct hq h;
    hq_init(&h);
    store_req r;
    memset(&r, 0, sizeof(r));
    r.op = STORE_MSG_SEND;
    r.in.user = a;
    r.in.chat_id = chat;
    cs_op *send = hq_link(&h, 0, 0, NULL);
    send->req = &r;
    cs_keys(&s, send);
    cr_assert_eq(send->nkeys, 4); /* a, chat, a, b */
    cs_sched_add(&h.sc, send);
    cr_assert_eq(hq_start(&h), 1);
    cr_assert_eq(h.sc.keys.count, 3);
    /* b's own read waits for the send, c's does not. */
    cs_op *rb = hq_add(&h, 0, 1, &b);
    cs_op *rc = hq_add(&h, 0, 1, &c);
    cr_assert_eq(hq_start(&h), 1);
    cr_assert(rb->state == CS_QUEUED && rc->state == CS_RUNNING);
    hq_fini(&h);
    cs_members_clear(&s);
    map_free(&s.members);
}

/* A small PRNG, so that a failing sequence can be replayed from its seed. */
static uint64_t rnd(uint64_t *st)
{
    *st ^= *st << 13;
    *st ^= *st >> 7;
    *st ^= *st << 17;
    return *st;
}

/* Every op handed out is one the old rule lets start, and once the lists
 * have nothing more to hand out, the old rule lets no queued op start. */
static void check_against_ref(struct hq *h, uint64_t seed, int step)
{
    cs_op *op;
    while ((op = cs_sched_next(&h->sc)) != NULL) {
        cr_assert_eq(op->state, CS_QUEUED, "seed %lu step %d: handed out twice",
                     (unsigned long)seed, step);
        cr_assert(ref_may_start(h, op), "seed %lu step %d: started too early", (unsigned long)seed,
                  step);
        op->state = CS_RUNNING;
    }
    for (op = h->head; op != NULL; op = op->next)
        if (op->state == CS_QUEUED)
            cr_assert_not(ref_may_start(h, op), "seed %lu step %d: held back", (unsigned long)seed,
                          step);
}

static void random_sequence(uint64_t seed)
{
    uint64_t st = seed * 0x9E3779B97F4A7C15ULL + 1;
    struct hq h;
    hq_init(&h);
    int nk = 1 + (int)(rnd(&st) % 8);     /* key pool: 1..8 */
    int bar_pct = (int)(rnd(&st) % 25);   /* barriers: 0..24 % */
    int max_q = 1 + (int)(rnd(&st) % 40); /* queue length: 1..40 */
    int submit_pct = 30 + (int)(rnd(&st) % 50);
    for (int step = 0; step < 300; step++) {
        int n_running = 0;
        for (cs_op *op = h.head; op != NULL; op = op->next)
            n_running += op->state == CS_RUNNING;
        if (h.n < max_q && ((int)(rnd(&st) % 100) < submit_pct || n_running == 0)) {
            duet_id keys[CS_KEYS_MAX];
            int n = (int)(rnd(&st) % (CS_KEYS_MAX + 1)); /* 0..4, repeats allowed */
            for (int i = 0; i < n; i++)
                keys[i] = K[rnd(&st) % (uint64_t)nk];
            hq_add(&h, (int)(rnd(&st) % 100) < bar_pct, n, keys);
        } else if (n_running > 0) {
            int pick = (int)(rnd(&st) % (uint64_t)n_running);
            cs_op *op = h.head;
            for (;; op = op->next)
                if (op->state == CS_RUNNING && pick-- == 0)
                    break;
            hq_finish(&h, op);
        }
        check_against_ref(&h, seed, step);
    }
    hq_fini(&h);
}

Test(store_cass_sched_lists, random_sequences_match_the_old_rule)
{
    keys_init();
    for (uint64_t seed = 1; seed <= 3000; seed++)
        random_sequence(seed);
}

/* ---- cost: one completion and one submission with 2,048 queued ---- */

/* Prints (never asserts) the median time of finishing a running op and
 * refilling the queue to CS_QUEUE_MAX, scheduling after each, with the old
 * scan (its window of 512) and with the lists (CS_RUN_MAX running at most,
 * as cass_queue.c). The load: message ops on 1,000 chats among 1,000 users, and
 * one op in five a user's own read. The op that finishes is the oldest
 * running one (round trips of equal length: the queue is mostly waiting
 * ops) or a random running one (finished ops then wait for their turn). */
TestSuite(store_cass_sched_cost);

#define COST_USERS  1000
#define COST_WINDOW 512 /* the old CS_SCHED_WINDOW */

struct cost {
    struct hq h;
    int lists;  /* 1: cs_sched_*, 0: old_schedule */
    int oldest; /* 1: the oldest running op finishes, 0: a random one */
    int running, waiting;
    uint64_t st;
    duet_id users[COST_USERS], chats[COST_USERS][3]; /* chat, a, b */
};

static void cost_submit(struct cost *c)
{
    duet_id keys[CS_KEYS_MAX];
    int n;
    uint64_t r = rnd(&c->st);
    if (r % 5 == 0) {
        keys[0] = c->users[(r >> 8) % COST_USERS];
        n = 1;
    } else {
        const duet_id *ch = c->chats[(r >> 8) % COST_USERS];
        keys[0] = ch[1 + (r >> 32) % 2]; /* the sender */
        keys[1] = ch[0];
        keys[2] = ch[1];
        keys[3] = ch[2];
        n = 4;
    }
    cs_op *op = hq_link(&c->h, 0, n, keys);
    c->waiting++;
    if (c->lists)
        cs_sched_add(&c->h.sc, op);
}

static void cost_schedule(struct cost *c)
{
    int n = 0;
    if (!c->lists) {
        n = old_schedule(&c->h, COST_WINDOW);
    } else {
        cs_op *op;
        while (c->running + n < CS_RUN_MAX && (op = cs_sched_next(&c->h.sc)) != NULL) {
            op->state = CS_RUNNING;
            n++;
        }
    }
    c->running += n;
    c->waiting -= n;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    cr_assert_eq(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static cs_op *cost_pick(struct cost *c)
{
    cr_assert_gt(c->running, 0);
    int pick = c->oldest ? 0 : (int)(rnd(&c->st) % (uint64_t)c->running);
    for (cs_op *op = c->h.head;; op = op->next)
        if (op->state == CS_RUNNING && pick-- == 0)
            return op;
}

/* Runs rounds rounds; prints and returns the median in µs. */
static double cost_run(struct cost *c, int rounds)
{
    int64_t *t = calloc((size_t)rounds, sizeof(*t));
    cr_assert_not_null(t);
    double run_sum = 0, wait_sum = 0;
    while (c->h.n < CS_QUEUE_MAX)
        cost_submit(c);
    cost_schedule(c);
    for (int i = 0; i < rounds; i++) {
        cs_op *op = cost_pick(c); /* untimed */
        run_sum += c->running;
        wait_sum += c->waiting;
        int64_t t0 = now_ns();
        op->state = CS_DONE;
        c->running--;
        if (c->lists)
            cs_sched_done(&c->h.sc, op);
        hq_pop_done(&c->h);
        cost_schedule(c);
        while (c->h.n < CS_QUEUE_MAX)
            cost_submit(c);
        cost_schedule(c);
        t[i] = now_ns() - t0;
    }
    qsort(t, (size_t)rounds, sizeof(*t), cmp_i64);
    double med = (double)t[rounds / 2] / 1000;
    free(t);
    fprintf(stderr,
            "cass_sched cost, %d queued, %s running op finishes: %s: median %.2f us per "
            "completion + refill (%d rounds; on average %.0f running, %.0f waiting)\n",
            CS_QUEUE_MAX, c->oldest ? "oldest" : "random",
            c->lists ? "wait lists" : "old scan (window 512)", med, rounds, run_sum / rounds,
            wait_sum / rounds);
    return med;
}

static void cost_init(struct cost *c, int lists, int oldest)
{
    memset(c, 0, sizeof(*c));
    hq_init(&c->h);
    c->lists = lists;
    c->oldest = oldest;
    c->st = 42;
    for (int i = 0; i < COST_USERS; i++)
        duet_id_random(&c->users[i]);
    for (int i = 0; i < COST_USERS; i++) {
        const duet_id *a = &c->users[i], *b = &c->users[rnd(&c->st) % COST_USERS];
        duet_chat_id(a, b, &c->chats[i][0]);
        c->chats[i][1] = *a;
        c->chats[i][2] = *b;
    }
}

static void cost_fini(struct cost *c)
{
    if (c->lists && c->running < CS_RUN_MAX) {
        /* Even at this size the lists held back nothing the rule allows. */
        for (cs_op *op = c->h.head; op != NULL; op = op->next)
            if (op->state == CS_QUEUED)
                cr_assert_not(ref_may_start(&c->h, op));
    }
    for (cs_op *op = c->h.head; op != NULL; op = op->next)
        op->state = CS_DONE;
    hq_pop_done(&c->h);
    cs_sched_free(&c->h.sc); /* frees the lists left */
}

Test(store_cass_sched_cost, completion_and_submission_with_2048_queued, .timeout = 300)
{
    cr_assert(sodium_init() >= 0);
    struct cost *c = malloc(sizeof(*c));
    cr_assert_not_null(c);
    for (int oldest = 1; oldest >= 0; oldest--) {
        for (int lists = 0; lists <= 1; lists++) {
            cost_init(c, lists, oldest);
            cost_run(c, lists ? 20000 : 200);
            cr_assert_eq(c->h.n, CS_QUEUE_MAX);
            cost_fini(c);
        }
    }
    free(c);
}
