/* Unit tests of the Cassandra store's pure parts: bucket math, scans over
 * buckets, and which requests may run at once (cass_sched.c's keys; its
 * wait lists are in test_store_cass_sched.c). */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "../../src/store/cassandra/cass_int.h"

TestSuite(store_cass_bucket);

Test(store_cass_bucket, sequences_map_to_fixed_size_buckets)
{
    cr_assert_eq(cs_bucket(1), 0);
    cr_assert_eq(cs_bucket(CS_BUCKET), 0);
    cr_assert_eq(cs_bucket(CS_BUCKET + 1), 1);
    cr_assert_eq(cs_bucket(2 * CS_BUCKET), 1);
    cr_assert_eq(cs_bucket(2 * CS_BUCKET + 1), 2);
    /* 0 (no message) and nonsense stay in the first bucket. */
    cr_assert_eq(cs_bucket(0), 0);
    cr_assert_eq(cs_bucket(-5), 0);
}

/* Walks a scan the way an op does, pretending every bucket is read whole
 * (fewer rows than asked), and records the buckets visited. */
static int walk(struct cs_scan *sc, int64_t *out, int max)
{
    int n = 0;
    int64_t b;
    while ((b = cs_scan_bucket(sc)) >= 0 && n < max) {
        out[n++] = b;
        sc->b += sc->asc ? 1 : -1;
    }
    return n;
}

Test(store_cass_bucket, ascending_scan_visits_buckets_of_the_range_upwards)
{
    duet_id chat = {{0}};
    struct cs_scan sc;
    int64_t seen[8];
    cs_scan_init(&sc, &chat, CS_BUCKET - 1, 2 * CS_BUCKET + 5, 1);
    int n = walk(&sc, seen, 8);
    cr_assert_eq(n, 3);
    cr_assert_eq(seen[0], 0);
    cr_assert_eq(seen[1], 1);
    cr_assert_eq(seen[2], 2);
}

Test(store_cass_bucket, ascending_scan_starts_after_lo)
{
    duet_id chat = {{0}};
    struct cs_scan sc;
    int64_t seen[8];
    /* lo = CS_BUCKET: the first sequence wanted is the first of bucket 1. */
    cs_scan_init(&sc, &chat, CS_BUCKET, CS_BUCKET + 3, 1);
    int n = walk(&sc, seen, 8);
    cr_assert_eq(n, 1);
    cr_assert_eq(seen[0], 1);
}

Test(store_cass_bucket, descending_scan_visits_buckets_downwards)
{
    duet_id chat = {{0}};
    struct cs_scan sc;
    int64_t seen[8];
    cs_scan_init(&sc, &chat, 0, 2 * CS_BUCKET + 1, 0);
    int n = walk(&sc, seen, 8);
    cr_assert_eq(n, 3);
    cr_assert_eq(seen[0], 2);
    cr_assert_eq(seen[1], 1);
    cr_assert_eq(seen[2], 0);
}

Test(store_cass_bucket, empty_ranges_read_nothing)
{
    duet_id chat = {{0}};
    struct cs_scan sc;
    cs_scan_init(&sc, &chat, 5, 5, 1);
    cr_assert_eq(cs_scan_bucket(&sc), -1);
    cs_scan_init(&sc, &chat, 0, 0, 0);
    cr_assert_eq(cs_scan_bucket(&sc), -1);
    cs_scan_init(&sc, &chat, 7, 3, 0);
    cr_assert_eq(cs_scan_bucket(&sc), -1);
}

/* ---- conflict keys ---- */

static cs_store sched_store;

static void sched_init(void)
{
    cr_assert(sodium_init() >= 0);
    memset(&sched_store, 0, sizeof(sched_store));
    cr_assert_eq(map_init(&sched_store.members), 0);
}

static void sched_fini(void)
{
    cs_members_clear(&sched_store);
    map_free(&sched_store.members);
}

TestSuite(store_cass_sched, .init = sched_init, .fini = sched_fini);

static void mk(cs_op *op, store_req *req, enum store_op kind, const duet_id *user,
               const duet_id *chat)
{
    memset(op, 0, sizeof(*op));
    memset(req, 0, sizeof(*req));
    req->op = kind;
    if (user != NULL)
        req->in.user = *user;
    if (chat != NULL)
        req->in.chat_id = *chat;
    op->req = req;
    cs_keys(&sched_store, op);
}

static void ids(duet_id *a, duet_id *b, duet_id *c, duet_id *chat)
{
    duet_id_random(a);
    duet_id_random(b);
    duet_id_random(c);
    duet_chat_id(a, b, chat);
}

Test(store_cass_sched, message_op_on_an_unknown_chat_is_a_barrier)
{
    duet_id a, b, c, chat;
    ids(&a, &b, &c, &chat);
    cs_op op, other;
    store_req r1, r2;
    mk(&op, &r1, STORE_MSG_SEND, &a, &chat);
    cr_assert(op.barrier);
    mk(&other, &r2, STORE_USER_GET, &c, NULL);
    cr_assert(cs_conflict(&op, &other));
}

