/* push_send.c - sending the queued pushes (push_svc.c holds the queue):
 * RFC 8291 encryption and VAPID signing, the outbound request, what each
 * answer means (delivered, gone, retry, failed), the back-off, the token
 * bucket per subscription and the timer that sends what is due. */
#include <errno.h>
#include <stdlib.h>

#include "../base/log.h"
#include "app.h"
#include "push_svc_int.h"

static int64_t retry_after_ms(const struct ob_response *res)
{
    const char *v = res->n_headers > 0 ? res->headers[0].value : NULL;
    char *end;
    long long s = v != NULL ? strtoll(v, &end, 10) : -1;
    if (v == NULL || end == v || s < 0)
        return -1; /* (an HTTP date is treated as absent) */
    return (s > PUSH_RETRY_AFTER_MAX_S ? PUSH_RETRY_AFTER_MAX_S : s) * 1000;
}

static void retry(struct push_svc *p, struct push_item *it, int64_t wait_ms)
{
    if (it->attempts >= PUSH_TRIES_MAX) {
        log_warn("push: gave up after %d attempts", it->attempts);
        p->app->metrics.push_failed++;
        push_svc__settle(p, &it->job, PUSH_RESULT_FAILED);
        push_svc__unqueue(p, it);
        return;
    }
    if (wait_ms < 0) {
        wait_ms = PUSH_BACKOFF_MS << (it->attempts > 10 ? 10 : it->attempts - 1);
        if (wait_ms > PUSH_BACKOFF_MAX)
            wait_ms = PUSH_BACKOFF_MAX;
    }
    p->app->metrics.push_retried++;
    it->due = uv_now(p->app->loop) + (uint64_t)wait_ms;
}

/* Every queued push to a subscription that is gone goes too. */
static void drop_sub(struct push_svc *p, const duet_id *sub)
{
    struct push_item *it = p->head, *next;
    for (; it != NULL; it = next) {
        next = it->next;
        if (!it->inflight && duet_id_eq(&it->sub, sub))
            push_svc__unqueue(p, it);
    }
    free(map_del(&p->buckets, sub->b, 16));
}

/* A push of the same chat to the same subscription queued after it. */
static int superseded(const struct push_item *it)
{
    for (const struct push_item *n = it->next; n != NULL; n = n->next)
        if (duet_id_eq(&n->sub, &it->sub) && duet_id_eq(&n->chat, &it->chat))
            return 1;
    return 0;
}

static void sub_busy(struct push_svc *p, const duet_id *sub, int busy)
{
    struct push_bucket *b = map_get(&p->buckets, sub->b, 16);
    if (b != NULL)
        b->busy = busy;
}

static int sub_is_busy(struct push_svc *p, const duet_id *sub)
{
    const struct push_bucket *b = map_get(&p->buckets, sub->b, 16);
    return b != NULL && b->busy;
}

static void on_sent(void *ud, const struct ob_response *res)
{
    struct push_item *it = ud;
    struct push_svc *p = it->svc;
    it->inflight = 0;
    if (p != NULL)
        sub_busy(p, &it->sub, 0);
    if (p == NULL || res->err == -ECANCELED) {
        /* Closing: the job stays in the store, for the next start. */
        if (p == NULL)
            push_svc__item_free(it);
        return;
    }
    if ((res->err < 0 || res->status == 429 || res->status >= 500) && superseded(it)) {
        /* A retry now would land after the newer push of its chat. */
        p->app->metrics.push_dropped++;
        push_svc__settle(p, &it->job, PUSH_RESULT_FAILED);
        push_svc__unqueue(p, it);
    } else if (res->err < 0) {
        log_info("push: %s: %s", duet_strerror_code(res->err), res->detail);
        retry(p, it, -1);
    } else if (res->status >= 200 && res->status < 300) {
        p->app->metrics.push_delivered++;
        push_svc__settle(p, &it->job, PUSH_RESULT_DELIVERED);
        push_svc__unqueue(p, it);
    } else if (res->status == 404 || res->status == 410) {
        p->app->metrics.push_gone++;
        duet_id sub = it->sub;
        push_svc__settle(p, &it->job, PUSH_RESULT_GONE);
        push_svc__unqueue(p, it);
        drop_sub(p, &sub);
    } else if (res->status == 429 || res->status >= 500) {
        retry(p, it, res->status == 429 ? retry_after_ms(res) : -1);
    } else {
        log_warn("push: the push service answered %ld; dropping the push", res->status);
        p->app->metrics.push_failed++;
        push_svc__settle(p, &it->job, PUSH_RESULT_FAILED);
        push_svc__unqueue(p, it);
    }
    push_svc__schedule(p);
}

