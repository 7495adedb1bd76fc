/* cql.h - a client for Apache Cassandra's CQL native protocol (v4), on libuv.
 *
 * Two layers:
 *   cql_codec.c  pure functions: frame header, request bodies, result and
 *                error decoding, value encoding, Murmur3 tokens. No I/O, no
 *                allocation outside the caller's buffers/pool; unit-tested
 *                and fuzzed (fuzz/fuzz_cql.c).
 *   cql_conn.c   one TCP connection: STARTUP/AUTH handshake, stream-id
 *                multiplexing (up to 32768 in flight), per-request timeouts.
 *   cql_pool.c   the cluster: contact points, node discovery from
 *                system.peers, token-aware routing (Murmur3 over the ring from
 *                system.local/system.peers tokens), reconnection with backoff,
 *                prepared statements (re-prepared on UNPREPARED and on nodes
 *                that have not seen them), retries of idempotent requests.
 *
 * Conventions as elsewhere in duet: 0 or a negative error. Errors are -errno
 * values, or the CQL_E* codes below (all under -2000). A server ERROR
 * response is CQL_ESERVER with req->err filled in.
 *
 * Callbacks always run on the loop thread, never from inside the function
 * that submitted the request.
 */
#ifndef DUET_CQL_H
#define DUET_CQL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../base/pool.h"

enum {
    CQL_ESERVER = -2001,  /* the server answered ERROR: see req->err */
    CQL_ETIMEOUT = -2002, /* no answer within the request's timeout */
    CQL_ENOHOST = -2003,  /* no node is up (or all tried failed) */
    CQL_EPROTO = -2004,   /* malformed frame or unexpected answer */
    CQL_ECLOSED = -2005,  /* the cluster is closing */
    CQL_EAUTH = -2006,    /* authentication refused or needed but not configured */
};

/* Server error codes (spec section 9). */
enum cql_error_code {
    CQL_ERR_SERVER = 0x0000,
    CQL_ERR_PROTOCOL = 0x000A,
    CQL_ERR_BAD_CREDENTIALS = 0x0100,
    CQL_ERR_UNAVAILABLE = 0x1000,
    CQL_ERR_OVERLOADED = 0x1001,
    CQL_ERR_IS_BOOTSTRAPPING = 0x1002,
    CQL_ERR_TRUNCATE = 0x1003,
    CQL_ERR_WRITE_TIMEOUT = 0x1100,
    CQL_ERR_READ_TIMEOUT = 0x1200,
    CQL_ERR_READ_FAILURE = 0x1300,
    CQL_ERR_FUNCTION_FAILURE = 0x1400,
    CQL_ERR_WRITE_FAILURE = 0x1500,
    CQL_ERR_SYNTAX = 0x2000,
    CQL_ERR_UNAUTHORIZED = 0x2100,
    CQL_ERR_INVALID = 0x2200,
    CQL_ERR_CONFIG = 0x2300,
    CQL_ERR_ALREADY_EXISTS = 0x2400,
    CQL_ERR_UNPREPARED = 0x2500,
};

enum cql_consistency {
    CQL_ANY = 0x0000,
    CQL_ONE = 0x0001,
    CQL_TWO = 0x0002,
    CQL_THREE = 0x0003,
    CQL_QUORUM = 0x0004,
    CQL_ALL = 0x0005,
    CQL_LOCAL_QUORUM = 0x0006,
    CQL_EACH_QUORUM = 0x0007,
    CQL_SERIAL = 0x0008,
    CQL_LOCAL_SERIAL = 0x0009,
    CQL_LOCAL_ONE = 0x000A,
};

/* Column types the driver decodes (spec 4.2.5.2 option ids). */
enum cql_type {
    CQL_T_CUSTOM = 0x0000,
    CQL_T_ASCII = 0x0001,
    CQL_T_BIGINT = 0x0002,
    CQL_T_BLOB = 0x0003,
    CQL_T_BOOLEAN = 0x0004,
    CQL_T_COUNTER = 0x0005,
    CQL_T_DOUBLE = 0x0007,
    CQL_T_FLOAT = 0x0008,
    CQL_T_INT = 0x0009,
    CQL_T_TIMESTAMP = 0x000B,
    CQL_T_UUID = 0x000C,
    CQL_T_VARCHAR = 0x000D,
    CQL_T_TIMEUUID = 0x000F,
    CQL_T_INET = 0x0010,
    CQL_T_SMALLINT = 0x0013,
    CQL_T_TINYINT = 0x0014,
    CQL_T_LIST = 0x0020,
    CQL_T_MAP = 0x0021,
    CQL_T_SET = 0x0022,
};

