/* cql_codec.h - the CQL native protocol v4 as pure functions (internal).
 *
 * Encoders append whole frames to a growable buffer (struct cql_buf); the
 * caller owns the buffer. Decoders read one response body that the caller
 * owns; whatever they return points into that body or into the caller's
 * pool. Every length read from the wire is checked against the bytes left
 * before it is used: these functions see bytes from the network.
 *
 * Nothing here does I/O; cql_conn.c and cql_pool.c do.
 */
#ifndef DUET_CQL_CODEC_H
#define DUET_CQL_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "cql.h"

#define CQL_HEADER_LEN   9
#define CQL_MAX_BODY     (256u * 1024u * 1024u) /* spec 2.5 */
#define CQL_VERSION_REQ  0x04
#define CQL_VERSION_RESP 0x84
#define CQL_MAX_STREAMS  32768

enum cql_opcode {
    CQL_OP_ERROR = 0x00,
    CQL_OP_STARTUP = 0x01,
    CQL_OP_READY = 0x02,
    CQL_OP_AUTHENTICATE = 0x03,
    CQL_OP_OPTIONS = 0x05,
    CQL_OP_SUPPORTED = 0x06,
    CQL_OP_QUERY = 0x07,
    CQL_OP_RESULT = 0x08,
    CQL_OP_PREPARE = 0x09,
    CQL_OP_EXECUTE = 0x0A,
    CQL_OP_REGISTER = 0x0B,
    CQL_OP_EVENT = 0x0C,
    CQL_OP_BATCH = 0x0D,
    CQL_OP_AUTH_CHALLENGE = 0x0E,
    CQL_OP_AUTH_RESPONSE = 0x0F,
    CQL_OP_AUTH_SUCCESS = 0x10,
};

enum {
    CQL_FLAG_COMPRESSION = 0x01,
    CQL_FLAG_TRACING = 0x02,
    CQL_FLAG_CUSTOM_PAYLOAD = 0x04,
    CQL_FLAG_WARNING = 0x08,
};

/* <query_parameters> flags (spec 4.1.4). */
enum {
    CQL_QF_VALUES = 0x01,
    CQL_QF_SKIP_METADATA = 0x02,
    CQL_QF_PAGE_SIZE = 0x04,
    CQL_QF_PAGING_STATE = 0x08,
    CQL_QF_SERIAL = 0x10,
    CQL_QF_TIMESTAMP = 0x20,
};

/* Rows metadata flags (spec 4.2.5.2). */
enum {
    CQL_RF_GLOBAL_TABLES_SPEC = 0x0001,
    CQL_RF_HAS_MORE_PAGES = 0x0002,
    CQL_RF_NO_METADATA = 0x0004,
};

struct cql_header {
    uint8_t version;
    uint8_t flags;
    int16_t stream;
    uint8_t opcode;
    uint32_t length;
};

/* ---- output buffer --------------------------------------------------------
 * Ownership: p is malloc'd and owned by whoever embeds the buffer. */
struct cql_buf {
    uint8_t *p;
    size_t len, cap;
};

void cql_buf_init(struct cql_buf *b);
void cql_buf_free(struct cql_buf *b);
/* Makes room for n more bytes: 0 or -ENOMEM. */
int cql_buf_reserve(struct cql_buf *b, size_t n);

/* ---- frames --------------------------------------------------------------- */
void cql_header_encode(uint8_t out[CQL_HEADER_LEN], const struct cql_header *h);
/* Decodes a header from the first 9 bytes of buf. -EAGAIN when len < 9,
 * CQL_EPROTO for a version other than `version` or a body over 256 MiB. */
int cql_header_decode(const uint8_t *buf, size_t len, uint8_t version, struct cql_header *h);
/* Rewrites the stream id of the frame that starts at frame. */
void cql_frame_set_stream(uint8_t *frame, int16_t stream);

/* Query parameters of QUERY and EXECUTE (spec 4.1.4). values may be NULL. */
struct cql_params {
    int consistency;
    int serial_consistency; /* 0 = not sent */
    const struct cql_values *values;
    int32_t page_size; /* 0 = not sent */
    const uint8_t *paging_state;
    size_t paging_state_len; /* 0 = not sent */
    int64_t timestamp_us;    /* 0 = not sent */
    int skip_metadata;
};

struct cql_batch_entry {
    const uint8_t *id; /* prepared id */
    size_t id_len;
    const struct cql_values *values; /* may be NULL */
};

/* Each appends one whole request frame to b: 0, -ENOMEM, or -E2BIG when the
 * body would exceed 256 MiB. On failure b is left as it was. */
