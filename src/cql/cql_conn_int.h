/* cql_conn_int.h - the inside of a connection, shared by cql_conn.c (the
 * socket, streams, timers) and cql_hs.c (the handshake and USE). Nothing
 * else includes it. */
#ifndef DUET_CQL_CONN_INT_H
#define DUET_CQL_CONN_INT_H

#include "cql_int.h"

enum conn_state { ST_CONNECTING, ST_HANDSHAKE, ST_UP, ST_CLOSED };
enum hs_step { HS_STARTUP, HS_AUTH, HS_USE };

/* Ownership: allocated by cql_conn_open; freed after both handles closed
 * (after on_free). Owns its buffers and the bodies of frames in progress. */
struct cql_conn {
    uv_loop_t *loop;
    uv_tcp_t tcp;
    uv_timer_t timer; /* connect deadline, then the earliest call deadline */
    uv_connect_t creq;
    uv_write_t wreq;
    struct cql_conn_opts o;
    enum conn_state state;
    int handles_open;
    uint64_t connect_deadline;

    /* Streams: slots[id] is the call waiting on id, ORPHAN for a timed-out
     * call whose answer may still come, NULL when free. Grown on demand. */
    struct cql_call **slots;
    int n_slots;
    int16_t *free_ids;
    int n_free;
    int in_flight;
    struct cql_call *head, *tail; /* calls in deadline order */

    /* Output: frames pile up in out while wbuf is being written. */
    struct cql_buf out, wbuf, held;
    int writing;
    int use_pending; /* a USE is in flight: new frames go to held */

    /* Input: bytes read but not yet a whole frame. */
    uint64_t last_read; /* loop time of the last bytes received */
    uint8_t *in;
    size_t in_len, in_cap;

    /* Handshake and USE. */
    struct cql_call hs;
    enum hs_step hs_step;
    struct cql_call use_call;
    struct cql_buf scratch;
    char *keyspace; /* the conn's copy of o.keyspace, until the handshake ends */
};

/* cql_conn.c */
/* Queues frame for call with a deadline (hold: behind a pending USE);
 * 0 or an error (the call is not registered then). */
int cql__send_frame(struct cql_conn *c, struct cql_call *call, const uint8_t *frame, size_t len,
                    uint64_t deadline, int hold);
/* Starts the timer for the earliest deadline. */
void cql__arm_timer(struct cql_conn *c);
/* Writes what is queued, unless a write is in progress. */
void cql__flush(struct cql_conn *c);

/* cql_hs.c */
/* After connect: STARTUP, then AUTHENTICATE and USE as needed; on_ready
 * when done, or the connection closes. */
void cql__hs_start(struct cql_conn *c);
/* The handshake call's callback (c->hs.cb). */
void cql__on_hs(struct cql_call *call, int status, const struct cql_header *h, uint8_t *body,
                size_t len);

#endif
