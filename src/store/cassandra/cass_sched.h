/* cass_sched.h - which requests of the Cassandra store run when: the
 * scheduler's wait lists (cass_sched.c) and the groups that run several
 * queued sends or acks of one chat as one op (cass_group.c). Included by
 * cass_int.h; the functions take the ops and the store it defines.
 */
#ifndef DUET_STORE_CASS_SCHED_H
#define DUET_STORE_CASS_SCHED_H

#include "../../base/map.h"
#include "../store.h"

typedef struct cs_op cs_op;
typedef struct cs_store cs_store;

/* Conflict keys per op: user, chat and the chat's two members at most. */
#define CS_KEYS_MAX 4

/* A key's wait list: the unfinished non-barrier ops whose keys hold it, in
 * submission order; only the first may run. Ownership: a value of the
 * scheduler's keys map, freed as soon as it is empty. The ops are the
 * queue's. */
struct cs_keyq {
    cs_op *head, *tail;
};

/* Which queued ops may run (cass_sched.c). Ops are split by the unfinished
 * barriers: those before the oldest one (gate) are open and run as their
 * keys allow; the gate starts once every open op finished; those after it
 * wait, and open when it finishes. Ownership: embedded in the store; owns
 * the keys map and its lists; points only at unfinished ops of the queue,
 * whose next links (submission order) it walks when a barrier finishes. */
struct cs_sched {
    map_t keys;   /* duet_id -> struct cs_keyq, non-empty lists only */
    cs_op *gate;  /* the oldest unfinished barrier, or NULL */
    int open;     /* unfinished ops before gate (all when no gate) */
    cs_op *ready; /* free to start, not handed out yet (FIFO) */
    cs_op *ready_tail;
    uint64_t n_added; /* ops added so far: the next op's ord */
};

/* ---- cass_sched.c ---- */
/* Fills op's conflict keys from its request and the members cache. */
void cs_keys(cs_store *s, cs_op *op);
/* 1 if a (earlier, unfinished) and b (later) must not run at once. */
int cs_conflict(const cs_op *a, const cs_op *b);
/* The scheduler: an op starts once no earlier unfinished op conflicts with
 * it (cs_conflict). cs_sched_add takes the newest op, already linked at the
 * queue's tail, with its keys set; cs_sched_done takes an op that was
 * handed out by cs_sched_next and finished. Both cost O(the op's keys), plus
 * O(each op they make ready), amortised. cs_sched_next hands out the ops
 * free to start, each once, in the order they became free; NULL if none. */
int cs_sched_init(struct cs_sched *sc);
void cs_sched_free(struct cs_sched *sc);
void cs_sched_add(struct cs_sched *sc, cs_op *op);
void cs_sched_done(struct cs_sched *sc, cs_op *op);
cs_op *cs_sched_next(struct cs_sched *sc);
/* Records a chat's members (ignored when out of memory). */
void cs_members_put(cs_store *s, const duet_id *chat, const duet_id *a, const duet_id *b);
/* Empties the cache (frees its values). */
void cs_members_clear(cs_store *s);
/* The key of a username or session token: a hash, tagged so it cannot
 * equal a user or chat id by accident. */
void cs_name_key(const char *tag, const void *p, size_t n, duet_id *out);

/* The op that waits right behind g in every one of g's wait lists and in no
 * other list, for nothing else (no barrier): the next op of g's chat that
 * could run with it as one; else NULL. */
cs_op *cs_sched_behind(const cs_op *g);
/* A grouped op goes back to the scheduler (ready if it waits for nothing). */
void cs_sched_ungroup(struct cs_sched *sc, cs_op *op);
/* In every list of g: g, then a run of ops ending with y, then x; moves x
 * to right behind g (ahead of the run). Every op involved waits in exactly
 * g's lists (cs_sched_behind found them); no op's deps change. */
void cs_sched_move(cs_op *g, cs_op *y, cs_op *x);
/* Puts the n ops right behind g in every one of g's lists (all in exactly
 * g's lists, in the same order in each) back in submission order. */
void cs_sched_resort(cs_op *g, int n);
/* Hands op out (cs_sched_next) although it still waits in its lists: an
 * ack that runs beside the send group ahead of it (cass_group.c). When it
 * finishes it leaves its lists from where it is; the ops behind it still
 * wait for the ones before it. */
void cs_sched_early(struct cs_sched *sc, cs_op *op);

/* ---- cass_group.c: MSG_SEND groups (issue 19) ---- */
#define CS_GROUP_MAX   32    /* sends per group */
#define CS_GROUP_BYTES 16384 /* their text, preview and media bytes at most */
/* Called as s starts a MSG_SEND op: takes the plain sends of its chat that
 * wait right behind it into its group, and makes it run them (1), or
 * leaves it alone (0). */
int cs_group_take(cs_store *s, cs_op *op);
/* Called as s starts a MSG_ACK op: takes the acks of messages of the same
 * user and chat that wait right behind it into it (1: it acks the highest
 * sequence of them and finishes them with itself), or leaves it alone (0).
 * Sets op->aseq either way. */
int cs_ack_take(cs_store *s, cs_op *op);
/* Called as the leader op claims its group's sequences for the first time,
 * after every read of the group, with last_seq the chat's last sequence
 * before the claim: caps the acks behind the group there, and hands the
 * first one out early (cs_sched_early) with the acks of its user behind it
 * (1), or none (0). The caller pumps. */
int cs_group_release(cs_op *op, int64_t last_seq);
/* Finishes a leader and its group: each member with its refusal, or with
 * status (cs_finish calls it for a leader). */
void cs_group_finish(cs_op *op, int status);
/* Members from..n_group-1 leave the group and run alone, after the ones
 * before them, back behind the acks submitted before them. serial: their
 * claim reads settle a Paxos round first. */
void cs_group_cut(cs_op *op, int from, int serial);
/* Every send of the group runs alone from its start (the leader now). */
void cs_group_fall_back(cs_op *op, int serial);
/* cass_group_run.c: the leader's function, which runs the group. */
void cs_group_send(cs_op *op);
/* cass_msgs.c: within the unknown-outcome retry budget (1) or not (0). */
int cs_send_again(cs_op *op);

#endif
