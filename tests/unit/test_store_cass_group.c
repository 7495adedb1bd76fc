/* Unit tests of the grouping rule of the Cassandra store's sends
 * (cass_group.c's cs_group_take, cass_sched.c's cs_sched_behind): which
 * queued sends join a starting send's group, and that the scheduler never
 * hands out a grouped one (until it leaves the group). The group's CQL is
 * covered by tests/integration/82-group-sends on a real node. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/store/cassandra/cass_int.h"

static void group_init(void)
{
    cr_assert(sodium_init() >= 0);
}

TestSuite(store_cass_group, .init = group_init);

#define NOPS 48

/* A store with the members of chat (a, b) cached, and its queue. */
struct fx {
    cs_store s;
    duet_id a, b, c, chat, chat_ac;
    store_req r[NOPS];
    cs_op *op[NOPS];
    int n;
};

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    cr_assert_eq(map_init(&f->s.members), 0);
    cr_assert_eq(cs_sched_init(&f->s.sched), 0);
    duet_id_random(&f->a);
    duet_id_random(&f->b);
    duet_id_random(&f->c);
    duet_chat_id(&f->a, &f->b, &f->chat);
    duet_chat_id(&f->a, &f->c, &f->chat_ac);
    cs_members_put(&f->s, &f->chat, &f->a, &f->b);
    cs_members_put(&f->s, &f->chat_ac, &f->a, &f->c);
}

/* Submits an op of user on chat, as cs_submit does. */
static cs_op *fx_add(struct fx *f, enum store_op kind, const duet_id *user, const duet_id *chat,
                     const char *id, const char *text)
{
    cr_assert_lt(f->n, NOPS);
    store_req *r = &f->r[f->n];
    r->op = kind;
    r->in.user = *user;
    r->in.chat_id = *chat;
    r->in.message_id = id;
    r->in.text = text;
    cs_op *op = calloc(1, sizeof(*op));
    cr_assert_not_null(op);
    op->s = &f->s;
    op->req = r;
    pool_init(&op->pool);
    cs_keys(&f->s, op);
    cs_sched_add(&f->s.sched, op);
    f->op[f->n++] = op;
    return op;
}

static cs_op *fx_send(struct fx *f, const duet_id *user, const char *id)
{
    return fx_add(f, STORE_MSG_SEND, user, &f->chat, id, "hello");
}

/* An ack of kind (enum pending_kind) up to seq by user on the chat. */
static cs_op *fx_ack(struct fx *f, const duet_id *user, int kind, int64_t seq)
{
    cs_op *op = fx_add(f, STORE_MSG_ACK, user, &f->chat, NULL, NULL);
    op->req->in.kind = kind;
    op->req->in.seq = seq;
    return op;
}

/* Starts the first op handed out: it must be want. */
static void fx_start(struct fx *f, cs_op *want)
{
    cs_op *op = cs_sched_next(&f->s.sched);
    cr_assert_eq(op, want);
    op->state = CS_RUNNING;
    op->fn = cs_msg_send;
}

static void fx_fini(struct fx *f)
{
    for (int i = 0; i < f->n; i++) {
        pool_destroy(&f->op[i]->pool);
        free(f->op[i]);
    }
    cs_sched_free(&f->s.sched);
    cs_members_clear(&f->s);
    map_free(&f->s.members);
}

static char ids[NOPS][16];

static const char *idn(int i)
{
    snprintf(ids[i], sizeof(ids[i]), "m-%d", i);
    return ids[i];
}

Test(store_cass_group, sends_of_both_members_behind_a_send_join_its_group)
{
    struct fx f;
    fx_init(&f);
    for (int i = 0; i < 6; i++)
        fx_send(&f, i % 2 ? &f.b : &f.a, idn(i));
    fx_start(&f, f.op[0]);
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 1);
    cr_assert_eq(f.op[0]->n_group, 6);
    for (int i = 1; i < 6; i++) {
        cr_assert_eq(f.op[0]->group[i], f.op[i], "in queue order");
        cr_assert(f.op[i]->grouped && f.op[i]->state == CS_RUNNING);
    }
    cr_assert_eq(f.op[0]->fn != cs_msg_send, 1, "the leader runs the group");
    /* The leader done: the next member is first in its lists, but its
     * leader runs it: never handed out. */
    cs_sched_done(&f.s.sched, f.op[0]);
    cr_assert_null(cs_sched_next(&f.s.sched));
    /* Leaving the group: handed out as soon as it waits for nothing. */
    cs_sched_ungroup(&f.s.sched, f.op[1]);
    cr_assert_eq(cs_sched_next(&f.s.sched), f.op[1]);
    cs_sched_ungroup(&f.s.sched, f.op[2]);
    cr_assert_null(cs_sched_next(&f.s.sched), "op 2 still waits for op 1");
    fx_fini(&f);
}

