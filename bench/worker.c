/* worker.c - one worker process: its users' WebSockets, sending messages
 * with timestamps, and checking what comes back (exactly once, in order,
 * with latencies). The scenario's phases are in scen.c. */
#include "worker.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define SEND_MAX 512

uint64_t worker_rand(struct worker *w)
{
    uint64_t x = w->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return w->rng = x;
}

int worker_step_of(const struct worker *w, uint64_t t_us)
{
    double t = (double)t_us / 1e6 - w->go;
    for (int i = 0; i < w->res.nsteps; i++)
        if (t < w->res.steps[i].t1)
            return i;
    return w->res.nsteps > 0 ? w->res.nsteps - 1 : 0;
}

/* ---- sending ---- */

int worker_send_raw(struct bconn *c, const char *s, size_t n)
{
    struct worker *w = c->w;
    int r = wsc_send(&c->ws, s, n);
    if (r < 0)
        return r;
    if (!c->dirty) {
        c->dirty = 1;
        w->dirty[w->n_dirty++] = c->local;
    }
    return 0;
}

void worker_flush_dirty(struct worker *w)
{
    for (int i = 0; i < w->n_dirty; i++) {
        struct bconn *c = &w->c[w->dirty[i]];
        c->dirty = 0;
        wsc_flush(&c->ws);
    }
    w->n_dirty = 0;
}

/* The text carries the run's nonce, the sender's counter and the send time,
 * padded to --text-len; ref is the send time too, so `sent` needs no
 * lookup. */
void worker_vocab(uint64_t k, char out[5])
{
    k %= 26 * 26 * 26;
    out[0] = 'q';
    out[1] = (char)('a' + k / 676);
    out[2] = (char)('a' + k / 26 % 26);
    out[3] = (char)('a' + k % 26);
    out[4] = '\0';
}

int worker_send_msg(struct worker *w, struct bconn *c, uint64_t t_us)
{
    char buf[SEND_MAX + 256];
    char head[96];
    int hl =
        snprintf(head, sizeof(head), "%s %" PRIu64 " %" PRIu64 " ", w->nonce, c->next_ctr, t_us);
    if (w->spec->sc == SC_SEARCH) {
        /* Three words of a 2,000-word vocabulary, spread by a hash of the
         * counter: each word is in about 1 message of 700. */
        char a[5], b[5], d[5];
        uint64_t x = c->next_ctr * 0x9E3779B97F4A7C15ULL;
        worker_vocab((x >> 20) % 2000, a);
        worker_vocab((x >> 32) % 2000, b);
        worker_vocab((x >> 44) % 2000, d);
        hl = snprintf(head, sizeof(head), "%s %" PRIu64 " %" PRIu64 " %s %s %s ", w->nonce,
                      c->next_ctr, t_us, a, b, d);
    }
    int pad = w->o->text_len - hl;
    if (pad < 0)
        pad = 0;
    int n = snprintf(buf, sizeof(buf),
                     "{\"type\":\"send\",\"ref\":%" PRIu64
                     ",\"chat_id\":\"%s\",\"id\":\"%s-%d-%" PRIu64 "\",\"text\":\"%s%.*s\"}",
                     t_us, c->u->chat, w->nonce, c->local & 1, c->next_ctr, head, pad, w->pad);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return -EINVAL;
    int r = worker_send_raw(c, buf, (size_t)n);
    if (r < 0)
        return r;
    c->next_ctr++;
    c->issued++;
    w->res.sends++;
    w->res.steps[worker_step_of(w, t_us)].sent++;
    return 0;
}

static void send_ack(struct bconn *c, const char *kind, int64_t seq)
{
    char buf[160];
    int n = snprintf(buf, sizeof(buf),
                     "{\"type\":\"ack\",\"chat_id\":\"%s\",\"kind\":\"%s\",\"seq\":%" PRId64 "}",
                     c->u->chat, kind, seq);
    if (worker_send_raw(c, buf, (size_t)n) < 0)
        c->w->res.errors++;
}

