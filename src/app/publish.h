/* publish.h - events to every connection of a user, through the hub
 * (publish.c): encoded once, described for the hub (struct hub_event). */
#ifndef DUET_PUBLISH_H
#define DUET_PUBLISH_H

#include "client.h"

/* Publishes an event to every connection of user (steals ev). */
void publish_event(struct app *app, const duet_id *user, json_t *ev, const struct client *except);
/* The same for a repeat of an event published before (a duplicate send). */
void publish_replay(struct app *app, const duet_id *user, json_t *ev, const struct client *except);
/* A message event to two users (a chat's participants), encoded once by the
 * caller into s (proto_write_message_event of m): the hot path of a message.
 * replay as publish_replay. */
void publish_pair_msg(struct app *app, const duet_id *a, const struct client *a_except,
                      const duet_id *b, const struct client *b_except, const struct duet_msg *m,
                      const char *s, size_t len, int replay);
/* The same to one user only: a message withheld from its receiver goes to
 * the sender's other connections alone. */
void publish_msg(struct app *app, const duet_id *user, const struct client *except,
                 const struct duet_msg *m, const char *s, size_t len, int replay);
/* Fills a hub_event's kind, chat and seq from an encoded event's fields. */
void publish_event_meta(json_t *ev, struct hub_event *out);

#endif
