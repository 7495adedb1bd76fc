/* test_store_sqlite_writer.c - the SQLite store's writer thread: the group
 * commit window, read-only batches, the loop turning while a commit runs,
 * checkpoints on the helper thread, the ceiling on outstanding requests,
 * and the checkpoint that erases a deleted text from the WAL. */
#include "test_store_sqlite.h"

#include <stdint.h>
#include <sys/stat.h>

TestSuite(store_sqlite_writer, .init = setup, .fini = teardown, .timeout = 30);

/* ---- group commit window ---- */

struct window_ctx {
    store_req *b, *c;
    uv_idle_t idle; /* counts loop turns after a's callback */
    int turns;
    int a_done;
};

static int count_commit(void *p)
{
    (*(int *)p)++;
    return 0; /* let it commit */
}

/* Idle callbacks run once a loop turn, before that turn's commit check: the
 * second one comes after b has had a whole turn to commit, and submits c. */
static void window_turn(uv_idle_t *h)
{
    struct window_ctx *w = h->data;
    if (++w->turns < 2)
        return;
    cr_assert_eq(*(int *)w->b->data, 0, "b completed before its window ended");
    cr_assert_eq(store_submit(E.st, w->c), 0);
    cr_assert_eq(uv_idle_stop(h), 0);
}

/* a's callback: the store just committed, so b (submitted now) and c (a
 * loop turn later) fall in the window and share one commit. */
static void window_a_done(store_req *r)
{
    struct window_ctx *w = r->data;
    w->a_done = 1;
    cr_assert_eq(store_submit(E.st, w->b), 0);
    cr_assert_eq(uv_idle_init(&E.loop, &w->idle), 0);
    w->idle.data = w;
    cr_assert_eq(uv_idle_start(&w->idle, window_turn), 0);
}

Test(store_sqlite_writer, commit_window_batches_loop_turns)
{
    close_store(E.st);
    /* A long window, so that the test does not depend on the machine's
     * speed: c is submitted one loop turn after b. */
    struct store_sqlite_opts o = {
        .path = E.path, .sync_full = 0, .cache_kib = 8192, .commit_window_ms = 1000};
    E.st = NULL;
    cr_assert_eq(store_sqlite_open(&E.loop, &o, &E.st), 0);
    int commits = 0;
    sqlite3_commit_hook(store_db(E.st), count_commit, &commits);

    struct window_ctx w = {0};
    store_req a;
    store_req_init(&a, STORE_MSG_SEND, window_a_done, &w);
    a.in.user = E.alice;
    a.in.chat_id = E.ab;
    a.in.message_id = "wa";
    a.in.text = "a";
    a.in.now = T0;
    w.b = op(STORE_MSG_SEND);
    w.b->in.user = E.bob;
    w.b->in.chat_id = E.ab;
    w.b->in.message_id = "wb";
    w.b->in.text = "b";
    w.b->in.now = T0;
    w.c = op(STORE_MSG_SEND);
    w.c->in.user = E.alice;
    w.c->in.chat_id = E.ab;
    w.c->in.message_id = "wc";
    w.c->in.text = "c";
    w.c->in.now = T0;

    /* An idle store commits at once: a completes well before the window
     * (1 s) would have ended. */
    uint64_t start = uv_hrtime();
    cr_assert_eq(store_submit(E.st, &a), 0);
    while (!w.a_done)
        uv_run(&E.loop, UV_RUN_ONCE);
    cr_assert_lt(uv_hrtime() - start, 900000000ULL, "the first request after idle waited");
    cr_assert_eq(commits, 1);
    cr_assert_eq(a.status, 0);
    uv_run(&E.loop, UV_RUN_DEFAULT);
    cr_assert_eq(*(int *)w.b->data, 1);
    cr_assert_eq(*(int *)w.c->data, 1);
    cr_assert_eq(commits, 2, "b and c were not committed together");
    cr_assert_eq(w.b->status, 0);
    cr_assert_eq(w.c->status, 0);
    /* order and visibility as without a window */
    cr_assert_eq(a.out.msg.sequence, 1);
    cr_assert_eq(w.b->out.msg.sequence, 2);
    cr_assert_eq(w.c->out.msg.sequence, 3);
    store_req_reset(&a);
    done(w.b);
    done(w.c);
    uv_close((uv_handle_t *)&w.idle, NULL);
    uv_run(&E.loop, UV_RUN_DEFAULT);
}