/* A decoded server error. message lives in the request's pool. */
struct cql_error {
    int code;            /* enum cql_error_code */
    const char *message; /* the server's text */
    /* UNAVAILABLE / WRITE_TIMEOUT / READ_TIMEOUT / *_FAILURE details. */
    int consistency;
    int32_t required, received;
    const char *write_type; /* WRITE_TIMEOUT: "SIMPLE", "BATCH", "CAS", ... */
    /* Added by the driver: the remaining extra fields of spec section 9. */
    int32_t num_failures;  /* READ_FAILURE / WRITE_FAILURE */
    int data_present;      /* READ_TIMEOUT / READ_FAILURE */
    const char *keyspace;  /* ALREADY_EXISTS, FUNCTION_FAILURE */
    const char *table;     /* ALREADY_EXISTS ("" for a keyspace); FUNCTION_FAILURE: function */
    const char *arg_types; /* FUNCTION_FAILURE: the argument types, comma-separated */
    const uint8_t *unprepared_id; /* UNPREPARED: the unknown id (in the pool) */
    size_t unprepared_id_len;
};

/* "UNAVAILABLE: Cannot achieve consistency level QUORUM" style text for
 * logs; never NULL. */
const char *cql_error_name(int code);
const char *cql_strerror(int err);

/* ---- bound values --------------------------------------------------------
 * A request's values, encoded as the protocol's [short n][bytes]... on the
 * fly into a growable buffer. The caller appends values in the order of the
 * statement's markers; types must match the schema's column types. */
struct cql_values {
    uint8_t *buf; /* malloc'd; freed by cql_values_free / cql_req_reset */
    size_t len, cap;
    uint16_t n;
    int oom; /* an append failed: the request fails with -ENOMEM */
};

void cql_values_init(struct cql_values *v);
void cql_values_free(struct cql_values *v);
void cql_bind_null(struct cql_values *v);
void cql_bind_int(struct cql_values *v, int32_t x);    /* int */
void cql_bind_bigint(struct cql_values *v, int64_t x); /* bigint, counter, timestamp */
void cql_bind_bool(struct cql_values *v, int x);       /* boolean */
void cql_bind_text(struct cql_values *v, const char *s, size_t len); /* text/varchar/ascii */
void cql_bind_cstr(struct cql_values *v, const char *s);
void cql_bind_blob(struct cql_values *v, const void *p, size_t len); /* blob */
void cql_bind_uuid(struct cql_values *v, const uint8_t uuid[16]);    /* uuid/timeuuid */

/* ---- results ------------------------------------------------------------ */
enum cql_result_kind {
    CQL_RESULT_VOID = 0x0001,
    CQL_RESULT_ROWS = 0x0002,
    CQL_RESULT_SET_KEYSPACE = 0x0003,
    CQL_RESULT_PREPARED = 0x0004,
    CQL_RESULT_SCHEMA_CHANGE = 0x0005,
};

/* One cell: value is NULL when the column is null. Points into the
 * response body, which the request owns until cql_req_reset. */
struct cql_cell {
    const uint8_t *value;
    int32_t len; /* -1 = null */
};

struct cql_rows {
    int n_cols;
    const char **col_names; /* in the request's pool */
    int *col_types;         /* enum cql_type per column */
    int64_t n_rows;
    struct cql_cell *cells; /* n_rows * n_cols, row-major, in the pool */
    /* More pages: pass these back as req->paging_state to continue. */
    const uint8_t *paging_state;
    size_t paging_state_len;
};

/* Typed getters. Each returns 0, or -EINVAL when the cell is null or has a
 * size the type does not allow. */
int cql_get_int(const struct cql_cell *c, int32_t *out);
int cql_get_bigint(const struct cql_cell *c, int64_t *out); /* bigint/timestamp/counter */
int cql_get_bool(const struct cql_cell *c, int *out);
int cql_get_uuid(const struct cql_cell *c, uint8_t out[16]);
/* Text: a NUL-terminated copy in pool (an empty string for a null cell). */
const char *cql_get_text(const struct cql_cell *c, pool_t *pool);

static inline const struct cql_cell *cql_cell(const struct cql_rows *r, int64_t row, int col)
{
    return &r->cells[row * r->n_cols + col];
}

/* ---- the cluster -------------------------------------------------------- */
typedef struct cql_cluster cql_cluster;
typedef struct cql_stmt cql_stmt; /* a prepared statement, owned by the cluster */
typedef struct cql_req cql_req;
typedef void (*cql_cb)(cql_req *req);

