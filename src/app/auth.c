#include "auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../net/net.h"

/* Ownership: allocated by auth_hash/auth_verify, freed after its callback. */
struct auth_job {
    uv_work_t work;
    struct auth *auth;
    struct auth_lane *lane;
    struct auth_job *next;
    int verify;
    int status;
    char *password;
    size_t plen;
    char hash[crypto_pwhash_STRBYTES];
    auth_cb cb;
    void *data;
};

/* One client address's jobs. Ownership: a->lanes (by key); freed when its
 * last job is done. */
struct auth_lane {
    struct auth_job *head, *tail; /* waiting, FIFO */
    struct auth_lane *next_ready; /* a->ready, while head != NULL */
    size_t jobs;                  /* waiting and running */
    size_t klen;
    char key[];
};

/* A fixed-window attempt counter: attempts are counted when they start, so
 * that those still being hashed count too; a success refunds its own. */
struct throttle {
    int64_t window_start;
    int64_t attempts;
};

/* Drops the entries whose window is over, so that attempts with many
 * usernames or addresses do not grow the maps without bound. */
struct sweep_ctx {
    int64_t now, window;
};

static int throttle_expired(void *value, void *ctx)
{
    const struct sweep_ctx *c = ctx;
    struct throttle *t = value;
    if (c->now - t->window_start < c->window)
        return 0;
    free(t);
    return 1;
}

static void sweep_cb(uv_timer_t *t)
{
    struct auth *a = t->data;
    struct sweep_ctx c = {duet_now_ms(), a->window_ms};
    map_filter(&a->by_user, throttle_expired, &c);
    map_filter(&a->by_addr, throttle_expired, &c);
}

int auth_init(struct auth *a, uv_loop_t *loop, unsigned long long ops, size_t mem_kib,
              int concurrency, size_t max_queue, int64_t window_s, int64_t max_user,
              int64_t max_addr)
{
    memset(a, 0, sizeof(*a));
    a->loop = loop;
    a->opslimit = ops;
    a->memlimit = mem_kib * 1024;
    a->concurrency = concurrency;
    a->max_queue = max_queue;
    a->share = max_queue / AUTH_SHARE_DIV;
    if (a->share < AUTH_SHARE_MIN)
        a->share = AUTH_SHARE_MIN;
    a->window_ms = window_s * 1000;
    a->max_user = max_user;
    a->max_addr = max_addr;
    if (map_init(&a->by_user) < 0)
        return -ENOMEM;
    if (map_init(&a->by_addr) < 0)
        goto err_user;
    if (map_init(&a->lanes) < 0)
        goto err_addr;
    int r = uv_timer_init(loop, &a->sweep);
    if (r < 0)
        goto err_lanes;
    a->sweep.data = a;
    r = uv_timer_start(&a->sweep, sweep_cb, (uint64_t)a->window_ms, (uint64_t)a->window_ms);
    if (r < 0) {
        uv_close((uv_handle_t *)&a->sweep, NULL);
        goto err_lanes;
    }
    uv_unref((uv_handle_t *)&a->sweep);
    return 0;
err_lanes:
    map_free(&a->lanes);
err_addr:
    map_free(&a->by_addr);
err_user:
    map_free(&a->by_user);
    return -ENOMEM;
}

static void free_throttles(map_t *m)
{
    for (struct map_entry *e = map_first(m); e != NULL; e = map_next(m, e))
        free(e->value);
    map_free(m);
}

void auth_close(struct auth *a)
{
    uv_close((uv_handle_t *)&a->sweep, NULL);
}

void auth_free(struct auth *a)
{
    free_throttles(&a->by_user);
    free_throttles(&a->by_addr);
    free_throttles(&a->lanes); /* empty unless jobs were never run */
}

static void job_work(uv_work_t *w)
{
    struct auth_job *j = w->data;
    if (j->verify && j->hash[0] == '\0') {
        /* Unknown user: spend the cost of a real hash, so that response
         * times do not tell which usernames exist. */
        char scratch[crypto_pwhash_STRBYTES];
        int r =
            crypto_pwhash_str(scratch, j->password, j->plen, j->auth->opslimit, j->auth->memlimit);
        j->status = r == 0 ? DUET_ENOTFOUND : -ENOMEM;
    } else if (j->verify) {
        int ok = crypto_pwhash_str_verify(j->hash, j->password, j->plen) == 0;
        j->status = ok ? 0 : DUET_ENOTFOUND;
    } else {
        int r =
            crypto_pwhash_str(j->hash, j->password, j->plen, j->auth->opslimit, j->auth->memlimit);
        j->status = r == 0 ? 0 : -ENOMEM;
    }
}

