/* test_store_sqlite_defer.c - acks and receipts coalesced per batch
 * (sqlite_defer.c, issue 18 round 4): one script of sends, acks, seens and
 * a pending read runs once request by request (a batch each) in one chat,
 * and once submitted in one loop turn (one batch) in another chat of the
 * same store; every answer and the rows left must be the same. */
#include "test_store_sqlite.h"

TestSuite(store_sqlite_defer, .init = setup, .fini = teardown, .timeout = 30);

enum who { S, R }; /* the sender and the receiver of the chat */

struct step {
    enum store_op op;
    enum who who;
    int kind;
    int64_t seq;         /* ack / seen */
    const char *mid;     /* send */
    int64_t max_pending; /* send */
};

/* Sender S has sent six messages before the script. */
static const struct step script[] = {
    {STORE_MSG_ACK, R, PENDING_MESSAGE, 2, NULL, 0},
    {STORE_MSG_ACK, S, PENDING_DELIVERED, 2, NULL, 0},
    /* R has 4 rows left: allowed; with R's acked rows still there, 6. */
    {STORE_MSG_SEND, S, 0, 0, "m7", 6},
    {STORE_MSG_ACK, R, PENDING_MESSAGE, 1, NULL, 0}, /* nothing new */
    {STORE_MSG_ACK, R, PENDING_MESSAGE, 5, NULL, 0},
    {STORE_MSG_SEEN, R, 0, 3, NULL, 0},
    {STORE_MSG_ACK, R, PENDING_MESSAGE, 9, NULL, 0}, /* beyond the last message */
    {STORE_MSG_SEND, S, 0, 0, "m8", 0},              /* seq 8: its row must stay */
    {STORE_MSG_ACK, S, PENDING_SEEN, 3, NULL, 0},
    {STORE_PENDING_LIST, S, 0, 0, NULL, 0},
    {STORE_PENDING_LIST, R, 0, 0, NULL, 0},
    {STORE_MSG_ACK, R, PENDING_MESSAGE, 8, NULL, 0},
    {STORE_MSG_SEEN, R, 0, 8, NULL, 0},
    {STORE_MSG_ACK, S, PENDING_DELIVERED, 5, NULL, 0}, /* below the row at 8 */
    {STORE_MSG_ACK, R, PENDING_MESSAGE, 8, NULL, 0},   /* again */
    {STORE_MSG_SEND, S, 0, 0, "m9", 0},
    {STORE_MSG_ACK, R, PENDING_MESSAGE, 9, NULL, 0},
    {STORE_MSG_ACK, S, PENDING_DELIVERED, 9, NULL, 0},
    {STORE_MSG_SEEN, R, 0, 6, NULL, 0}, /* below the read position */
};
#define N_STEPS (sizeof(script) / sizeof(script[0]))

static store_req *step_req(const struct step *st, const duet_id *s, const duet_id *r,
                           const duet_id *chat, int64_t now)
{
    store_req *q = op(st->op);
    q->in.user = st->who == S ? *s : *r;
    q->in.chat_id = *chat;
    q->in.kind = st->kind;
    q->in.seq = st->seq;
    q->in.now = now;
    q->in.message_id = st->mid;
    q->in.text = st->mid;
    q->in.max_pending = st->max_pending;
    return q;
}

static void prepare(const duet_id *s, const duet_id *chat)
{
    char mid[16]; /* room for any int: -O1 builds check it */
    for (int i = 1; i <= 6; i++) {
        snprintf(mid, sizeof(mid), "m%d", i);
        int64_t seq;
        cr_assert_eq(send_msg(*s, *chat, mid, mid, T0 + i, &seq), 0);
        cr_assert_eq(seq, i);
    }
}

/* The answer of a request, without the ids (the chats have other users). */
static void cmp_answer(size_t i, store_req *a, store_req *b)
{
    cr_assert_eq(a->status, b->status, "step %zu: status %d vs %d", i, a->status, b->status);
    cr_assert_eq(a->out.receipt.changed, b->out.receipt.changed, "step %zu", i);
    cr_assert_eq(a->out.receipt.seq, b->out.receipt.seq, "step %zu", i);
    cr_assert_eq(a->out.receipt.at, b->out.receipt.at, "step %zu", i);
    cr_assert_eq(a->out.read_seq, b->out.read_seq, "step %zu", i);
    cr_assert_eq(a->out.msg.sequence, b->out.msg.sequence, "step %zu", i);
    cr_assert_eq(a->out.n_pending, b->out.n_pending, "step %zu: %zu vs %zu pending rows", i,
                 a->out.n_pending, b->out.n_pending);
    for (size_t k = 0; k < a->out.n_pending; k++) {
        const struct duet_pending *x = &a->out.pending[k], *y = &b->out.pending[k];
        cr_assert_eq(x->kind, y->kind, "step %zu row %zu", i, k);
        cr_assert_eq(x->msg.sequence, y->msg.sequence, "step %zu row %zu", i, k);
        cr_assert_eq(x->msg.received_at, y->msg.received_at, "step %zu row %zu", i, k);
        cr_assert_eq(x->msg.seen_at, y->msg.seen_at, "step %zu row %zu", i, k);
        cr_assert_str_eq(x->msg.message_id, y->msg.message_id, "step %zu row %zu", i, k);
    }
}

