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
 */
#include "cass_int.h"

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
    case STORE_MSG_SEND:
    case STORE_MSG_ACK:
    case STORE_MSG_SEEN:
    case STORE_MSG_DELETE:
    case STORE_HISTORY:
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
