/* presence.h - online/last seen fan-out and its privacy rules (presence.c). */
#ifndef DUET_PRESENCE_H
#define DUET_PRESENCE_H

#include "app.h"

/* The hub's host interface (hub.h), bound to app: presence fan-out when a
 * user comes online or goes offline, and the clock. */
void presence_hub_host(struct app *app, struct hub_host *out);
/* What `viewer` may see of `subject`'s presence, given whether subject is
 * online (hub online query); fills online/last_seen. */
void presence_view(const struct duet_user *viewer_settings, const struct duet_user *subject,
                   int blocked, int online, json_t *into);

#endif
