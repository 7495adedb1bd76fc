/* cass_sched.c - which requests of the Cassandra store may run at once.
 *
 * store.h rule 4 says a request sees the effects of every earlier one. With
 * SQLite that is free (one request at a time); here requests overlap, so a
 * request waits for every earlier unfinished one it may conflict with. Each
 * request gets a small key set (its user, its chat and that chat's two
 * members, a username or a session token); two requests conflict when their
 * sets meet. Requests whose reach cannot be known before they run (a friend
 * or block op names the other user by name and changes what both may do; a
 * settings change alters what peers see) are barriers: they wait for every
 * earlier request, and every later one waits for them.
 *
 * A chat's members are not in its id (a keyed hash), so they come from a
 * cache filled whenever a chat row is read. A message op on a chat not in the
 * cache runs as a barrier once, and fills the cache. Members never change,
 * so the cache is never stale, only bounded.
 *
 * The rule is applied without comparing ops pairwise: each key has a FIFO of
 * the unfinished ops that hold it, and an op counts the lists it is not
 * first in (deps). Finishing an op removes it from the front of its lists
 * and counts down the new fronts, so submitting or finishing costs O(keys)
 * and releasing the ops it unblocks costs O(what it unblocks). Barriers are
 * in no list: the oldest unfinished one (the gate) starts once the ops
 * before it finished (open counts them), and the ops after it carry one
 * more dep, taken back when it finishes (a walk over exactly those ops).
 */
#include "cass_int.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define CS_MEMBERS_MAX 200000

void cs_name_key(const char *tag, const void *p, size_t n, duet_id *out)
{
    crypto_generichash_state st;
    /* These cannot fail with these sizes. */
    (void)crypto_generichash_init(&st, NULL, 0, sizeof(out->b));
    (void)crypto_generichash_update(&st, (const unsigned char *)tag, strlen(tag) + 1);
    (void)crypto_generichash_update(&st, p, n);
    (void)crypto_generichash_final(&st, out->b, sizeof(out->b));
}

static int cs_drop_all(void *value, void *ctx)
{
    free(value);
    return 1;
}

void cs_members_clear(cs_store *s)
{
    map_filter(&s->members, cs_drop_all, NULL);
}

void cs_members_put(cs_store *s, const duet_id *chat, const duet_id *a, const duet_id *b)
{
    if (map_get(&s->members, chat->b, sizeof(chat->b)) != NULL)
        return;
    if (s->members.count >= CS_MEMBERS_MAX)
        cs_members_clear(s);
    struct cs_members *m = malloc(sizeof(*m));
    if (m == NULL)
        return; /* only a missed cache entry: the op will be a barrier */
    m->a = *a;
    m->b = *b;
    if (map_put(&s->members, chat->b, sizeof(chat->b), m) < 0)
        free(m);
}

static void cs_key_add(cs_op *op, const duet_id *id)
{
    if (op->nkeys < (int)(sizeof(op->keys) / sizeof(op->keys[0])))
        op->keys[op->nkeys++] = *id;
    else
        op->barrier = 1;
}

/* The op's user, its chat and the chat's members, or a barrier when the
 * members are not known yet. */
static void cs_key_chat(cs_store *s, cs_op *op)
{
    const store_req *req = op->req;
    cs_key_add(op, &req->in.user);
    cs_key_add(op, &req->in.chat_id);
    const struct cs_members *m = map_get(&s->members, req->in.chat_id.b, sizeof(req->in.chat_id.b));
    if (m == NULL) {
        op->barrier = 1;
        return;
    }
    cs_key_add(op, &m->a);
    cs_key_add(op, &m->b);
}

