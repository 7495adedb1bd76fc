/* test_store_sqlite_queue.c - the SQLite store's request queue: completion
 * order, submits from callbacks and timers, failed requests and batches,
 * close with requests queued. */
#include "test_store_sqlite.h"

TestSuite(store_sqlite_queue, .init = setup, .fini = teardown, .timeout = 30);

/* Ownership: owned by the test; req is first so a store_req * is a tagged *. */
struct tagged {
    store_req req;
    int id;
    int *log; /* completion order */
    int *n;
    store_t *st;
    struct tagged *then; /* submitted from this one's callback */
    int then_rc;
};

static void on_tagged(store_req *r)
{
    struct tagged *t = (struct tagged *)r;
    t->log[(*t->n)++] = t->id;
    if (t->then != NULL) {
        int before = *t->n;
        t->then_rc = store_submit(t->st, &t->then->req);
        cr_assert_eq(*t->n, before, "callback ran inside submit");
    }
}

static void tag(struct tagged *t, int id, enum store_op o, int *log, int *n)
{
    memset(t, 0, sizeof(*t));
    store_req_init(&t->req, o, on_tagged, NULL);
    t->id = id;
    t->log = log;
    t->n = n;
    t->st = E.st;
    t->req.in.user = E.alice;
    t->req.in.chat_id = E.ab;
    t->req.in.now = T0;
    t->req.in.limit = 10;
}

Test(store_sqlite_queue, fifo_completion_order)
{
    struct tagged t[9];
    int log[16], n = 0;
    char mids[9][16];
    for (int i = 0; i < 9; i++) {
        /* Mixed ops, some failing (carol is no member). */
        tag(&t[i], i, i % 3 == 2 && i < 8 ? STORE_HISTORY : STORE_MSG_SEND, log, &n);
        snprintf(mids[i], sizeof(mids[i]), "m%d", i == 8 ? 3 : i);
        t[i].req.in.message_id = mids[i];
        t[i].req.in.text = "x";
        if (i == 4)
            t[i].req.in.user = E.carol;
    }
    t[7].then = &t[8]; /* a retry of t[3], submitted from a callback */
    for (int i = 0; i < 8; i++)
        cr_assert_eq(store_submit(E.st, &t[i].req), 0);
    cr_assert_eq(n, 0, "no callback inside submit");
    uv_run(&E.loop, UV_RUN_DEFAULT);
    cr_assert_eq(n, 9);
    for (int i = 0; i < 9; i++)
        cr_assert_eq(log[i], i);
    cr_assert_eq(t[7].then_rc, 0);
    cr_assert_eq(t[4].req.status, DUET_EFORBIDDEN);
    cr_assert_eq(t[8].req.status, 0);
    cr_assert_eq(t[8].req.out.duplicate, 1);
    cr_assert_eq(t[8].req.out.msg.sequence, 3);
    /* Each request sees the effects of those submitted before it. */
    cr_assert_eq(t[2].req.out.n_msgs, 2);
    cr_assert_eq(t[5].req.out.n_msgs, 3);
    for (int i = 0; i < 9; i++)
        store_req_reset(&t[i].req);
}

static void on_timer_submit(uv_timer_t *h)
{
    cr_assert_eq(store_submit(E.st, h->data), 0);
}

static void on_timer_late(uv_timer_t *h) {}

static void on_never(uv_poll_t *h, int status, int events)
{
    cr_assert_fail("nothing writes to the pipe");
}

Test(store_sqlite_queue, submit_from_timer_does_not_wait_for_io)
{
    /* Submitted before poll: the idle handle must keep poll from sleeping
     * until the next timer (a fd keeps poll from returning at once). */
    uv_timer_t t1, t2;
    uv_poll_t p;
    uv_os_fd_t fds[2];
    store_req *r = op(STORE_USER_GET);
    r->in.user = E.bob;
    cr_assert_eq(uv_pipe(fds, 0, 0), 0);
    cr_assert_eq(uv_poll_init(&E.loop, &p, fds[0]), 0);
    cr_assert_eq(uv_poll_start(&p, UV_READABLE, on_never), 0);
    cr_assert_eq(uv_timer_init(&E.loop, &t1), 0);
    cr_assert_eq(uv_timer_init(&E.loop, &t2), 0);
    t1.data = r;
    cr_assert_eq(uv_timer_start(&t1, on_timer_submit, 0, 0), 0);
    cr_assert_eq(uv_timer_start(&t2, on_timer_late, 2000, 0), 0);
    uint64_t start = uv_hrtime();
    while (*(int *)r->data == 0)
        uv_run(&E.loop, UV_RUN_ONCE);
    cr_assert_lt(uv_hrtime() - start, 1000000000ULL, "the request waited for the next timer");
    cr_assert_eq(r->status, 0);
    done(r);
    uv_close((uv_handle_t *)&t1, NULL);
    uv_close((uv_handle_t *)&t2, NULL);
    uv_close((uv_handle_t *)&p, NULL);
    uv_run(&E.loop, UV_RUN_DEFAULT);
    close(fds[0]);
    close(fds[1]);
}

