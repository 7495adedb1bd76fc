/* test_store_sqlite_msgs.c - the SQLite store: messages, receipts, history,
 * the chat list and pending rows. */
#include "test_store_sqlite.h"

TestSuite(store_sqlite_msgs, .init = setup, .fini = teardown, .timeout = 30);

#define WINDOW (15 * MINUTE)

/* Runs a MSG_ACK / MSG_SEEN and keeps the request for its results. */
static store_req *run_mark(enum store_op o, duet_id user, int kind, int64_t seq, int64_t now,
                           int want)
{
    store_req *r = mark(o, user, E.ab, kind, seq, now);
    cr_assert_eq(run(r), want);
    return r;
}

static void del(duet_id user, int64_t seq, int64_t now, int want)
{
    store_req *r = op(STORE_MSG_DELETE);
    r->in.user = user;
    r->in.chat_id = E.ab;
    r->in.seq = seq;
    r->in.now = now;
    r->in.window_ms = WINDOW;
    cr_assert_eq(run(r), want);
    if (want == 0) {
        cr_assert_str_eq(r->out.msg.message, "");
        cr_assert_eq(r->out.msg.deleted_at, now);
        cr_assert_eq(r->out.msg.sequence, seq);
    }
    done(r);
}

/* Number of pending rows of kind in the alice-bob chat for user. */
static size_t count_pending(duet_id user, int kind)
{
    store_req *r = pending(user);
    size_t n = 0;
    for (size_t i = 0; i < r->out.n_pending; i++)
        n += r->out.pending[i].kind == kind && duet_id_eq(&r->out.pending[i].msg.chat_id, &E.ab);
    done(r);
    return n;
}

Test(store_sqlite_msgs, send_sequences_without_gaps)
{
    store_req *r = op(STORE_MSG_SEND);
    r->in.user = E.alice;
    r->in.chat_id = E.ab;
    r->in.message_id = "m1";
    r->in.text = "hello";
    r->in.now = T0 + 100;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.duplicate, 0);
    cr_assert_eq(r->out.msg.sequence, 1);
    cr_assert(duet_id_eq(&r->out.msg.sender, &E.alice));
    cr_assert(duet_id_eq(&r->out.msg.receiver, &E.bob));
    cr_assert(duet_id_eq(&r->out.msg.chat_id, &E.ab));
    cr_assert_str_eq(r->out.msg.message, "hello");
    cr_assert_str_eq(r->out.msg.preview, "");
    cr_assert_eq(r->out.msg.sent_at, T0 + 100);
    done(r);
    for (int i = 2; i <= 6; i++) {
        char mid[16];
        int64_t seq;
        snprintf(mid, sizeof(mid), "m%d", i);
        cr_assert_eq(send_msg(i % 2 ? E.alice : E.bob, E.ab, mid, "x", T0 + 100 + i, &seq), 0);
        cr_assert_eq(seq, i);
    }
    r = history(E.alice, E.ab, 0, -1, 100);
    cr_assert_eq(r->out.n_msgs, 6);
    for (size_t i = 0; i < 6; i++)
        cr_assert_eq(r->out.msgs[i].sequence, (int64_t)i + 1);
    done(r);
    /* The receiver has a pending copy of each message to them. */
    cr_assert_eq(count_pending(E.bob, PENDING_MESSAGE), 3);
    cr_assert_eq(count_pending(E.alice, PENDING_MESSAGE), 3);
}