Test(store_cass_sched, known_chat_conflicts_with_both_members_only)
{
    duet_id a, b, c, chat;
    ids(&a, &b, &c, &chat);
    cs_members_put(&sched_store, &chat, &a, &b);
    cs_op send, pend_b, pend_c;
    store_req r1, r2, r3;
    mk(&send, &r1, STORE_MSG_SEND, &a, &chat);
    cr_assert_not(send.barrier);
    /* The receiver's backlog read must see the message. */
    mk(&pend_b, &r2, STORE_PENDING_LIST, &b, NULL);
    cr_assert(cs_conflict(&send, &pend_b));
    /* A stranger's does not wait for it. */
    mk(&pend_c, &r3, STORE_PENDING_LIST, &c, NULL);
    cr_assert_not(cs_conflict(&send, &pend_c));
}

Test(store_cass_sched, friend_ops_and_settings_are_barriers)
{
    duet_id a, b, c, chat;
    ids(&a, &b, &c, &chat);
    cs_op op, other;
    store_req r1, r2;
    static const enum store_op barriers[] = {STORE_FRIEND_REQUEST, STORE_FRIEND_ACCEPT,
                                             STORE_BLOCK,          STORE_UNBLOCK,
                                             STORE_USER_UPDATE,    STORE_USER_SET_PASSWORD};
    for (size_t i = 0; i < sizeof(barriers) / sizeof(barriers[0]); i++) {
        mk(&op, &r1, barriers[i], &a, NULL);
        cr_assert(op.barrier, "op %s", store_op_name(barriers[i]));
        mk(&other, &r2, STORE_USER_GET, &c, NULL);
        cr_assert(cs_conflict(&other, &op));
    }
}

Test(store_cass_sched, same_name_conflicts_other_names_do_not)
{
    cs_op x, y, z;
    store_req r1, r2, r3;
    mk(&x, &r1, STORE_USER_CREATE, NULL, NULL);
    r1.in.username = "alice";
    cs_keys(&sched_store, &x);
    mk(&y, &r2, STORE_USER_GET_BY_NAME, NULL, NULL);
    r2.in.username = "alice";
    cs_keys(&sched_store, &y);
    mk(&z, &r3, STORE_USER_GET_BY_NAME, NULL, NULL);
    r3.in.username = "bob";
    cs_keys(&sched_store, &z);
    cr_assert(cs_conflict(&x, &y));
    cr_assert_not(cs_conflict(&x, &z));
}

Test(store_cass_sched, sessions_conflict_by_token)
{
    duet_id a, b, c, chat;
    ids(&a, &b, &c, &chat);
    cs_op x, y, z;
    store_req r1, r2, r3;
    mk(&x, &r1, STORE_SESSION_CREATE, &a, NULL);
    memset(r1.in.token_hash, 1, 32);
    cs_keys(&sched_store, &x);
    mk(&y, &r2, STORE_SESSION_GET, NULL, NULL);
    memset(r2.in.token_hash, 1, 32);
    cs_keys(&sched_store, &y);
    mk(&z, &r3, STORE_SESSION_GET, NULL, NULL);
    memset(r3.in.token_hash, 2, 32);
    cs_keys(&sched_store, &z);
    cr_assert(cs_conflict(&x, &y));
    cr_assert_not(cs_conflict(&x, &z));
    /* The user's own reads wait for its new session too. */
    cs_op u;
    store_req r4;
    mk(&u, &r4, STORE_USER_GET, &a, NULL);
    cr_assert(cs_conflict(&x, &u));
}

/* ---- void markers (docs/cassandra.md "Holes") ---- */

TestSuite(store_cass_void);

/* One CS_MSG_COLS row whose type cell (column 4) is *type, or null. */
static void void_row(struct cql_cell cells[CS_MSG_NCOLS], uint8_t buf[4], const int32_t *type)
{
    memset(cells, 0, sizeof(struct cql_cell) * CS_MSG_NCOLS);
    for (int i = 0; i < CS_MSG_NCOLS; i++)
        cells[i].len = -1;
    if (type != NULL) {
        uint32_t v = (uint32_t)*type;
        buf[0] = (uint8_t)(v >> 24), buf[1] = (uint8_t)(v >> 16);
        buf[2] = (uint8_t)(v >> 8), buf[3] = (uint8_t)v;
        cells[4].value = buf;
        cells[4].len = 4;
    }
}

Test(store_cass_void, only_type_minus_one_is_a_void_marker)
{
    struct cql_cell cells[CS_MSG_NCOLS];
    uint8_t buf[4];
    struct cql_rows r = {.n_cols = CS_MSG_NCOLS, .n_rows = 1, .cells = cells};
    int32_t t = CS_TYPE_VOID;
    void_row(cells, buf, &t);
    cr_assert(cs_row_void(&r, 0, 0));
    t = 0;
    void_row(cells, buf, &t);
    cr_assert_not(cs_row_void(&r, 0, 0), "a text message");
    t = 2;
    void_row(cells, buf, &t);
    cr_assert_not(cs_row_void(&r, 0, 0), "a video message");
    void_row(cells, buf, NULL);
    cr_assert_not(cs_row_void(&r, 0, 0), "no type cell");
}

Test(store_cass_void, the_bound_is_ten_request_timeouts)
{
    cs_store s;
    memset(&s, 0, sizeof(s));
    s.timeout_ms = 2500;
    cr_assert_eq(cs_void_age_us(&s), 10 * 2500 * 1000LL);
    s.timeout_ms = 0; /* the driver's default */
    cr_assert_eq(cs_void_age_us(&s), 10 * 12000 * 1000LL);
}
