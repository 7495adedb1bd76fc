/* test_store_sqlite.c - the SQLite store: accounts, sessions, friends, blocks
 * and the request queue. */
#include "test_store_sqlite.h"

TestSuite(store_sqlite, .init = setup, .fini = teardown, .timeout = 30);

/* ---- accounts and sessions ---- */

Test(store_sqlite, user_create_and_get)
{
    store_req *r = op(STORE_USER_CREATE);
    r->in.username = "alice";
    r->in.pwhash = "h";
    cr_assert_eq(run(r), DUET_EEXISTS);
    cr_assert_null(r->out.user.username, "a failed request has no results");
    done(r);

    r = op(STORE_USER_CREATE);
    r->in.username = "dave";
    r->in.display_name = "Dave D";
    r->in.pwhash = "hash-d";
    r->in.now = T0 + 5;
    cr_assert_eq(run(r), 0);
    cr_assert_str_eq(r->out.user.display_name, "Dave D");
    cr_assert_eq(r->out.user.created_at, T0 + 5);
    cr_assert_eq(r->out.user.read_receipts, 1);
    cr_assert_null(r->out.user.pwhash);
    duet_id dave = r->out.user.id;
    done(r);

    r = op(STORE_USER_GET_BY_NAME);
    r->in.username = "dave";
    cr_assert_eq(run(r), 0);
    cr_assert(duet_id_eq(&r->out.user.id, &dave));
    cr_assert_str_eq(r->out.user.pwhash, "hash-d");
    done(r);

    r = op(STORE_USER_GET);
    r->in.user = E.alice;
    cr_assert_eq(run(r), 0);
    cr_assert_str_eq(r->out.user.username, "alice");
    cr_assert_str_eq(r->out.user.display_name, "alice", "defaults to the username");
    cr_assert_null(r->out.user.pwhash);
    done(r);

    r = op(STORE_USER_GET);
    duet_id_random(&r->in.user);
    cr_assert_eq(run(r), DUET_ENOTFOUND);
    done(r);
    r = op(STORE_USER_GET_BY_NAME);
    r->in.username = "nobody";
    cr_assert_eq(run(r), DUET_ENOTFOUND);
    done(r);
}

Test(store_sqlite, user_update_and_last_seen)
{
    store_req *r = op(STORE_USER_UPDATE);
    r->in.user = E.alice;
    r->in.display_name = "Alice A";
    r->in.lastseen_vis = LASTSEEN_NOBODY;
    r->in.read_receipts = -1;
    cr_assert_eq(run(r), 0);
    cr_assert_str_eq(r->out.user.display_name, "Alice A");
    cr_assert_eq(r->out.user.lastseen_vis, LASTSEEN_NOBODY);
    cr_assert_eq(r->out.user.read_receipts, 1);
    done(r);

    r = op(STORE_USER_UPDATE);
    r->in.user = E.alice;
    r->in.lastseen_vis = -1;
    r->in.read_receipts = 0;
    cr_assert_eq(run(r), 0);
    cr_assert_str_eq(r->out.user.display_name, "Alice A");
    cr_assert_eq(r->out.user.lastseen_vis, LASTSEEN_NOBODY);
    cr_assert_eq(r->out.user.read_receipts, 0);
    done(r);

    r = op(STORE_USER_SET_LAST_SEEN);
    r->in.user = E.alice;
    r->in.now = T0 + 99;
    cr_assert_eq(run(r), 0);
    done(r);
    r = op(STORE_USER_GET);
    r->in.user = E.alice;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.user.last_seen, T0 + 99);
    done(r);
}

static int session_get(const uint8_t *tok, int64_t now, int64_t idle_ms, duet_id *user)
{
    store_req *r = op(STORE_SESSION_GET);
    memcpy(r->in.token_hash, tok, 32);
    r->in.now = now;
    r->in.idle_ms = idle_ms;
    int rc = run(r);
    if (rc == 0 && user != NULL)
        *user = r->out.user.id;
    done(r);
    return rc;
}

static void session_create(duet_id user, const uint8_t *tok, int64_t now)
{
    store_req *r = op(STORE_SESSION_CREATE);
    r->in.user = user;
    memcpy(r->in.token_hash, tok, 32);
    r->in.now = now;
    cr_assert_eq(run(r), 0);
    done(r);
}