Test(store_cass_group, a_send_alone_or_an_op_in_between_makes_no_group)
{
    struct fx f;
    fx_init(&f);
    fx_send(&f, &f.a, idn(0));
    fx_start(&f, f.op[0]);
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 0, "nothing behind it");
    cr_assert_eq(f.op[0]->n_group, 0);
    /* An ack of receipts (not of messages), then a send: not passed. */
    fx_ack(&f, &f.b, PENDING_DELIVERED, 1);
    fx_send(&f, &f.a, idn(2));
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 0);
    fx_fini(&f);
    /* Nor a seen. */
    fx_init(&f);
    fx_send(&f, &f.a, idn(0));
    fx_add(&f, STORE_MSG_SEEN, &f.b, &f.chat, NULL, NULL);
    fx_send(&f, &f.a, idn(2));
    fx_start(&f, f.op[0]);
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 0);
    fx_fini(&f);
}

Test(store_cass_group, a_member_s_op_on_another_chat_ends_the_group_there)
{
    struct fx f;
    fx_init(&f);
    fx_send(&f, &f.a, idn(0));
    fx_send(&f, &f.b, idn(1));
    /* a's send to c waits in a's list between op 1 and op 3. */
    fx_add(&f, STORE_MSG_SEND, &f.a, &f.chat_ac, idn(2), "to c");
    fx_send(&f, &f.a, idn(3));
    fx_start(&f, f.op[0]);
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 1);
    cr_assert_eq(f.op[0]->n_group, 2, "op 3 must not overtake op 2");
    cr_assert(!f.op[3]->grouped);
    fx_fini(&f);
}

Test(store_cass_group, a_repeated_id_media_or_a_quote_ends_the_group)
{
    struct fx f;
    fx_init(&f);
    fx_send(&f, &f.a, "x");
    fx_send(&f, &f.b, "y");
    fx_send(&f, &f.a, "x"); /* a retry inside the burst */
    fx_send(&f, &f.a, "z");
    fx_start(&f, f.op[0]);
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 1);
    cr_assert_eq(f.op[0]->n_group, 2);
    fx_fini(&f);

    fx_init(&f);
    fx_send(&f, &f.a, idn(0));
    cs_op *media = fx_send(&f, &f.a, idn(1));
    media->req->in.upload_id = "u";
    fx_start(&f, f.op[0]);
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 0);
    fx_fini(&f);

    fx_init(&f);
    fx_send(&f, &f.a, idn(0));
    fx_send(&f, &f.a, idn(1));
    cs_op *quote = fx_send(&f, &f.a, idn(2));
    quote->req->in.reply_to = 1;
    fx_start(&f, f.op[0]);
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 1);
    cr_assert_eq(f.op[0]->n_group, 2);
    fx_fini(&f);
}

Test(store_cass_group, a_group_stops_at_its_count_and_bytes)
{
    struct fx f;
    fx_init(&f);
    for (int i = 0; i < CS_GROUP_MAX + 8; i++)
        fx_send(&f, &f.a, idn(i));
    fx_start(&f, f.op[0]);
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 1);
    cr_assert_eq(f.op[0]->n_group, CS_GROUP_MAX);
    cr_assert(!f.op[CS_GROUP_MAX]->grouped);
    fx_fini(&f);

    static char big[CS_GROUP_BYTES / 3];
    memset(big, 'x', sizeof(big) - 1);
    fx_init(&f);
    for (int i = 0; i < 5; i++)
        fx_add(&f, STORE_MSG_SEND, &f.a, &f.chat, idn(i), big);
    fx_start(&f, f.op[0]);
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 1);
    cr_assert_eq(f.op[0]->n_group, 2, "three would pass CS_GROUP_BYTES with their ids");
    fx_fini(&f);
}

