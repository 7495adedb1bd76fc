/* store_rules.c - rules both store backends apply the same way, kept in
 * one place so SQLite and Cassandra cannot drift apart. */
#include "store_rules.h"

#include "../base/text.h"

#include <string.h>

const char *store_snippet(pool_t *p, const char *text)
{
    size_t len = strlen(text), i = 0, chars = 0;
    while (i < len && text[i] != '\n' && chars < STORE_SNIPPET_CHARS) {
        uint32_t cp;
        size_t n = text_utf8_seq((const unsigned char *)text, len, i, &cp);
        if (n == 0)
            break;
        i += n;
        chars++;
    }
    return pool_strndup(p, text, i);
}

struct duet_msg *store_msg_find(struct duet_msg *msgs, size_t n, int64_t seq)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (msgs[mid].sequence == seq)
            return &msgs[mid];
        if (msgs[mid].sequence < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

struct duet_push_job *store_push_jobs(store_req *req, size_t n, const char *from, const char *text)
{
    struct duet_push_job *jobs = n ? pool_calloc(&req->pool, n * sizeof(*jobs)) : NULL;
    if (jobs == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        struct duet_push_job *j = &jobs[i];
        duet_id_random(&j->id);
        j->sub = req->out.push_subs[i];
        j->kind = req->in.push.kind;
        j->chat_id = req->in.chat_id;
        j->seq = req->in.seq;
        j->from = from;
        j->text = text;
        j->created_at = req->in.now;
    }
    return jobs;
}