Test(store_sqlite_msgs, send_dedupe_and_access)
{
    int64_t seq;
    cr_assert_eq(send_msg(E.alice, E.ab, "m1", "hello", T0, &seq), 0);
    store_req *r = op(STORE_MSG_SEND);
    r->in.user = E.alice;
    r->in.chat_id = E.ab;
    r->in.message_id = "m1";
    r->in.text = "hello again";
    r->in.now = T0 + 5;
    cr_assert_eq(run(r), 0);
    cr_assert_eq(r->out.duplicate, 1);
    cr_assert_eq(r->out.msg.sequence, 1);
    cr_assert_str_eq(r->out.msg.message, "hello", "the stored message");
    cr_assert_eq(r->out.msg.sent_at, T0);
    done(r);
    cr_assert_eq(count_pending(E.bob, PENDING_MESSAGE), 1, "no second pending row");

    cr_assert_eq(send_msg(E.bob, E.ab, "m1", "mine", T0, NULL), DUET_ECONFLICT);
    cr_assert_eq(send_msg(E.carol, E.ab, "m1", "x", T0, NULL), DUET_EFORBIDDEN);
    cr_assert_eq(send_msg(E.carol, E.ab, "c1", "x", T0, NULL), DUET_EFORBIDDEN);
    duet_id nochat;
    duet_chat_id(&E.alice, &E.carol, &nochat);
    cr_assert_eq(send_msg(E.alice, nochat, "a1", "x", T0, NULL), DUET_EFORBIDDEN);

    /* A retry in the same batch as the original is a duplicate too. */
    store_req *a = op(STORE_MSG_SEND), *b = op(STORE_MSG_SEND);
    store_req *rs[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        rs[i]->in.user = E.bob;
        rs[i]->in.chat_id = E.ab;
        rs[i]->in.message_id = "b1";
        rs[i]->in.text = "yo";
        rs[i]->in.now = T0 + 10;
        cr_assert_eq(store_submit(E.st, rs[i]), 0);
    }
    uv_run(&E.loop, UV_RUN_DEFAULT);
    cr_assert_eq(a->status, 0);
    cr_assert_eq(b->status, 0);
    cr_assert_eq(a->out.duplicate, 0);
    cr_assert_eq(b->out.duplicate, 1);
    cr_assert_eq(b->out.msg.sequence, 2);
    done(a);
    done(b);
    cr_assert_eq(send_msg(E.alice, E.ab, "m2", "x", T0 + 20, &seq), 0);
    cr_assert_eq(seq, 3);
}

Test(store_sqlite_msgs, ack_is_cumulative)
{
    cr_assert_eq(send_msg(E.alice, E.ab, "a1", "1", T0 + 1, NULL), 0);
    cr_assert_eq(send_msg(E.alice, E.ab, "a2", "2", T0 + 2, NULL), 0);
    cr_assert_eq(send_msg(E.bob, E.ab, "b3", "3", T0 + 3, NULL), 0);
    cr_assert_eq(send_msg(E.alice, E.ab, "a4", "4", T0 + 4, NULL), 0);

    store_req *r = run_mark(STORE_MSG_ACK, E.bob, PENDING_MESSAGE, 2, T0 + 10, 0);
    cr_assert_eq(r->out.receipt.changed, 1);
    cr_assert_eq(r->out.receipt.seq, 2);
    cr_assert_eq(r->out.receipt.at, T0 + 10);
    cr_assert(duet_id_eq(&r->out.receipt.peer, &E.alice));
    done(r);
    cr_assert_eq(count_pending(E.bob, PENDING_MESSAGE), 1);
    r = run_mark(STORE_MSG_ACK, E.bob, PENDING_MESSAGE, 2, T0 + 11, 0);
    cr_assert_eq(r->out.receipt.changed, 0, "nothing newly delivered");
    done(r);
    r = run_mark(STORE_MSG_ACK, E.bob, PENDING_MESSAGE, 4, T0 + 12, 0);
    cr_assert_eq(r->out.receipt.changed, 1);
    cr_assert_eq(r->out.receipt.seq, 4);
    done(r);
    cr_assert_eq(count_pending(E.bob, PENDING_MESSAGE), 0);

    /* The sender keeps one DELIVERED row: the newest. */
    r = pending(E.alice);
    size_t n = 0;
    for (size_t i = 0; i < r->out.n_pending; i++) {
        if (r->out.pending[i].kind != PENDING_DELIVERED)
            continue;
        n++;
        cr_assert_eq(r->out.pending[i].msg.sequence, 4);
        cr_assert_eq(r->out.pending[i].msg.received_at, T0 + 12);
        cr_assert_str_eq(r->out.pending[i].msg.message_id, "a4");
    }
    cr_assert_eq(n, 1);
    done(r);

    r = history(E.alice, E.ab, 0, -1, 10);
    cr_assert_eq(r->out.msgs[0].received_at, T0 + 10);
    cr_assert_eq(r->out.msgs[1].received_at, T0 + 10);
    cr_assert_eq(r->out.msgs[2].received_at, 0, "bob's own message");
    cr_assert_eq(r->out.msgs[3].received_at, T0 + 12);
    done(r);

    done(run_mark(STORE_MSG_ACK, E.alice, PENDING_DELIVERED, 4, T0, 0));
    cr_assert_eq(count_pending(E.alice, PENDING_DELIVERED), 0);
    done(run_mark(STORE_MSG_ACK, E.alice, PENDING_DELIVERED, 4, T0, 0)); /* idempotent */
    done(run_mark(STORE_MSG_ACK, E.carol, PENDING_MESSAGE, 4, T0, DUET_EFORBIDDEN));
    done(run_mark(STORE_MSG_ACK, E.bob, 9, 4, T0, -EINVAL));
}

