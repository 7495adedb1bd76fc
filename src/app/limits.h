/* limits.h - abuse limits kept in the loop's context: a per-user message
 * rate (token bucket) and a per-address cap on WebSockets.
 *
 * Both are per instance: behind nginx's ip_hash one address stays on one
 * instance, and a user's message rate is bounded per instance they use.
 */
#ifndef DUET_LIMITS_H
#define DUET_LIMITS_H

#include <stdint.h>

#include "../base/duet.h"
#include "../base/map.h"

/* Ownership: embedded in struct app; owns both maps and their values. */
struct limits {
    map_t buckets;    /* user id -> struct bucket* */
    map_t ws_addr;    /* client address -> open WebSockets (in the pointer) */
    double rate;      /* messages per second, sustained */
    double burst;     /* bucket size */
    int64_t per_addr; /* WebSockets per address; 0 = no cap */
};

int limits_init(struct limits *l, double rate, double burst, int64_t per_addr);
void limits_free(struct limits *l);

/* Takes one message token for user at now_ms. 0 when allowed, else the
 * milliseconds until a token is available. */
int64_t limits_take_message(struct limits *l, const duet_id *user, uint64_t now_ms);

/* Counts a WebSocket from addr; -EBUSY (nothing counted) when the address
 * is at its cap. */
int limits_ws_open(struct limits *l, const char *addr);
void limits_ws_close(struct limits *l, const char *addr);

#endif
