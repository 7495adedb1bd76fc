/* hub_conns.h - one user's connections on this instance, the registry both
 * hub backends keep per user (hub_local.c, hub_redis_users.c): a list
 * threaded through the connections' next/prev.
 * Ownership: the list borrows its connections; one leaves it before it is
 * freed (hub.h). */
#ifndef DUET_HUB_CONNS_H
#define DUET_HUB_CONNS_H

#include <stddef.h>
#include <stdint.h>

struct hub_conn;

struct hub_conns {
    struct hub_conn *head;
    size_t n;
};

/* Lists cl (not listed yet). */
void hub_conns_add(struct hub_conns *l, struct hub_conn *cl);
/* Unlists cl; 0 when it was not listed (nothing done), else 1. */
int hub_conns_remove(struct hub_conns *l, struct hub_conn *cl);
/* 1 when one of the connections is open and not hidden. */
int hub_conns_visible(const struct hub_conns *l);
/* Closes the connections of one session (token_hash), or of every session
 * but token_hash's (keep set). */
void hub_conns_end_sessions(const struct hub_conns *l, const uint8_t token_hash[32], int keep);

#endif
