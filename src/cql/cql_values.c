/* cql_values.c - the values bound to a CQL request (with the routing key
 * they make) and the getters of a result's cells. Pure functions; no I/O. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cql_be.h"
#include "cql_codec.h"

/* ---- bound values -------------------------------------------------------------
 * Each value is [int len][bytes]; an append that fails sets oom, and the
 * request then fails with -ENOMEM when it is encoded. */
void cql_values_init(struct cql_values *v)
{
    memset(v, 0, sizeof(*v));
}

void cql_values_free(struct cql_values *v)
{
    free(v->buf);
    cql_values_init(v);
}

static uint8_t *vgrow(struct cql_values *v, size_t n)
{
    if (v->oom)
        return NULL;
    if (v->n == UINT16_MAX || n > INT32_MAX || n > CQL_MAX_BODY - v->len) {
        v->oom = 1;
        return NULL;
    }
    if (v->cap - v->len < n) {
        size_t cap = v->cap ? v->cap : 64;
        while (cap - v->len < n)
            cap *= 2;
        uint8_t *p = realloc(v->buf, cap);
        if (p == NULL) {
            v->oom = 1;
            return NULL;
        }
        v->buf = p;
        v->cap = cap;
    }
    uint8_t *r = v->buf + v->len;
    v->len += n;
    v->n++;
    return r;
}

static void bind_raw(struct cql_values *v, const void *p, size_t len)
{
    if (len > INT32_MAX) {
        v->oom = 1;
        return;
    }
    uint8_t *d = vgrow(v, 4 + len);
    if (d == NULL)
        return;
    be32(d, (uint32_t)len);
    if (len > 0)
        memcpy(d + 4, p, len);
}

void cql_bind_null(struct cql_values *v)
{
    uint8_t *d = vgrow(v, 4);
    if (d != NULL)
        be32(d, 0xFFFFFFFFu);
}

void cql_bind_int(struct cql_values *v, int32_t x)
{
    uint8_t t[4];
    be32(t, (uint32_t)x);
    bind_raw(v, t, 4);
}

void cql_bind_bigint(struct cql_values *v, int64_t x)
{
    uint8_t t[8];
    be64(t, (uint64_t)x);
    bind_raw(v, t, 8);
}

void cql_bind_bool(struct cql_values *v, int x)
{
    uint8_t t = x ? 1 : 0;
    bind_raw(v, &t, 1);
}

void cql_bind_text(struct cql_values *v, const char *s, size_t len)
{
    bind_raw(v, s, len);
}

void cql_bind_cstr(struct cql_values *v, const char *s)
{
    bind_raw(v, s, strlen(s));
}

void cql_bind_blob(struct cql_values *v, const void *p, size_t len)
{
    bind_raw(v, p, len);
}

void cql_bind_uuid(struct cql_values *v, const uint8_t uuid[16])
{
    bind_raw(v, uuid, 16);
}

int cql_values_get(const struct cql_values *v, int i, const uint8_t **p, int32_t *len)
{
    if (i < 0 || i >= v->n)
        return -EINVAL;
    size_t off = 0;
    for (int k = 0;; k++) {
        if (v->len - off < 4)
            return -EINVAL;
        int32_t n = (int32_t)rd32(v->buf + off);
        off += 4;
        size_t skip = n > 0 ? (size_t)n : 0;
        if (v->len - off < skip)
            return -EINVAL;
        if (k == i) {
            *p = n >= 0 ? v->buf + off : NULL;
            *len = n >= 0 ? n : -1;
            return 0;
        }
        off += skip;
    }
}

int cql_routing_key(const struct cql_values *v, const uint16_t *pk, int n_pk, uint8_t *out,
                    size_t cap, size_t *out_len)
{
    if (n_pk <= 0)
        return -EINVAL;
    size_t len = 0;
    for (int i = 0; i < n_pk; i++) {
        const uint8_t *p;
        int32_t n;
        if (cql_values_get(v, pk[i], &p, &n) < 0 || n < 0)
            return -EINVAL;
        if (n_pk == 1) {
            if ((size_t)n > cap)
                return -ENOSPC;
            if (n > 0)
                memcpy(out, p, (size_t)n);
            *out_len = (size_t)n;
            return 0;
        }
        if (n > UINT16_MAX)
            return -EINVAL;
        if (cap - len < (size_t)n + 3)
            return -ENOSPC;
        be16(out + len, (uint16_t)n);
        if (n > 0)
            memcpy(out + len + 2, p, (size_t)n);
        out[len + 2 + (size_t)n] = 0;
        len += (size_t)n + 3;
    }
    *out_len = len;
    return 0;
}

/* ---- cell getters ------------------------------------------------------------ */
int cql_get_int(const struct cql_cell *c, int32_t *out)
{
    if (c->value == NULL || c->len != 4)
        return -EINVAL;
    *out = (int32_t)rd32(c->value);
    return 0;
}

int cql_get_bigint(const struct cql_cell *c, int64_t *out)
{
    if (c->value == NULL || c->len != 8)
        return -EINVAL;
    *out = (int64_t)((uint64_t)rd32(c->value) << 32 | rd32(c->value + 4));
    return 0;
}

int cql_get_bool(const struct cql_cell *c, int *out)
{
    if (c->value == NULL || c->len != 1)
        return -EINVAL;
    *out = c->value[0] != 0;
    return 0;
}

int cql_get_uuid(const struct cql_cell *c, uint8_t out[16])
{
    if (c->value == NULL || c->len != 16)
        return -EINVAL;
    memcpy(out, c->value, 16);
    return 0;
}

const char *cql_get_text(const struct cql_cell *c, pool_t *pool)
{
    if (c->value == NULL || c->len <= 0)
        return pool_strdup(pool, "");
    return pool_strndup(pool, (const char *)c->value, (size_t)c->len);
}