Test(store_sqlite, sessions)
{
    uint8_t t1[32], t2[32], t3[32];
    memset(t1, 1, 32);
    memset(t2, 2, 32);
    memset(t3, 3, 32);
    duet_id u;
    session_create(E.alice, t1, T0);
    session_create(E.alice, t2, T0);
    session_create(E.bob, t3, T0);
    cr_assert_eq(session_get(t1, T0 + 1000, 10 * MINUTE, &u), 0);
    cr_assert(duet_id_eq(&u, &E.alice));

    /* Refreshed after a minute, so the idle limit counts from then. */
    cr_assert_eq(session_get(t1, T0 + 8 * MINUTE, 10 * MINUTE, NULL), 0);
    cr_assert_eq(session_get(t1, T0 + 16 * MINUTE, 10 * MINUTE, NULL), 0);
    /* Idle too long: deleted, and stays deleted with a larger limit. */
    cr_assert_eq(session_get(t3, T0 + 11 * MINUTE, 10 * MINUTE, NULL), DUET_ENOTFOUND);
    cr_assert_eq(session_get(t3, T0 + 11 * MINUTE, 100 * MINUTE, NULL), DUET_ENOTFOUND);

    /* A password change keeps only the given session. */
    store_req *r = op(STORE_USER_SET_PASSWORD);
    r->in.user = E.alice;
    r->in.pwhash = "new";
    memcpy(r->in.token_hash, t1, 32);
    cr_assert_eq(run(r), 0);
    done(r);
    cr_assert_eq(session_get(t1, T0 + 16 * MINUTE, 10 * MINUTE, NULL), 0);
    cr_assert_eq(session_get(t2, T0 + 16 * MINUTE, 10 * MINUTE, NULL), DUET_ENOTFOUND);

    r = op(STORE_SESSION_DELETE);
    memcpy(r->in.token_hash, t1, 32);
    cr_assert_eq(run(r), 0);
    done(r);
    cr_assert_eq(session_get(t1, T0 + 16 * MINUTE, 10 * MINUTE, NULL), DUET_ENOTFOUND);
}

/* ---- friends and blocks ---- */

Test(store_sqlite, friend_request_flow)
{
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.alice, "nobody", T0), DUET_ENOTFOUND);
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.alice, "alice", T0), DUET_ESELF);
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.alice, "bob", T0), DUET_EALREADY);

    store_req *r = op(STORE_FRIEND_REQUEST);
    r->in.user = E.alice;
    r->in.name = "carol";
    r->in.now = T0 + 10;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.friend_result, FRIEND_REQUESTED);
    cr_assert(duet_id_eq(&r->out.peer.id, &E.carol));
    done(r);
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.alice, "carol", T0 + 11), 0, "idempotent");

    r = op(STORE_REQUESTS_LIST);
    r->in.user = E.carol;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.n_reqs_in, 1);
    cr_assert_eq(r->out.n_reqs_out, 0);
    cr_assert_str_eq(r->out.reqs_in[0].user.username, "alice");
    cr_assert_eq(r->out.reqs_in[0].created_at, T0 + 10);
    done(r);

    cr_assert_eq(friend_op(STORE_FRIEND_DECLINE, E.carol, "alice", T0), 0);
    cr_assert_eq(friend_op(STORE_FRIEND_DECLINE, E.carol, "alice", T0), DUET_ENOTFOUND);
    cr_assert_eq(friend_op(STORE_FRIEND_ACCEPT, E.carol, "alice", T0), DUET_ENOTFOUND);
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.alice, "carol", T0), 0);
    cr_assert_eq(friend_op(STORE_FRIEND_CANCEL, E.alice, "carol", T0), 0);
    cr_assert_eq(friend_op(STORE_FRIEND_CANCEL, E.alice, "carol", T0), DUET_ENOTFOUND);

    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.carol, "alice", T0 + 20), 0);
    r = op(STORE_FRIEND_ACCEPT);
    r->in.user = E.alice;
    r->in.name = "carol";
    r->in.now = T0 + 30;
    cr_assert_eq(run(r), 0);
    duet_id want;
    duet_chat_id(&E.carol, &E.alice, &want);
    cr_assert(duet_id_eq(&r->out.chat_id, &want));
    done(r);

    r = chats(E.alice);
    cr_assert_eq(r->out.n_chats, 2);
    cr_assert_str_eq(r->out.chats[0].peer.username, "carol", "newest activity first");
    cr_assert_eq(r->out.chats[0].last_activity, T0 + 30);
    cr_assert_eq(r->out.chats[0].has_last, 0);
    done(r);
}

