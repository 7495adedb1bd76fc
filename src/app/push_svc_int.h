/* push_svc_int.h - what push_svc.c (the queue and its life) and
 * push_send.c (sending, retries, the rate limit) share. Not for other
 * modules: they use push_svc.h. */
#ifndef DUET_PUSH_SVC_INT_H
#define DUET_PUSH_SVC_INT_H

#include <stdint.h>
#include <uv.h>

#include "../base/map.h"
#include "../outbound/ob.h"
#include "push_svc.h"

#define PUSH_QUEUE_MAX         10000 /* items at most, over every user */
#define PUSH_USER_MAX          256   /* items at most for one user */
#define PUSH_TRIES_MAX         8     /* attempts before a push fails for good */
#define PUSH_BACKOFF_MS        1000  /* first back-off; doubles, capped */
#define PUSH_BACKOFF_MAX       (10 * 60 * 1000)
#define PUSH_RETRY_AFTER_MAX_S 3600
#define PUSH_RATE_PER_S        1.0  /* pushes per second to one subscription, sustained */
#define PUSH_BURST             10.0 /* and in a burst */
#define PUSH_TTL_MESSAGE       "86400"
#define PUSH_TTL_CLEAR         "3600"
#define PUSH_JWT_TTL_S         (12 * 3600)
#define PUSH_TIMEOUT_MS        30000

/* One push due. Ownership: the svc's queue; owns endpoint and payload. */
struct push_item {
    struct push_item *next;
    struct push_svc *svc; /* NULL once the svc closed under a request */
    duet_id job, sub, user, chat;
    int kind;
    int64_t seq; /* the message's, for push_svc_erase */
    int inflight;
    int attempts;
    uint64_t due; /* uv_now ms */
    char *endpoint;
    struct push_sub_keys keys;
    char topic[PUSH_TOPIC_SIZE];
    char *payload;
    size_t payload_len;
};

/* A subscription's token bucket. Ownership: the svc's buckets map. */
struct push_bucket {
    double tokens;
    uint64_t at;
    int busy; /* a push to this subscription is in flight */
};

/* Ownership: app->push; owns the outbound client, the key, the queue, the
 * buckets and the timer; freed when the timer and the client are closed. */
struct push_svc {
    struct app *app;
    ob_client *ob;
    push_vapid *vapid;
    char key[PUSH_PUB_B64_SIZE];
    struct push_item *head;
    size_t n;
    map_t per_user; /* duet_id -> count (as a pointer) */
    map_t buckets;  /* sub id -> struct push_bucket */
    uv_timer_t timer;
    int timer_open, ob_open, loading, closing;
    store_req load;
};

/* push_svc.c */
void push_svc__settle(struct push_svc *p, const duet_id *job, int result);
void push_svc__user_count(struct push_svc *p, const duet_id *user, int delta);
void push_svc__item_free(struct push_item *it);
/* Takes it off the queue (not in flight) and frees it. */
void push_svc__unqueue(struct push_svc *p, struct push_item *it);

/* push_send.c: arms the timer for the earliest push due. */
void push_svc__schedule(struct push_svc *p);

#endif
