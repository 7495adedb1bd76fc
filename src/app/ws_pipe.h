/* ws_pipe.h - a WebSocket session's answers in request order, and its bound
 * on requests in flight (ws_pipe.c).
 *
 * Every request takes a slot at the tail of its session's FIFO when it
 * arrives, with a reservation of output bytes for its answer (charged before
 * the answer is built). Answers fill their slot, at once (pong, a refused
 * frame) or when the store completes; the head is sent while it is filled,
 * so answers leave in the order the requests came. A session with
 * PIPE_MAX_INFLIGHT slots, or whose queued output and reservations pass its
 * budget, or whose user has PIPE_MAX_PER_USER requests in flight over all
 * their connections, stops reading its socket (net_ws_pause) until that
 * changes: one user's pipelined reads take a bounded share of the store's
 * queue, however many sockets they open. */
#ifndef DUET_WS_PIPE_H
#define DUET_WS_PIPE_H

#include <jansson.h>
#include <stddef.h>

#include "limits.h"

/* Requests of one WebSocket in flight at most (answered or not, until their
 * answer is sent). On Cassandra a sender's pipelined sends form one chat's
 * send groups (cass_group.c): 8 capped a conversation at ~540 msg/s, 32
 * lets the next group queue while one is written (docs/cassandra.md). */
#define PIPE_MAX_INFLIGHT 32
/* Queued output plus reserved answers at most, per WebSocket, before it is
 * read no further (a quarter of --max-ws-queue when that is smaller). */
#define PIPE_BUDGET (4u << 20)
/* Requests in flight of one user over all their WebSockets, at most (a
 * connection past it reads on once one of them is answered). One full
 * connection, no more: a user's share of the store's queue (2,048 queued
 * requests on Cassandra) doubled with round 7, not quadrupled, and one
 * conversation needs only the sender's one socket. */
#define PIPE_MAX_PER_USER 32

struct client;
struct pipe_slot;

/* Ownership: the session (struct client) owns its pipe and every slot in it;
 * a request holds a pointer to its slot until it answers (pipe_answer), which
 * it must do exactly once. */
struct ws_pipe {
    struct pipe_slot *head, *tail;
    size_t n;                    /* slots in the FIFO */
    size_t reserved;             /* bytes reserved by them */
    int paused;                  /* the socket is not read (net_ws_pause) */
    struct limits_waiter waiter; /* queued while the user is at PIPE_MAX_PER_USER */
};

/* A slot at the tail with `reserve` bytes of output reserved; NULL when out
 * of memory. May pause the socket. */
struct pipe_slot *pipe_open(struct client *cl, size_t reserve);
/* Fills s with one answer (copied; text NULL: no answer) and sends every
 * filled slot at the head. Nothing is sent once the socket is closed. */
void pipe_answer(struct client *cl, struct pipe_slot *s, const char *text, size_t len);
/* The same with a JSON event (stolen; NULL: out of memory, logged). */
void pipe_answer_json(struct client *cl, struct pipe_slot *s, json_t *ev);
/* The socket's output drained (on_ws_drain): read again if paused for it. */
void pipe_drained(struct client *cl);
/* Frees what is left (the session is being freed). */
void pipe_release(struct client *cl);

#endif