Test(store_sqlite_msgs, seen_and_receipts_privacy)
{
    for (int i = 1; i <= 3; i++) {
        char mid[16];
        snprintf(mid, sizeof(mid), "a%d", i);
        cr_assert_eq(send_msg(E.alice, E.ab, mid, "x", T0 + i, NULL), 0);
    }
    store_req *r = run_mark(STORE_MSG_SEEN, E.bob, 0, 2, T0 + 10, 0);
    cr_assert_eq(r->out.read_seq, 2);
    cr_assert_eq(r->out.receipt.changed, 1);
    cr_assert_eq(r->out.receipt.seq, 2);
    cr_assert(duet_id_eq(&r->out.receipt.peer, &E.alice));
    done(r);
    cr_assert_eq(count_pending(E.alice, PENDING_SEEN), 1);
    r = run_mark(STORE_MSG_SEEN, E.bob, 0, 1, T0 + 11, 0);
    cr_assert_eq(r->out.read_seq, 2, "never lowered");
    cr_assert_eq(r->out.receipt.changed, 0);
    done(r);
    r = run_mark(STORE_MSG_SEEN, E.bob, 0, 100, T0 + 12, 0);
    cr_assert_eq(r->out.read_seq, 3, "clamped to the last sequence");
    cr_assert_eq(r->out.receipt.seq, 3);
    done(r);

    r = history(E.alice, E.ab, 0, -1, 10);
    cr_assert_eq(r->out.msgs[0].seen_at, T0 + 10);
    cr_assert_eq(r->out.msgs[0].received_at, T0 + 10, "seen implies received");
    cr_assert_eq(r->out.msgs[2].seen_at, T0 + 12);
    done(r);
    r = chats(E.alice);
    cr_assert_eq(r->out.chats[0].peer_read_seq, 3);
    done(r);

    /* Receipts off on one side: the sender sees no seen_at, no read position,
     * and new views are not recorded. */
    set_receipts(E.bob, 0);
    cr_assert_eq(send_msg(E.alice, E.ab, "a4", "x", T0 + 20, NULL), 0);
    r = run_mark(STORE_MSG_SEEN, E.bob, 0, 4, T0 + 21, 0);
    cr_assert_eq(r->out.read_seq, 4);
    cr_assert_eq(r->out.receipt.changed, 0);
    done(r);
    r = history(E.alice, E.ab, 0, -1, 10);
    for (size_t i = 0; i < r->out.n_msgs; i++)
        cr_assert_eq(r->out.msgs[i].seen_at, 0);
    done(r);
    r = chats(E.alice);
    cr_assert_eq(r->out.chats[0].peer_read_seq, 0);
    cr_assert_eq(r->out.chats[0].last.seen_at, 0);
    done(r);
    r = chats(E.bob);
    cr_assert_eq(r->out.chats[0].my_read_seq, 4, "one's own position is always known");
    done(r);

    set_receipts(E.bob, 1);
    set_receipts(E.alice, 0);
    r = history(E.alice, E.ab, 0, -1, 10);
    cr_assert_eq(r->out.msgs[0].seen_at, 0, "off on either side hides it");
    done(r);
    set_receipts(E.alice, 1);
    r = history(E.alice, E.ab, 0, -1, 10);
    cr_assert_eq(r->out.msgs[0].seen_at, T0 + 10);
    cr_assert_eq(r->out.msgs[3].seen_at, 0, "viewed while receipts were off");
    done(r);
    done(run_mark(STORE_MSG_SEEN, E.carol, 0, 1, T0, DUET_EFORBIDDEN));
}