/* Deletes our message at seq for everyone; ref is the send time. */
static void send_delete(struct worker *w, struct bconn *c, int64_t seq, uint64_t t_us)
{
    char buf[200];
    int n =
        snprintf(buf, sizeof(buf),
                 "{\"type\":\"delete\",\"ref\":%" PRIu64 ",\"chat_id\":\"%s\",\"seq\":%" PRId64 "}",
                 t_us, c->u->chat, seq);
    if (worker_send_raw(c, buf, (size_t)n) < 0) {
        w->res.errors++;
        return;
    }
    w->res.steps[worker_step_of(w, t_us)].deletes++;
}

/* ---- receiving ---- */

static int rq_push(struct bconn *c, int64_t seq, uint64_t t)
{
    if (c->rq_len == c->rq_cap) {
        size_t cap = c->rq_cap ? c->rq_cap * 2 : 64;
        struct rq_item *n = malloc(cap * sizeof(*n));
        if (n == NULL)
            return -ENOMEM;
        for (size_t i = 0; i < c->rq_len; i++)
            n[i] = c->rq[(c->rq_head + i) % c->rq_cap];
        free(c->rq);
        c->rq = n;
        c->rq_cap = cap;
        c->rq_head = 0;
    }
    c->rq[(c->rq_head + c->rq_len) % c->rq_cap] = (struct rq_item){seq, t};
    c->rq_len++;
    return 0;
}

static void on_message(struct worker *w, struct bconn *c, json_t *ev, uint64_t now)
{
    const char *chat = json_string_value(json_object_get(ev, "chat_id"));
    json_t *seqj = json_object_get(ev, "seq");
    const char *text = json_string_value(json_object_get(ev, "text"));
    if (chat == NULL || strcmp(chat, c->u->chat) != 0 || !json_is_integer(seqj) || text == NULL)
        return;
    int64_t seq = json_integer_value(seqj);
    const char *from = json_string_value(json_object_get(ev, "from"));
    if (from != NULL && strcmp(from, c->u->id) == 0)
        return; /* our own, from another connection of ours */
    if (seq > c->ack_want)
        c->ack_want = seq;
    if (strncmp(text, w->nonce, 8) != 0 || text[8] != ' ')
        return; /* an earlier run's */
    char *end;
    uint64_t ctr = strtoull(text + 9, &end, 10);
    uint64_t t = strtoull(end, NULL, 10);
    if (seq <= c->last_seq)
        w->res.bad_seq++;
    c->last_seq = seq;
    if (ctr < c->recv_next) {
        w->res.dup++;
        return;
    }
    if (ctr > c->recv_next)
        w->res.reorder++; /* a gap: lost, or later out of order */
    c->recv_next = ctr + 1;
    c->recv_count++;
    w->res.received++;
    if (w->go > 0) {
        w->res.steps[worker_step_of(w, now)].received++;
        hist_record(&w->res.steps[worker_step_of(w, t)].recv, now > t ? now - t : 0);
    }
}

static void on_sent(struct worker *w, struct bconn *c, json_t *ev, uint64_t now)
{
    json_t *ref = json_object_get(ev, "ref");
    json_t *seq = json_object_get(ev, "seq");
    if (!json_is_integer(ref) || !json_is_integer(seq)) {
        w->res.errors++;
        return;
    }
    uint64_t t = (uint64_t)json_integer_value(ref);
    if (json_is_true(json_object_get(ev, "duplicate")))
        w->res.errors++; /* ids are unique per run: the server saw it twice */
    c->sent_ok++;
    w->res.sent_ok++;
    struct step_result *st = &w->res.steps[worker_step_of(w, t)];
    st->sent_ok++;
    hist_record(&st->ack, now > t ? now - t : 0);
    if (rq_push(c, json_integer_value(seq), t) < 0)
        w->res.errors++;
    if (w->o->delete_every > 0 && w->res.sent_ok % (uint64_t)w->o->delete_every == 0)
        send_delete(w, c, json_integer_value(seq), now);
    scen_on_sent(w, c);
}

