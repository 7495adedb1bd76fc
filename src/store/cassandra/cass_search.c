/* cass_search.c - message search on Cassandra (STORE_SEARCH, issue 17), with
 * the SQLite backend's semantics (sqlite_search.c): every query word must
 * be in the message (case and Latin diacritics folded; a word of two bytes
 * or more also matches word starts), only messages the user may read (their
 * chats, not deleted, not withheld from them), newest first, paged with an
 * opaque cursor.
 *
 * Apache Cassandra 5.0's SAI has no text analyzer (index_analyzer is
 * rejected: "not understood by StorageAttachedIndex"), so there is no text
 * index: a search walks the chat's private_chat partitions newest first
 * (CS_SCAN_CHUNK rows a query) and matches in C. Each chat is read for at
 * most CS_SEARCH_CHAT_ROWS (within a chat) or CS_SEARCH_ALL_ROWS (across
 * chats) rows a request; a chat cut by its bound ends the page early with a
 * cursor to go on (cs_search_cut), so nothing is skipped. No text is
 * written anywhere else, so erased text leaves no second copy
 * (docs/cassandra.md, "Search": the costs and the limits).
 *
 * Cursors: within a chat, the sequence (exact); across chats, sent_at (ms)
 * * 1024 + the sequence's low 10 bits, below 2^53 so that JavaScript keeps
 * it exact; after the first page each chat is read below the cursor's time
 * through the SAI index on sent_at (CS_SEARCH_SCAN_TIME). Two hits of two
 * chats with the same cursor share a page boundary badly (one may be
 * skipped): the same millisecond and the same low sequence bits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../base/text.h"
#include "cass_int.h"

/* Rows of a chat read per request at most: within one chat, the newest
 * below the cursor (CS_SEARCH_CHAT_ROWS); across chats, the newest of each
 * chat (CS_SEARCH_ALL_ROWS: the cursor is a time, not a sequence). */
#define CS_SEARCH_CHAT_ROWS 20000
#define CS_SEARCH_ALL_ROWS  2000
/* Across chats after the first page: a chat's rows below the cursor's
 * time, found through the SAI index on sent_at (cass_schema.c). */
const char *const cs_search_cql[CS_STMT_COUNT] = {
    [CS_SEARCH_SCAN_TIME] = "SELECT " CS_MSG_COLS " FROM @.private_chat WHERE chat_id = ?"
                            " AND bucket = ? AND sent_at < ? AND sequence > ? AND sequence <= ?"
                            " LIMIT ?",
};

/* A chat to search and its newest sequence. Ownership: op->items. */
struct cs_search_chat {
    duet_id id;
    int64_t last_seq;
};

/* A word byte, as sqlite_search.c and search_snip.c split words. */
static int cs_word_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Latin-1 Supplement and Latin Extended-A folded to their base letter,
 * lower case, as FTS5's unicode61 remove_diacritics does ('*': kept). */
static const char cs_latin[] = "aaaaaaaceeeeiiii"
                               "dnooooo*ouuuuyts"
                               "aaaaaaaceeeeiiii"
                               "dnooooo*ouuuuyty"
                               "aaaaaaccccccccdd"
                               "ddeeeeeeeeeegggg"
                               "gggghhhhiiiiiiii"
                               "iijjjjkkklllllll"
                               "lllnnnnnnnnnoooo"
                               "oooorrrrrrssssss"
                               "ssttttttuuuuuuuu"
                               "uuuuwwyyyzzzzzzs";

static uint32_t cs_fold(uint32_t cp)
{
    if (cp >= 'A' && cp <= 'Z')
        return cp + 32;
    if (cp >= 0xC0 && cp <= 0x17F && cs_latin[cp - 0xC0] != '*')
        return (uint32_t)(unsigned char)cs_latin[cp - 0xC0];
    return cp;
}

