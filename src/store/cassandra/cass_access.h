/* cass_access.h - the Cassandra store's cache of the blocks between a
 * chat's two members, so that most sends skip the relations read
 * (cass_access.c; docs/cassandra.md "Cached blocks (issue 19, round 8)").
 *
 * One entry per chat: the blocks either way, as one CS_REL_BLOCKED read
 * saw them, relative to the user it was read for. An entry is used for
 * CS_ACCESS_TTL_MS after the read was sent (the bound on a change made by
 * another instance) and dropped at once by a block or unblock of the pair
 * on this instance (cs_access_forget, before that op is answered). The
 * chat's membership needs no entry: it never changes for a chat id, and
 * it comes with the chat read that a send needs anyway (for last_seq and
 * the friendship).
 */
#ifndef DUET_STORE_CASS_ACCESS_H
#define DUET_STORE_CASS_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "../../base/duet.h"

/* How long an entry may answer for blocks, after its read was sent. */
#define CS_ACCESS_TTL_MS 1000
/* Entries in all: a fixed table, CS_ACCESS_WAYS per set (a power of two). */
#define CS_ACCESS_SLOTS 16384
#define CS_ACCESS_WAYS  4

/* One chat's blocks. Ownership: a slot of struct cs_access, by value. */
struct cs_access_slot {
    duet_id chat;  /* the key */
    duet_id who;   /* the user the blocks were read for */
    int64_t until; /* answers while now < until (ms, monotonic); 0: empty */
    uint8_t out;   /* who blocks the other member */
    uint8_t in;    /* the other member blocks who */
};

/* Ownership: the cs_store (its access member); slots malloc'd by
 * cs_access_init (n_slots entries, never more), freed by cs_access_free.
 * A full set evicts the entry that expires first. */
struct cs_access {
    struct cs_access_slot *slots;
    size_t n_slots; /* a multiple of CS_ACCESS_WAYS, sets a power of two */
    uint64_t hits, misses;
};

/* n_slots: a power of two, at least CS_ACCESS_WAYS. 0 or -ENOMEM/-EINVAL. */
int cs_access_init(struct cs_access *a, size_t n_slots);
void cs_access_free(struct cs_access *a);
/* The blocks of chat for user (a member) at now: 1 with *out (user
 * blocks the peer) and *in (the peer blocks user), or 0 (not cached). */
int cs_access_get(struct cs_access *a, const duet_id *chat, const duet_id *user, int64_t now,
                  int *out, int *in);
/* Records what a read of user's blocks in chat, sent at read_at, saw. */
void cs_access_put(struct cs_access *a, const duet_id *chat, const duet_id *user, int out, int in,
                   int64_t read_at);
/* Drops chat's entry (a block or unblock between its members). */
void cs_access_forget(struct cs_access *a, const duet_id *chat);
/* Entries that still answer at now (tests, metrics). */
size_t cs_access_live(const struct cs_access *a, int64_t now);

#endif