/* A batch of reads only has nothing to make durable: it neither waits for
 * the commit window nor starts one. (The window is 3 s, so a read that
 * completes before its end did not wait for it.) */
Test(store_sqlite_writer, commit_window_spares_read_only_batches)
{
    close_store(E.st);
    struct store_sqlite_opts o = {
        .path = E.path, .sync_full = 0, .cache_kib = 8192, .commit_window_ms = 3000};
    E.st = NULL;
    cr_assert_eq(store_sqlite_open(&E.loop, &o, &E.st), 0);
    sq_store *s = (sq_store *)E.st;
    int64_t seq;
    cr_assert_eq(send_msg(E.alice, E.ab, "r1", "x", T0, &seq), 0); /* a commit just now */
    uint64_t due = s->last_commit_ns + 3000000000ull;

    store_req *h = op(STORE_HISTORY);
    h->in.user = E.alice;
    h->in.chat_id = E.ab;
    h->in.limit = 10;
    cr_assert_eq(store_submit(E.st, h), 0);
    while (*(int *)h->data == 0)
        uv_run(&E.loop, UV_RUN_ONCE);
    cr_assert_lt(uv_hrtime(), due, "a read-only batch waited for the commit window");
    cr_assert_eq(h->status, 0);
    cr_assert_eq(h->out.n_msgs, 1);
    cr_assert_eq(h->out.msgs[0].sequence, seq);
    done(h);
    /* The writer is idle again: reading its window's start is safe. */
    cr_assert_eq(s->last_commit_ns + 3000000000ull, due, "a read-only batch started a window");

    /* A write waits for the window; a read submitted after it shares its
     * batch: completed after it (FIFO), seeing it. */
    store_req *w = op(STORE_MSG_SEND);
    w->in.user = E.bob;
    w->in.chat_id = E.ab;
    w->in.message_id = "r2";
    w->in.text = "y";
    w->in.now = T0;
    cr_assert_eq(store_submit(E.st, w), 0);
    h = op(STORE_HISTORY);
    h->in.user = E.alice;
    h->in.chat_id = E.ab;
    h->in.limit = 10;
    cr_assert_eq(store_submit(E.st, h), 0);
    while (*(int *)h->data == 0) {
        uv_run(&E.loop, UV_RUN_ONCE);
        cr_assert(*(int *)h->data == 0 || *(int *)w->data == 1,
                  "a read overtook a write before it");
    }
    cr_assert_eq(*(int *)w->data, 1);
    cr_assert_eq(h->status, 0);
    cr_assert_eq(h->out.n_msgs, 2);
    done(w);
    done(h);
}

/* ---- the writer thread ---- */

/* Ownership: on the test's stack; the commit hook runs on the writer thread,
 * the rest on the loop thread (the semaphores order them). */
struct gate {
    uv_sem_t entered, release;
    int commits;
    int order[8], n;
};

/* Holds the writer inside the first commit until the test releases it. */
static int gate_hook(void *p)
{
    struct gate *g = p;
    if (++g->commits == 1) {
        uv_sem_post(&g->entered);
        uv_sem_wait(&g->release);
    }
    return 0;
}

static void gate_done(store_req *r)
{
    struct gate *g = r->data;
    g->order[g->n++] = (int)r->in.now;
}

