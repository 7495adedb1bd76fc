/* cql_int.h - internals of the CQL driver shared by cql_conn.c and the
 * cluster layer (cql_pool.c, cql_req.c). Not for users of cql.h. */
#ifndef DUET_CQL_INT_H
#define DUET_CQL_INT_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "cql.h"
#include "cql_codec.h"

/* ---- one connection (cql_conn.c) ----------------------------------------- */
struct cql_conn;
struct cql_call;

/* A call's outcome. status 0: a response frame arrived; body (malloc'd,
 * len bytes, the whole body with any tracing/warning prefix) now belongs to
 * the callee, which must free it. Otherwise status is CQL_ETIMEOUT or why
 * the connection died, and body is NULL. Runs on the loop, never from inside
 * cql_conn_send. */
typedef void (*cql_call_cb)(struct cql_call *call, int status, const struct cql_header *h,
                            uint8_t *body, size_t len);

/* One request on a connection. Ownership: the caller's (embedded in its own
 * request state); it must stay alive until cb ran. The conn_ fields are the
 * connection's. */
struct cql_call {
    cql_call_cb cb;
    void *data;
    struct cql_conn *conn_;
    int16_t stream_;
    uint64_t deadline_;
    struct cql_call *prev_, *next_;
};

struct cql_conn_opts {
    struct sockaddr_storage addr;
    const char *username, *password; /* borrowed for the conn's life; NULL = none */
    const char *keyspace;            /* copied; NULL = none */
    int64_t connect_timeout_ms;      /* connect + handshake */
    int64_t request_timeout_ms;
    /* Once: 0 when the handshake is done, else why it failed (and the conn
     * then closes itself). */
    void (*on_ready)(struct cql_conn *c, int status, void *data);
    /* Once, after a successful on_ready, when the connection dies: before
     * its in-flight calls fail. */
    void (*on_down)(struct cql_conn *c, int status, void *data);
    /* Last: every handle is closed; the conn's memory is freed after it. */
    void (*on_free)(struct cql_conn *c, void *data);
    void *data;
};

/* Starts connecting. 0, or an error and no callback runs. */
int cql_conn_open(uv_loop_t *loop, const struct cql_conn_opts *o, struct cql_conn **out);
/* Sends a whole request frame (its stream id is replaced). 0 and call->cb
 * will run, or an error (-EBUSY: no free stream id; CQL_ECLOSED: not up) and
 * it will not. */
int cql_conn_send(struct cql_conn *c, struct cql_call *call, const uint8_t *frame, size_t len);
/* Switches the keyspace: sends USE and holds the requests sent after it until
 * the answer (so none runs in the old keyspace). A failed USE closes the
 * connection (a new one USEs the keyspace in its handshake). */
int cql_conn_use(struct cql_conn *c, const char *keyspace);
/* Fails every call with status (on_down first when it was up), closes the
 * handles; on_free follows. Idempotent. */
void cql_conn_close(struct cql_conn *c, int status);
int cql_conn_is_up(const struct cql_conn *c);
int cql_conn_in_flight(const struct cql_conn *c);
/* Stream ids taken, timed-out calls still awaiting their answer included. */
int cql_conn_streams_used(const struct cql_conn *c);

/* Parses "host[:port]" (IPv4, IPv6 in brackets for a port); 0 or -EINVAL. */
int cql_parse_addr(const char *s, size_t len, int default_port, struct sockaddr_storage *out);

/* ---- the cluster (cql_pool.c: nodes, discovery, ring, reconnection;
 * cql_req.c: requests, preparation, routing, retries) -------------------- */
struct cql_att;

/* Ownership: the cluster's nodes[] owns each node; a node owns its conn
 * (until on_free) and its retry timer. */
struct cql_node {
    cql_cluster *cl;
    int idx;
    struct sockaddr_storage addr;
    char name[64]; /* "ip:port" for logs */
    char dc[64];
    struct cql_conn *conn; /* NULL when neither connecting nor up */
    int up;
    uv_timer_t retry; /* reconnection with backoff */
    int64_t backoff_ms;
    int first_round; /* its first connection attempt has not settled yet */
    unsigned ks_gen; /* the cluster's ks_gen when its conn was opened */
};

