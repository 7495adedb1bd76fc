/* cql_decode.c - decoding of CQL v4 response bodies. Pure functions: every
 * length read from the wire is checked against the bytes left before it is
 * used, and nothing is allocated from a count before the bytes that count
 * describes are known to be there. */
#include "cql_codec.h"

#include <errno.h>
#include <string.h>

/* A cursor over one body. Every reader returns 0 or -1 (out of bytes or
 * invalid); callers turn -1 into CQL_EPROTO. */
struct rd {
    const uint8_t *p;
    size_t len, off;
};

static size_t left(const struct rd *r)
{
    return r->len - r->off;
}

static int rd_u8(struct rd *r, uint8_t *x)
{
    if (left(r) < 1)
        return -1;
    *x = r->p[r->off++];
    return 0;
}

static int rd_u16(struct rd *r, uint16_t *x)
{
    if (left(r) < 2)
        return -1;
    *x = (uint16_t)((uint16_t)r->p[r->off] << 8 | r->p[r->off + 1]);
    r->off += 2;
    return 0;
}

static int rd_i32(struct rd *r, int32_t *x)
{
    if (left(r) < 4)
        return -1;
    const uint8_t *p = r->p + r->off;
    *x = (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
    r->off += 4;
    return 0;
}

static int skip(struct rd *r, size_t n)
{
    if (left(r) < n)
        return -1;
    r->off += n;
    return 0;
}

/* [string]: a pointer into the body and its length. */
static int rd_string_raw(struct rd *r, const uint8_t **s, size_t *n)
{
    uint16_t len;
    if (rd_u16(r, &len) < 0 || left(r) < len)
        return -1;
    *s = r->p + r->off;
    *n = len;
    r->off += len;
    return 0;
}

/* [string] as a NUL-terminated copy in pool (NULL pool: skip it). */
static int rd_string(struct rd *r, pool_t *pool, const char **out)
{
    const uint8_t *s;
    size_t n;
    if (rd_string_raw(r, &s, &n) < 0)
        return -1;
    if (pool == NULL)
        return 0;
    *out = pool_strndup(pool, (const char *)s, n);
    return *out != NULL ? 0 : -2;
}

/* [bytes]: NULL with -1 for a null value. */
static int rd_bytes(struct rd *r, const uint8_t **p, int32_t *n)
{
    if (rd_i32(r, n) < 0)
        return -1;
    if (*n < 0) {
        *n = -1;
        *p = NULL;
        return 0;
    }
    if (left(r) < (size_t)*n)
        return -1;
    *p = r->p + r->off;
    r->off += (size_t)*n;
    return 0;
}

static int rd_string_list(struct rd *r)
{
    uint16_t n;
    if (rd_u16(r, &n) < 0)
        return -1;
    for (uint16_t i = 0; i < n; i++) {
        const uint8_t *s;
        size_t len;
        if (rd_string_raw(r, &s, &len) < 0)
            return -1;
    }
    return 0;
}

/* Maps the readers' -1 (malformed) and -2 (pool failure) to errors. */
static int fail(int r)
{
    return r == -2 ? -ENOMEM : CQL_EPROTO;
}

int cql_dec_prefix(uint8_t flags, const uint8_t *body, size_t len, size_t *off)
{
    struct rd r = {body, len, 0};
    if (flags & CQL_FLAG_COMPRESSION)
        return CQL_EPROTO;
    if ((flags & CQL_FLAG_TRACING) && skip(&r, 16) < 0)
        return CQL_EPROTO;
    if ((flags & CQL_FLAG_WARNING) && rd_string_list(&r) < 0)
        return CQL_EPROTO;
    if (flags & CQL_FLAG_CUSTOM_PAYLOAD) {
        uint16_t n;
        if (rd_u16(&r, &n) < 0)
            return CQL_EPROTO;
        for (uint16_t i = 0; i < n; i++) {
            const uint8_t *s;
            size_t sl;
            int32_t bl;
            if (rd_string_raw(&r, &s, &sl) < 0 || rd_bytes(&r, &s, &bl) < 0)
                return CQL_EPROTO;
        }
    }
    *off = r.off;
    return 0;
}

/* ---- ERROR -------------------------------------------------------------------- */
int cql_dec_error(const uint8_t *body, size_t len, pool_t *pool, struct cql_error *err)
{
    struct rd r = {body, len, 0};
    int32_t code;
    int x;
    memset(err, 0, sizeof(*err));
    err->consistency = -1;
    if (rd_i32(&r, &code) < 0)
        return CQL_EPROTO;
    err->code = code;
    if ((x = rd_string(&r, pool, &err->message)) < 0)
        return fail(x);
    uint16_t cl;
    uint8_t b;
    switch (code) {
    case CQL_ERR_UNAVAILABLE:
        /* <cl><required><alive> */
        if (rd_u16(&r, &cl) < 0 || rd_i32(&r, &err->required) < 0 || rd_i32(&r, &err->received) < 0)
            return CQL_EPROTO;
        err->consistency = cl;
        break;
    case CQL_ERR_WRITE_TIMEOUT:
    case CQL_ERR_READ_TIMEOUT:
    case CQL_ERR_READ_FAILURE:
    case CQL_ERR_WRITE_FAILURE:
        /* <cl><received><blockfor>[<numfailures>](<writetype>|<data_present>) */
        if (rd_u16(&r, &cl) < 0 || rd_i32(&r, &err->received) < 0 || rd_i32(&r, &err->required) < 0)
            return CQL_EPROTO;
        err->consistency = cl;
        if ((code == CQL_ERR_READ_FAILURE || code == CQL_ERR_WRITE_FAILURE) &&
            rd_i32(&r, &err->num_failures) < 0)
            return CQL_EPROTO;
        if (code == CQL_ERR_READ_TIMEOUT || code == CQL_ERR_READ_FAILURE) {
            if (rd_u8(&r, &b) < 0)
                return CQL_EPROTO;
            err->data_present = b != 0;
        } else if ((x = rd_string(&r, pool, &err->write_type)) < 0) {
            return fail(x);
        }
        break;
    case CQL_ERR_FUNCTION_FAILURE: {
        /* <keyspace><function><arg_types> */
        if ((x = rd_string(&r, pool, &err->keyspace)) < 0 ||
            (x = rd_string(&r, pool, &err->table)) < 0)
            return fail(x);
        size_t start = r.off;
        if (rd_string_list(&r) < 0)
            return CQL_EPROTO;
        /* Joined with commas: at most the list's size. */
        char *s = pool_alloc(pool, r.off - start + 1);
        if (s == NULL)
            return -ENOMEM;
        struct rd l = {body, r.off, start};
        uint16_t n = 0;
        size_t o = 0;
        (void)rd_u16(&l, &n);
        for (uint16_t i = 0; i < n; i++) {
            const uint8_t *a;
            size_t al;
            (void)rd_string_raw(&l, &a, &al);
            if (i > 0)
                s[o++] = ',';
            memcpy(s + o, a, al);
            o += al;
        }
        s[o] = '\0';
        err->arg_types = s;
        break;
    }
    case CQL_ERR_ALREADY_EXISTS:
        if ((x = rd_string(&r, pool, &err->keyspace)) < 0 ||
            (x = rd_string(&r, pool, &err->table)) < 0)
            return fail(x);
        break;
    case CQL_ERR_UNPREPARED: {
        const uint8_t *id;
        size_t n;
        if (rd_string_raw(&r, &id, &n) < 0)
            return CQL_EPROTO;
        uint8_t *copy = pool_alloc(pool, n > 0 ? n : 1);
        if (copy == NULL)
            return -ENOMEM;
        if (n > 0)
            memcpy(copy, id, n);
        err->unprepared_id = copy;
        err->unprepared_id_len = n;
        break;
    }
    default:
        break;
    }
    return 0;
}

/* ---- handshake messages ---------------------------------------------------------- */
int cql_dec_authenticate(const uint8_t *body, size_t len, pool_t *pool, const char **name)
{
    struct rd r = {body, len, 0};
    int x = rd_string(&r, pool, name);
    return x < 0 ? fail(x) : 0;
}

int cql_dec_auth_token(const uint8_t *body, size_t len, const uint8_t **tok, int32_t *tok_len)
{
    struct rd r = {body, len, 0};
    return rd_bytes(&r, tok, tok_len) < 0 ? CQL_EPROTO : 0;
}

int cql_dec_supported(const uint8_t *body, size_t len, pool_t *pool, struct cql_option_values **out,
                      int *n_out)
{
    struct rd r = {body, len, 0};
    uint16_t n;
    int x;
    /* Each entry takes at least 4 bytes: check before allocating. */
    if (rd_u16(&r, &n) < 0 || left(&r) / 4 < n)
        return CQL_EPROTO;
    struct cql_option_values *o = pool_calloc(pool, sizeof(*o) * (n ? n : 1));
    if (o == NULL)
        return -ENOMEM;
    for (uint16_t i = 0; i < n; i++) {
        uint16_t m;
        if ((x = rd_string(&r, pool, &o[i].key)) < 0)
            return fail(x);
        if (rd_u16(&r, &m) < 0 || left(&r) / 2 < m)
            return CQL_EPROTO;
        o[i].values = pool_alloc(pool, sizeof(char *) * (m ? m : 1));
        if (o[i].values == NULL)
            return -ENOMEM;
        for (uint16_t k = 0; k < m; k++)
            if ((x = rd_string(&r, pool, &o[i].values[k])) < 0)
                return fail(x);
        o[i].n_values = m;
    }
    *out = o;
    *n_out = n;
    return 0;
}

/* ---- RESULT ----------------------------------------------------------------------- */
enum { MAX_TYPE_DEPTH = 16 };

/* Skips one [option] (a column type), nested ones included; *id gets the
 * outer type. */
static int rd_option(struct rd *r, int depth, int *id)
{
    uint16_t t, n;
    int dummy;
    if (depth > MAX_TYPE_DEPTH || rd_u16(r, &t) < 0)
        return -1;
    *id = t;
    const uint8_t *s;
    size_t sl;
    switch (t) {
    case CQL_T_CUSTOM:
        return rd_string_raw(r, &s, &sl);
    case CQL_T_LIST:
    case CQL_T_SET:
        return rd_option(r, depth + 1, &dummy);
    case CQL_T_MAP:
        if (rd_option(r, depth + 1, &dummy) < 0)
            return -1;
        return rd_option(r, depth + 1, &dummy);
    case 0x0030: /* UDT: <ks><name><n>(<field><type>)* */
        if (rd_string_raw(r, &s, &sl) < 0 || rd_string_raw(r, &s, &sl) < 0 || rd_u16(r, &n) < 0)
            return -1;
        for (uint16_t i = 0; i < n; i++)
            if (rd_string_raw(r, &s, &sl) < 0 || rd_option(r, depth + 1, &dummy) < 0)
                return -1;
        return 0;
    case 0x0031: /* tuple: <n><type>* */
        if (rd_u16(r, &n) < 0)
            return -1;
        for (uint16_t i = 0; i < n; i++)
            if (rd_option(r, depth + 1, &dummy) < 0)
                return -1;
        return 0;
    default:
        /* Native types have no value; an unknown id cannot be skipped. */
        return t <= 0x0015 && t != 0x000A ? 0 : -1; /* 0x15: duration */
    }
}

/* Column specs (of Rows metadata, or a Prepared's bind markers): names and
 * types into pool when names/types are not NULL. */
static int rd_col_specs(struct rd *r, pool_t *pool, int32_t flags, int32_t n, const char **names,
                        int *types)
{
    const uint8_t *s;
    size_t sl;
    int x;
    if ((flags & CQL_RF_GLOBAL_TABLES_SPEC) &&
        (rd_string_raw(r, &s, &sl) < 0 || rd_string_raw(r, &s, &sl) < 0))
        return -1;
    for (int32_t i = 0; i < n; i++) {
        int type;
        if (!(flags & CQL_RF_GLOBAL_TABLES_SPEC) &&
            (rd_string_raw(r, &s, &sl) < 0 || rd_string_raw(r, &s, &sl) < 0))
            return -1;
        if (names != NULL) {
            if ((x = rd_string(r, pool, &names[i])) < 0)
                return x;
        } else if (rd_string_raw(r, &s, &sl) < 0) {
            return -1;
        }
        if (rd_option(r, 0, &type) < 0)
            return -1;
        if (types != NULL)
            types[i] = type;
    }
    return 0;
}

/* <flags><columns_count>[<paging_state>][specs] of Rows (spec 4.2.5.2). With
 * rows == NULL (a Prepared's result metadata) it is only skipped. */
static int rd_rows_metadata(struct rd *r, pool_t *pool, struct cql_rows *rows, int32_t *n_cols)
{
    int32_t flags;
    if (rd_i32(r, &flags) < 0 || rd_i32(r, n_cols) < 0 || *n_cols < 0)
        return -1;
    if (flags & CQL_RF_HAS_MORE_PAGES) {
        const uint8_t *ps;
        int32_t psl;
        if (rd_bytes(r, &ps, &psl) < 0)
            return -1;
        if (rows != NULL && psl > 0) {
            rows->paging_state = ps;
            rows->paging_state_len = (size_t)psl;
        }
    }
    if (flags & CQL_RF_NO_METADATA) {
        /* Nothing tells how many columns to expect but the count itself;
         * cap it where no CQL table can reach. */
        return *n_cols > 65535 ? -1 : 0;
    }
    /* A column spec takes at least 4 bytes (name and type). */
    if (left(r) / 4 < (size_t)*n_cols)
        return -1;
    const char **names = NULL;
    int *types = NULL;
    if (rows != NULL && *n_cols > 0) {
        names = pool_alloc(pool, sizeof(char *) * (size_t)*n_cols);
        types = pool_alloc(pool, sizeof(int) * (size_t)*n_cols);
        if (names == NULL || types == NULL)
            return -2;
    }
    int x = rd_col_specs(r, pool, flags, *n_cols, names, types);
    if (x < 0)
        return x;
    if (rows != NULL) {
        rows->col_names = names;
        rows->col_types = types;
    }
    return 0;
}

static int dec_rows(struct rd *r, pool_t *pool, struct cql_rows *rows)
{
    int32_t n_cols, n_rows;
    int x = rd_rows_metadata(r, pool, rows, &n_cols);
    if (x < 0)
        return x;
    rows->n_cols = n_cols;
    if (rd_i32(r, &n_rows) < 0 || n_rows < 0)
        return -1;
    /* Every cell takes at least its 4-byte length; rows without columns
     * take none, so a count of them is refused rather than believed. */
    uint64_t cells = (uint64_t)n_rows * (uint64_t)n_cols;
    if (cells > left(r) / 4 || (n_cols == 0 && n_rows > 0))
        return -1;
    rows->n_rows = n_rows;
    if (cells == 0)
        return 0;
    rows->cells = pool_alloc(pool, sizeof(struct cql_cell) * cells);
    if (rows->cells == NULL)
        return -2;
    for (uint64_t i = 0; i < cells; i++)
        if (rd_bytes(r, &rows->cells[i].value, &rows->cells[i].len) < 0)
            return -1;
    return 0;
}

static int dec_prepared(struct rd *r, pool_t *pool, struct cql_prepared *p)
{
    const uint8_t *id;
    size_t id_len;
    int32_t flags, n, n_pk, n_res;
    if (rd_string_raw(r, &id, &id_len) < 0 || rd_i32(r, &flags) < 0 || rd_i32(r, &n) < 0 ||
        rd_i32(r, &n_pk) < 0 || n < 0 || n_pk < 0 || n_pk > n || left(r) / 2 < (size_t)n_pk ||
        left(r) / 4 < (size_t)n)
        return -1;
    p->id = id;
    p->id_len = id_len;
    p->n_params = n;
    p->n_pk = n_pk;
    p->pk_indexes = pool_alloc(pool, sizeof(uint16_t) * (size_t)(n_pk ? n_pk : 1));
    p->param_types = pool_alloc(pool, sizeof(int) * (size_t)(n ? n : 1));
    if (p->pk_indexes == NULL || p->param_types == NULL)
        return -2;
    for (int32_t i = 0; i < n_pk; i++)
        if (rd_u16(r, &p->pk_indexes[i]) < 0 || p->pk_indexes[i] >= n)
            return -1;
    int x = rd_col_specs(r, pool, flags, n, NULL, p->param_types);
    if (x < 0)
        return x;
    x = rd_rows_metadata(r, pool, NULL, &n_res);
    if (x < 0)
        return x;
    p->n_result_cols = n_res;
    return 0;
}

static int dec_schema_change(struct rd *r, pool_t *pool, struct cql_schema_change *s)
{
    int x;
    if ((x = rd_string(r, pool, &s->change_type)) < 0 || (x = rd_string(r, pool, &s->target)) < 0 ||
        (x = rd_string(r, pool, &s->keyspace)) < 0)
        return x;
    s->name = NULL;
    if (strcmp(s->target, "KEYSPACE") == 0)
        return 0;
    if ((x = rd_string(r, pool, &s->name)) < 0)
        return x;
    if (strcmp(s->target, "FUNCTION") == 0 || strcmp(s->target, "AGGREGATE") == 0)
        return rd_string_list(r);
    return 0;
}

int cql_dec_result(const uint8_t *body, size_t len, pool_t *pool, struct cql_result *out)
{
    struct rd r = {body, len, 0};
    int32_t kind;
    int x = 0;
    memset(out, 0, sizeof(*out));
    if (rd_i32(&r, &kind) < 0)
        return CQL_EPROTO;
    out->kind = kind;
    switch (kind) {
    case CQL_RESULT_VOID:
        break;
    case CQL_RESULT_ROWS:
        x = dec_rows(&r, pool, &out->rows);
        break;
    case CQL_RESULT_SET_KEYSPACE:
        x = rd_string(&r, pool, &out->keyspace);
        break;
    case CQL_RESULT_PREPARED:
        x = dec_prepared(&r, pool, &out->prepared);
        break;
    case CQL_RESULT_SCHEMA_CHANGE:
        x = dec_schema_change(&r, pool, &out->schema);
        break;
    default:
        return CQL_EPROTO;
    }
    return x < 0 ? fail(x) : 0;
}

int cql_rows_applied(const struct cql_rows *rows)
{
    int v;
    if (rows->n_cols < 1 || rows->col_names == NULL || rows->n_rows < 1 ||
        strcmp(rows->col_names[0], "[applied]") != 0 || cql_get_bool(&rows->cells[0], &v) < 0)
        return -1;
    return v;
}

int cql_dec_collection(const uint8_t *p, int32_t len,
                       int (*fn)(void *ctx, const uint8_t *e, int32_t elen), void *ctx)
{
    if (p == NULL || len < 0)
        return CQL_EPROTO;
    struct rd r = {p, (size_t)len, 0};
    int32_t n;
    if (rd_i32(&r, &n) < 0 || n < 0 || left(&r) / 4 < (size_t)n)
        return CQL_EPROTO;
    for (int32_t i = 0; i < n; i++) {
        const uint8_t *e;
        int32_t el;
        if (rd_bytes(&r, &e, &el) < 0)
            return CQL_EPROTO;
        int x = fn(ctx, e, el);
        if (x < 0)
            return x;
    }
    return 0;
}