struct cql_cluster_opts {
    const char *contact_points; /* "127.0.0.1,127.0.0.2:9043" (default port 9042) */
    const char *keyspace;       /* USE'd on every connection once it exists; NULL = none */
    const char *username;       /* PasswordAuthenticator (SASL PLAIN); NULL = none */
    const char *password;
    const char *local_dc; /* nodes of other DCs are used only when no local one is up; NULL = any */
    int consistency;      /* default for requests that leave it 0; LOCAL_QUORUM if 0 */
    int serial_consistency;     /* for LWTs; LOCAL_SERIAL if 0 */
    int64_t request_timeout_ms; /* per attempt; 12000 if 0 */
    int64_t connect_timeout_ms; /* 5000 if 0 */
    int max_retries;            /* retries of idempotent requests on another node; 2 if < 0 */
};

/* Called once: status 0 when at least one node is connected (and the
 * keyspace, if any, was found or is NULL), else why the first round of
 * attempts failed. The cluster keeps retrying in the background (backoff up
 * to 30 s), so a failed first round is not final: the caller decides. */
typedef void (*cql_ready_cb)(cql_cluster *cl, int status, void *data);

/* Creates the cluster and starts connecting. opts' strings are copied. */
int cql_cluster_open(uv_loop_t *loop, const struct cql_cluster_opts *opts, cql_ready_cb ready,
                     void *data, cql_cluster **out);
/* Selects a keyspace on every connection (after CREATE KEYSPACE at start-up). */
int cql_cluster_use(cql_cluster *cl, const char *keyspace);
/* Fails every request in flight or queued with CQL_ECLOSED (their callbacks
 * run), closes every handle, and calls done (may be NULL) once all are
 * closed; then the cluster is freed. */
void cql_cluster_close(cql_cluster *cl, void (*done)(void *data), void *data);
/* Number of nodes currently connected (for /healthz and logs). */
int cql_cluster_up(const cql_cluster *cl);

/* Registers a statement. It is prepared on each node when first used there
 * (and again after UNPREPARED); no I/O happens here. The text is copied. */
int cql_stmt_new(cql_cluster *cl, const char *query, cql_stmt **out);

/* ---- requests ----------------------------------------------------------- */
enum cql_req_kind {
    CQL_REQ_QUERY,   /* query text, values unbound by type (use for DDL) */
    CQL_REQ_EXECUTE, /* stmt + values */
    CQL_REQ_BATCH,   /* batch[]: prepared statements with their values */
};

enum cql_batch_type { CQL_BATCH_LOGGED = 0, CQL_BATCH_UNLOGGED = 1, CQL_BATCH_COUNTER = 2 };

struct cql_batch_item {
    cql_stmt *stmt;
    struct cql_values values;
};

/* Statements per batch: the Cassandra store's group send (cass_group.c)
 * writes two rows per message of a group of up to 32, plus the unarchive of
 * each receiver. */
#define CQL_BATCH_MAX 72

/* Ownership: the caller owns the request (usually embedded in a larger
 * struct) and keeps it alive until its callback ran; the callback, or the
 * caller later, calls cql_req_reset() to free the results and values. */
struct cql_req {
    /* in */
    enum cql_req_kind kind;
    const char *query; /* CQL_REQ_QUERY; borrowed until the callback */
    cql_stmt *stmt;    /* CQL_REQ_EXECUTE */
    struct cql_values values;
    struct cql_batch_item batch[CQL_BATCH_MAX];
    int n_batch;
    int batch_type;         /* enum cql_batch_type */
    int consistency;        /* 0 = the cluster's default */
    int serial_consistency; /* 0 = the cluster's default; used by LWTs */
    int idempotent;    /* may be retried on another node after a timeout or a lost connection */
    int32_t page_size; /* 0 = no paging */
    const uint8_t *paging_state; /* borrowed */
    size_t paging_state_len;
    int64_t timestamp_us; /* 0 = let the server assign; else the write timestamp */
    cql_cb cb;
    void *data;

    /* out */
    int status;           /* 0, -errno or CQL_E* */
    struct cql_error err; /* when status == CQL_ESERVER */
    int result_kind;      /* enum cql_result_kind */
    struct cql_rows rows; /* CQL_RESULT_ROWS */
    /* LWT: the first column "[applied]" of a conditional statement's row.
     * -1 when the result had no such column. */
    int applied;

    /* the driver's */
    pool_t pool;   /* owns decoded results */
    uint8_t *body; /* the response body the cells point into (malloc'd) */
    void *priv;
    cql_req *next;
};

void cql_req_init(cql_req *req, enum cql_req_kind kind, cql_cb cb, void *data);
/* Frees values, results and the response body; the request can be reused
 * after cql_req_init again. */
void cql_req_reset(cql_req *req);
/* Sends the request. 0, or an error and the callback will not run. The
 * driver routes it (token-aware for EXECUTE and single-partition batches,
 * using the prepared statement's partition-key indexes), prepares where
 * needed, applies the timeout, and retries it elsewhere only when idempotent. */
int cql_submit(cql_cluster *cl, cql_req *req);

#endif