/* The answer to our delete: ref is the time it was sent. */
static void on_deleted(struct worker *w, struct bconn *c, json_t *ev, uint64_t now)
{
    json_t *ref = json_object_get(ev, "ref"), *seq = json_object_get(ev, "seq");
    if (!json_is_integer(ref)) {
        /* the peer deleted one of its messages: acknowledge it (no pending row left) */
        if (json_is_integer(seq))
            send_ack(c, "deleted", json_integer_value(seq));
        return;
    }
    uint64_t t = (uint64_t)json_integer_value(ref);
    hist_record(&w->res.steps[worker_step_of(w, t)].del, now > t ? now - t : 0);
}

static void on_receipt(struct worker *w, struct bconn *c, json_t *ev, uint64_t now)
{
    const char *chat = json_string_value(json_object_get(ev, "chat_id"));
    const char *status = json_string_value(json_object_get(ev, "status"));
    json_t *seqj = json_object_get(ev, "seq");
    if (chat == NULL || strcmp(chat, c->u->chat) != 0 || status == NULL ||
        strcmp(status, "delivered") != 0 || !json_is_integer(seqj))
        return;
    int64_t seq = json_integer_value(seqj);
    if (seq > c->rcpt_want)
        c->rcpt_want = seq;
    while (c->rq_len > 0 && c->rq[c->rq_head].seq <= seq) {
        uint64_t t = c->rq[c->rq_head].t_us;
        hist_record(&w->res.steps[worker_step_of(w, t)].rcpt, now > t ? now - t : 0);
        w->res.receipts++;
        c->rq_head = (c->rq_head + 1) % c->rq_cap;
        c->rq_len--;
    }
}

static void on_error_ev(struct worker *w, struct bconn *c, json_t *ev)
{
    w->res.errors++;
    if (w->res.errors <= 5) {
        char *s = json_dumps(ev, JSON_COMPACT);
        fprintf(stderr, "duet-bench: user %d: %s\n", c->user, s ? s : "error");
        free(s);
    }
}

static void c_on_text(struct wsc *ws, const char *s, size_t n)
{
    struct bconn *c = ws->data;
    struct worker *w = c->w;
    uint64_t now = now_us();
    json_error_t je;
    json_t *ev = json_loadb(s, n, 0, &je);
    const char *type = json_string_value(json_object_get(ev, "type"));
    if (type == NULL) {
        w->res.errors++;
        json_decref(ev);
        return;
    }
    if (strcmp(type, "message") == 0) {
        if (json_is_true(json_object_get(ev, "pending")))
            w->res.pending_seen++;
        on_message(w, c, ev, now);
    } else if (strcmp(type, "sent") == 0) {
        on_sent(w, c, ev, now);
    } else if (strcmp(type, "deleted") == 0) {
        on_deleted(w, c, ev, now);
    } else if (strcmp(type, "receipt") == 0) {
        if (json_is_true(json_object_get(ev, "pending")))
            w->res.pending_seen++;
        on_receipt(w, c, ev, now);
    } else if (strcmp(type, "synced") == 0) {
        if (!c->synced) {
            c->synced = 1;
            w->n_synced++;
            scen_on_synced(w, c);
        }
    } else if (strcmp(type, "history") == 0) {
        scen_on_history(w, c, ev, now);
    } else if (strcmp(type, "error") == 0) {
        on_error_ev(w, c, ev);
    }
    json_decref(ev);
}

static void c_on_read_end(struct wsc *ws)
{
    struct bconn *c = ws->data;
    if (c->ack_want > c->ack_done) {
        send_ack(c, "message", c->ack_want);
        c->ack_done = c->ack_want;
    }
    if (c->rcpt_want > c->rcpt_done) {
        send_ack(c, "delivered", c->rcpt_want);
        c->rcpt_done = c->rcpt_want;
    }
}