Test(store_sqlite_writer, loop_runs_while_the_writer_commits)
{
    struct gate g = {0};
    cr_assert_eq(uv_sem_init(&g.entered, 0), 0);
    cr_assert_eq(uv_sem_init(&g.release, 0), 0);
    /* Set while the writer is idle: handing the next request over orders it
     * before the writer's use. No commit window (open_store's default). */
    sqlite3_commit_hook(store_db(E.st), gate_hook, &g);
    store_req r[5];
    char mids[5][16];
    for (int i = 0; i < 5; i++) {
        store_req_init(&r[i], STORE_MSG_SEND, gate_done, &g);
        snprintf(mids[i], sizeof(mids[i]), "g%d", i);
        r[i].in.user = E.alice;
        r[i].in.chat_id = E.ab;
        r[i].in.message_id = mids[i];
        r[i].in.text = "x";
        r[i].in.now = i;
    }
    cr_assert_eq(store_submit(E.st, &r[0]), 0);
    uv_run(&E.loop, UV_RUN_NOWAIT); /* hands r[0] over */
    uv_sem_wait(&g.entered);
    /* The writer is stuck in r[0]'s commit; the loop still turns and takes
     * requests (on the loop thread, this commit would have blocked it). */
    for (int i = 1; i < 5; i++) {
        cr_assert_eq(store_submit(E.st, &r[i]), 0);
        uv_run(&E.loop, UV_RUN_NOWAIT);
    }
    cr_assert_eq(g.n, 0, "a callback ran before its commit finished");
    uv_sem_post(&g.release);
    uv_run(&E.loop, UV_RUN_DEFAULT);
    cr_assert_eq(g.n, 5);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(g.order[i], i, "completion out of submission order");
        cr_assert_eq(r[i].status, 0);
        cr_assert_eq(r[i].out.msg.sequence, i + 1);
        store_req_reset(&r[i]);
    }
    /* The four requests of four loop turns waited together: one commit. */
    cr_assert_eq(g.commits, 2);
    sqlite3_commit_hook(store_db(E.st), NULL, NULL);
    uv_sem_destroy(&g.entered);
    uv_sem_destroy(&g.release);
}

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

Test(store_sqlite_writer, checkpoints_run_on_the_helper_thread)
{
    sq_store *s = (sq_store *)E.st;
    char wal[128];
    snprintf(wal, sizeof(wal), "%s-wal", E.path);
    long db0 = file_size(E.path);
    char *text = malloc(3001);
    cr_assert_not_null(text);
    memset(text, 'x', 3000);
    text[3000] = '\0';
    /* Batches of big messages until the WAL holds over 10,000 pages (the
     * writer's commits never checkpoint: the WAL hook took that over). */
    store_req *r[500];
    char mids[500][32];
    int64_t sent = 0;
    for (int b = 0; file_size(wal) < 10000L * 4096 + 4096 * 500; b++) {
        cr_assert_lt(b, 40, "the WAL does not grow");
        for (int i = 0; i < 500; i++) {
            r[i] = op(STORE_MSG_SEND);
            snprintf(mids[i], sizeof(mids[i]), "c%d-%d", b, i);
            r[i]->in.user = E.alice;
            r[i]->in.chat_id = E.ab;
            r[i]->in.message_id = mids[i];
            r[i]->in.text = text;
            r[i]->in.now = T0;
            cr_assert_eq(store_submit(E.st, r[i]), 0);
        }
        uv_run(&E.loop, UV_RUN_DEFAULT);
        for (int i = 0; i < 500; i++) {
            cr_assert_eq(r[i]->status, 0);
            done(r[i]);
        }
        sent += 500;
    }
    /* The helper copies the WAL into the database file meanwhile. */
    uint64_t runs = 0;
    for (int i = 0; i < 2000 && runs == 0; i++) {
        uv_mutex_lock(&s->ckpt.mu);
        runs = s->ckpt.runs;
        uv_mutex_unlock(&s->ckpt.mu);
        if (runs == 0)
            usleep(10000);
    }
    cr_assert_geq(runs, 1, "no checkpoint ran");
    cr_assert_gt(file_size(E.path), db0 + 20L * 1024 * 1024, "the database file did not grow");
    free(text);
    /* Every message is there. */
    store_req *h = history(E.bob, E.ab, 0, -1, 1);
    cr_assert_eq(h->out.n_msgs, 1);
    cr_assert_eq(h->out.msgs[0].sequence, sent);
    done(h);
}

/* Offered more than the writer commits, the queue stops at max_inflight
 * outstanding requests (here 64): the next is refused with DUET_EBUSY and
 * changes nothing; once the writer caught up, submit works again. */
