/* push_svc.c - the Web Push sender. Each queued item is one job of the
 * store's push queue (one push to one subscription); the item leaves the
 * queue once the job is settled in the store: delivered (2xx), gone
 * (404/410: the subscription is deleted), or failed for good (other 4xx,
 * or too many retries). 429 waits Retry-After, 5xx and network errors
 * back off exponentially. A token bucket per subscription bounds the rate,
 * and a newer message push for a chat replaces a queued older one for the
 * same subscription (the Topic collapses them at the push service too).
 * One push at a time is in flight to a subscription, and a failed push that
 * a newer one of its chat follows is dropped rather than retried: pushes of
 * one chat reach the service in order, so the newest is what shows. */
#include "push_svc_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/map.h"
#include "../outbound/ob.h"
#include "app.h"
#include "proto.h"

/* A job settled in the store. Ownership: freed by its callback; independent
 * of the svc, which may be gone by then. */
struct push_settle {
    store_req req;
};

static void settle_done(store_req *r)
{
    if (r->status < 0)
        log_warn("push: settling a job failed: %s", duet_strerror_code(r->status));
    store_req_reset(r);
    free(r->data);
}

void push_svc__settle(struct push_svc *p, const duet_id *job, int result)
{
    struct push_settle *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        log_warn("push: out of memory settling a job (it is sent again at restart)");
        return;
    }
    store_req_init(&s->req, STORE_PUSH_JOB_DONE, settle_done, s);
    s->req.in.push.job_id = *job;
    s->req.in.push.result = result;
    s->req.in.push.instance = p->app->cfg->instance; /* Cassandra: the queue's partition */
    s->req.in.now = duet_now_ms();
    int rc = app_store(p->app, &s->req);
    if (rc < 0) {
        log_warn("push: cannot settle a job: %s", duet_strerror_code(rc));
        store_req_reset(&s->req);
        free(s);
    }
}

void push_svc__user_count(struct push_svc *p, const duet_id *user, int delta)
{
    uintptr_t n = (uintptr_t)map_get(&p->per_user, user->b, 16);
    n = (uintptr_t)((intptr_t)n + delta);
    if (n == 0)
        map_del(&p->per_user, user->b, 16);
    else if (map_put(&p->per_user, user->b, 16, (void *)n) < 0)
        log_warn("push: out of memory counting a user's pushes");
}

void push_svc__item_free(struct push_item *it)
{
    free(it->endpoint);
    free(it->payload);
    free(it);
}

/* Takes it off the queue (not in flight) and frees it. */
void push_svc__unqueue(struct push_svc *p, struct push_item *it)
{
    for (struct push_item **pp = &p->head; *pp != NULL; pp = &(*pp)->next)
        if (*pp == it) {
            *pp = it->next;
            break;
        }
    p->n--;
    push_svc__user_count(p, &it->user, -1);
    push_svc__item_free(it);
}

/* ---- queueing ---- */