Test(store_cass_group, a_send_behind_a_barrier_does_not_join)
{
    struct fx f;
    fx_init(&f);
    fx_send(&f, &f.a, idn(0));
    cs_op *bar = fx_add(&f, STORE_FRIEND_REMOVE, &f.a, &f.chat, NULL, NULL);
    cr_assert(bar->barrier);
    fx_send(&f, &f.b, idn(2));
    fx_start(&f, f.op[0]);
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 0, "op 2 waits for the barrier too");
    fx_fini(&f);
}

/* Issue 19, round 5: a receiver online acks each message it gets, so its
 * acks of the chat queue between the sender's sends; they used to end every
 * group. */
Test(store_cass_group, sends_go_ahead_of_the_acks_of_messages_between_them)
{
    struct fx f;
    fx_init(&f);
    fx_send(&f, &f.a, idn(0));
    cs_op *k1 = fx_ack(&f, &f.b, PENDING_MESSAGE, 1);
    fx_send(&f, &f.a, idn(2));
    cs_op *k2 = fx_ack(&f, &f.b, PENDING_MESSAGE, 2);
    fx_send(&f, &f.b, idn(4));
    cs_op *k3 = fx_ack(&f, &f.b, PENDING_MESSAGE, 3);
    fx_start(&f, f.op[0]);
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 1);
    cr_assert_eq(f.op[0]->n_group, 3, "both sends behind the acks join");
    cr_assert_eq(f.op[0]->group[1], f.op[2]);
    cr_assert_eq(f.op[0]->group[2], f.op[4]);
    cr_assert_eq(f.op[0]->n_gacks, 2, "the trailing ack is not passed");
    cr_assert_eq(f.op[0]->gacks[0], k1);
    cr_assert_eq(f.op[0]->gacks[1], k2);
    cr_assert_eq(f.op[2]->gpass, 2, "passed an ack by the leader's peer");
    cr_assert_eq(f.op[4]->gpass, 2);
    cr_assert(!k1->grouped && !k2->grouped && !k3->grouped);
    /* The group finishes (cs_group_finish: in order): only then the acks,
     * one after the other, in their order. */
    for (int i = 0; i < 3; i++) {
        cs_sched_done(&f.s.sched, f.op[0]->group[i]);
        if (i < 2)
            cr_assert_null(cs_sched_next(&f.s.sched), "no ack before the group is done");
    }
    cr_assert_eq(cs_sched_next(&f.s.sched), k1);
    cr_assert_null(cs_sched_next(&f.s.sched));
    /* k1 takes the acks of the same user behind it. */
    k1->state = CS_RUNNING;
    cr_assert_eq(cs_ack_take(&f.s, k1), 1);
    cr_assert_eq(k1->n_group, 3);
    cr_assert_eq(k1->aseq, 3);
    cs_sched_done(&f.s.sched, k1);
    cs_sched_done(&f.s.sched, k2);
    cr_assert_null(cs_sched_next(&f.s.sched), "k3 is k1's");
    cs_sched_done(&f.s.sched, k3);
    cr_assert_null(cs_sched_next(&f.s.sched));
    fx_fini(&f);
}

Test(store_cass_group, an_ack_takes_its_user_s_acks_of_messages_behind_it)
{
    struct fx f;
    fx_init(&f);
    cs_op *k0 = fx_ack(&f, &f.b, PENDING_MESSAGE, 5);
    cs_op *k1 = fx_ack(&f, &f.b, PENDING_MESSAGE, 9);
    cs_op *k2 = fx_ack(&f, &f.b, PENDING_MESSAGE, 7);
    cs_op *other = fx_ack(&f, &f.a, PENDING_MESSAGE, 8); /* the peer's */
    cs_op *k4 = fx_ack(&f, &f.b, PENDING_MESSAGE, 10);
    cr_assert_eq(cs_sched_next(&f.s.sched), k0);
    k0->state = CS_RUNNING;
    k1->has_acap = 1; /* a send group went ahead of k1 at last_seq 6 */
    k1->acap = 6;
    cr_assert_eq(cs_ack_take(&f.s, k0), 1);
    cr_assert_eq(k0->n_group, 3, "up to the peer's ack");
    cr_assert_eq(k0->group[2], k2);
    cr_assert_eq(k0->aseq, 7, "the highest, k1 capped at 6");
    for (int i = 0; i < 3; i++)
        cs_sched_done(&f.s.sched, k0->group[i]);
    cr_assert_eq(cs_sched_next(&f.s.sched), other);
    other->state = CS_RUNNING;
    cr_assert_eq(cs_ack_take(&f.s, other), 0);
    cr_assert_eq(other->aseq, 8);
    cs_sched_done(&f.s.sched, other);
    cr_assert_eq(cs_sched_next(&f.s.sched), k4);
    cs_sched_done(&f.s.sched, k4);
    fx_fini(&f);

    /* An ack of receipts is not taken, nor what waits behind it. */
    fx_init(&f);
    k0 = fx_ack(&f, &f.b, PENDING_MESSAGE, 5);
    fx_ack(&f, &f.b, PENDING_SEEN, 5);
    fx_ack(&f, &f.b, PENDING_MESSAGE, 6);
    cr_assert_eq(cs_sched_next(&f.s.sched), k0);
    cr_assert_eq(cs_ack_take(&f.s, k0), 0);
    cr_assert_eq(k0->aseq, 5);
    fx_fini(&f);
}

