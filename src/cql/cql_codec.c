/* cql_codec.c - CQL v4 request encoding and error names (bound values and
 * cell getters: cql_values.c; Cassandra's Murmur3 token: cql_murmur3.c).
 * Pure functions; no I/O. */
#include "cql_codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cql_be.h"

/* ---- buffer ----------------------------------------------------------------- */
void cql_buf_init(struct cql_buf *b)
{
    b->p = NULL;
    b->len = b->cap = 0;
}

void cql_buf_free(struct cql_buf *b)
{
    free(b->p);
    cql_buf_init(b);
}

int cql_buf_reserve(struct cql_buf *b, size_t n)
{
    if (n <= b->cap - b->len)
        return 0;
    if (n > SIZE_MAX / 2 - b->len)
        return -ENOMEM;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (p == NULL)
        return -ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

/* Appenders: the caller reserved the room, or they are used through the
 * checked wrappers below that reserve first. */
static int put(struct cql_buf *b, const void *p, size_t n)
{
    if (cql_buf_reserve(b, n) < 0)
        return -ENOMEM;
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static int put_u8(struct cql_buf *b, uint8_t x)
{
    return put(b, &x, 1);
}

static int put_u16(struct cql_buf *b, uint16_t x)
{
    uint8_t t[2];
    be16(t, x);
    return put(b, t, 2);
}

static int put_u32(struct cql_buf *b, uint32_t x)
{
    uint8_t t[4];
    be32(t, x);
    return put(b, t, 4);
}

static int put_u64(struct cql_buf *b, uint64_t x)
{
    uint8_t t[8];
    be64(t, x);
    return put(b, t, 8);
}

static int put_string(struct cql_buf *b, const char *s, size_t n)
{
    if (n > UINT16_MAX)
        return -E2BIG;
    int r = put_u16(b, (uint16_t)n);
    return r < 0 ? r : put(b, s, n);
}

static int put_long_string(struct cql_buf *b, const void *s, size_t n)
{
    if (n > CQL_MAX_BODY)
        return -E2BIG;
    int r = put_u32(b, (uint32_t)n);
    return r < 0 ? r : put(b, s, n);
}

/* ---- frames ----------------------------------------------------------------- */
void cql_header_encode(uint8_t out[CQL_HEADER_LEN], const struct cql_header *h)
{
    out[0] = h->version;
    out[1] = h->flags;
    be16(out + 2, (uint16_t)h->stream);
    out[4] = h->opcode;
    be32(out + 5, h->length);
}

int cql_header_decode(const uint8_t *buf, size_t len, uint8_t version, struct cql_header *h)
{
    if (len < CQL_HEADER_LEN)
        return -EAGAIN;
    h->version = buf[0];
    h->flags = buf[1];
    h->stream = (int16_t)(uint16_t)((uint16_t)buf[2] << 8 | buf[3]);
    h->opcode = buf[4];
    h->length = rd32(buf + 5);
    if (h->version != version || h->length > CQL_MAX_BODY)
        return CQL_EPROTO;
    return 0;
}

void cql_frame_set_stream(uint8_t *frame, int16_t stream)
{
    be16(frame + 2, (uint16_t)stream);
}

/* Starts a request frame: the header with a zero length, patched by end(). */
static int frame_begin(struct cql_buf *b, int16_t stream, uint8_t opcode, size_t *start)
{
    *start = b->len;
    if (cql_buf_reserve(b, CQL_HEADER_LEN) < 0)
        return -ENOMEM;
    struct cql_header h = {CQL_VERSION_REQ, 0, stream, opcode, 0};
    cql_header_encode(b->p + b->len, &h);
    b->len += CQL_HEADER_LEN;
    return 0;
}

static int frame_end(struct cql_buf *b, size_t start, int r)
{
    size_t body = b->len - start - CQL_HEADER_LEN;
    if (r == 0 && body > CQL_MAX_BODY)
        r = -E2BIG;
    if (r < 0) {
        b->len = start;
        return r;
    }
    be32(b->p + start + 5, (uint32_t)body);
    return 0;
}

int cql_enc_startup(struct cql_buf *b, int16_t stream)
{
    size_t start;
    int r = frame_begin(b, stream, CQL_OP_STARTUP, &start);
    if (r < 0)
        return r;
    static const char k[] = "CQL_VERSION", v[] = "3.0.0";
    if ((r = put_u16(b, 1)) == 0 && (r = put_string(b, k, sizeof(k) - 1)) == 0)
        r = put_string(b, v, sizeof(v) - 1);
    return frame_end(b, start, r);
}

int cql_enc_options(struct cql_buf *b, int16_t stream)
{
    size_t start;
    int r = frame_begin(b, stream, CQL_OP_OPTIONS, &start);
    return r < 0 ? r : frame_end(b, start, 0);
}

int cql_enc_auth_plain(struct cql_buf *b, int16_t stream, const char *user, const char *pass)
{
    size_t start, ul = strlen(user), pl = strlen(pass);
    if (ul > 65535 || pl > 65535)
        return -E2BIG;
    int r = frame_begin(b, stream, CQL_OP_AUTH_RESPONSE, &start);
    if (r < 0)
        return r;
    if ((r = put_u32(b, (uint32_t)(ul + pl + 2))) == 0 && (r = put_u8(b, 0)) == 0 &&
        (r = put(b, user, ul)) == 0 && (r = put_u8(b, 0)) == 0)
        r = put(b, pass, pl);
    return frame_end(b, start, r);
}

static int put_params(struct cql_buf *b, const struct cql_params *p)
{
    uint8_t flags = 0;
    if (p->values != NULL && p->values->n > 0)
        flags |= CQL_QF_VALUES;
    if (p->skip_metadata)
        flags |= CQL_QF_SKIP_METADATA;
    if (p->page_size > 0)
        flags |= CQL_QF_PAGE_SIZE;
    if (p->paging_state != NULL && p->paging_state_len > 0)
        flags |= CQL_QF_PAGING_STATE;
    if (p->serial_consistency != 0)
        flags |= CQL_QF_SERIAL;
    if (p->timestamp_us != 0)
        flags |= CQL_QF_TIMESTAMP;
    if (p->timestamp_us < 0 || p->paging_state_len > INT32_MAX)
        return -EINVAL;
    int r;
    if ((r = put_u16(b, (uint16_t)p->consistency)) < 0 || (r = put_u8(b, flags)) < 0)
        return r;
    if (flags & CQL_QF_VALUES) {
        if (p->values->oom)
            return -ENOMEM;
        if ((r = put_u16(b, p->values->n)) < 0 || (r = put(b, p->values->buf, p->values->len)) < 0)
            return r;
    }
    if ((flags & CQL_QF_PAGE_SIZE) && (r = put_u32(b, (uint32_t)p->page_size)) < 0)
        return r;
    if ((flags & CQL_QF_PAGING_STATE) &&
        (r = put_long_string(b, p->paging_state, p->paging_state_len)) < 0)
        return r;
    if ((flags & CQL_QF_SERIAL) && (r = put_u16(b, (uint16_t)p->serial_consistency)) < 0)
        return r;
    if ((flags & CQL_QF_TIMESTAMP) && (r = put_u64(b, (uint64_t)p->timestamp_us)) < 0)
        return r;
    return 0;
}

int cql_enc_query(struct cql_buf *b, int16_t stream, const char *query, size_t query_len,
                  const struct cql_params *p)
{
    size_t start;
    int r = frame_begin(b, stream, CQL_OP_QUERY, &start);
    if (r < 0)
        return r;
    if ((r = put_long_string(b, query, query_len)) == 0)
        r = put_params(b, p);
    return frame_end(b, start, r);
}

int cql_enc_prepare(struct cql_buf *b, int16_t stream, const char *query, size_t query_len)
{
    size_t start;
    int r = frame_begin(b, stream, CQL_OP_PREPARE, &start);
    if (r < 0)
        return r;
    r = put_long_string(b, query, query_len);
    return frame_end(b, start, r);
}

int cql_enc_execute(struct cql_buf *b, int16_t stream, const uint8_t *id, size_t id_len,
                    const struct cql_params *p)
{
    size_t start;
    int r = frame_begin(b, stream, CQL_OP_EXECUTE, &start);
    if (r < 0)
        return r;
    if ((r = put_string(b, (const char *)id, id_len)) == 0)
        r = put_params(b, p);
    return frame_end(b, start, r);
}

int cql_enc_batch(struct cql_buf *b, int16_t stream, int type, const struct cql_batch_entry *e,
                  int n, int consistency, int serial_consistency, int64_t timestamp_us)
{
    if (n < 0 || n > UINT16_MAX || type < 0 || type > 2 || timestamp_us < 0)
        return -EINVAL;
    size_t start;
    int r = frame_begin(b, stream, CQL_OP_BATCH, &start);
    if (r < 0)
        return r;
    if ((r = put_u8(b, (uint8_t)type)) < 0 || (r = put_u16(b, (uint16_t)n)) < 0)
        return frame_end(b, start, r);
    for (int i = 0; i < n && r == 0; i++) {
        const struct cql_values *v = e[i].values;
        if (v != NULL && v->oom)
            r = -ENOMEM;
        else if ((r = put_u8(b, 1)) == 0 &&
                 (r = put_string(b, (const char *)e[i].id, e[i].id_len)) == 0 &&
                 (r = put_u16(b, v != NULL ? v->n : 0)) == 0 && v != NULL)
            r = put(b, v->buf, v->len);
    }
    uint8_t flags =
        (serial_consistency ? CQL_QF_SERIAL : 0) | (timestamp_us ? CQL_QF_TIMESTAMP : 0);
    if (r == 0 && (r = put_u16(b, (uint16_t)consistency)) == 0)
        r = put_u8(b, flags);
    if (r == 0 && serial_consistency)
        r = put_u16(b, (uint16_t)serial_consistency);
    if (r == 0 && timestamp_us)
        r = put_u64(b, (uint64_t)timestamp_us);
    return frame_end(b, start, r);
}

int cql_enc_register(struct cql_buf *b, int16_t stream, const char *const *events, int n)
{
    if (n < 0 || n > UINT16_MAX)
        return -EINVAL;
    size_t start;
    int r = frame_begin(b, stream, CQL_OP_REGISTER, &start);
    if (r < 0)
        return r;
    r = put_u16(b, (uint16_t)n);
    for (int i = 0; i < n && r == 0; i++)
        r = put_string(b, events[i], strlen(events[i]));
    return frame_end(b, start, r);
}

/* ---- names ------------------------------------------------------------------- */
const char *cql_error_name(int code)
{
    switch (code) {
    case CQL_ERR_SERVER:
        return "SERVER_ERROR";
    case CQL_ERR_PROTOCOL:
        return "PROTOCOL_ERROR";
    case CQL_ERR_BAD_CREDENTIALS:
        return "BAD_CREDENTIALS";
    case CQL_ERR_UNAVAILABLE:
        return "UNAVAILABLE";
    case CQL_ERR_OVERLOADED:
        return "OVERLOADED";
    case CQL_ERR_IS_BOOTSTRAPPING:
        return "IS_BOOTSTRAPPING";
    case CQL_ERR_TRUNCATE:
        return "TRUNCATE_ERROR";
    case CQL_ERR_WRITE_TIMEOUT:
        return "WRITE_TIMEOUT";
    case CQL_ERR_READ_TIMEOUT:
        return "READ_TIMEOUT";
    case CQL_ERR_READ_FAILURE:
        return "READ_FAILURE";
    case CQL_ERR_FUNCTION_FAILURE:
        return "FUNCTION_FAILURE";
    case CQL_ERR_WRITE_FAILURE:
        return "WRITE_FAILURE";
    case CQL_ERR_SYNTAX:
        return "SYNTAX_ERROR";
    case CQL_ERR_UNAUTHORIZED:
        return "UNAUTHORIZED";
    case CQL_ERR_INVALID:
        return "INVALID";
    case CQL_ERR_CONFIG:
        return "CONFIG_ERROR";
    case CQL_ERR_ALREADY_EXISTS:
        return "ALREADY_EXISTS";
    case CQL_ERR_UNPREPARED:
        return "UNPREPARED";
    default:
        return "UNKNOWN_ERROR";
    }
}

const char *cql_strerror(int err)
{
    switch (err) {
    case 0:
        return "ok";
    case CQL_ESERVER:
        return "the server answered with an error";
    case CQL_ETIMEOUT:
        return "request timed out";
    case CQL_ENOHOST:
        return "no Cassandra node is available";
    case CQL_EPROTO:
        return "malformed or unexpected CQL frame";
    case CQL_ECLOSED:
        return "the CQL cluster is closing";
    case CQL_EAUTH:
        return "Cassandra authentication failed or is not configured";
    default:
        return err < 0 && err > -4096 ? strerror(-err) : "unknown error";
    }
}