Test(store_sqlite_msgs, delete_rules)
{
    cr_assert_eq(send_msg(E.alice, E.ab, "a1", "secret", T0, NULL), 0);
    cr_assert_eq(send_msg(E.alice, E.ab, "a2", "old", T0 - WINDOW - 1, NULL), 0);
    del(E.bob, 1, T0 + 1, DUET_EFORBIDDEN);
    del(E.carol, 1, T0 + 1, DUET_EFORBIDDEN);
    del(E.alice, 9, T0 + 1, DUET_ENOTFOUND);
    del(E.alice, 2, T0, DUET_EEXPIRED);
    del(E.alice, 1, T0 + WINDOW + 1, DUET_EEXPIRED);
    del(E.alice, 1, T0 + WINDOW, 0);
    del(E.alice, 1, T0 + WINDOW, DUET_EDELETED);

    /* The undelivered copy is gone; a DELETED row tells bob instead. */
    store_req *r = pending(E.bob);
    cr_assert_eq(r->out.n_pending, 2);
    cr_assert_eq(r->out.pending[0].kind, PENDING_DELETED);
    cr_assert_eq(r->out.pending[0].msg.sequence, 1);
    cr_assert_str_eq(r->out.pending[0].msg.message_id, "a1");
    cr_assert_str_eq(r->out.pending[0].msg.message, "");
    cr_assert_eq(r->out.pending[0].msg.deleted_at, T0 + WINDOW);
    cr_assert(duet_id_eq(&r->out.pending[0].msg.sender, &E.alice));
    cr_assert_eq(r->out.pending[1].kind, PENDING_MESSAGE);
    done(r);

    r = history(E.bob, E.ab, 0, -1, 10);
    cr_assert_str_eq(r->out.msgs[0].message, "");
    cr_assert_eq(r->out.msgs[0].deleted_at, T0 + WINDOW);
    cr_assert_str_eq(r->out.msgs[1].message, "old");
    done(r);
    r = chats(E.bob);
    cr_assert_eq(r->out.chats[0].unread, 1, "deleted messages are not unread");
    done(r);

    done(run_mark(STORE_MSG_ACK, E.bob, PENDING_DELETED, 2, T0, 0));
    cr_assert_eq(count_pending(E.bob, PENDING_DELETED), 1, "only the row at seq");
    done(run_mark(STORE_MSG_ACK, E.bob, PENDING_DELETED, 1, T0, 0));
    cr_assert_eq(count_pending(E.bob, PENDING_DELETED), 0);
}

static void expect_seqs(store_req *r, int64_t first, size_t n)
{
    cr_assert_eq(r->out.n_msgs, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(r->out.msgs[i].sequence, first + (int64_t)i);
    done(r);
}

Test(store_sqlite_msgs, history_paging)
{
    for (int i = 1; i <= 10; i++) {
        char mid[16];
        snprintf(mid, sizeof(mid), "m%d", i);
        cr_assert_eq(send_msg(E.alice, E.ab, mid, "x", T0 + i, NULL), 0);
    }
    expect_seqs(history(E.bob, E.ab, 0, -1, 3), 8, 3);
    expect_seqs(history(E.bob, E.ab, 8, -1, 3), 5, 3);
    expect_seqs(history(E.bob, E.ab, 3, -1, 5), 1, 2);
    expect_seqs(history(E.bob, E.ab, 1, -1, 5), 1, 0);
    expect_seqs(history(E.bob, E.ab, 0, 0, 3), 1, 3); /* after = 0 starts at seq 1 */
    expect_seqs(history(E.bob, E.ab, 0, 2, 3), 3, 3);
    expect_seqs(history(E.bob, E.ab, 0, 8, 5), 9, 2);
    expect_seqs(history(E.bob, E.ab, 0, -1, 1000), 1, 10);
    store_req *r = op(STORE_HISTORY);
    r->in.user = E.carol;
    r->in.chat_id = E.ab;
    r->in.limit = 10;
    cr_assert_eq(run(r), DUET_EFORBIDDEN);
    done(r);
}

Test(store_sqlite_msgs, chats_list)
{
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.carol, "alice", T0 + 50), 0);
    cr_assert_eq(friend_op(STORE_FRIEND_ACCEPT, E.alice, "carol", T0 + 60), 0);
    cr_assert_eq(send_msg(E.bob, E.ab, "b1", "one", T0 + 100, NULL), 0);
    cr_assert_eq(send_msg(E.bob, E.ab, "b2", "two", T0 + 101, NULL), 0);
    cr_assert_eq(send_msg(E.alice, E.ab, "a3", "three", T0 + 102, NULL), 0);
    cr_assert_eq(send_msg(E.bob, E.ab, "b4", "four", T0 + 103, NULL), 0);

    store_req *r = chats(E.alice);
    cr_assert_eq(r->out.n_chats, 2);
    struct duet_chat *c = &r->out.chats[0];
    cr_assert_str_eq(c->peer.username, "bob");
    cr_assert(duet_id_eq(&c->chat_id, &E.ab));
    cr_assert_eq(c->has_last, 1);
    cr_assert_str_eq(c->last.message, "four");
    cr_assert_eq(c->last_activity, T0 + 103);
    cr_assert_eq(c->my_read_seq, 0, "only seen moves the read position, not sending");
    cr_assert_eq(c->unread, 3);
    cr_assert_str_eq(r->out.chats[1].peer.username, "carol");
    cr_assert_eq(r->out.chats[1].last_activity, T0 + 60);
    cr_assert_eq(r->out.chats[1].unread, 0);
    done(r);

    r = chats(E.bob);
    cr_assert_eq(r->out.n_chats, 1);
    cr_assert_eq(r->out.chats[0].unread, 1, "alice's a3 is unread by bob");
    cr_assert_eq(r->out.chats[0].my_read_seq, 0);
    cr_assert_eq(r->out.chats[0].peer_read_seq, 0);
    done(r);

    done(run_mark(STORE_MSG_SEEN, E.bob, 0, 4, T0 + 104, 0));
    r = chats(E.bob);
    cr_assert_eq(r->out.chats[0].unread, 0);
    cr_assert_eq(r->out.chats[0].my_read_seq, 4);
    done(r);
}

