/* store_rules.h - rules both store backends apply the same way. */
#ifndef DUET_STORE_RULES_H
#define DUET_STORE_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* A quote's snippet: at most this many characters of the first line. */
#define STORE_SNIPPET_CHARS 100

/* The first line of text, at most STORE_SNIPPET_CHARS characters, copied
 * into p; NULL when out of memory. */
const char *store_snippet(pool_t *p, const char *text);

/* The message of a page at seq (msgs ascending by sequence), or NULL. */
struct duet_msg *store_msg_find(struct duet_msg *msgs, size_t n, int64_t seq);

/* n push jobs, one per subscription read (req->out.push_subs), for
 * req->in's push, allocated in req's pool; NULL when n is 0 or out of
 * memory. */
struct duet_push_job *store_push_jobs(store_req *req, size_t n, const char *from, const char *text);

#endif