/* The folded code point at s[*i] (a malformed byte stands for itself). */
static uint32_t cs_next_cp(const char *s, size_t len, size_t *i)
{
    uint32_t cp;
    size_t n = text_utf8_seq((const unsigned char *)s, len, *i, &cp);
    if (n == 0) {
        cp = (unsigned char)s[*i];
        n = 1;
    }
    *i += n;
    return cs_fold(cp);
}

/* Whether the text word t equals w, or starts with it (prefix). */
static int cs_word_match(const char *t, size_t tlen, const struct cs_word *w, int prefix)
{
    size_t a = 0, b = 0;
    while (a < tlen && b < w->len)
        if (cs_next_cp(t, tlen, &a) != cs_next_cp(w->s, w->len, &b))
            return 0;
    return b == w->len && (prefix || a == tlen);
}

int cs_search_match(const char *text, size_t len, const struct cs_word *w, size_t nw)
{
    uint32_t found = 0, all = (1u << nw) - 1;
    for (size_t i = 0; i < len && found != all;) {
        if (!cs_word_byte((unsigned char)text[i])) {
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && cs_word_byte((unsigned char)text[i]))
            i++;
        for (size_t k = 0; k < nw; k++)
            if (!(found & (1u << k)) &&
                cs_word_match(text + start, i - start, &w[k], w[k].len >= 2))
                found |= 1u << k;
    }
    return nw > 0 && found == all;
}

size_t cs_search_words(const char *q, struct cs_word *w)
{
    size_t n = 0;
    for (const char *p = q; *p != '\0' && n < CS_SEARCH_WORDS;) {
        if (!cs_word_byte((unsigned char)*p)) {
            p++;
            continue;
        }
        w[n].s = p;
        while (cs_word_byte((unsigned char)*p))
            p++;
        w[n].len = (size_t)(p - w[n].s);
        n++;
    }
    return n;
}

/* The chats of a CS_CHAT_GET / CS_CHATS_IN read that the user is in, into
 * op->items. */
static int cs_search_add_chats(cs_op *op)
{
    for (int64_t i = 0; i < op->q.rows.n_rows; i++) {
        struct cs_chat c;
        if (cs_read_chat(op->s, &op->q.rows, i, &op->req->in.user, &c) < 0)
            continue;
        struct cs_search_chat *a =
            pool_grow(&op->pool, op->items, op->n_items, &op->cap_items, sizeof(*a));
        if (a == NULL)
            return -ENOMEM;
        op->items = a;
        a[op->n_items].id = c.id;
        a[op->n_items].last_seq = c.seq_null ? 0 : c.last_seq;
        op->n_items++;
    }
    return 0;
}

/* A row's cursor (see the top of the file). */
static int64_t cs_search_cursor(const store_req *req, int64_t seq, int64_t sent_at)
{
    if (req->in.has_chat)
        return seq;
    return sent_at * 1024 + (seq & 1023);
}

/* The rows of a scan query: the matches appended to req->out.hits (op->n_users
 * counts their capacity); op->count the chat's matches, op->top its rows. */
static int cs_search_rows(cs_op *op, const struct cs_word *w, size_t nw)
{
    store_req *req = op->req;
    const struct cql_rows *r = &op->q.rows;
    const struct cs_search_chat *c = (const struct cs_search_chat *)op->items + op->i_items;
    int64_t before = req->in.before > 0 ? req->in.before : INT64_MAX;
    op->top += r->n_rows;
    for (int64_t i = 0; i < r->n_rows; i++) {
        int64_t cursor = cs_search_cursor(req, cs_get_i64(cql_cell(r, i, CS_MSG_SEQ_COL)),
                                          cs_get_i64(cql_cell(r, i, CS_MSG_SEQ_COL + 1)));
        /* The oldest row read with a time: a cut chat's boundary. */
        if (!cs_row_void(r, i, 0) && cs_get_i64(cql_cell(r, i, CS_MSG_SEQ_COL + 1)) > 0 &&
            cursor < op->seq)
            op->seq = cursor;
        const struct cql_cell *text = cql_cell(r, i, 3);
        duet_id receiver;
        cs_get_id(cql_cell(r, i, 1), &receiver);
        if (cs_row_void(r, i, 0) || cs_get_i64(cql_cell(r, i, 10)) != 0 || cs_is_null(text) ||
            (cs_row_withheld(r, i, 0) && duet_id_eq(&receiver, &req->in.user)) ||
            !cs_search_match((const char *)text->value, (size_t)text->len, w, nw))
            continue;
        if (cursor >= before)
            continue; /* across chats: on an earlier page */
        struct duet_hit *h =
            pool_grow(&req->pool, req->out.hits, req->out.n_hits, &op->n_users, sizeof(*h));
        if (h == NULL)
            return -ENOMEM;
        req->out.hits = h;
        h += req->out.n_hits;
        memset(h, 0, sizeof(*h));
        if (cs_read_msg(&req->pool, r, i, 0, &c->id, &h->msg) < 0)
            return -ENOMEM;
        h->cursor = cursor;
        req->out.n_hits++;
        op->count++;
    }
    return 0;
}