void cs_keys(cs_store *s, cs_op *op)
{
    const store_req *req = op->req;
    op->nkeys = 0;
    op->barrier = 0;
    switch (req->op) {
    case STORE_USER_CREATE:
    case STORE_USER_GET_BY_NAME: {
        const char *name = req->in.username != NULL ? req->in.username : "";
        duet_id k;
        cs_name_key("name", name, strlen(name), &k);
        cs_key_add(op, &k);
        break;
    }
    case STORE_USER_GET:
    case STORE_USER_SET_LAST_SEEN:
    case STORE_REQUESTS_LIST:
    case STORE_BLOCKS_LIST:
    case STORE_CHATS_LIST:
    case STORE_PRESENCE_PEERS:
    case STORE_PENDING_LIST:
    case STORE_CHAT_STATE_SET: /* c-org: the pin count is the user's */
    case STORE_SEARCH:
        cs_key_add(op, &req->in.user);
        break;
    case STORE_SESSION_CREATE:
    case STORE_SESSION_GET:
    case STORE_SESSION_DELETE: {
        duet_id k;
        cs_name_key("token", req->in.token_hash, sizeof(req->in.token_hash), &k);
        cs_key_add(op, &k);
        if (req->op == STORE_SESSION_CREATE)
            cs_key_add(op, &req->in.user);
        break;
    }
    case STORE_CHAT_PEER:
    case STORE_PUSH_SUB_ADD:
    case STORE_PUSH_SUB_LIST:
    case STORE_PUSH_SUB_DELETE:
    case STORE_PUSH_SUB_LOGOUT:
    case STORE_PUSH_PREFS:
    case STORE_PUSH_ENQUEUE:
        cs_key_add(op, &req->in.user);
        break;
    case STORE_PUSH_JOBS_LIST:
    case STORE_PUSH_JOB_DONE: {
        const char *inst = req->in.push.instance != NULL ? req->in.push.instance : "";
        duet_id k;
        cs_name_key("push", inst, strlen(inst), &k);
        cs_key_add(op, &k);
        break;
    }
    case STORE_MSG_SEND:
    case STORE_MSG_ACK:
    case STORE_MSG_SEEN:
    case STORE_MSG_DELETE:
    case STORE_HISTORY:
    case STORE_MSG_REACT: /* issue 17 */
    case STORE_MSG_EDIT:
    case STORE_MSG_HIDE:
        cs_key_chat(s, op);
        break;
    default:
        /* USER_UPDATE and SET_PASSWORD (what peers and other sessions see),
         * every friend and block op. */
        op->barrier = 1;
        break;
    }
}

int cs_conflict(const cs_op *a, const cs_op *b)
{
    if (a->barrier || b->barrier)
        return 1;
    for (int i = 0; i < a->nkeys; i++)
        for (int j = 0; j < b->nkeys; j++)
            if (duet_id_eq(&a->keys[i], &b->keys[j]))
                return 1;
    return 0;
}

/* ---- the scheduler ---- */

int cs_sched_init(struct cs_sched *sc)
{
    memset(sc, 0, sizeof(*sc));
    return map_init(&sc->keys);
}

void cs_sched_free(struct cs_sched *sc)
{
    /* Empty once every op finished; free what a caller left anyway. */
    map_filter(&sc->keys, cs_drop_all, NULL);
    map_free(&sc->keys);
}

static void cs_ready_push(struct cs_sched *sc, cs_op *op)
{
    if (op->grouped || op->readied)
        return; /* its leader runs it (cass_group.c), or it started early */
    op->readied = 1;
    op->ready_next = NULL;
    if (sc->ready_tail != NULL)
        sc->ready_tail->ready_next = op;
    else
        sc->ready = op;
    sc->ready_tail = op;
}

cs_op *cs_sched_next(struct cs_sched *sc)
{
    cs_op *op = sc->ready;
    if (op == NULL)
        return NULL;
    sc->ready = op->ready_next;
    if (sc->ready == NULL)
        sc->ready_tail = NULL;
    op->ready_next = NULL;
    return op;
}

/* Finds or creates the wait list of each distinct key of op. On a failed
 * allocation, removes the lists it created (still empty) and returns
 * -ENOMEM; op->kq is then all NULL. */
