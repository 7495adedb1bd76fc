/* users.c - the bench's users: friend pairs created through the HTTP API
 * (sign-up, friend request, accept), kept in a file with their session
 * cookies so that reruns skip sign-up and password hashing. */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define SETUP_PARALLEL 32

void users_src(int i, struct sockaddr_in *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    uint32_t a = 127u << 24 | (uint32_t)(1 + i / 62500) << 16 |
                 (uint32_t)(1 + (i / 250) % 250) << 8 | (uint32_t)(1 + i % 250);
    sa->sin_addr.s_addr = htonl(a);
}

void users_free(struct users *us)
{
    free(us->u);
    us->u = NULL;
    us->n = 0;
}

static int users_load(const char *path, struct users *us)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return errno == ENOENT ? 0 : -errno;
    char line[512];
    int r = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        struct buser b;
        memset(&b, 0, sizeof(b));
        if (sscanf(line, "%32s %32s %63s %36s %36s", b.name, b.pass, b.cookie, b.id, b.chat) != 5) {
            fprintf(stderr, "duet-bench: %s: bad line: %s", path, line);
            r = -EINVAL;
            break;
        }
        struct buser *nu = realloc(us->u, sizeof(*nu) * (size_t)(us->n + 1));
        if (nu == NULL) {
            r = -ENOMEM;
            break;
        }
        us->u = nu;
        us->u[us->n++] = b;
    }
    fclose(f);
    if (r == 0 && us->n % 2 != 0)
        us->n--; /* an unfinished pair */
    return r;
}

static int users_save(const char *path, const struct users *us)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return -errno;
    fprintf(f, "# duet-bench users: name password session user_id chat_id (pairs 2i, 2i+1)\n");
    for (int i = 0; i < us->n; i++)
        fprintf(f, "%s %s %s %s %s\n", us->u[i].name, us->u[i].pass, us->u[i].cookie, us->u[i].id,
                us->u[i].chat);
    int r = 0;
    if (fflush(f) != 0)
        r = -errno;
    if (fclose(f) != 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) != 0)
        r = -errno;
    return r;
}

/* ---- creating pairs ---- */

struct setup;
/* One pair being created. Ownership: in setup.slots. */
struct pair_job {
    struct setup *st;
    int pair;  /* index of the pair */
    int step;  /* 0 signup a, 1 signup b, 2 request, 3 accept */
    int tries; /* retries of a busy step */
    struct hreq h;
    uv_timer_t retry;
};

/* Ownership: on the stack of users_create. */
struct setup {
    const struct bench_opts *o;
    uv_loop_t *loop;
    struct users *us;
    int next_pair, end_pair, done, failed;
    struct pair_job slots[SETUP_PARALLEL];
};

static void job_step(struct pair_job *j);

static void job_next(struct pair_job *j)
{
    struct setup *st = j->st;
    if (st->failed || st->next_pair >= st->end_pair) {
        j->pair = -1;
        return;
    }
    j->pair = st->next_pair++;
    j->step = 0;
    j->tries = 0;
    job_step(j);
}

static void job_retry(uv_timer_t *t)
{
    job_step(t->data);
}

static void job_done(struct hreq *h, int err)
{
    struct pair_job *j = h->data;
    struct setup *st = j->st;
    struct buser *a = &st->us->u[2 * j->pair], *b = a + 1, *me = j->step == 1 ? b : a;
    int want = j->step <= 2 ? 201 : 200;
    if (err == 0 && (h->status == 503 || h->status == 429) && j->tries++ < 50) {
        hreq_free(h);
        /* busy hashing: wait; starting an initialised timer cannot fail */
        (void)uv_timer_start(&j->retry, job_retry, 200, 0);
        return;
    }
    if (err < 0 || h->status != want) {
        fprintf(stderr, "duet-bench: set-up of pair %d step %d: %s (HTTP %d) %s\n", j->pair,
                j->step, err < 0 ? uv_strerror(err) : "unexpected answer", h->status,
                h->body ? h->body : "");
        st->failed = 1;
        hreq_free(h);
        j->pair = -1;
        return;
    }
    json_error_t je;
    json_t *body = h->body ? json_loads(h->body, 0, &je) : NULL;
    int ok = 1;
    if (j->step <= 1) {
        const char *id = json_string_value(json_object_get(json_object_get(body, "user"), "id"));
        ok = id != NULL && h->cookie[0] != '\0' && strlen(id) == 36;
        if (ok) {
            snprintf(me->id, sizeof(me->id), "%s", id);
            snprintf(me->cookie, sizeof(me->cookie), "%s", h->cookie);
        }
    } else if (j->step == 3) {
        const char *chat = json_string_value(json_object_get(body, "chat_id"));
        ok = chat != NULL && strlen(chat) == 36;
        if (ok) {
            snprintf(a->chat, sizeof(a->chat), "%s", chat);
            snprintf(b->chat, sizeof(b->chat), "%s", chat);
        }
    }
    json_decref(body);
    hreq_free(h);
    if (!ok) {
        fprintf(stderr, "duet-bench: set-up of pair %d step %d: answer without id/cookie\n",
                j->pair, j->step);
        st->failed = 1;
        j->pair = -1;
        return;
    }
    if (++j->step < 4) {
        j->tries = 0;
        job_step(j);
        return;
    }
    st->done++;
    if (st->o->verbose && st->done % 500 == 0)
        fprintf(stderr, "duet-bench: %d pairs created\n", st->done);
    job_next(j);
}