Test(store_sqlite, crossing_requests)
{
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.carol, "alice", T0), 0);
    store_req *r = op(STORE_FRIEND_REQUEST);
    r->in.user = E.alice;
    r->in.name = "carol";
    r->in.now = T0 + 5;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.friend_result, FRIEND_ACCEPTED);
    duet_id want;
    duet_chat_id(&E.alice, &E.carol, &want);
    cr_assert(duet_id_eq(&r->out.chat_id, &want));
    done(r);
    r = op(STORE_REQUESTS_LIST);
    r->in.user = E.alice;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.n_reqs_in + r->out.n_reqs_out, 0);
    done(r);
    cr_assert_eq(send_msg(E.carol, want, "m1", "hi", T0 + 6, NULL), 0);
}

Test(store_sqlite, remove_keeps_history)
{
    int64_t seq;
    cr_assert_eq(send_msg(E.alice, E.ab, "m1", "hello", T0 + 10, &seq), 0);
    store_req *r = op(STORE_FRIEND_REMOVE);
    r->in.user = E.bob;
    r->in.name = "alice";
    cr_assert_eq(run(r), 0);
    cr_assert(duet_id_eq(&r->out.chat_id, &E.ab));
    done(r);
    cr_assert_eq(friend_op(STORE_FRIEND_REMOVE, E.bob, "alice", T0), DUET_ENOTFOUND,
                 "not friends answers as no such user");
    cr_assert_eq(friend_op(STORE_FRIEND_REMOVE, E.bob, "carol", T0), DUET_ENOTFOUND);

    cr_assert_eq(send_msg(E.alice, E.ab, "m2", "there?", T0 + 11, NULL), DUET_ENOTFRIENDS);
    r = chats(E.alice);
    cr_assert_eq(r->out.n_chats, 1, "a former friend's chat stays listed");
    cr_assert_eq(r->out.chats[0].friends, 0);
    done(r);
    r = history(E.bob, E.ab, 0, -1, 50);
    cr_assert_eq(r->out.n_msgs, 1, "former friends keep their history");
    done(r);

    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.bob, "alice", T0 + 20), 0);
    cr_assert_eq(friend_op(STORE_FRIEND_ACCEPT, E.alice, "bob", T0 + 21), 0);
    cr_assert_eq(send_msg(E.alice, E.ab, "m2", "back", T0 + 22, &seq), 0);
    cr_assert_eq(seq, 2, "re-friending reuses the chat");
}

