/* push_hooks.h - when duet pushes (push_hooks.c): the points in the
 * WebSocket requests that queue Web Push jobs. They do nothing while push
 * is off (app->push NULL: no VAPID key). */
#ifndef DUET_PUSH_HOOKS_H
#define DUET_PUSH_HOOKS_H

#include "../store/store.h"

struct app;

/* A message was stored for m->receiver (not withheld, not a duplicate):
 * when they have no visible connection here, one push per subscription. */
void push_on_message(struct app *app, const struct duet_msg *m);
/* reactor reacted with emoji to author's message m: when the author has no
 * visible connection, one push per subscription (not for a removal). */
void push_on_reaction(struct app *app, const duet_id *author, const struct duet_msg *m,
                      const duet_id *reactor, const char *emoji);
/* user read chat: the chat's notifications on their other devices close
 * (a "clear" push, only when a message push went out since the last). */
void push_on_read(struct app *app, const duet_id *user, const duet_id *chat);
/* m was deleted for everyone: pushes of it still queued here lose its text
 * (the store's copy is erased by the delete itself). */
void push_on_delete(struct app *app, const struct duet_msg *m);

#endif