/* The plaintext the service worker gets (docs/protocol.md "Push"). */
static char *payload_of(const struct duet_push_job *j)
{
    json_t *o;
    if (j->kind == PUSH_JOB_CLEAR)
        o = json_pack("{s:s, s:o}", "type", "clear", "chat_id", proto_id(&j->chat_id));
    else if (j->kind == PUSH_JOB_REACTION)
        o = json_pack("{s:s, s:o, s:I, s:s, s:s}", "type", "reaction", "chat_id",
                      proto_id(&j->chat_id), "seq", (json_int_t)j->seq, "from",
                      j->from ? j->from : "", "emoji", j->text ? j->text : "");
    else
        o = json_pack("{s:s, s:o, s:I, s:s}", "type", "message", "chat_id", proto_id(&j->chat_id),
                      "seq", (json_int_t)j->seq, "from", j->from ? j->from : "");
    if (o != NULL && j->kind == PUSH_JOB_MESSAGE && j->text != NULL && j->text[0] != '\0' &&
        json_object_set_new(o, "text", json_string(j->text)) < 0) {
        json_decref(o);
        return NULL;
    }
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* A queued, not yet sent message push of the same chat to the same
 * subscription, which a newer one replaces. */
static struct push_item *find_older(struct push_svc *p, const struct duet_push_job *j)
{
    for (struct push_item *it = p->head; it != NULL; it = it->next)
        if (!it->inflight && it->kind == PUSH_JOB_MESSAGE && j->kind == PUSH_JOB_MESSAGE &&
            duet_id_eq(&it->sub, &j->sub.id) && duet_id_eq(&it->chat, &j->chat_id))
            return it;
    return NULL;
}

static int item_fill(struct push_svc *p, struct push_item *it, const struct duet_push_job *j)
{
    char *payload = payload_of(j);
    if (payload == NULL)
        return -ENOMEM;
    free(it->payload);
    it->payload = payload;
    it->payload_len = strlen(payload);
    it->job = j->id;
    return 0;
}

static void add_one(struct push_svc *p, const struct duet_push_job *j)
{
    struct push_item *old = find_older(p, j);
    if (old != NULL) {
        duet_id was = old->job;
        if (item_fill(p, old, j) == 0) {
            p->app->metrics.push_dropped++;
            push_svc__settle(p, &was, PUSH_RESULT_FAILED);
        }
        return;
    }
    if (p->n >= PUSH_QUEUE_MAX ||
        (uintptr_t)map_get(&p->per_user, j->sub.user.b, 16) >= PUSH_USER_MAX) {
        p->app->metrics.push_dropped++;
        log_warn("push: queue full; a push is dropped");
        push_svc__settle(p, &j->id, PUSH_RESULT_FAILED);
        return;
    }
    struct push_item *it = calloc(1, sizeof(*it));
    if (it == NULL || (it->endpoint = strdup(j->sub.endpoint)) == NULL || item_fill(p, it, j) < 0) {
        log_warn("push: out of memory; a push waits for the next start");
        if (it != NULL)
            push_svc__item_free(it);
        return;
    }
    if (push_sub_keys_parse(j->sub.p256dh, j->sub.auth, &it->keys) < 0 ||
        push_topic(p->vapid, j->chat_id.b, 16, it->topic) < 0) {
        log_warn("push: a stored subscription has bad keys; dropping its push");
        push_svc__settle(p, &j->id, PUSH_RESULT_GONE);
        push_svc__item_free(it);
        return;
    }
    it->svc = p;
    it->sub = j->sub.id;
    it->user = j->sub.user;
    it->chat = j->chat_id;
    it->kind = j->kind;
    it->seq = j->seq;
    it->due = uv_now(p->app->loop);
    /* At the tail: pushes go out in the order they were queued. */
    struct push_item **pp = &p->head;
    while (*pp != NULL)
        pp = &(*pp)->next;
    *pp = it;
    p->n++;
    push_svc__user_count(p, &it->user, 1);
}

/* The payload without its "text" member; NULL when it has none or on
 * failure (the caller keeps the old one only if it had no text). */
static char *payload_without_text(const char *payload)
{
    json_t *o = json_loads(payload, 0, NULL);
    char *s = NULL;
    if (o != NULL && json_object_del(o, "text") == 0)
        s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

void push_svc_erase(struct push_svc *p, const duet_id *chat, int64_t seq)
{
    for (struct push_item *it = p->head; it != NULL; it = it->next) {
        if (it->inflight || it->kind != PUSH_JOB_MESSAGE || it->seq != seq ||
            !duet_id_eq(&it->chat, chat))
            continue;
        char *s = payload_without_text(it->payload);
        if (s == NULL)
            continue; /* no text in it (or out of memory: then it goes as it is) */
        memset(it->payload, 0, it->payload_len);
        free(it->payload);
        it->payload = s;
        it->payload_len = strlen(s);
    }
}

void push_svc_add(struct push_svc *p, const struct duet_push_job *jobs, size_t n)
{
    if (p->closing)
        return;
    for (size_t i = 0; i < n; i++)
        add_one(p, &jobs[i]);
    push_svc__schedule(p);
}

const char *push_svc_key(const struct push_svc *p)
{
    return p->key;
}

/* ---- life ---- */

static void svc_free_if_closed(struct push_svc *p);

static void loaded(store_req *r)
{
    struct push_svc *p = r->data;
    p->loading = 0;
    if (p->closing) {
        store_req_reset(r);
        svc_free_if_closed(p);
        return;
    }
    if (r->status < 0)
        log_error("push: cannot read the push queue: %s", duet_strerror_code(r->status));
    else {
        if (r->out.n_push_jobs > 0)
            log_info("push: %zu pushes due from before the restart", r->out.n_push_jobs);
        push_svc_add(p, r->out.push_jobs, r->out.n_push_jobs);
    }
    store_req_reset(r);
}

static void svc_free_if_closed(struct push_svc *p)
{
    if (p->timer_open || p->ob_open || p->loading)
        return;
    for (struct map_entry *e = map_first(&p->buckets); e != NULL; e = map_next(&p->buckets, e))
        free(e->value);
    map_free(&p->buckets);
    map_free(&p->per_user);
    push_vapid_free(p->vapid);
    free(p);
}

static void on_timer_closed(uv_handle_t *h)
{
    struct push_svc *p = h->data;
    p->timer_open = 0;
    svc_free_if_closed(p);
}

static void on_ob_closed(void *ud)
{
    struct push_svc *p = ud;
    p->ob_open = 0;
    svc_free_if_closed(p);
}

int push_svc_new(struct app *app, push_vapid *vapid, struct push_svc **out)
{
    const struct config *cfg = app->cfg;
    struct push_svc *p = calloc(1, sizeof(*p));
    int rc = -ENOMEM;
    if (p == NULL)
        goto err;
    p->app = app;
    p->vapid = vapid;
    if ((rc = push_vapid_public_b64(vapid, p->key)) < 0)
        goto err_p;
    if ((rc = map_init(&p->per_user)) < 0)
        goto err_p;
    if ((rc = map_init(&p->buckets)) < 0)
        goto err_users;
    struct ob_opts oo = {
        .max_inflight = 64,
        .max_req_body = PUSH_MAX_BODY,
        .max_resp_body = 16 * 1024,
        .ca_file = cfg->push_ca_file,
        .public_only = !cfg->push_test_loopback,
    };
    if ((rc = ob_new(app->loop, &oo, &p->ob)) < 0)
        goto err_buckets;
    p->ob_open = 1;
    if ((rc = uv_timer_init(app->loop, &p->timer)) < 0) {
        ob_close(p->ob, NULL, NULL);
        goto err_buckets;
    }
    p->timer.data = p;
    p->timer_open = 1;
    store_req_init(&p->load, STORE_PUSH_JOBS_LIST, loaded, p);
    p->load.in.push.instance = cfg->instance;
    p->loading = 1;
    if ((rc = app_store(app, &p->load)) < 0) {
        p->loading = 0;
        log_error("push: cannot read the push queue: %s", duet_strerror_code(rc));
        p->closing = 1;
        uv_close((uv_handle_t *)&p->timer, on_timer_closed);
        ob_close(p->ob, on_ob_closed, p);
        *out = NULL;
        return rc; /* p frees itself; the caller must not free vapid */
    }
    *out = p;
    return 0;

err_buckets:
    map_free(&p->buckets);
err_users:
    map_free(&p->per_user);
err_p:
    free(p);
err:
    push_vapid_free(vapid);
    return rc;
}

void push_svc_close(struct push_svc *p)
{
    if (p == NULL || p->closing)
        return;
    p->closing = 1;
    /* In-flight items are freed by their cancelled callbacks (inside
     * ob_close); the rest here. Their jobs stay in the store. */
    struct push_item *it = p->head, *next;
    for (; it != NULL; it = next) {
        next = it->next;
        if (it->inflight)
            it->svc = NULL;
        else
            push_svc__item_free(it);
    }
    p->head = NULL;
    uv_close((uv_handle_t *)&p->timer, on_timer_closed);
    ob_close(p->ob, on_ob_closed, p);
}