int cql_enc_startup(struct cql_buf *b, int16_t stream);
int cql_enc_options(struct cql_buf *b, int16_t stream);
/* SASL PLAIN for PasswordAuthenticator: token "\0user\0pass". */
int cql_enc_auth_plain(struct cql_buf *b, int16_t stream, const char *user, const char *pass);
int cql_enc_query(struct cql_buf *b, int16_t stream, const char *query, size_t query_len,
                  const struct cql_params *p);
int cql_enc_prepare(struct cql_buf *b, int16_t stream, const char *query, size_t query_len);
int cql_enc_execute(struct cql_buf *b, int16_t stream, const uint8_t *id, size_t id_len,
                    const struct cql_params *p);
int cql_enc_batch(struct cql_buf *b, int16_t stream, int type, const struct cql_batch_entry *e,
                  int n, int consistency, int serial_consistency, int64_t timestamp_us);
int cql_enc_register(struct cql_buf *b, int16_t stream, const char *const *events, int n);

/* ---- decoding --------------------------------------------------------------- */
/* Skips what the frame flags put in front of a response body (tracing id,
 * warnings, custom payload). *off is where the message proper starts.
 * CQL_EPROTO for a compressed frame (never negotiated) or a bad prefix. */
int cql_dec_prefix(uint8_t flags, const uint8_t *body, size_t len, size_t *off);

/* ERROR (spec 4.2.1, 9): code, message and every code's extra fields. */
int cql_dec_error(const uint8_t *body, size_t len, pool_t *pool, struct cql_error *err);

/* AUTHENTICATE: the authenticator's class name (in pool). */
int cql_dec_authenticate(const uint8_t *body, size_t len, pool_t *pool, const char **name);
/* AUTH_CHALLENGE / AUTH_SUCCESS: a [bytes] token (NULL, 0 when null). */
int cql_dec_auth_token(const uint8_t *body, size_t len, const uint8_t **tok, int32_t *tok_len);

/* SUPPORTED: a string multimap (in pool). */
struct cql_option_values {
    const char *key;
    const char **values;
    int n_values;
};
int cql_dec_supported(const uint8_t *body, size_t len, pool_t *pool, struct cql_option_values **out,
                      int *n);

struct cql_prepared {
    const uint8_t *id; /* points into the body */
    size_t id_len;
    int n_params;
    int *param_types; /* in pool */
    int n_pk;
    uint16_t *pk_indexes; /* in pool; each < n_params */
    int n_result_cols;
};

struct cql_schema_change {
    const char *change_type, *target, *keyspace, *name; /* name NULL for KEYSPACE */
};

struct cql_result {
    int kind; /* enum cql_result_kind */
    struct cql_rows rows;
    const char *keyspace; /* SET_KEYSPACE */
    struct cql_prepared prepared;
    struct cql_schema_change schema;
};

/* RESULT: the body must outlive the result (cells and ids point into it);
 * names and arrays go into pool. */
int cql_dec_result(const uint8_t *body, size_t len, pool_t *pool, struct cql_result *out);

/* The "[applied]" column of a conditional statement's first row: 1 or 0,
 * or -1 when the rows have no such column. */
int cql_rows_applied(const struct cql_rows *rows);

/* ---- values and tokens ------------------------------------------------------ */
/* The i-th value of v (NULL with len -1 for null); -EINVAL when out of range. */
int cql_values_get(const struct cql_values *v, int i, const uint8_t **p, int32_t *len);
/* The routing key of a statement with these partition-key indexes: the value
 * itself for one column; for several, each as [short len][bytes][0x00].
 * Writes at most cap bytes: 0, -EINVAL (missing or null component, or a
 * component over 65535 bytes) or -ENOSPC. */
int cql_routing_key(const struct cql_values *v, const uint16_t *pk, int n_pk, uint8_t *out,
                    size_t cap, size_t *out_len);
/* Cassandra's Murmur3Partitioner token of a routing key. */
int64_t cql_murmur3_token(const void *key, size_t len);
/* The full 128-bit MurmurHash3 x64 with Cassandra's signed tail bytes. */
void cql_murmur3_x64_128(const void *key, size_t len, uint64_t seed, uint64_t out[2]);

/* A set<text>/list<text> cell: calls fn for each element. 0 or CQL_EPROTO. */
int cql_dec_collection(const uint8_t *p, int32_t len,
                       int (*fn)(void *ctx, const uint8_t *e, int32_t elen), void *ctx);

#endif
