/* presence.h - online/last seen fan-out and its privacy rules (presence.c). */
#ifndef DUET_PRESENCE_H
#define DUET_PRESENCE_H

#include "app.h"
#include "client.h"

/* The hub's host callbacks (struct hub_host; app is the struct app): a user
 * came online (first connection anywhere) or went offline (last one closed,
 * at `at`); version orders the changes of one user. */
void presence_online(void *app, const duet_id *user, int64_t version);
void presence_offline(void *app, const duet_id *user, int64_t at, int64_t version);
/* 1 when two users with these last-seen settings see each other's
 * presence: both show last seen to friends. Otherwise neither online nor
 * last seen is shown or pushed between them (as WhatsApp's "online: same
 * as last seen"). */
int presence_shared(int viewer_vis, int subject_vis);
/* What `viewer` may see of `subject`'s presence, given whether subject is
 * online (hub online query); fills online/last_seen: 0, or -1 when out of
 * memory (into then lacks a field: the caller drops it, since an event
 * without them would read as "offline, never seen"). */
int presence_view(const struct duet_user *viewer_settings, const struct duet_user *subject,
                  int blocked, int online, json_t *into);

/* user changed their last-seen setting (user is the updated row): tells
 * every friend what they now see of user, and user's connections what
 * they now see of each friend (presence_refresh.c). Best effort. */
void presence_settings_changed(struct app *app, const struct duet_user *user);

/* Sends the client one `presence` event per friend (presence_snapshot.c),
 * then calls done, also when the snapshot could not be read. */
typedef void (*presence_snapshot_done)(struct client *cl);
void presence_snapshot_start(struct client *cl, presence_snapshot_done done);

#endif