/* ---- connections ---- */

static void pump_connects(struct worker *w);

static void c_on_open(struct wsc *ws)
{
    struct bconn *c = ws->data;
    c->connecting = 0;
    c->w->connecting--;
    pump_connects(c->w);
}

static void c_on_closed(struct wsc *ws, int err)
{
    struct bconn *c = ws->data;
    struct worker *w = c->w;
    if (c->connecting) {
        c->connecting = 0;
        w->connecting--;
    }
    if (c->synced) {
        c->synced = 0;
        w->n_synced--;
    }
    if (scen_on_closed(w, c))
        return;
    if (c->want_online && !w->finished) {
        if (!c->failed) {
            c->failed = 1;
            w->n_failed++;
            w->res.conn_fail++;
            if (w->res.conn_fail <= 5)
                fprintf(stderr, "duet-bench: user %d: connection lost: %s\n", c->user,
                        err < 0 ? strerror(-err) : "closed");
        }
        c->want_online = 0;
    }
    pump_connects(w);
}

static const struct wsc_cbs conn_cbs = {
    .on_open = c_on_open,
    .on_text = c_on_text,
    .on_read_end = c_on_read_end,
    .on_closed = c_on_closed,
};

static void pump_connects(struct worker *w)
{
    while (w->next_connect < w->n &&
           (w->connect_window <= 0 || w->connecting < w->connect_window)) {
        struct bconn *c = &w->c[w->next_connect++];
        if (!c->want_online || c->ws.state != WSC_IDLE)
            continue;
        struct sockaddr_in src;
        users_src(c->user, &src);
        c->connecting = 1;
        w->connecting++;
        w->res.conns++;
        int r =
            wsc_connect(&c->ws, &w->loop, &src, &w->o->dst, w->host, c->u->cookie, &conn_cbs, c);
        if (r < 0) {
            c->connecting = 0;
            w->connecting--;
            c->failed = 1;
            w->n_failed++;
            w->res.conn_fail++;
        }
    }
}

void worker_connect_all(struct worker *w)
{
    w->next_connect = 0;
    pump_connects(w);
}

/* ---- the end ---- */

int worker_drained(const struct worker *w)
{
    for (int i = 0; i < w->n; i++) {
        const struct bconn *c = &w->c[i], *p = &w->c[i ^ 1];
        if (c->failed || p->failed)
            continue;
        if (c->sent_ok < c->issued || p->recv_count < c->sent_ok || c->rq_len > 0)
            return 0;
    }
    return 1;
}

