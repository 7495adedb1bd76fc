/* replay.h - a connecting client's backlog (its user's pending rows), read
 * from the store and sent a page at a time (replay.c). */
#ifndef DUET_REPLAY_H
#define DUET_REPLAY_H

struct client;

/* Pages of the backlog: at most this many rows, fewer once their text
 * passes REPLAY_PAGE_BYTES (or a quarter of --max-ws-queue, if smaller). */
#define REPLAY_PAGE_ROWS  64
#define REPLAY_PAGE_BYTES (32u << 10)

/* Starts cl's replay: pages, then synced and hub_live. 0, or a negative
 * error (the caller closes the socket). */
int replay_begin(struct client *cl);
/* cl's output drained (on_ws_drain): the next page, if one is owed. */
void replay_drained(struct client *cl);
/* cl's socket closed: frees a replay waiting for a drain. */
void replay_cancel(struct client *cl);

#endif
