/* recent.c - keys marked within the last interval (recent.h). */
#include "recent.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Ownership: owned by the struct recent whose map and list hold it. */
struct recent_entry {
    struct recent_entry *prev, *next;
    uint64_t at; /* ms of the last mark */
    size_t klen;
    unsigned char key[RECENT_KEY_MAX];
};

int recent_init(struct recent *r, uint64_t interval_ms)
{
    memset(r, 0, sizeof(*r));
    r->interval = interval_ms;
    return map_init(&r->map) < 0 ? -ENOMEM : 0;
}

void recent_free(struct recent *r)
{
    struct recent_entry *e = r->head;
    while (e != NULL) {
        struct recent_entry *next = e->next;
        free(e);
        e = next;
    }
    r->head = r->tail = NULL;
    map_free(&r->map);
}

static void unlink_entry(struct recent *r, struct recent_entry *e)
{
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        r->head = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        r->tail = e->prev;
    e->prev = e->next = NULL;
}

static void append_entry(struct recent *r, struct recent_entry *e)
{
    e->prev = r->tail;
    e->next = NULL;
    if (r->tail != NULL)
        r->tail->next = e;
    else
        r->head = e;
    r->tail = e;
}

static int fresh(const struct recent *r, const struct recent_entry *e, uint64_t now)
{
    return now < e->at || now - e->at < r->interval;
}

/* Drops the expired entries, all at the head. */
static void expire(struct recent *r, uint64_t now)
{
    while (r->head != NULL && !fresh(r, r->head, now)) {
        struct recent_entry *e = r->head;
        unlink_entry(r, e);
        map_del(&r->map, e->key, e->klen);
        free(e);
    }
}

int recent_seen(struct recent *r, const void *key, size_t klen, uint64_t now)
{
    if (klen > RECENT_KEY_MAX)
        return 0;
    expire(r, now);
    return map_get(&r->map, key, klen) != NULL;
}

int recent_mark(struct recent *r, const void *key, size_t klen, uint64_t now)
{
    if (klen > RECENT_KEY_MAX)
        return 0;
    expire(r, now);
    struct recent_entry *e = map_get(&r->map, key, klen);
    if (e != NULL)
        return 1; /* every entry left after expire is fresh */
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return 0;
    memcpy(e->key, key, klen);
    e->klen = klen;
    e->at = now;
    if (map_put(&r->map, key, klen, e) < 0) {
        free(e);
        return 0;
    }
    append_entry(r, e);
    return 0;
}

size_t recent_count(const struct recent *r)
{
    return r->map.count;
}
