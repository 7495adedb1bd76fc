/* test_store_push.c - the SQLite store's Web Push ops (sqlite_push.c):
 * an enqueue for a user without subscriptions writes nothing, the text is
 * kept only with the preview on, a clear only follows a message push, the
 * queue is per instance, and a GONE settles the subscription with its
 * other jobs. */
#include "test_store_sqlite.h"

TestSuite(store_push, .init = setup, .fini = teardown, .timeout = 30);

static const char P256DH[] =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";

static duet_id subscribe(duet_id user, const char *endpoint)
{
    store_req *r = op(STORE_PUSH_SUB_ADD);
    r->in.user = user;
    r->in.push.endpoint = endpoint;
    r->in.push.p256dh = P256DH;
    r->in.push.auth = "BTBZMqHH6r4Tts7J_aSIgg";
    r->in.push.device = "test";
    r->in.limit = 10;
    r->in.now = T0;
    cr_assert_eq(run(r), 0);
    duet_id id = r->out.push_sub.id;
    done(r);
    return id;
}

static size_t enqueue(duet_id user, int kind, const char *text, const char *instance)
{
    store_req *r = op(STORE_PUSH_ENQUEUE);
    r->in.user = user;
    r->in.chat_id = E.ab;
    r->in.seq = 1;
    r->in.text = text;
    r->in.now = T0;
    r->in.push.kind = kind;
    r->in.push.sender = E.alice;
    r->in.push.from = kind == PUSH_JOB_CLEAR ? "" : NULL;
    r->in.push.instance = instance;
    cr_assert_eq(run(r), 0);
    size_t n = r->out.n_push_jobs;
    if (n > 0 && kind == PUSH_JOB_MESSAGE)
        cr_assert_str_eq(r->out.push_jobs[0].from, "alice", "the sender's display name");
    done(r);
    return n;
}

static store_req *jobs_of(const char *instance)
{
    store_req *r = op(STORE_PUSH_JOBS_LIST);
    r->in.push.instance = instance;
    cr_assert_eq(run(r), 0);
    return r;
}

Test(store_push, no_subscription_no_write)
{
    cr_assert_eq(enqueue(E.bob, PUSH_JOB_MESSAGE, "hi", "i1"), 0);
    cr_assert_eq(sql_int("SELECT count(*) FROM push_notified"), 0);
    cr_assert_eq(sql_int("SELECT count(*) FROM push_jobs"), 0);
}

Test(store_push, preview_clear_and_instances)
{
    subscribe(E.bob, "https://push.example/a");
    subscribe(E.bob, "https://push.example/b");
    cr_assert_eq(enqueue(E.bob, PUSH_JOB_CLEAR, NULL, "i1"), 0, "nothing to clear yet");
    cr_assert_eq(enqueue(E.bob, PUSH_JOB_MESSAGE, "secret", "i1"), 2);
    store_req *r = jobs_of("i1");
    cr_assert_eq(r->out.n_push_jobs, 2);
    cr_assert_str_eq(r->out.push_jobs[0].text, "", "no text with the preview off");
    cr_assert_str_eq(r->out.push_jobs[0].sub.p256dh, P256DH);
    done(r);
    r = jobs_of("i2");
    cr_assert_eq(r->out.n_push_jobs, 0, "another instance's queue is its own");
    done(r);
    r = op(STORE_PUSH_PREFS);
    r->in.user = E.bob;
    r->in.push.preview = 1;
    cr_assert_eq(run(r), 0);
    done(r);
    cr_assert_eq(enqueue(E.bob, PUSH_JOB_MESSAGE, "shown", "i2"), 2);
    r = jobs_of("i2");
    cr_assert_str_eq(r->out.push_jobs[0].text, "shown");
    done(r);
    cr_assert_eq(enqueue(E.bob, PUSH_JOB_CLEAR, NULL, "i1"), 2, "a clear after a message push");
    cr_assert_eq(enqueue(E.bob, PUSH_JOB_CLEAR, NULL, "i1"), 0, "and only once");
}

Test(store_push, gone_deletes_the_subscription_and_its_jobs)
{
    duet_id a = subscribe(E.bob, "https://push.example/a");
    subscribe(E.bob, "https://push.example/b");
    cr_assert_eq(enqueue(E.bob, PUSH_JOB_MESSAGE, "1", "i1"), 2);
    cr_assert_eq(enqueue(E.bob, PUSH_JOB_MESSAGE, "2", "i1"), 2);
    store_req *r = jobs_of("i1");
    duet_id job = {{0}};
    for (size_t i = 0; i < r->out.n_push_jobs; i++)
        if (duet_id_eq(&r->out.push_jobs[i].sub.id, &a))
            job = r->out.push_jobs[i].id;
    done(r);
    r = op(STORE_PUSH_JOB_DONE);
    r->in.push.job_id = job;
    r->in.push.result = PUSH_RESULT_GONE;
    r->in.push.instance = "i1";
    cr_assert_eq(run(r), 0);
    done(r);
    cr_assert_eq(sql_int("SELECT count(*) FROM push_subs"), 1);
    cr_assert_eq(sql_int("SELECT count(*) FROM push_jobs"), 2, "the other subscription's two");
    r = op(STORE_PUSH_SUB_DELETE);
    r->in.user = E.alice;
    r->in.push.sub_id = a;
    cr_assert_eq(run(r), DUET_ENOTFOUND, "gone already, and never alice's");
    done(r);
}