Test(store_sqlite_writer, outstanding_requests_are_capped)
{
    enum { N = 64 };
    close_store(E.st);
    struct store_sqlite_opts o = {
        .path = E.path, .sync_full = 0, .cache_kib = 8192, .max_inflight = N};
    E.st = NULL;
    cr_assert_eq(store_sqlite_open(&E.loop, &o, &E.st), 0);
    store_req r[N];
    int completed = 0;
    for (int i = 0; i < N; i++) {
        store_req_init(&r[i], STORE_USER_GET, on_done, &completed);
        r[i].in.user = E.alice;
        cr_assert_eq(store_submit(E.st, &r[i]), 0, "request %d refused", i);
    }
    store_req *extra = op(STORE_USER_GET);
    extra->in.user = E.alice;
    cr_assert_eq(store_submit(E.st, extra), DUET_EBUSY);
    uv_run(&E.loop, UV_RUN_DEFAULT);
    cr_assert_eq(completed, N);
    cr_assert_eq(*(int *)extra->data, 0, "a refused request completed");
    for (int i = 0; i < N; i++) {
        cr_assert_eq(r[i].status, 0);
        store_req_reset(&r[i]);
    }
    cr_assert_eq(run(extra), 0);
    done(extra);
}

/* ---- delete for everyone: the erasing checkpoint ---- */

static struct {
    char wal[128];
    int order[4], n;
    long wal_at_delete;
} X;

static void erase_done(store_req *r)
{
    int who = (int)(intptr_t)r->data;
    X.order[X.n++] = who;
    if (r->op == STORE_MSG_DELETE)
        X.wal_at_delete = file_size(X.wal);
}

static store_req *erase_req(enum store_op o, int who)
{
    store_req *r = calloc(1, sizeof(*r));
    cr_assert_not_null(r);
    store_req_init(r, o, erase_done, (void *)(intptr_t)who);
    r->in.user = E.alice;
    r->in.chat_id = E.ab;
    r->in.now = T0 + 1000;
    return r;
}

/* One batch [send, delete, send]: the callbacks run in order; when the
 * delete's runs, the WAL (which held the old text) is cut to 0 bytes; a
 * failed delete checkpoints nothing. */
Test(store_sqlite_writer, delete_erases_the_wal_before_its_callback)
{
    sq_store *s = (sq_store *)E.st;
    snprintf(X.wal, sizeof(X.wal), "%s-wal", E.path);
    int64_t seq;
    cr_assert_eq(send_msg(E.alice, E.ab, "m1", "the regrettable text", T0, &seq), 0);
    cr_assert_gt(file_size(X.wal), 0);

    store_req *a = erase_req(STORE_MSG_SEND, 1), *d = erase_req(STORE_MSG_DELETE, 2),
              *b = erase_req(STORE_MSG_SEND, 3);
    a->in.message_id = "m2";
    a->in.text = "before";
    b->in.message_id = "m3";
    b->in.text = "after";
    d->in.seq = seq;
    d->in.window_ms = 3600000;
    X.wal_at_delete = -1;
    cr_assert_eq(store_submit(E.st, a), 0);
    cr_assert_eq(store_submit(E.st, d), 0);
    cr_assert_eq(store_submit(E.st, b), 0);
    uv_run(&E.loop, UV_RUN_DEFAULT);
    cr_assert_eq(X.n, 3);
    cr_assert(X.order[0] == 1 && X.order[1] == 2 && X.order[2] == 3, "completion is FIFO");
    cr_assert_eq(a->status, 0);
    cr_assert_eq(d->status, 0);
    cr_assert_eq(b->status, 0);
    cr_assert_eq(X.wal_at_delete, 0, "the WAL holds %ld bytes when the delete completes",
                 X.wal_at_delete);
    uv_mutex_lock(&s->ckpt.mu);
    uint64_t erases = s->ckpt.erases;
    uv_mutex_unlock(&s->ckpt.mu);
    cr_assert_eq(erases, 1);

    /* Bob may not delete alice's message: no checkpoint. */
    store_req *f = erase_req(STORE_MSG_DELETE, 4);
    f->in.user = E.bob;
    f->in.seq = seq + 1;
    f->in.window_ms = 3600000;
    cr_assert_eq(store_submit(E.st, f), 0);
    uv_run(&E.loop, UV_RUN_DEFAULT);
    cr_assert_eq(f->status, DUET_EFORBIDDEN);
    uv_mutex_lock(&s->ckpt.mu);
    erases = s->ckpt.erases;
    uv_mutex_unlock(&s->ckpt.mu);
    cr_assert_eq(erases, 1, "a failed delete checkpointed");
    store_req *all[] = {a, d, b, f};
    for (int i = 0; i < 4; i++) {
        store_req_reset(all[i]);
        free(all[i]);
    }
}