static void job_step(struct pair_job *j)
{
    struct setup *st = j->st;
    int ia = 2 * j->pair;
    struct buser *a = &st->us->u[ia], *b = a + 1;
    char path[128], json[160];
    const char *cookie = NULL;
    int who = ia;
    switch (j->step) {
    case 0:
    case 1: {
        struct buser *me = j->step == 0 ? a : b;
        who = ia + j->step;
        snprintf(path, sizeof(path), "/api/signup");
        snprintf(json, sizeof(json), "{\"username\":\"%s\",\"password\":\"%s\"}", me->name,
                 me->pass);
        break;
    }
    case 2:
        snprintf(path, sizeof(path), "/api/friends/requests");
        snprintf(json, sizeof(json), "{\"username\":\"%s\"}", b->name);
        cookie = a->cookie;
        break;
    default:
        who = ia + 1;
        snprintf(path, sizeof(path), "/api/friends/requests/%s/accept", a->name);
        json[0] = '\0';
        cookie = b->cookie;
        break;
    }
    struct sockaddr_in src;
    users_src(who, &src);
    int r = hreq_start(&j->h, st->loop, &src, &st->o->dst, "POST", path, cookie,
                       json[0] ? json : NULL, job_done, j);
    if (r < 0) {
        fprintf(stderr, "duet-bench: set-up request: %s\n", uv_strerror(r));
        st->failed = 1;
        j->pair = -1;
    }
}

static int users_create(const struct bench_opts *o, struct users *us, int from, int to)
{
    uint8_t rnd[3];
    if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
        return -EIO;
    for (int i = from; i < to; i++) {
        struct buser *u = &us->u[i];
        memset(u, 0, sizeof(*u));
        snprintf(u->name, sizeof(u->name), "bn%02x%02x%02x_%d", rnd[0], rnd[1], rnd[2], i);
        snprintf(u->pass, sizeof(u->pass), "bench-pw-%02x%02x-%d", rnd[0], rnd[2], i);
    }
    uv_loop_t loop;
    int r = uv_loop_init(&loop);
    if (r < 0)
        return r;
    char *shared = malloc(65536);
    if (shared == NULL) {
        uv_loop_close(&loop);
        return -ENOMEM;
    }
    loop.data = shared;
    struct setup st = {.o = o, .loop = &loop, .us = us, .next_pair = from / 2, .end_pair = to / 2};
    double t0 = now_s();
    for (int i = 0; i < SETUP_PARALLEL; i++) {
        st.slots[i].st = &st;
        st.slots[i].pair = -1;
        /* uv_timer_init only initialises memory; it cannot fail */
        (void)uv_timer_init(&loop, &st.slots[i].retry);
        st.slots[i].retry.data = &st.slots[i];
    }
    for (int i = 0; i < SETUP_PARALLEL; i++)
        job_next(&st.slots[i]);
    uv_run(&loop, UV_RUN_DEFAULT);
    /* the timers keep the loop alive only while armed; close them */
    for (int i = 0; i < SETUP_PARALLEL; i++)
        uv_close((uv_handle_t *)&st.slots[i].retry, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    r = uv_loop_close(&loop);
    free(shared);
    if (st.failed)
        return -EPROTO;
    if (r < 0)
        return r;
    fprintf(stderr, "duet-bench: created %d users in %.1f s\n", to - from, now_s() - t0);
    return 0;
}

/* A stored session still works (the server may have a fresh database). */
static void check_done(struct hreq *h, int err)
{
    int *ok = h->data;
    *ok = err == 0 && h->status == 200;
}

static int users_check(const struct bench_opts *o, const struct buser *u, int idx)
{
    uv_loop_t loop;
    int ok = 0;
    if (uv_loop_init(&loop) < 0)
        return -EIO;
    struct hreq h;
    struct sockaddr_in src;
    users_src(idx, &src);
    int r =
        hreq_start(&h, &loop, &src, &o->dst, "GET", "/api/me", u->cookie, NULL, check_done, &ok);
    if (r == 0)
        uv_run(&loop, UV_RUN_DEFAULT);
    hreq_free(&h);
    uv_loop_close(&loop);
    return r < 0 ? r : ok ? 0 : -EACCES;
}

int users_ensure(const struct bench_opts *o, int need, struct users *us)
{
    need += need % 2;
    int r = users_load(o->users_file, us);
    if (r < 0) {
        fprintf(stderr, "duet-bench: %s: %s\n", o->users_file, strerror(-r));
        return r;
    }
    if (us->n > 0 &&
        (users_check(o, &us->u[0], 0) < 0 || users_check(o, &us->u[us->n - 1], us->n - 1) < 0)) {
        fprintf(stderr,
                "duet-bench: the sessions in %s are not valid on this server (a fresh "
                "database?); remove the file to create new users\n",
                o->users_file);
        return -EACCES;
    }
    if (us->n >= need)
        return 0;
    int from = us->n;
    struct buser *nu = realloc(us->u, sizeof(*nu) * (size_t)need);
    if (nu == NULL)
        return -ENOMEM;
    us->u = nu;
    us->n = need;
    fprintf(stderr, "duet-bench: creating %d users (%d pairs)\n", need - from, (need - from) / 2);
    r = users_create(o, us, from, need);
    if (r < 0) {
        us->n = from;
        return r;
    }
    r = users_save(o->users_file, us);
    if (r < 0)
        fprintf(stderr, "duet-bench: saving %s: %s\n", o->users_file, strerror(-r));
    return r;
}
