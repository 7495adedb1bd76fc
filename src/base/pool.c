#include "pool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct pool_chunk {
    struct pool_chunk *next;
    size_t size;
    _Alignas(16) unsigned char data[];
};

enum { POOL_CHUNK = 4096 - sizeof(struct pool_chunk) };

void pool_init(pool_t *p)
{
    p->chunks = NULL;
    p->used = 0;
    p->cap = 0;
}

void *pool_alloc(pool_t *p, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    if (p->chunks == NULL || p->cap - p->used < n) {
        /* Large requests get a chunk of their own, placed behind the current
         * one so that the current chunk's free space is not wasted. */
        size_t size = n > POOL_CHUNK / 4 ? n : POOL_CHUNK;
        struct pool_chunk *c = malloc(sizeof(*c) + size);
        if (c == NULL)
            return NULL;
        c->size = size;
        if (size != POOL_CHUNK && p->chunks != NULL) {
            c->next = p->chunks->next;
            p->chunks->next = c;
            return c->data;
        }
        c->next = p->chunks;
        p->chunks = c;
        p->used = 0;
        p->cap = size;
    }
    void *r = p->chunks->data + p->used;
    p->used += n;
    return r;
}

void *pool_calloc(pool_t *p, size_t n)
{
    void *r = pool_alloc(p, n);
    if (r != NULL)
        memset(r, 0, n);
    return r;
}

void *pool_grow(pool_t *p, void *arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return arr;
    size_t ncap = *cap != 0 ? *cap * 2 : 8;
    if (ncap < *cap || (size != 0 && ncap > SIZE_MAX / size))
        return NULL;
    void *r = pool_alloc(p, ncap * size);
    if (r == NULL)
        return NULL;
    if (n > 0)
        memcpy(r, arr, n * size);
    *cap = ncap;
    return r;
}

char *pool_strndup(pool_t *p, const char *s, size_t len)
{
    char *r = pool_alloc(p, len + 1);
    if (r == NULL)
        return NULL;
    if (len > 0)
        memcpy(r, s, len);
    r[len] = '\0';
    return r;
}

char *pool_strdup(pool_t *p, const char *s)
{
    return pool_strndup(p, s, strlen(s));
}

void pool_clear(pool_t *p)
{
    struct pool_chunk *c = p->chunks;
    while (c != NULL) {
        struct pool_chunk *next = c->next;
        free(c);
        c = next;
    }
    pool_init(p);
}