static void job_start_next(struct auth *a);

static void lane_release(struct auth *a, struct auth_lane *l)
{
    if (--l->jobs == 0 && l->head == NULL) {
        map_del(&a->lanes, l->key, l->klen);
        free(l);
    }
}

static void job_free(struct auth_job *j)
{
    sodium_memzero(j->password, j->plen);
    free(j->password);
    free(j);
}

static void job_done(uv_work_t *w, int status)
{
    struct auth_job *j = w->data;
    struct auth *a = j->auth;
    a->running--;
    lane_release(a, j->lane);
    if (status < 0)
        j->status = status; /* cancelled */
    j->cb(j->data, j->status, j->verify ? NULL : j->hash);
    job_free(j);
    job_start_next(a);
}

/* The next job: the oldest of the lane at the head of the ready ring, which
 * then goes to its back, so that every address waiting gets a turn before
 * any gets a second one. */
static struct auth_job *job_next(struct auth *a)
{
    struct auth_lane *l = a->ready_head;
    if (l == NULL)
        return NULL;
    a->ready_head = l->next_ready;
    if (a->ready_head == NULL)
        a->ready_tail = NULL;
    l->next_ready = NULL;
    struct auth_job *j = l->head;
    l->head = j->next;
    if (l->head == NULL)
        l->tail = NULL;
    else if (a->ready_tail != NULL)
        a->ready_tail->next_ready = l, a->ready_tail = l;
    else
        a->ready_head = a->ready_tail = l;
    a->queued--;
    return j;
}

static void job_start_next(struct auth *a)
{
    while (a->running < a->concurrency) {
        struct auth_job *j = job_next(a);
        if (j == NULL)
            return;
        j->work.data = j;
        int r = uv_queue_work(a->loop, &j->work, job_work, job_done);
        if (r < 0) {
            log_error("auth: uv_queue_work: %s", uv_strerror(r));
            lane_release(a, j->lane);
            j->cb(j->data, r, NULL);
            job_free(j);
            continue;
        }
        a->running++;
    }
}

/* The lane of key, made if missing; NULL when it holds its share already
 * or memory is short. */
static struct auth_lane *lane_get(struct auth *a, const char *key)
{
    size_t klen = strlen(key);
    struct auth_lane *l = map_get(&a->lanes, key, klen);
    if (l != NULL)
        return l->jobs >= a->share ? NULL : l;
    l = calloc(1, sizeof(*l) + klen + 1);
    if (l == NULL)
        return NULL;
    memcpy(l->key, key, klen + 1);
    l->klen = klen;
    if (map_put(&a->lanes, key, klen, l) < 0) {
        free(l);
        return NULL;
    }
    return l;
}

static void lane_push(struct auth *a, struct auth_lane *l, struct auth_job *j)
{
    if (l->head == NULL) {
        if (a->ready_tail != NULL)
            a->ready_tail->next_ready = l;
        else
            a->ready_head = l;
        a->ready_tail = l;
        l->head = j;
    } else {
        l->tail->next = j;
    }
    l->tail = j;
    l->jobs++;
    a->queued++;
}

static int job_submit(struct auth *a, const char *addr, int verify, const char *hash,
                      const char *password, size_t len, auth_cb cb, void *data)
{
    if (a->queued >= a->max_queue)
        return DUET_EBUSY;
    char key[NET_ADDR_GROUP_LEN];
    net_addr_group(addr, key);
    struct auth_lane *l = lane_get(a, key);
    if (l == NULL)
        return DUET_EBUSY;
    struct auth_job *j = calloc(1, sizeof(*j));
    if (j == NULL)
        goto err_lane;
    j->password = malloc(len + 1);
    if (j->password == NULL)
        goto err_job;
    memcpy(j->password, password, len);
    j->password[len] = '\0';
    j->plen = len;
    j->auth = a;
    j->lane = l;
    j->verify = verify;
    j->cb = cb;
    j->data = data;
    if (verify && hash != NULL && strlen(hash) < sizeof(j->hash))
        memcpy(j->hash, hash, strlen(hash) + 1);
    else if (verify)
        j->hash[0] = '\0'; /* no such user: hashed below in the worker */
    lane_push(a, l, j);
    job_start_next(a);
    return 0;
err_job:
    free(j);
err_lane:
    if (l->jobs == 0) {
        map_del(&a->lanes, l->key, l->klen);
        free(l);
    }
    return -ENOMEM;
}