Test(store_sqlite, blocks)
{
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.carol, "alice", T0), 0);
    cr_assert_eq(friend_op(STORE_BLOCK, E.alice, "alice", T0), DUET_ESELF);
    cr_assert_eq(friend_op(STORE_BLOCK, E.alice, "nobody", T0), DUET_ENOTFOUND);
    cr_assert_eq(friend_op(STORE_BLOCK, E.alice, "carol", T0 + 1), 0);
    cr_assert_eq(friend_op(STORE_BLOCK, E.alice, "carol", T0 + 2), 0, "idempotent");
    cr_assert_eq(friend_op(STORE_FRIEND_ACCEPT, E.alice, "carol", T0), DUET_ENOTFOUND,
                 "the block withdrew the request");
    /* A request to the blocker is stored, hidden from them (not revealed). */
    store_req *q = op(STORE_FRIEND_REQUEST);
    q->in.user = E.carol;
    q->in.name = "alice";
    cr_assert_eq(run(q), 0);
    cr_assert_eq(q->out.friend_result, FRIEND_REQUESTED);
    cr_assert_eq(q->out.hidden, 1);
    done(q);
    q = op(STORE_REQUESTS_LIST);
    q->in.user = E.alice;
    cr_assert_eq(run(q), 0);
    cr_assert_eq(q->out.n_reqs_in, 0, "the blocker does not see it");
    done(q);
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.alice, "carol", T0), DUET_EBLOCKED);

    /* Blocking a friend suspends messaging and presence, keeps the friendship;
     * the blocked one's message is stored withheld. */
    cr_assert_eq(friend_op(STORE_BLOCK, E.bob, "alice", T0 + 3), 0);
    int64_t wseq = 0;
    cr_assert_eq(send_msg(E.alice, E.ab, "m1", "hi", T0 + 4, &wseq), 0);
    cr_assert_eq(wseq, 1);
    cr_assert_eq(send_msg(E.bob, E.ab, "m2", "hi", T0 + 4, NULL), DUET_EBLOCKED);
    store_req *r = op(STORE_CHAT_PEER);
    r->in.user = E.alice;
    r->in.chat_id = E.ab;
    cr_assert_eq(run(r), DUET_EBLOCKED);
    done(r);
    r = op(STORE_PRESENCE_PEERS);
    r->in.user = E.alice;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.n_users, 0);
    done(r);
    r = chats(E.alice);
    cr_assert_eq(r->out.n_chats, 1);
    cr_assert_eq(r->out.chats[0].blocked_me, 1);
    cr_assert_eq(r->out.chats[0].blocked_by_me, 0);
    cr_assert_eq(r->out.chats[0].has_last, 1, "the sender sees the withheld message");
    done(r);
    r = chats(E.bob);
    cr_assert_eq(r->out.chats[0].has_last, 0, "not the blocker's last message");
    cr_assert_eq(r->out.chats[0].unread, 0);
    done(r);
    r = history(E.bob, E.ab, 0, -1, 50);
    cr_assert_eq(r->out.n_msgs, 1);
    cr_assert_eq(r->out.msgs[0].withheld, 1);
    cr_assert_str_eq(r->out.msgs[0].message, "");
    done(r);
    r = op(STORE_BLOCKS_LIST);
    r->in.user = E.alice;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.n_users, 1);
    cr_assert_str_eq(r->out.users[0].username, "carol");
    done(r);

    cr_assert_eq(friend_op(STORE_UNBLOCK, E.bob, "alice", T0), 0);
    cr_assert_eq(friend_op(STORE_UNBLOCK, E.bob, "alice", T0), DUET_ENOTFOUND,
                 "nothing left to lift");
    cr_assert_eq(friend_op(STORE_UNBLOCK, E.bob, "nobody", T0), DUET_ENOTFOUND);
    cr_assert_eq(send_msg(E.alice, E.ab, "m3", "hi", T0 + 5, NULL), 0);
    r = history(E.bob, E.ab, 0, -1, 50);
    cr_assert_eq(r->out.n_msgs, 2);
    cr_assert_eq(r->out.msgs[0].withheld, 1, "withheld for good");
    cr_assert_eq(r->out.msgs[1].withheld, 0);
    done(r);
    r = op(STORE_PRESENCE_PEERS);
    r->in.user = E.alice;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.n_users, 1);
    cr_assert_str_eq(r->out.users[0].username, "bob");
    done(r);
}

Test(store_sqlite, chat_peer)
{
    store_req *r = op(STORE_CHAT_PEER);
    r->in.user = E.alice;
    r->in.chat_id = E.ab;
    cr_assert_eq(run(r), 0);
    cr_assert(duet_id_eq(&r->out.peer.id, &E.bob));
    cr_assert(duet_id_eq(&r->out.chat_id, &E.ab));
    done(r);
    r = op(STORE_CHAT_PEER);
    r->in.user = E.carol;
    r->in.chat_id = E.ab;
    cr_assert_eq(run(r), DUET_EFORBIDDEN);
    done(r);
    r = op(STORE_CHAT_PEER);
    r->in.user = E.alice;
    duet_id_random(&r->in.chat_id);
    cr_assert_eq(run(r), DUET_EFORBIDDEN);
    done(r);
    cr_assert_eq(friend_op(STORE_FRIEND_REMOVE, E.alice, "bob", T0), 0);
    r = op(STORE_CHAT_PEER);
    r->in.user = E.alice;
    r->in.chat_id = E.ab;
    cr_assert_eq(run(r), DUET_ENOTFRIENDS);
    done(r);
}

/* ---- the request queue ---- */

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

Test(store_sqlite, fifo_completion_order)
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

Test(store_sqlite, submit_from_timer_does_not_wait_for_io)
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

Test(store_sqlite, failed_request_changed_nothing)
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

Test(store_sqlite, commit_failure_fails_the_batch)
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

Test(store_sqlite, close_completes_queued_requests)
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

Test(store_sqlite, no_state_cached_between_processes)
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