static int cs_lists_get(struct cs_sched *sc, cs_op *op)
{
    int created[CS_KEYS_MAX] = {0};
    for (int i = 0; i < op->nkeys; i++) {
        op->kq[i] = NULL;
        op->kq_next[i] = NULL;
        int dup = 0;
        for (int j = 0; j < i && !dup; j++)
            dup = duet_id_eq(&op->keys[i], &op->keys[j]);
        if (dup)
            continue;
        const uint8_t *k = op->keys[i].b;
        struct cs_keyq *q = map_get(&sc->keys, k, sizeof(op->keys[i].b));
        if (q == NULL) {
            q = calloc(1, sizeof(*q));
            if (q == NULL || map_put(&sc->keys, k, sizeof(op->keys[i].b), q) < 0) {
                free(q);
                for (int j = 0; j < i; j++) {
                    if (created[j]) {
                        (void)map_del(&sc->keys, op->keys[j].b, sizeof(op->keys[j].b));
                        free(op->kq[j]);
                    }
                    op->kq[j] = NULL;
                }
                return -ENOMEM;
            }
            created[i] = 1;
        }
        op->kq[i] = q;
    }
    return 0;
}

void cs_sched_add(struct cs_sched *sc, cs_op *op)
{
    op->deps = 0;
    op->ready_next = NULL;
    op->ord = ++sc->n_added;
    /* Without memory for its lists, the op waits as a barrier: slower, but
     * the same order. */
    if (!op->barrier && cs_lists_get(sc, op) < 0)
        op->barrier = 1;
    if (op->barrier) {
        if (sc->gate == NULL) {
            sc->gate = op;
            if (sc->open == 0)
                cs_ready_push(sc, op);
        }
        /* Else a later gate: found by the walk when the ones before finish. */
        return;
    }
    for (int i = 0; i < op->nkeys; i++) {
        struct cs_keyq *q = op->kq[i];
        if (q == NULL)
            continue;
        if (q->tail != NULL) {
            /* Link after the tail: find the tail's slot for this list. */
            cs_op *t = q->tail;
            for (int j = 0; j < t->nkeys; j++)
                if (t->kq[j] == q)
                    t->kq_next[j] = op;
            op->deps++;
        } else {
            q->head = op;
        }
        q->tail = op;
    }
    if (sc->gate != NULL)
        op->deps++; /* until the barriers before it finished */
    else
        sc->open++;
    if (op->deps == 0)
        cs_ready_push(sc, op);
}

cs_op *cs_sched_behind(const cs_op *g)
{
    cs_op *n = NULL;
    int lists = 0, n_lists = 0;
    for (int i = 0; i < g->nkeys; i++) {
        if (g->kq[i] == NULL)
            continue;
        if (g->kq_next[i] == NULL || (n != NULL && g->kq_next[i] != n))
            return NULL;
        n = g->kq_next[i];
        lists++;
    }
    if (n == NULL || n->barrier || n->state != CS_QUEUED)
        return NULL;
    for (int i = 0; i < n->nkeys; i++)
        n_lists += n->kq[i] != NULL;
    /* The same lists, and no wait for a barrier (that would be one more). */
    return n_lists == lists && n->deps == lists ? n : NULL;
}

/* op's slot for the list q, or -1. */
static int cs_slot(const cs_op *op, const struct cs_keyq *q)
{
    for (int i = 0; i < op->nkeys; i++)
        if (op->kq[i] == q)
            return i;
    return -1;
}

void cs_sched_move(cs_op *g, cs_op *y, cs_op *x)
{
    for (int i = 0; i < g->nkeys; i++) {
        struct cs_keyq *q = g->kq[i];
        int jx, jy;
        if (q == NULL || (jx = cs_slot(x, q)) < 0 || (jy = cs_slot(y, q)) < 0)
            continue; /* cannot be: the caller checked the lists */
        cs_op *run = g->kq_next[i];
        y->kq_next[jy] = x->kq_next[jx];
        x->kq_next[jx] = run;
        g->kq_next[i] = x;
        if (q->tail == x)
            q->tail = y;
    }
}