/* A member that leaves the group (a claimed id, a full backlog, a fall
 * back) goes back behind the acks it went ahead of: cs_sched_resort. */
Test(store_cass_group, a_resort_puts_the_run_back_in_submission_order)
{
    struct fx f;
    fx_init(&f);
    fx_send(&f, &f.a, idn(0));
    cs_op *k1 = fx_ack(&f, &f.b, PENDING_MESSAGE, 1);
    fx_send(&f, &f.a, idn(2));
    cs_op *k2 = fx_ack(&f, &f.b, PENDING_MESSAGE, 2);
    fx_send(&f, &f.a, idn(4));
    fx_start(&f, f.op[0]);
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 1);
    cr_assert_eq(f.op[0]->n_group, 3);
    /* Members 1 and 2 leave: the run behind the leader is 2 sends and 2
     * acks, back in their order. */
    cs_sched_resort(f.op[0], 4);
    cs_sched_ungroup(&f.s.sched, f.op[2]);
    cs_sched_ungroup(&f.s.sched, f.op[4]);
    cs_op *late = fx_send(&f, &f.a, idn(5)); /* the lists' tails are right */
    cs_op *want[] = {k1, f.op[2], k2, f.op[4], late};
    cs_op *prev = f.op[0];
    for (int i = 0; i < 5; i++) {
        cr_assert_null(cs_sched_next(&f.s.sched));
        cs_sched_done(&f.s.sched, prev);
        cr_assert_eq(cs_sched_next(&f.s.sched), want[i], "op %d", i);
        prev = want[i];
    }
    cs_sched_done(&f.s.sched, prev);
    cr_assert_null(cs_sched_next(&f.s.sched));
    fx_fini(&f);
}

/* Issue 19, round 6: the acks behind a group run beside it from its first
 * claim (cs_group_release, after every read of the group): capped at the
 * chat's last_seq before the claim, the first handed out early with the
 * capped acks of its user behind it; they may finish before the group's
 * sends, leaving their lists from the middle. */