static int cs_hit_cmp(const void *pa, const void *pb)
{
    const struct duet_hit *a = pa, *b = pb;
    if (a->cursor != b->cursor)
        return a->cursor > b->cursor ? -1 : 1;
    int c = memcmp(a->msg.chat_id.b, b->msg.chat_id.b, sizeof(a->msg.chat_id.b));
    if (c != 0)
        return c;
    return a->msg.sequence > b->msg.sequence ? -1 : a->msg.sequence < b->msg.sequence;
}

/* Steps of cs_search. */
enum {
    SR_START = 0,
    SR_CHAT,  /* the one chat's statics (has_chat) */
    SR_RELS,  /* the user's relations: their chats */
    SR_CHATS, /* a slice of the chats' statics */
    SR_ROWS,  /* a scan query of the current chat */
};

/* Rows of a chat one request reads at most. */
static int64_t cs_search_bound(const store_req *req)
{
    return req->in.has_chat ? CS_SEARCH_CHAT_ROWS : CS_SEARCH_ALL_ROWS;
}

/* The next scan query's LIMIT: a chunk, never past the bound, so that the
 * cut is exact and the next page starts right below it. */
static int cs_search_chunk(const cs_op *op)
{
    int64_t left = cs_search_bound(op->req) - op->top;
    return left < CS_SCAN_CHUNK ? (int)left : CS_SCAN_CHUNK;
}

/* When the row bound stopped the scan of op->scan before its end, before
 * the chat gave a page and one: remembers where to go on (op->flag). Within
 * a chat, in req->out.search_next: the sequence above the first unread row.
 * Across chats, in op->mask: the highest of the cut chats' boundaries (the
 * cursor of the oldest row read; the unread rows are older), below which
 * this page's hits may miss one of that chat's. */
static void cs_search_cut(cs_op *op)
{
    const struct cs_scan *sc = &op->scan;
    if (cs_scan_bucket(sc) < 0)
        return;
    op->flag = 1;
    if (op->req->in.has_chat) {
        /* Unread: up to sc->hi within bucket sc->b and below. */
        int64_t top = (sc->b + 1) * CS_BUCKET;
        op->req->out.search_next = (sc->hi < top ? sc->hi : top) + 1;
    } else if (op->seq != INT64_MAX && (uint64_t)op->seq > op->mask) {
        op->mask = (uint64_t)op->seq;
    }
}

/* The next scan query of the current chat: the history's, or across chats
 * with a cursor the one that seeks below its time. Returns as
 * cs_scan_next. */
static int cs_search_next(cs_op *op)
{
    struct cs_scan *sc = &op->scan;
    const store_req *req = op->req;
    int limit = cs_search_chunk(op);
    if (req->in.has_chat || req->in.before <= 0)
        return cs_scan_next(op, SR_ROWS, limit);
    int64_t b = cs_scan_bucket(sc);
    if (b < 0)
        return 0;
    sc->asked = limit;
    /* sent_at < the cursor's millisecond + 1: the C filter does the rest. */
    int rc = cs_read(op, SR_ROWS, CS_SEARCH_SCAN_TIME, "illlld", &sc->chat, b,
                     req->in.before / 1024 + 1, sc->lo, sc->hi, limit);
    return rc < 0 ? rc : 1;
}