static int send_item(struct push_svc *p, struct push_item *it)
{
    char auth[PUSH_JWT_SIZE + PUSH_PUB_B64_SIZE + 32];
    uint8_t body[PUSH_MAX_BODY];
    size_t body_len;
    int rc = push_vapid_auth(p->vapid, it->endpoint, p->app->cfg->push_contact,
                             duet_now_ms() / 1000, PUSH_JWT_TTL_S, auth, sizeof(auth));
    if (rc == 0)
        rc = push_encrypt(&it->keys, (const uint8_t *)it->payload, it->payload_len, 0, body,
                          sizeof(body), &body_len);
    if (rc < 0)
        return rc;
    int msg = it->kind != PUSH_JOB_CLEAR; /* a message or a reaction */
    struct ob_header h[] = {
        {"Authorization", auth},
        {"Content-Encoding", "aes128gcm"},
        {"Content-Type", "application/octet-stream"},
        {"TTL", msg ? PUSH_TTL_MESSAGE : PUSH_TTL_CLEAR},
        /* A clear only tidies up: no need to wake a phone for it. */
        {"Urgency", msg ? "high" : "low"},
        {"Topic", it->topic},
    };
    static const char *const want[] = {"Retry-After"};
    struct ob_request r = {
        .method = "POST",
        .url = it->endpoint,
        .headers = h,
        .n_headers = sizeof(h) / sizeof(h[0]),
        .body = body,
        .body_len = body_len,
        .timeout_ms = PUSH_TIMEOUT_MS,
        .want = want,
        .n_want = 1,
        .cb = on_sent,
        .ud = it,
    };
    return ob_request(p->ob, &r);
}

/* Takes a token of the subscription's bucket: 0, or the ms until one. */
static uint64_t bucket_take(struct push_svc *p, const duet_id *sub, uint64_t now)
{
    struct push_bucket *b = map_get(&p->buckets, sub->b, 16);
    if (b == NULL) {
        if ((b = calloc(1, sizeof(*b))) == NULL || map_put(&p->buckets, sub->b, 16, b) < 0) {
            free(b);
            return 0; /* out of memory: unlimited rather than stuck */
        }
        b->tokens = PUSH_BURST;
        b->at = now;
    }
    b->tokens += (double)(now - b->at) / 1000.0 * PUSH_RATE_PER_S;
    if (b->tokens > PUSH_BURST)
        b->tokens = PUSH_BURST;
    b->at = now;
    if (b->tokens < 1.0)
        return (uint64_t)((1.0 - b->tokens) * 1000.0 / PUSH_RATE_PER_S) + 1;
    b->tokens -= 1.0;
    return 0;
}

static void on_timer(uv_timer_t *t)
{
    struct push_svc *p = t->data;
    uint64_t now = uv_now(p->app->loop);
    struct push_item *it = p->head, *next;
    for (; it != NULL && !p->closing; it = next) {
        next = it->next;
        if (it->inflight || it->due > now || sub_is_busy(p, &it->sub))
            continue;
        uint64_t wait = bucket_take(p, &it->sub, now);
        if (wait > 0) {
            it->due = now + wait;
            continue;
        }
        it->attempts++;
        int rc = send_item(p, it);
        if (rc == DUET_EBUSY) {
            it->attempts--;
            it->due = now + 100; /* the outbound client is full: soon */
        } else if (rc < 0) {
            log_warn("push: cannot send: %s", duet_strerror_code(rc));
            p->app->metrics.push_failed++;
            push_svc__settle(p, &it->job, PUSH_RESULT_FAILED);
            push_svc__unqueue(p, it);
        } else {
            it->inflight = 1;
            sub_busy(p, &it->sub, 1);
        }
    }
    push_svc__schedule(p);
}

/* Arms the timer for the earliest push due. */
void push_svc__schedule(struct push_svc *p)
{
    if (p->closing)
        return;
    uint64_t now = uv_now(p->app->loop), first = UINT64_MAX;
    for (const struct push_item *it = p->head; it != NULL; it = it->next)
        if (!it->inflight && it->due < first && !sub_is_busy(p, &it->sub))
            first = it->due; /* (a busy one's turn comes with its on_sent) */
    if (first == UINT64_MAX) {
        (void)uv_timer_stop(&p->timer);
        return;
    }
    (void)uv_timer_start(&p->timer, on_timer, first > now ? first - now : 0, 0);
}
