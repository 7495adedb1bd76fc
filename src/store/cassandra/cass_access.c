/* cass_access.c - the cache of a chat's blocks (cass_access.h).
 *
 * A set-associative table of fixed size: a chat id (a keyed hash, so its
 * bytes are uniform) picks a set of CS_ACCESS_WAYS slots by its first 8
 * bytes; an entry goes into its own slot, an empty or expired one, or the
 * one that expires first. Nothing is allocated after cs_access_init.
 */
#include "cass_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cs_access_init(struct cs_access *a, size_t n_slots)
{
    memset(a, 0, sizeof(*a));
    size_t sets = n_slots / CS_ACCESS_WAYS;
    if (sets == 0 || (sets & (sets - 1)) != 0 || sets * CS_ACCESS_WAYS != n_slots)
        return -EINVAL;
    a->slots = calloc(n_slots, sizeof(*a->slots));
    if (a->slots == NULL)
        return -ENOMEM;
    a->n_slots = n_slots;
    return 0;
}

void cs_access_free(struct cs_access *a)
{
    free(a->slots);
    memset(a, 0, sizeof(*a));
}

/* The first slot of chat's set. */
static struct cs_access_slot *cs_access_set(struct cs_access *a, const duet_id *chat)
{
    uint64_t h;
    memcpy(&h, chat->b, sizeof(h));
    size_t sets = a->n_slots / CS_ACCESS_WAYS;
    return &a->slots[(size_t)(h & (sets - 1)) * CS_ACCESS_WAYS];
}

/* chat's slot (live or not), or NULL. */
static struct cs_access_slot *cs_access_find(struct cs_access *a, const duet_id *chat)
{
    if (a->slots == NULL)
        return NULL;
    struct cs_access_slot *set = cs_access_set(a, chat);
    for (int i = 0; i < CS_ACCESS_WAYS; i++)
        if (set[i].until != 0 && duet_id_eq(&set[i].chat, chat))
            return &set[i];
    return NULL;
}

int cs_access_get(struct cs_access *a, const duet_id *chat, const duet_id *user, int64_t now,
                  int *out, int *in)
{
    const struct cs_access_slot *e = cs_access_find(a, chat);
    if (e == NULL || now >= e->until) {
        a->misses++;
        return 0;
    }
    int mine = duet_id_eq(&e->who, user);
    *out = mine ? e->out : e->in;
    *in = mine ? e->in : e->out;
    a->hits++;
    return 1;
}

void cs_access_put(struct cs_access *a, const duet_id *chat, const duet_id *user, int out, int in,
                   int64_t read_at)
{
    if (a->slots == NULL)
        return;
    struct cs_access_slot *e = cs_access_find(a, chat);
    if (e == NULL) {
        /* The slot that expires first: an empty one (0) or an expired one
         * before any live one. */
        struct cs_access_slot *set = cs_access_set(a, chat);
        e = &set[0];
        for (int i = 1; i < CS_ACCESS_WAYS; i++)
            if (set[i].until < e->until)
                e = &set[i];
    }
    e->chat = *chat;
    e->who = *user;
    e->out = out != 0;
    e->in = in != 0;
    /* 1 at least: 0 marks an empty slot. */
    e->until = read_at + CS_ACCESS_TTL_MS > 0 ? read_at + CS_ACCESS_TTL_MS : 1;
}

void cs_access_forget(struct cs_access *a, const duet_id *chat)
{
    struct cs_access_slot *e = cs_access_find(a, chat);
    if (e != NULL)
        memset(e, 0, sizeof(*e));
}

size_t cs_access_live(const struct cs_access *a, int64_t now)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n_slots; i++)
        n += a->slots[i].until != 0 && now < a->slots[i].until;
    return n;
}

/* ---- the ops' side (cass_int.h) ---- */

void cs_blocks_bits(const struct cql_rows *r, int *out, int *in)
{
    *out = *in = 0;
    for (int64_t i = 0; i < r->n_rows; i++) {
        int kind = cs_get_i32(cql_cell(r, i, 0));
        *out |= kind == REL_BLOCK_OUT;
        *in |= kind == REL_BLOCK_IN;
    }
}

/* The clock of the entries: monotonic ms, read at the call (uv_now is the
 * loop's time, which lags by up to one loop iteration). */
static int64_t cs_access_now(void)
{
    return (int64_t)(uv_hrtime() / 1000000);
}

int cs_blocks_cached(cs_op *op, int *out, int *in)
{
    return cs_access_get(&op->s->access, &op->chat.id, &op->req->in.user, cs_access_now(), out, in);
}

int cs_blocks_read(cs_op *op, int next)
{
    op->acc_at = cs_access_now();
    return cs_read(op, next, CS_REL_BLOCKED, "ii", &op->req->in.user, &op->chat.peer);
}

void cs_blocks_got(cs_op *op, int *out, int *in)
{
    cs_blocks_bits(&op->q.rows, out, in);
    cs_access_put(&op->s->access, &op->chat.id, &op->req->in.user, *out, *in, op->acc_at);
}
