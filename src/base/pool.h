/* pool.h - a memory pool (arena), after h2o's per-request pools.
 *
 * Everything allocated from a pool is freed at once by pool_clear() or
 * pool_destroy(). Store results and HTTP requests use one pool each, so the
 * code that consumes them never frees pieces one by one.
 *
 * Ownership: the pool owns its chunks; whoever embeds or allocates the pool
 * calls pool_destroy().
 */
#ifndef DUET_POOL_H
#define DUET_POOL_H

#include <stddef.h>

struct pool_chunk;

typedef struct {
    struct pool_chunk *chunks; /* newest first */
    size_t used;               /* bytes used in the newest chunk */
    size_t cap;                /* capacity of the newest chunk */
} pool_t;

void pool_init(pool_t *p);
/* Returns NULL on allocation failure; memory is 16-byte aligned, not zeroed. */
void *pool_alloc(pool_t *p, size_t n);
void *pool_calloc(pool_t *p, size_t n);
/* Makes room for element n of a pool array of *cap elements of size bytes:
 * the (possibly moved) array, or NULL (out of memory or size overflow).
 * Doubling in a pool wastes at most the final size; no realloc is needed. */
void *pool_grow(pool_t *p, void *arr, size_t n, size_t *cap, size_t size);
/* Copies len bytes and adds a NUL. NULL on failure. */
char *pool_strndup(pool_t *p, const char *s, size_t len);
char *pool_strdup(pool_t *p, const char *s);
/* Frees every chunk; the pool can be used again. */
void pool_clear(pool_t *p);
#define pool_destroy pool_clear

#endif