int auth_hash(struct auth *a, const char *key, const char *password, size_t len, auth_cb cb,
              void *data)
{
    return job_submit(a, key, 0, NULL, password, len, cb, data);
}

int auth_verify(struct auth *a, const char *key, const char *hash, const char *password, size_t len,
                auth_cb cb, void *data)
{
    return job_submit(a, key, 1, hash, password, len, cb, data);
}

static void b64url(const uint8_t *in, size_t n, char *out)
{
    sodium_bin2base64(out, sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                      in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

const char *auth_cookie_name(int secure)
{
    return secure ? "__Host-duet_session" : "duet_session";
}

void auth_token_new(char token[AUTH_TOKEN_LEN + 1], uint8_t hash[32])
{
    uint8_t raw[32];
    randombytes_buf(raw, sizeof(raw));
    b64url(raw, sizeof(raw), token);
    crypto_hash_sha256(hash, (const unsigned char *)token, AUTH_TOKEN_LEN);
    sodium_memzero(raw, sizeof(raw));
}

int auth_token_hash(const char *token, size_t len, uint8_t hash[32])
{
    if (len != AUTH_TOKEN_LEN)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        char c = token[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return -EINVAL;
    }
    crypto_hash_sha256(hash, (const unsigned char *)token, len);
    return 0;
}

/* The counters below are the only state a cluster would share: each is
 * "attempts in the current window" under a key, touched by take (count one
 * if under the limit), refund (uncount one) and reset (drop the key). */
static struct throttle *throttle_get(map_t *m, const char *key, int64_t now, int64_t window,
                                     int create)
{
    struct throttle *t = map_get(m, key, strlen(key));
    if (t != NULL && now - t->window_start >= window) {
        t->window_start = now;
        t->attempts = 0;
    }
    if (t == NULL && create) {
        t = calloc(1, sizeof(*t));
        if (t == NULL)
            return NULL;
        if (map_put(m, key, strlen(key), t) < 0) {
            free(t);
            return NULL;
        }
        t->window_start = now;
    }
    return t;
}

static int64_t wait_s(const struct throttle *t, int64_t max, int64_t now, int64_t window)
{
    if (t == NULL || t->attempts < max)
        return 0;
    int64_t left = t->window_start + window - now;
    return left <= 0 ? 1 : (left + 999) / 1000;
}

int64_t auth_login_begin(struct auth *a, const char *user, const char *addr, int64_t now)
{
    char key[NET_ADDR_GROUP_LEN];
    net_addr_group(addr, key);
    struct throttle *ta = throttle_get(&a->by_addr, key, now, a->window_ms, 1);
    /* Without memory for a counter, refuse: the counters are the limit. */
    if (ta == NULL)
        return 1;
    int64_t wa = wait_s(ta, a->max_addr, now, a->window_ms);
    /* An address over its limit gets no counter for each name it tries:
     * those would grow by_user at the rate of its refused requests. */
    struct throttle *tu = throttle_get(&a->by_user, user, now, a->window_ms, wa == 0);
    if (tu == NULL && wa == 0)
        return 1;
    int64_t wu = wait_s(tu, a->max_user, now, a->window_ms);
    if (wu > 0 || wa > 0)
        return wu > wa ? wu : wa;
    tu->attempts++;
    ta->attempts++;
    return 0;
}

void auth_login_ok(struct auth *a, const char *user, const char *addr)
{
    free(map_del(&a->by_user, user, strlen(user)));
    char key[NET_ADDR_GROUP_LEN];
    net_addr_group(addr, key);
    struct throttle *ta = map_get(&a->by_addr, key, strlen(key));
    if (ta != NULL && ta->attempts > 0)
        ta->attempts--;
}