Test(store_sqlite_queue, failed_request_changed_nothing)
{
    /* A trigger makes the pending insert of a "boom" message fail after the
     * message row was written. */
    cr_assert_eq(sqlite3_exec(store_db(E.st),
                              "CREATE TRIGGER boom BEFORE INSERT ON pending"
                              " WHEN new.message = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    const char *texts[3] = {"a", "boom", "b"};
    const char *mids[3] = {"m1", "m2", "m3"};
    store_req *r[3];
    for (int i = 0; i < 3; i++) {
        r[i] = op(STORE_MSG_SEND);
        r[i]->in.user = E.alice;
        r[i]->in.chat_id = E.ab;
        r[i]->in.message_id = mids[i];
        r[i]->in.text = texts[i];
        r[i]->in.now = T0 + i;
        cr_assert_eq(store_submit(E.st, r[i]), 0);
    }
    uv_run(&E.loop, UV_RUN_DEFAULT);
    cr_assert_eq(r[0]->status, 0);
    cr_assert_eq(r[1]->status, DUET_ESTORE);
    cr_assert_eq(r[1]->out.msg.message, NULL);
    cr_assert_eq(r[2]->status, 0);
    cr_assert_eq(r[2]->out.msg.sequence, 2, "no gap left by the failed send");
    for (int i = 0; i < 3; i++)
        done(r[i]);

    store_req *h = history(E.bob, E.ab, 0, -1, 10);
    cr_assert_eq(h->out.n_msgs, 2);
    cr_assert_str_eq(h->out.msgs[1].message_id, "m3");
    done(h);
    int64_t seq;
    cr_assert_eq(send_msg(E.alice, E.ab, "m2", "fine", T0 + 9, &seq), 0);
    cr_assert_eq(seq, 3, "m2 was never stored");
    h = pending(E.bob);
    cr_assert_eq(h->out.n_pending, 3);
    done(h);
}

Test(store_sqlite_queue, commit_failure_fails_the_batch)
{
    /* A deferred foreign key violation fails only at COMMIT. */
    cr_assert_eq(sqlite3_exec(store_db(E.st),
                              "PRAGMA foreign_keys=ON;"
                              "CREATE TABLE p (id INTEGER PRIMARY KEY);"
                              "CREATE TABLE c (x INTEGER REFERENCES p (id)"
                              " DEFERRABLE INITIALLY DEFERRED);"
                              "CREATE TRIGGER bad AFTER INSERT ON users WHEN new.username = 'bad'"
                              " BEGIN INSERT INTO c VALUES (1); END",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    const char *names[2] = {"dave", "bad"};
    store_req *r[2];
    for (int i = 0; i < 2; i++) {
        r[i] = op(STORE_USER_CREATE);
        r[i]->in.username = names[i];
        r[i]->in.pwhash = "h";
        cr_assert_eq(store_submit(E.st, r[i]), 0);
    }
    uv_run(&E.loop, UV_RUN_DEFAULT);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(r[i]->status, DUET_ESTORE);
        cr_assert_null(r[i]->out.user.username, "results are cleared");
        cr_assert_str_eq(r[i]->in.username, names[i], "in is kept");
        done(r[i]);
    }
    store_req *g = op(STORE_USER_GET_BY_NAME);
    g->in.username = "dave";
    cr_assert_eq(run(g), DUET_ENOTFOUND);
    done(g);
    mkuser("dave"); /* the next batch works */
}

Test(store_sqlite_queue, close_completes_queued_requests)
{
    store_req *r[3];
    for (int i = 0; i < 3; i++) {
        r[i] = op(STORE_USER_GET);
        r[i]->in.user = E.carol;
        cr_assert_eq(store_submit(E.st, r[i]), 0);
    }
    store_close(E.st);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(*(int *)r[i]->data, 1, "callbacks run inside close");
        cr_assert_eq(r[i]->status, 0);
        done(r[i]);
    }
    uv_run(&E.loop, UV_RUN_DEFAULT); /* the handles close and free the store */

    /* Everything committed survives a reopen. */
    E.st = open_store();
    store_req *g = op(STORE_USER_GET_BY_NAME);
    g->in.username = "carol";
    cr_assert_eq(run(g), 0);
    done(g);
    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(E.path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), (int)sq_migrations_count, "every migration ran");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

Test(store_sqlite_queue, no_state_cached_between_processes)
{
    /* Two stores on one file stand for two duetd processes. */
    store_t *other = open_store();
    int64_t seq;
    cr_assert_eq(send_msg(E.alice, E.ab, "m1", "x", T0, &seq), 0);
    store_req *r = op(STORE_MSG_SEND);
    r->in.user = E.bob;
    r->in.chat_id = E.ab;
    r->in.message_id = "m2";
    r->in.text = "y";
    cr_assert_eq(run_on(other, r), 0);
    cr_assert_eq(r->out.msg.sequence, 2);
    done(r);
    cr_assert_eq(send_msg(E.alice, E.ab, "m3", "z", T0, &seq), 0);
    cr_assert_eq(seq, 3);
    close_store(other);
}