Test(store_sqlite_msgs, pending_list_order)
{
    duet_id ac;
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.carol, "alice", T0), 0);
    cr_assert_eq(friend_op(STORE_FRIEND_ACCEPT, E.alice, "carol", T0), 0);
    duet_chat_id(&E.alice, &E.carol, &ac);
    cr_assert_eq(send_msg(E.alice, E.ab, "a1", "x", T0, NULL), 0);
    cr_assert_eq(send_msg(E.bob, E.ab, "b2", "y", T0, NULL), 0);
    cr_assert_eq(send_msg(E.carol, ac, "c1", "z", T0, NULL), 0);
    cr_assert_eq(send_msg(E.bob, E.ab, "b3", "w", T0, NULL), 0);
    done(run_mark(STORE_MSG_ACK, E.bob, PENDING_MESSAGE, 1, T0 + 1, 0));
    del(E.bob, 3, T0 + 2, 0);

    store_req *r = pending(E.alice);
    cr_assert_eq(r->out.n_pending, 4);
    /* Grouped by chat, by sequence within a chat, kinds interleaved. */
    struct duet_pending *p = r->out.pending;
    int ab_first = duet_id_eq(&p[0].msg.chat_id, &E.ab);
    struct duet_pending *ab = ab_first ? p : p + 1, *acp = ab_first ? p + 3 : p;
    cr_assert_eq(ab[0].kind, PENDING_DELIVERED);
    cr_assert_eq(ab[0].msg.sequence, 1);
    cr_assert_eq(ab[1].kind, PENDING_MESSAGE);
    cr_assert_eq(ab[1].msg.sequence, 2);
    cr_assert_str_eq(ab[1].msg.message, "y");
    cr_assert_eq(ab[2].kind, PENDING_DELETED);
    cr_assert_eq(ab[2].msg.sequence, 3);
    cr_assert(duet_id_eq(&acp->msg.chat_id, &ac));
    cr_assert_eq(acp->kind, PENDING_MESSAGE);
    done(r);
}

/* One page of bob's pending rows (STORE_PENDING_LIST with a limit). */
static store_req *pending_page(int limit, int64_t page_bytes, const struct duet_pending *after)
{
    store_req *r = op(STORE_PENDING_LIST);
    r->in.user = E.bob;
    r->in.limit = limit;
    r->in.page_bytes = page_bytes;
    r->in.cursors = after == NULL;
    if (after != NULL) {
        r->in.has_after = 1;
        r->in.chat_id = after->msg.chat_id;
        r->in.seq = after->msg.sequence;
        r->in.kind = after->kind;
    }
    cr_assert_eq(run(r), 0);
    return r;
}