Test(store_cass_group, the_acks_behind_a_group_run_beside_it_from_its_claim)
{
    struct fx f;
    fx_init(&f);
    fx_send(&f, &f.a, idn(0));
    cs_op *k1 = fx_ack(&f, &f.b, PENDING_MESSAGE, 1);
    fx_send(&f, &f.a, idn(2));
    cs_op *k2 = fx_ack(&f, &f.b, PENDING_MESSAGE, 2);
    cs_op *k3 = fx_ack(&f, &f.b, PENDING_MESSAGE, 7); /* above last_seq: a lying client */
    fx_start(&f, f.op[0]);
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 1);
    cr_assert_eq(f.op[0]->n_group, 2);
    cr_assert_eq(f.op[0]->n_gacks, 1);
    cr_assert_eq(f.op[0]->n_gall, 3, "the passed ack and the two right behind the group");
    cs_op *k4 = fx_ack(&f, &f.b, PENDING_MESSAGE, 9); /* submitted after the group started */
    cr_assert_null(cs_sched_next(&f.s.sched), "no ack before the group's claim");
    cr_assert_eq(cs_group_release(f.op[0], 3), 1);
    cr_assert(k1->has_acap && k2->has_acap && k3->has_acap && !k4->has_acap);
    cr_assert_eq(cs_sched_next(&f.s.sched), k1);
    cr_assert_null(cs_sched_next(&f.s.sched));
    k1->state = CS_RUNNING;
    cr_assert_eq(cs_ack_take(&f.s, k1), 1);
    cr_assert_eq(k1->n_group, 3, "k2 and k3 (capped), not k4");
    cr_assert_eq(k1->aseq, 3, "k3 capped at the last_seq before the claim");
    /* The acks finish first, from the middle of the lists. */
    cs_sched_done(&f.s.sched, k1);
    cs_sched_done(&f.s.sched, k2);
    cs_sched_done(&f.s.sched, k3);
    cr_assert_null(cs_sched_next(&f.s.sched), "k4 waits for the group");
    cs_op *late = fx_send(&f, &f.a, idn(9));
    cs_sched_done(&f.s.sched, f.op[0]);
    cr_assert_null(cs_sched_next(&f.s.sched));
    cs_sched_done(&f.s.sched, f.op[2]);
    cr_assert_eq(cs_sched_next(&f.s.sched), k4);
    cr_assert_null(cs_sched_next(&f.s.sched));
    cs_sched_done(&f.s.sched, k4);
    cr_assert_eq(cs_sched_next(&f.s.sched), late, "the lists' tails are right");
    cs_sched_done(&f.s.sched, late);
    cr_assert_null(cs_sched_next(&f.s.sched));
    fx_fini(&f);

    /* An ack that started early and finishes after the group: handed out
     * once, and what waits behind it waits for it. */
    fx_init(&f);
    fx_send(&f, &f.a, idn(0));
    k1 = fx_ack(&f, &f.b, PENDING_MESSAGE, 1);
    fx_send(&f, &f.a, idn(2));
    fx_start(&f, f.op[0]);
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 1);
    late = fx_send(&f, &f.a, idn(3));
    cr_assert_eq(cs_group_release(f.op[0], 1), 1);
    cr_assert_eq(cs_sched_next(&f.s.sched), k1);
    k1->state = CS_RUNNING;
    cs_sched_done(&f.s.sched, f.op[0]);
    cs_sched_done(&f.s.sched, f.op[2]);
    cr_assert_null(cs_sched_next(&f.s.sched), "k1 runs already; the late send waits for it");
    cs_sched_done(&f.s.sched, k1);
    cr_assert_eq(cs_sched_next(&f.s.sched), late);
    cr_assert_null(cs_sched_next(&f.s.sched));
    fx_fini(&f);

    /* A group without acks behind it releases nothing. */
    fx_init(&f);
    fx_send(&f, &f.a, idn(0));
    fx_send(&f, &f.a, idn(1));
    fx_start(&f, f.op[0]);
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 1);
    cr_assert_eq(cs_group_release(f.op[0], 0), 0);
    cr_assert_null(cs_sched_next(&f.s.sched));
    fx_fini(&f);
}

/* Only the first ack's run starts early: an ack of the other member behind
 * it waits for the group, as before. */
Test(store_cass_group, only_the_first_user_s_acks_run_beside_the_group)
{
    struct fx f;
    fx_init(&f);
    fx_send(&f, &f.a, idn(0));
    cs_op *k1 = fx_ack(&f, &f.b, PENDING_MESSAGE, 1);
    cs_op *ka = fx_ack(&f, &f.a, PENDING_MESSAGE, 1);
    fx_send(&f, &f.b, idn(3));
    fx_start(&f, f.op[0]);
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 1);
    cr_assert_eq(f.op[0]->n_gacks, 2);
    cr_assert_eq(cs_group_release(f.op[0], 1), 1);
    cr_assert_eq(cs_sched_next(&f.s.sched), k1);
    k1->state = CS_RUNNING;
    cr_assert_eq(cs_ack_take(&f.s, k1), 0, "the next ack is the other member's");
    cr_assert_null(cs_sched_next(&f.s.sched));
    cs_sched_done(&f.s.sched, k1);
    cr_assert_null(cs_sched_next(&f.s.sched), "ka waits for the group");
    cs_sched_done(&f.s.sched, f.op[0]);
    cs_sched_done(&f.s.sched, f.op[3]);
    cr_assert_eq(cs_sched_next(&f.s.sched), ka);
    cr_assert(ka->has_acap && ka->acap == 1, "capped all the same");
    cs_sched_done(&f.s.sched, ka);
    fx_fini(&f);
}

