/* limits.h - abuse limits kept in the loop's context: a per-user message
 * rate, a per-address sign-up rate and a per-user rate of username lookups
 * (token buckets), a per-address cap on WebSockets, and each user's
 * WebSocket requests in flight.
 *
 * All are per instance: behind nginx's ip_hash one address stays on one
 * instance, and a user's message rate is bounded per instance they use.
 */
#ifndef DUET_LIMITS_H
#define DUET_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "../base/duet.h"
#include "../base/map.h"

/* Token buckets by key. Ownership: embedded in struct limits; owns the map
 * and its struct bucket values. */
struct bucket_set {
    map_t map;    /* key -> struct bucket* */
    double rate;  /* tokens per millisecond, sustained; 0 = no limit */
    double burst; /* bucket size */
};

/* A WebSocket waiting for its user's share of requests in flight.
 * Ownership: embedded in the waiting session (ws_pipe.h); listed in its
 * user's entry while queued. */
struct limits_waiter {
    struct limits_waiter *next;
    int queued;
    void (*wake)(struct limits_waiter *w);
};

/* Ownership: embedded in struct app; owns every map and its values. */
struct limits {
    struct bucket_set msgs;   /* by user id: messages */
    struct bucket_set signup; /* by client address: sign-ups */
    struct bucket_set lookup; /* by user id: requests naming another user */
    struct bucket_set erase;  /* by user id: deletes for everyone (each erases on disk) */
    struct bucket_set typing; /* by user id: typing checks the store refused */
    map_t ws_addr;            /* client address -> open WebSockets (in the pointer) */
    int64_t per_addr;         /* WebSockets per address; 0 = no cap */
    map_t inflight;           /* user id -> struct limits_inflight: requests in flight */
};

/* Messages: rate per second and burst per user. Sign-ups start unlimited. */
int limits_init(struct limits *l, double rate, double burst, int64_t per_addr);
void limits_free(struct limits *l);
/* Sign-ups: per_hour per client address, sustained, and burst at once;
 * per_hour 0 = no limit. */
void limits_set_signup(struct limits *l, double per_hour, double burst);

/* Lookups (endpoints that name a user): per_hour per user, sustained, and
 * burst at once; per_hour 0 = no limit. */
void limits_set_lookup(struct limits *l, double per_hour, double burst);

/* Erasing writes (delete for everyone): per_hour per user, sustained, and
 * burst at once; per_hour 0 = no limit. Each one costs the store an erasing
 * checkpoint and a search-index merge (docs/security.md "Deleted text"),
 * far more than a send, so they have a budget of their own. */
void limits_set_erase(struct limits *l, double per_hour, double burst);
/* Takes one erase token for user; as limits_take_message. */
int64_t limits_take_erase(struct limits *l, const duet_id *user, uint64_t now_ms);

/* Takes one message token for user at now_ms. 0 when allowed, else the
 * milliseconds until a token is available. */
int64_t limits_take_message(struct limits *l, const duet_id *user, uint64_t now_ms);
/* The same for a sign-up from addr. */
int64_t limits_take_signup(struct limits *l, const char *addr, uint64_t now_ms);

/* The same for a request of user that names another user by username. */
int64_t limits_take_lookup(struct limits *l, const duet_id *user, uint64_t now_ms);

/* Typing to a chat that is not the user's (made up, or not theirs) is
 * refused after a store read that no cache can spare (a CQL read on
 * Cassandra). Such reads are budgeted per user: a burst of
 * LIMITS_TYPING_BURST, then one a second; past them, typing that would
 * read the store is refused without reading it. A read takes its token
 * when it is submitted, so reads in flight count too (charged when their
 * refusal came back, a slow store let up to a connection's requests in
 * flight through every second); a read that finds the user's own chat,
 * or that the store could not answer, gives it back: typing to one's own
 * chats never counts. */
#define LIMITS_TYPING_BURST 60
#define LIMITS_TYPING_PER_S 1
/* 0 after taking a token for one typing check of user that reads the
 * store, else the milliseconds until one is allowed (nothing taken). */
int64_t limits_typing_take(struct limits *l, const duet_id *user, uint64_t now_ms);
/* Gives back the token of a check that was not refused. */
void limits_typing_refund(struct limits *l, const duet_id *user, uint64_t now_ms);

/* Counts a WebSocket from addr; -EBUSY (nothing counted) when the address
 * is at its cap. */
int limits_ws_open(struct limits *l, const char *addr);
void limits_ws_close(struct limits *l, const char *addr);

/* A user's WebSocket requests in flight, over all their connections: one
 * more (0 or -ENOMEM), one fewer (every waiter is woken to look again). */
int limits_inflight_add(struct limits *l, const duet_id *user);
void limits_inflight_done(struct limits *l, const duet_id *user);
/* Whether user has max requests in flight or more; if so, w is queued (once)
 * to be woken when one ends. */
int limits_inflight_full(struct limits *l, const duet_id *user, int64_t max,
                         struct limits_waiter *w);
/* Takes w off user's queue (its session ends). */
void limits_inflight_cancel(struct limits *l, const duet_id *user, struct limits_waiter *w);

#endif