void worker_tally(struct worker *w)
{
    for (int i = 0; i < w->n; i++) {
        const struct bconn *c = &w->c[i], *p = &w->c[i ^ 1];
        if (c->failed || p->failed)
            continue; /* counted as connection failures; their rest is pending */
        if (p->recv_count < c->sent_ok)
            w->res.lost += c->sent_ok - p->recv_count;
        w->res.unanswered += c->issued - c->sent_ok;
        w->res.missing_rcpt += c->rq_len;
    }
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n > 0) {
        ssize_t k = write(fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -errno;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

void worker_finish(struct worker *w)
{
    if (w->finished)
        return;
    w->finished = 1;
    if (write_all(w->spec->res_fd, &w->res, sizeof(w->res)) < 0)
        perror("duet-bench: worker result");
    uv_timer_stop(&w->tick);
    uv_poll_stop(&w->ctl);
    upload_stop(w);
    for (int i = 0; i < w->n; i++) {
        w->c[i].want_online = 0;
        wsc_drop(&w->c[i].ws, 0);
    }
}

/* ---- the worker's loop ---- */

static void on_tick(uv_timer_t *t)
{
    struct worker *w = t->data;
    if (!w->ready_sent && (uint64_t)(w->n_synced + w->n_failed) >= w->goal) {
        /* every connection that should be up is up (or failed) */
        w->ready_sent = 1;
        w->res.connect_us = (uint64_t)((now_s() - w->phase_t0) * 1e6);
        char r = 'R';
        if (write_all(w->spec->res_fd, &r, 1) < 0) {
            worker_finish(w);
            return;
        }
    }
    if (w->go > 0 && !w->finished)
        scen_on_tick(w);
    worker_flush_dirty(w);
}

static void on_ctl(uv_poll_t *p, int status, int events)
{
    struct worker *w = p->data;
    char b;
    ssize_t k = status < 0 ? -1 : read(w->spec->ctl_fd, &b, 1);
    if (k == 1 && b == 'G') {
        uv_poll_stop(p);
        w->go = now_s();
        scen_on_go(w);
        worker_flush_dirty(w);
        return;
    }
    if (k < 0 && errno == EAGAIN)
        return;
    fprintf(stderr, "duet-bench: worker: the parent went away\n");
    worker_finish(w);
}

int worker_main(const struct worker_spec *spec)
{
    struct worker *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return 2;
    int rc = 2;
    w->spec = spec;
    w->o = spec->o;
    w->n = spec->n_users;
    w->c = calloc((size_t)w->n, sizeof(*w->c));
    w->dirty = calloc((size_t)w->n + 1, sizeof(int));
    w->pad = malloc((size_t)spec->o->text_len + 1);
    char *shared = malloc(65536);
    if (w->c == NULL || w->dirty == NULL || w->pad == NULL || shared == NULL)
        goto out;
    memset(w->pad, 'x', (size_t)spec->o->text_len);
    w->pad[spec->o->text_len] = '\0';
    uint8_t rnd[8];
    if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
        goto out;
    memcpy(&w->rng, rnd, 8);
    w->rng |= 1;
    /* one nonce per run, shared by the workers (chosen by the parent) */
    memcpy(w->nonce, spec->nonce, 9);
    snprintf(w->host, sizeof(w->host), "%s:%d", spec->o->host, spec->o->port);
    if (uv_loop_init(&w->loop) < 0)
        goto out;
    w->loop.data = shared;
    for (int i = 0; i < w->n; i++) {
        struct bconn *c = &w->c[i];
        c->w = w;
        c->local = i;
        c->user = spec->first_user + i;
        c->u = &spec->us->u[c->user];
        c->want_online = 1;
    }
    w->connect_window = spec->o->connect_window > 0 ? spec->o->connect_window : 500;
    scen_init(w);
    for (int i = 0; i < w->n; i++)
        if (w->c[i].want_online)
            w->goal++;
    if (uv_timer_init(&w->loop, &w->tick) < 0)
        goto out_loop0;
    if (uv_poll_init(&w->loop, &w->ctl, spec->ctl_fd) < 0) {
        uv_close((uv_handle_t *)&w->tick, NULL);
        goto out_loop0;
    }
    w->tick.data = w;
    w->ctl.data = w;
    w->phase_t0 = now_s();
    if (uv_timer_start(&w->tick, on_tick, 1, 1) < 0 ||
        uv_poll_start(&w->ctl, UV_READABLE, on_ctl) < 0)
        goto out_loop;
    worker_connect_all(w);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    rc = w->finished ? 0 : 2;
out_loop:
    uv_close((uv_handle_t *)&w->tick, NULL);
    uv_close((uv_handle_t *)&w->ctl, NULL);
    for (int i = 0; i < w->n; i++)
        wsc_drop(&w->c[i].ws, 0);
out_loop0:
    upload_stop(w);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    upload_free(w);
    if (uv_loop_close(&w->loop) < 0)
        fprintf(stderr, "duet-bench: worker: handles left open\n");
out:
    if (w->c != NULL)
        for (int i = 0; i < w->n; i++)
            free(w->c[i].rq);
    free(w->c);
    free(w->dirty);
    free(w->pad);
    free(shared);
    free(w);
    return rc;
}