Test(store_sqlite_msgs, pending_pages_follow_the_key_and_bound_their_text)
{
    int64_t seq;
    char mid[16], text[1100];
    memset(text, 'x', 1000);
    text[1000] = '\0';
    for (int i = 1; i <= 10; i++) {
        snprintf(mid, sizeof(mid), "m%d", i);
        cr_assert_eq(send_msg(E.alice, E.ab, mid, text, T0 + i, &seq), 0);
    }
    /* alice deletes message 4: bob has a DELETED row at seq 4 too */
    del(E.alice, 4, T0 + 20, 0);
    store_req *all = pending(E.bob);
    cr_assert_geq(all->out.n_pending, 10); /* and the deletion (its message row may go) */
    /* pages of 3 rows: the same rows in the same order, each once */
    struct duet_pending last;
    size_t got = 0;
    int first = 1;
    for (;;) {
        store_req *p = pending_page(3, 0, first ? NULL : &last);
        cr_assert_eq(p->out.n_cursors > 0, first, "cursors with the first page only");
        for (size_t i = 0; i < p->out.n_pending; i++, got++) {
            cr_assert_lt(got, all->out.n_pending);
            cr_assert_eq(p->out.pending[i].kind, all->out.pending[got].kind);
            cr_assert_eq(p->out.pending[i].msg.sequence, all->out.pending[got].msg.sequence);
        }
        int more = p->out.more;
        if (p->out.n_pending > 0) {
            last.kind = p->out.pending[p->out.n_pending - 1].kind;
            last.msg.chat_id = p->out.pending[p->out.n_pending - 1].msg.chat_id;
            last.msg.sequence = p->out.pending[p->out.n_pending - 1].msg.sequence;
        }
        cr_assert(more || p->out.n_pending < 3 || got == all->out.n_pending);
        done(p);
        first = 0;
        if (!more)
            break;
    }
    cr_assert_eq(got, all->out.n_pending, "every row once");
    done(all);
    /* the text bound: 2,500 bytes is three rows of 1,000 (the third passes it) */
    store_req *p = pending_page(64, 2500, NULL);
    cr_assert_eq(p->out.n_pending, 3);
    cr_assert_eq(p->out.more, 1);
    done(p);
    /* one row at least, however long */
    p = pending_page(64, 10, NULL);
    cr_assert_eq(p->out.n_pending, 1);
    done(p);
}

/* A send writes its pending row from the values in hand (issue 18), not by
 * copying the message row: both must say the same, media fields included. */
Test(store_sqlite_msgs, pending_row_of_a_send_is_the_message_row)
{
    store_req *r = op(STORE_MSG_SEND);
    r->in.user = E.alice;
    r->in.chat_id = E.ab;
    r->in.message_id = "m-media";
    r->in.text = "caption";
    r->in.msg_type = 1;
    r->in.preview = "thumb";
    r->in.media = "{\"id\":\"x\"}";
    r->in.now = T0 + 7;
    cr_assert_eq(run(r), 0);
    done(r);
    int64_t seq;
    cr_assert_eq(send_msg(E.alice, E.ab, "m-text", "plain", T0 + 8, &seq), 0);
    store_req *h = history(E.bob, E.ab, 0, -1, 100);
    store_req *p = pending(E.bob);
    cr_assert_eq(h->out.n_msgs, 2);
    cr_assert_eq(p->out.n_pending, 2);
    for (size_t i = 0; i < 2; i++) {
        const struct duet_msg *a = &h->out.msgs[i], *b = &p->out.pending[i].msg;
        cr_assert_eq(p->out.pending[i].kind, PENDING_MESSAGE);
        cr_assert(duet_id_eq(&a->chat_id, &b->chat_id));
        cr_assert(duet_id_eq(&a->sender, &b->sender));
        cr_assert(duet_id_eq(&a->receiver, &b->receiver));
        cr_assert_str_eq(a->message_id, b->message_id);
        cr_assert_str_eq(a->message, b->message);
        cr_assert_eq(a->type, b->type);
        cr_assert_str_eq(a->preview, b->preview);
        cr_assert_str_eq(a->media, b->media);
        cr_assert_eq(a->sequence, b->sequence);
        cr_assert_eq(a->sent_at, b->sent_at);
        cr_assert_eq(b->received_at, 0);
        cr_assert_eq(b->seen_at, 0);
        cr_assert_eq(b->deleted_at, 0);
    }
    cr_assert_eq(p->out.pending[0].msg.type, 1);
    cr_assert_str_eq(p->out.pending[0].msg.media, "{\"id\":\"x\"}");
    done(h);
    done(p);
}
