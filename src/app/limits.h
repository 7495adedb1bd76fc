/* limits.h - abuse limits kept in the loop's context: a per-user message
 * rate, a per-address sign-up rate and a per-user rate of username
 * lookups (token buckets), and a per-address cap
 * on WebSockets.
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

/* Ownership: embedded in struct app; owns every map and its values. */
struct limits {
    struct bucket_set msgs;   /* by user id: messages */
    struct bucket_set signup; /* by client address: sign-ups */
    struct bucket_set lookup; /* by user id: requests naming another user */
    map_t ws_addr;            /* client address -> open WebSockets (in the pointer) */
    int64_t per_addr;         /* WebSockets per address; 0 = no cap */
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

/* Takes one message token for user at now_ms. 0 when allowed, else the
 * milliseconds until a token is available. */
int64_t limits_take_message(struct limits *l, const duet_id *user, uint64_t now_ms);
/* The same for a sign-up from addr. */
int64_t limits_take_signup(struct limits *l, const char *addr, uint64_t now_ms);

/* The same for a request of user that names another user by username. */
int64_t limits_take_lookup(struct limits *l, const duet_id *user, uint64_t now_ms);

/* Counts a WebSocket from addr; -EBUSY (nothing counted) when the address
 * is at its cap. */
int limits_ws_open(struct limits *l, const char *addr);
void limits_ws_close(struct limits *l, const char *addr);

#endif