/* A group that falls back to single sends after its acks started (the
 * claim's outcome unknown): the members go back behind the acks submitted
 * before them that are still in the lists (running or grouped), and not
 * behind those that already finished. */
Test(store_cass_group, a_fall_back_after_the_acks_started_restores_the_order)
{
    struct fx f;
    fx_init(&f);
    fx_send(&f, &f.a, idn(0));
    cs_op *k1 = fx_ack(&f, &f.b, PENDING_MESSAGE, 1);
    fx_send(&f, &f.a, idn(2));
    cs_op *k2 = fx_ack(&f, &f.b, PENDING_MESSAGE, 2);
    fx_send(&f, &f.a, idn(4));
    fx_start(&f, f.op[0]);
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 1);
    cr_assert_eq(f.op[0]->n_group, 3);
    cr_assert_eq(cs_group_release(f.op[0], 2), 1);
    cr_assert_eq(cs_sched_next(&f.s.sched), k1);
    k1->state = CS_RUNNING;
    cr_assert_eq(cs_ack_take(&f.s, k1), 1);
    cr_assert_eq(k1->n_group, 2);
    /* What cs_group_fall_back does before the leader runs alone. */
    cs_group_cut(f.op[0], 0, 1);
    cr_assert_eq(f.op[0]->n_group, 0);
    cr_assert_eq(f.op[0]->n_gall, 0);
    cs_op *late = fx_send(&f, &f.a, idn(5));
    cr_assert_null(cs_sched_next(&f.s.sched));
    /* The leader finishes: op 2 still waits for k1, which runs. */
    cs_sched_done(&f.s.sched, f.op[0]);
    cr_assert_null(cs_sched_next(&f.s.sched));
    cs_sched_done(&f.s.sched, k1);
    cs_sched_done(&f.s.sched, k2);
    cr_assert_eq(cs_sched_next(&f.s.sched), f.op[2]);
    cs_sched_done(&f.s.sched, f.op[2]);
    cr_assert_eq(cs_sched_next(&f.s.sched), f.op[4]);
    cs_sched_done(&f.s.sched, f.op[4]);
    cr_assert_eq(cs_sched_next(&f.s.sched), late);
    cs_sched_done(&f.s.sched, late);
    cr_assert_null(cs_sched_next(&f.s.sched));
    fx_fini(&f);

    /* The acks finished before the fall back: they left the lists, and the
     * sends go back in their order behind the leader alone. */
    fx_init(&f);
    fx_send(&f, &f.a, idn(0));
    k1 = fx_ack(&f, &f.b, PENDING_MESSAGE, 1);
    fx_send(&f, &f.a, idn(2));
    k2 = fx_ack(&f, &f.b, PENDING_MESSAGE, 2);
    fx_send(&f, &f.a, idn(4));
    fx_start(&f, f.op[0]);
    cr_assert_eq(cs_group_take(&f.s, f.op[0]), 1);
    cr_assert_eq(cs_group_release(f.op[0], 2), 1);
    cr_assert_eq(cs_sched_next(&f.s.sched), k1);
    k1->state = CS_RUNNING;
    cr_assert_eq(cs_ack_take(&f.s, k1), 1);
    k1->state = k2->state = CS_DONE;
    cs_sched_done(&f.s.sched, k1);
    cs_sched_done(&f.s.sched, k2);
    late = fx_send(&f, &f.a, idn(5));
    /* In a's list only: a resort that counted the finished acks would
     * take it for one of the run. */
    cs_op *to_c = fx_add(&f, STORE_MSG_SEND, &f.a, &f.chat_ac, idn(6), "to c");
    cs_group_cut(f.op[0], 0, 1);
    cr_assert_null(cs_sched_next(&f.s.sched));
    cs_op *want[] = {f.op[2], f.op[4], late, to_c};
    cs_op *prev = f.op[0];
    for (int i = 0; i < 4; i++) {
        cs_sched_done(&f.s.sched, prev);
        cr_assert_eq(cs_sched_next(&f.s.sched), want[i], "op %d", i);
        cr_assert_eq(want[i]->deps, 0, "op %d counted down once per list", i);
        cr_assert_null(cs_sched_next(&f.s.sched));
        prev = want[i];
    }
    cs_sched_done(&f.s.sched, prev);
    cr_assert_null(cs_sched_next(&f.s.sched));
    fx_fini(&f);
}