void cs_sched_resort(cs_op *g, int n)
{
    enum { MAX = 2 * CS_GROUP_MAX };
    cs_op *v[MAX];
    int i0 = -1;
    for (int i = 0; i < g->nkeys && i0 < 0; i++)
        if (g->kq[i] != NULL)
            i0 = i;
    if (i0 < 0 || n < 2 || n > MAX)
        return;
    /* The run, from g's first list. */
    cs_op *o = g->kq_next[i0];
    for (int k = 0; k < n; k++) {
        if (o == NULL)
            return; /* cannot be: the caller counted the run */
        v[k] = o;
        o = o->kq_next[cs_slot(o, g->kq[i0])];
    }
    cs_op *last = v[n - 1];
    /* Insertion sort by submission order (a few dozen ops). */
    for (int k = 1; k < n; k++) {
        cs_op *t = v[k];
        int j = k;
        for (; j > 0 && v[j - 1]->ord > t->ord; j--)
            v[j] = v[j - 1];
        v[j] = t;
    }
    for (int i = 0; i < g->nkeys; i++) {
        struct cs_keyq *q = g->kq[i];
        if (q == NULL)
            continue;
        cs_op *rest = last->kq_next[cs_slot(last, q)];
        g->kq_next[i] = v[0];
        for (int k = 0; k < n; k++)
            v[k]->kq_next[cs_slot(v[k], q)] = k + 1 < n ? v[k + 1] : rest;
        if (q->tail == last)
            q->tail = v[n - 1];
    }
}

void cs_sched_early(struct cs_sched *sc, cs_op *op)
{
    cs_ready_push(sc, op);
}

void cs_sched_ungroup(struct cs_sched *sc, cs_op *op)
{
    op->grouped = 0;
    op->state = CS_QUEUED;
    if (op->deps == 0)
        cs_ready_push(sc, op);
}

/* The gate finished: the ops up to the next barrier open, and that barrier
 * is the new gate. */
static void cs_gate_done(struct cs_sched *sc, cs_op *bar)
{
    cs_op *op = bar->next;
    for (; op != NULL && !op->barrier; op = op->next) {
        sc->open++;
        if (--op->deps == 0)
            cs_ready_push(sc, op);
    }
    sc->gate = op;
    if (op != NULL && sc->open == 0)
        cs_ready_push(sc, op);
}

/* Takes op, not first in q, out of q (n: the op behind it). The walk is
 * short: op is among the acks right behind a send group. */
static void cs_unlink_middle(struct cs_keyq *q, const cs_op *op, cs_op *n)
{
    for (cs_op *p = q->head; p != NULL;) {
        int j = cs_slot(p, q);
        if (j < 0)
            return; /* cannot be: every op of q has a slot for it */
        if (p->kq_next[j] == op) {
            p->kq_next[j] = n;
            if (q->tail == op)
                q->tail = p;
            return;
        }
        p = p->kq_next[j];
    }
}

void cs_sched_done(struct cs_sched *sc, cs_op *op)
{
    if (op->barrier) {
        cs_gate_done(sc, op);
        return;
    }
    /* A running op is first in each of its lists, but for one that started
     * early (cs_sched_early): it leaves from where it is, and the op behind
     * it keeps waiting for the ones before (its deps do not change). */
    for (int i = 0; i < op->nkeys; i++) {
        struct cs_keyq *q = op->kq[i];
        if (q == NULL)
            continue;
        op->kq[i] = NULL;
        cs_op *n = op->kq_next[i];
        if (q->head != op) {
            cs_unlink_middle(q, op, n);
            continue;
        }
        q->head = n;
        if (n == NULL) {
            q->tail = NULL;
            (void)map_del(&sc->keys, op->keys[i].b, sizeof(op->keys[i].b));
            free(q);
        } else if (--n->deps == 0) {
            cs_ready_push(sc, n);
        }
    }
    if (--sc->open == 0 && sc->gate != NULL)
        cs_ready_push(sc, sc->gate);
}