static int64_t count_of(const duet_id *u)
{
    char sql[128], hex[33];
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", u->b[i]);
    snprintf(sql, sizeof(sql),
             "SELECT coalesce(sum(n), 0) FROM pending_counts WHERE user_id = x'%s'", hex);
    return sql_int(sql);
}

/* The rows left: both users' pending lists, their counts, the marks. */
static void cmp_state(const duet_id *s1, const duet_id *r1, const duet_id *c1, const duet_id *s2,
                      const duet_id *r2, const duet_id *c2)
{
    for (int w = 0; w < 2; w++) {
        store_req *a = pending(w ? *r1 : *s1), *b = pending(w ? *r2 : *s2);
        cmp_answer(100 + w, a, b);
        done(a);
        done(b);
    }
    cr_assert_eq(count_of(s1), count_of(s2));
    cr_assert_eq(count_of(r1), count_of(r2));
    store_req *a = history(*s1, *c1, 0, -1, 100), *b = history(*s2, *c2, 0, -1, 100);
    cr_assert_eq(a->out.n_msgs, b->out.n_msgs);
    for (size_t k = 0; k < a->out.n_msgs; k++) {
        cr_assert_eq(a->out.msgs[k].received_at, b->out.msgs[k].received_at, "message %zu", k);
        cr_assert_eq(a->out.msgs[k].seen_at, b->out.msgs[k].seen_at, "message %zu", k);
    }
    done(a);
    done(b);
}

Test(store_sqlite_defer, one_batch_answers_and_leaves_what_one_by_one_does)
{
    duet_id dave = mkuser("dave"), cd;
    cr_assert_eq(friend_op(STORE_FRIEND_REQUEST, E.carol, "dave", T0), 0);
    cr_assert_eq(friend_op(STORE_FRIEND_ACCEPT, dave, "carol", T0 + 1), 0);
    duet_chat_id(&E.carol, &dave, &cd);
    prepare(&E.alice, &E.ab);
    prepare(&E.carol, &cd);

    store_req *one[N_STEPS], *all[N_STEPS];
    for (size_t i = 0; i < N_STEPS; i++) {
        one[i] = step_req(&script[i], &E.alice, &E.bob, &E.ab, T0 + 100 + (int64_t)i);
        run(one[i]);
    }
    sq_store *sq = (sq_store *)E.st;
    uint64_t flushes = sq->defer.flushes;
    for (size_t i = 0; i < N_STEPS; i++) {
        all[i] = step_req(&script[i], &E.carol, &dave, &cd, T0 + 100 + (int64_t)i);
        cr_assert_eq(store_submit(E.st, all[i]), 0);
    }
    uv_run(&E.loop, UV_RUN_DEFAULT);
    for (size_t i = 0; i < N_STEPS; i++) {
        cr_assert_eq(*(int *)all[i]->data, 1);
        cmp_answer(i, one[i], all[i]);
    }
    /* The script's answers themselves, so that both runs cannot be wrong
     * alike. */
    cr_assert_eq(one[0]->out.receipt.seq, 2);
    cr_assert_eq(one[2]->status, 0, "the ceiling counts the acked rows as gone");
    cr_assert_eq(one[3]->out.receipt.changed, 0);
    cr_assert_eq(one[6]->out.receipt.seq, 7);
    cr_assert_eq(one[7]->out.msg.sequence, 8);
    cr_assert_eq(one[11]->out.receipt.seq, 8);
    /* Flushed at the ceiling (2), the ack beyond the last message (7), the
     * pending reads (9, 10) and the batch's end: fewer than its 15 acks and
     * seens. */
    uint64_t n = sq->defer.flushes - flushes;
    cr_assert(n >= 1 && n <= 5, "%llu flushes", (unsigned long long)n);
    cmp_state(&E.alice, &E.bob, &E.ab, &E.carol, &dave, &cd);
    for (size_t i = 0; i < N_STEPS; i++) {
        done(one[i]);
        done(all[i]);
    }
}