/* The page: newest first, limit hits, more when one is left over or a
 * scan was cut (then, with no hit, search_next says where to go on). */
static void cs_search_result(cs_op *op, int limit)
{
    store_req *req = op->req;
    if (req->out.n_hits > 1)
        qsort(req->out.hits, req->out.n_hits, sizeof(*req->out.hits), cs_hit_cmp);
    if (op->flag) {
        req->out.more = 1;
        if (!req->in.has_chat) {
            /* Across chats: only the hits down to the highest boundary are
             * in order; the next page starts there. */
            int64_t bound = (int64_t)op->mask;
            while (req->out.n_hits > 0 && req->out.hits[req->out.n_hits - 1].cursor < bound)
                req->out.n_hits--;
            req->out.search_next = bound;
        }
        if (req->out.n_hits > 0)
            req->out.search_next = 0;
    }
    if (req->out.n_hits > (size_t)limit) {
        req->out.n_hits = (size_t)limit;
        req->out.more = 1;
    }
}

void cs_search(cs_op *op)
{
    store_req *req = op->req;
    struct cs_word w[CS_SEARCH_WORDS];
    size_t nw = req->in.query != NULL ? cs_search_words(req->in.query, w) : 0;
    int limit =
        req->in.limit < 1 || req->in.limit > STORE_SEARCH_MAX ? STORE_SEARCH_MAX : req->in.limit;
    int rc;
    switch (op->step) {
    case SR_START:
        if (nw == 0 || strlen(req->in.query) > STORE_QUERY_MAX) {
            rc = -EINVAL;
            break;
        }
        op->n_items = op->cap_items = 0;
        op->n_users = 0; /* the hits' capacity */
        op->flag = 0;
        op->mask = 0;
        if (req->in.has_chat)
            cs_read(op, SR_CHAT, CS_CHAT_GET, "i", &req->in.chat_id);
        else
            cs_read(op, SR_RELS, CS_REL_ALL, "i", &req->in.user);
        return;
    case SR_CHAT:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_search_add_chats(op)) < 0)
            break;
        if (op->n_items == 0) {
            rc = DUET_EFORBIDDEN;
            break;
        }
        goto chats_read;
    case SR_RELS:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_read_rels(op)) < 0 ||
            (rc = cs_chat_ids(op, 0)) < 0)
            break;
        goto chats;
    case SR_CHATS:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_search_add_chats(op)) < 0)
            break;
    chats:
        if ((rc = cs_in_next(op, SR_CHATS, CS_CHATS_IN)) != 0)
            return;
    chats_read:
        op->i_items = 0;
        goto chat;
    case SR_ROWS:
        if ((rc = cs_q_status(op)) < 0 || (rc = cs_search_rows(op, w, nw)) < 0)
            break;
        cs_scan_advance(op);
        /* One more than a page per chat: whether a next page exists. */
        if (op->count <= limit && op->top < cs_search_bound(req) && (rc = cs_search_next(op)) != 0)
            return;
        if (op->count <= limit)
            cs_search_cut(op);
        op->i_items++;
    chat:
        while (op->i_items < op->n_items) {
            const struct cs_search_chat *c = (const struct cs_search_chat *)op->items + op->i_items;
            int64_t hi = c->last_seq;
            if (req->in.has_chat && req->in.before > 0 && req->in.before - 1 < hi)
                hi = req->in.before - 1;
            cs_scan_init(&op->scan, &c->id, 0, hi, 0);
            op->count = op->top = 0;
            op->seq = INT64_MAX;
            if ((rc = cs_search_next(op)) != 0)
                return;
            op->i_items++;
        }
        cs_search_result(op, limit);
        rc = 0;
        break;
    default:
        rc = -EINVAL;
        break;
    }
    cs_finish(op, rc);
}