struct cql_ring_entry {
    int64_t token;
    struct cql_node *node;
};

/* A statement's state on one node. Ownership: the statement's. */
struct cql_stmt_node {
    enum { PREP_NONE, PREP_PENDING, PREP_READY } state;
    uint8_t *id; /* malloc'd */
    size_t id_len;
    struct cql_att *waiters; /* requests waiting for the PREPARE, in order */
    struct cql_att *waiters_tail;
};

/* Ownership: the cluster's list; freed with the cluster. */
struct cql_stmt {
    cql_cluster *cl;
    char *query;
    size_t query_len;
    int pk_known;
    int n_pk;
    uint16_t pk[32];                /* partition-key bind indexes, from the first PREPARE */
    struct cql_stmt_node *per_node; /* indexed by node idx, grown on demand */
    int n_per_node;
    struct cql_stmt *next;
};

/* The driver's state for one request (req->priv). Ownership: malloc'd in
 * cql_submit, freed just before the request's callback. */
struct cql_att {
    cql_req *req;
    cql_cluster *cl;
    struct cql_call call;
    struct cql_node *node; /* the node of the current try */
    int tries;
    int reprepared;
    int in_submit;
    int has_token;
    int64_t token;
    int agree_step;          /* schema agreement: 0 local, 1 peers */
    uint64_t agree_deadline; /* loop time to give up waiting for agreement */
    char *agree_version;     /* the coordinator's schema_version (malloc'd) */
    struct cql_att *next;    /* a waiter list, the deferred or the agreement list */
};

struct cql_cluster {
    uv_loop_t *loop;
    struct cql_cluster_opts o; /* strings below are the cluster's copies */
    char *contact_points, *keyspace, *username, *password, *local_dc;
    unsigned ks_gen; /* bumped by cql_cluster_use */
    cql_ready_cb ready;
    void *ready_data;
    int ready_called;

    struct sockaddr_storage *contacts;
    int n_contacts, contact_i;
    int default_port;

    struct cql_node **nodes;
    int n_nodes;
    struct cql_ring_entry *ring;
    size_t n_ring;
    unsigned rr;
    int discovered;
    int first_status; /* why the first round failed */

    /* Discovery on the first connected node. */
    struct cql_call disco;
    int disco_step;
    struct cql_node *control;
    uv_timer_t contact_retry;
    int64_t contact_backoff_ms;

    struct cql_stmt *stmts;
    struct cql_att *deferred, *deferred_tail;
    uv_timer_t defer;
    struct cql_att *agreeing; /* waiting to check schema agreement again */
    uv_timer_t agree_timer;
    struct cql_buf scratch; /* request encoding */

    int closing;
    int open_handles; /* timers and conns still to be closed */
    void (*done)(void *data);
    void *done_data;
};

/* cql_pool.c */
struct cql_node *cql__pick_node(cql_cluster *cl, const struct cql_att *att,
                                const struct cql_node *avoid);
/* Adds a node (or finds it by address); NULL when out of memory, its timer
 * fails or at the node limit. */
struct cql_node *cql__node_add(cql_cluster *cl, const struct sockaddr_storage *addr,
                               const char *dc);
/* Opens the node's connection (its on_ready comes later). */
void cql__node_connect(struct cql_node *n);
/* Calls the cluster's ready callback once discovery is done and the first
 * round of connections has settled. */
void cql__maybe_ready(cql_cluster *cl);
/* cql_disco.c: reads the nodes and the ring over n's connection (the
 * control connection), then connects the nodes found. */
void cql__discover(cql_cluster *cl, struct cql_node *n);
/* cql_req.c */
void cql__att_start(struct cql_att *att);
void cql__fail_deferred(cql_cluster *cl);
void cql__finish(struct cql_att *att, int status);
/* cql_schema.c: after a schema change, completes the request once every
 * node that is up reports the coordinator's schema version (or after 10 s),
 * so that the next statement finds the new schema on whichever node. */
void cql__schema_wait(struct cql_att *att);
void cql__schema_close(cql_cluster *cl);

#endif
