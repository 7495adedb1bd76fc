/* hub.h - the delivery and presence interface: which connections a user has,
 * and getting an event to all of them.
 *
 * This is the seam for scale-out. The in-process backend (hub.c) knows only
 * this instance's connections; a Redis backend will publish to the other
 * instances too and keep the cluster-wide online registry. The application
 * talks only to these functions.
 *
 * Ownership: the app owns the hub (hub_new/hub_free). The hub borrows the
 * clients registered in it; a client must be detached before it is freed.
 */
#ifndef DUET_HUB_H
#define DUET_HUB_H

#include <stddef.h>

#include "../base/duet.h"

struct client;
struct hub;

struct hub_backend {
    const char *name;
    /* Registers cl for live delivery. Returns 1 if its user just came online
     * (their first connection anywhere), 0 if not, or a negative error. */
    int (*attach)(struct hub *h, struct client *cl);
    /* Unregisters cl. Returns 1 if its user just went offline. */
    int (*detach)(struct hub *h, struct client *cl);
    /* Delivers an encoded event to every connection of user but `except`. */
    void (*publish)(struct hub *h, const duet_id *user, const char *json, size_t len,
                    const struct client *except);
    /* Closes the user's connections of one session (token_hash), or of every
     * session but keep_hash (when keep is set). */
    void (*end_sessions)(struct hub *h, const duet_id *user, const uint8_t token_hash[32],
                         int keep);
    int (*is_online)(struct hub *h, const duet_id *user);
    size_t (*online_count)(struct hub *h);
    void (*free)(struct hub *h);
};

struct hub {
    const struct hub_backend *backend;
};

int hub_local_new(struct hub **out);

#endif