Test(store_sqlite_defer, acks_of_one_chat_flush_once)
{
    prepare(&E.alice, &E.ab);
    sq_store *sq = (sq_store *)E.st;
    uint64_t flushes = sq->defer.flushes;
    store_req *q[12];
    for (int i = 0; i < 6; i++) {
        q[2 * i] = mark(STORE_MSG_ACK, E.bob, E.ab, PENDING_MESSAGE, i + 1, T0 + 50 + i);
        q[2 * i + 1] = mark(STORE_MSG_ACK, E.alice, E.ab, PENDING_DELIVERED, i + 1, T0 + 50 + i);
    }
    for (int i = 0; i < 12; i++)
        cr_assert_eq(store_submit(E.st, q[i]), 0);
    uv_run(&E.loop, UV_RUN_DEFAULT);
    for (int i = 0; i < 12; i++) {
        cr_assert_eq(q[i]->status, 0);
        if (i % 2 == 0) {
            /* Each ack still answers with its own receipt. */
            cr_assert_eq(q[i]->out.receipt.changed, 1);
            cr_assert_eq(q[i]->out.receipt.seq, i / 2 + 1);
            cr_assert_eq(q[i]->out.receipt.at, T0 + 50 + i / 2);
        }
        done(q[i]);
    }
    cr_assert_eq(sq->defer.flushes - flushes, 1);
    /* The receipt at 6 came after alice's last ack (6): acked too. */
    cr_assert_eq(sql_int("SELECT count(*) FROM pending"), 0);
    cr_assert_eq(sql_int("SELECT coalesce(sum(n), 0) FROM pending_counts"), 0);
    cr_assert_eq(sql_int("SELECT count(*) FROM messages WHERE received_at = 0"), 0);
}

/* Round 6: a lone ack (the usual batch at moderate rates) and the receipt
 * it causes run no statement through a temporary b-tree, and the rows left
 * are right. */
Test(store_sqlite_defer, lone_acks_run_in_one_pass)
{
    prepare(&E.alice, &E.ab);
    sq_store *sq = (sq_store *)E.st;
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(E.path, &db), SQLITE_OK);
    static int before[SQ_STMT_COUNT], after[SQ_STMT_COUNT];
    const struct {
        duet_id *user;
        int kind;
    } acks[] = {{&E.bob, PENDING_MESSAGE}, {&E.alice, PENDING_DELIVERED}};
    for (int seq = 1; seq <= 2; seq++) {
        for (size_t a = 0; a < 2; a++) {
            run_counts(sq, before);
            store_req *q = mark(STORE_MSG_ACK, *acks[a].user, E.ab, acks[a].kind, seq, T0 + 50);
            cr_assert_eq(run(q), 0);
            done(q);
            run_counts(sq, after);
            for (int i = 0; i < SQ_STMT_COUNT; i++)
                if (after[i] != before[i])
                    cr_assert_not(uses_temp_btree(db, sqlite3_sql(sq->stmts[i])),
                                  "ack %d/%zu ran %s", seq, a, sqlite3_sql(sq->stmts[i]));
        }
    }
    sqlite3_close(db);
    cr_assert_eq(sq->defer.ranges, 0);
    /* bob's rows 3..6 are left; alice's receipt at 2 was acked. */
    cr_assert_eq(sql_int("SELECT count(*) FROM pending"), 4);
    cr_assert_eq(sql_int("SELECT min(sequence) FROM pending WHERE service_type = 0"), 3);
    cr_assert_eq(sql_int("SELECT coalesce(sum(n), 0) FROM pending_counts"), 4);
}

/* A slot over two or more rows deletes them as a range; one with none runs
 * no delete; either way the rows and counts are what the range leaves. */
Test(store_sqlite_defer, slot_deletes_by_key_or_range)
{
    prepare(&E.alice, &E.ab);
    sq_store *sq = (sq_store *)E.st;
    store_req *q = mark(STORE_MSG_ACK, E.bob, E.ab, PENDING_MESSAGE, 3, T0 + 50);
    cr_assert_eq(run(q), 0);
    done(q);
    cr_assert_eq(sq->defer.ranges, 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM pending WHERE service_type = 0"), 3);
    /* The receipt at 3 replaced nothing and was inserted from its message. */
    cr_assert_eq(sql_int("SELECT sequence FROM pending WHERE service_type = 1"), 3);
    cr_assert_eq(sql_int("SELECT received_at FROM pending WHERE service_type = 1"), T0 + 50);
    cr_assert_eq(sql_int("SELECT count(*) FROM pending p JOIN messages m USING (chat_id, sequence)"
                         " WHERE p.service_type = 1 AND p.message_id = m.message_id"
                         " AND p.sender = m.sender AND p.sent_at = m.sent_at AND p.message = ''"),
                 1);
    /* Acked again: nothing left to delete, no range. */
    q = mark(STORE_MSG_ACK, E.bob, E.ab, PENDING_MESSAGE, 3, T0 + 51);
    cr_assert_eq(run(q), 0);
    done(q);
    cr_assert_eq(sq->defer.ranges, 1);
    cr_assert_eq(sql_int("SELECT coalesce(sum(n), 0) FROM pending_counts"), 4);
    cr_assert_eq(sql_int("SELECT count(*) FROM pending"), 4);
}
