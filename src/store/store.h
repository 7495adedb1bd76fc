/* store.h - the storage interface. No SQL (or CQL) lives outside a backend.
 *
 * Every operation is a request object submitted to the store; its callback
 * runs later on the loop thread, never from inside store_submit(). The
 * contract every backend keeps:
 *
 *  1. Completion order is submission order (FIFO), on the loop thread.
 *  2. A request's effects are durable before its callback runs: a write is
 *     committed (SQLite: fsync'd per the sync setting) first. Backends may group
 *     the requests of one loop turn into one commit (group commit).
 *  3. Each request is atomic: all of its writes happen or none do. A failed
 *     request (status < 0) changed nothing.
 *  4. Each request observes the effects of every request submitted before it.
 *     Together with (1) this lets a caller register a connection for live
 *     delivery in the completion of the read that loaded its backlog, with no
 *     gap and no duplicate (see client.c).
 *
 * Access rules that must hold atomically with a write (friendship, blocks,
 * chat membership) are checked by the backend inside the request; the codes it
 * returns are the DUET_E* codes of duet.h.
 *
 * Times are milliseconds since the epoch; 0 means "not set".
 * Strings in results are NUL-terminated and live in req->pool.
 *
 * Ownership: the caller owns the store_req (usually embedded in a larger
 * struct) and must keep it alive until the callback ran; it then calls
 * store_req_reset() to free the results (the callback may do it).
 */
#ifndef DUET_STORE_H
#define DUET_STORE_H

#include <stdint.h>
#include <uv.h>

#include "../base/duet.h"
#include "../base/pool.h"
#include "store_types.h"

typedef struct store store_t;
typedef struct store_req store_req;
typedef void (*store_cb)(store_req *req);

enum store_op {
    /* accounts */
    STORE_USER_CREATE,        /* in: username, display_name, pwhash, now -> user | EEXISTS */
    STORE_USER_GET_BY_NAME,   /* in: username -> user with pwhash | ENOTFOUND */
    STORE_USER_GET,           /* in: user -> user | ENOTFOUND */
    STORE_USER_UPDATE,        /* in: user, display_name (NULL = keep), lastseen_vis (-1 = keep),
                                 read_receipts (-1 = keep) -> user */
    STORE_USER_SET_PASSWORD,  /* in: user, pwhash, token_hash (the session to keep)
                                 -> deletes every other session of user */
    STORE_USER_SET_LAST_SEEN, /* in: user, now (last_seen never moves back) */
    /* sessions: token_hash is SHA-256 of the token; the token is never stored */
    STORE_SESSION_CREATE, /* in: user, token_hash, now */
    STORE_SESSION_GET,    /* in: token_hash, now, idle_ms -> user | ENOTFOUND (also when idle
                             longer than idle_ms; then the session is deleted). Refreshes
                             last_used at most once a minute. */
    STORE_SESSION_DELETE, /* in: token_hash */
    /* friends; the other side is named by username (in: name) */
    STORE_FRIEND_REQUEST, /* in: user, name, now -> peer, result FRIEND_REQUESTED,
                             FRIEND_PENDING (already asked: nothing changed) or
                             FRIEND_ACCEPTED (it crossed the peer's request), chat_id |
                             ENOTFOUND ESELF EALREADY EBLOCKED ELIMIT. EBLOCKED only when
                             the user blocks the peer: a request to someone who blocks the
                             user is stored as usual with out.hidden = 1, and left out of the
                             peer's REQUESTS_LIST while the block lasts */
    STORE_FRIEND_ACCEPT,  /* in: user, name, now -> peer, chat_id | ENOTFOUND (no request) */
    STORE_FRIEND_DECLINE, /* in: user, name -> peer | ENOTFOUND */
    STORE_FRIEND_CANCEL,  /* in: user, name -> peer | ENOTFOUND */
    STORE_FRIEND_REMOVE,  /* in: user, name -> peer, chat_id | ENOTFOUND (also when not
                             friends: no answer tells a stranger from a missing user) */
    STORE_BLOCK,          /* in: user, name, now -> peer, unchanged | ENOTFOUND ESELF;
                             also withdraws pending friend requests between the two */
    STORE_UNBLOCK,        /* in: user, name -> peer | ENOTFOUND (also when not blocked:
                             an unblock that changes nothing tells nobody) */
    STORE_REQUESTS_LIST,  /* in: user -> reqs_in[], reqs_out[] */
    STORE_BLOCKS_LIST,    /* in: user -> users[] */
    STORE_CHATS_LIST,     /* in: user -> chats[] (every chat: friends, and former friends
                             with friends = 0), newest activity first */
    STORE_PRESENCE_PEERS, /* in: user -> users[]: friends with no block either way */
    STORE_CHAT_PEER,      /* in: user, chat_id -> peer, chat | EFORBIDDEN (not a
                             member or no such chat) ENOTFRIENDS EBLOCKED */
    /* messages */
    STORE_MSG_SEND,     /* in: user, chat_id, message_id, text, now (media: msg_type, preview,
                           media, upload_id: the user's stored upload, attached to the message
                           atomically; ENOTFOUND when it is not the user's stored upload)
                           -> msg, duplicate |
                           EFORBIDDEN ENOTFRIENDS EBLOCKED ECONFLICT EFULL. Adds a PENDING_MESSAGE
                           row for the receiver. EBLOCKED only when the user blocks the
                           receiver: when the receiver blocks the user, the message is stored
                           withheld (out.hidden = 1): no pending row, never marked delivered
                           or seen, not counted unread or shown as the last message to the
                           receiver, and a placeholder (msg.withheld) in their history, even
                           after an unblock. A retry with the same message_id by the same
                           sender returns the stored message with duplicate = 1. */
    STORE_MSG_ACK,      /* in: user, chat_id, kind, seq, now. kind MESSAGE: the user's device
                           got the peer's messages up to seq: sets received_at where unset,
                           deletes those PENDING_MESSAGE rows and, when anything newly
                           became delivered, replaces the peer's PENDING_DELIVERED row;
                           out: receipt (changed, peer, seq, at). kind DELIVERED / SEEN:
                           deletes those rows with sequence <= seq. kind DELETED: deletes the
                           row at seq. | EFORBIDDEN */
    STORE_MSG_SEEN,     /* in: user, chat_id, seq, now: the user viewed the chat up to seq
                           (clamped to the chat's last sequence). Raises the user's read
                           position; if both sides have read receipts on, sets seen_at (and
                           received_at) on the peer's messages up to seq, replaces the
                           peer's PENDING_SEEN row; out: receipt (changed = 1 when the peer
                           is to be told), read_seq (the new read position) | EFORBIDDEN */
    STORE_MSG_DELETE,   /* in: user, chat_id, seq, now, window_ms -> msg (erased) | ENOTFOUND
                           EFORBIDDEN (not the sender or not a member) EEXPIRED EDELETED.
                           Erases message and preview, sets deleted_at, and adds a
                           PENDING_DELETED row for the peer. */
    STORE_HISTORY,      /* in: user, chat_id, before (0 = newest), after (0 = none), limit
                           (1..100) -> msgs[] in ascending sequence | EFORBIDDEN. With after,
                           the oldest `limit` messages after it; else the newest `limit`
                           messages before `before`. seen_at is 0 for the user's own
                           messages unless both sides have read receipts on. */
    STORE_PENDING_LIST, /* in: user, cursors -> pending[]: the user's pending rows, grouped by
                           chat, in sequence order within a chat (kinds interleaved by seq).
                           With cursors set, also cursors[]: every chat of the user with its
                           last_seq as of this read (live delivery across instances starts
                           after it). Paged when limit > 0: at most limit rows, fewer once
                           their text passes page_bytes (one row at least), after the row
                           (chat_id, seq, kind) when has_after; out.more = 1 when rows may
                           follow. Pages are in key order: SQLite (chat, seq, kind),
                           Cassandra (chat, kind, seq), so a chat's messages are in seq
                           order on both and a row present throughout is in one page. */
    /* issue 17 (c-msg). Send also takes in.reply_to (a seq of the chat, not withheld,
       else ENOTFOUND) and in.fwd_chat/in.fwd_seq (forward: copy a message the user can
       read; ENOTFOUND EDELETED) and then ignores in.text. */
    STORE_MSG_REACT, /* in: user, chat_id, seq, emoji ("" removes), now -> msg (the message,
                        text not needed), out.changed | ENOTFOUND EFORBIDDEN ENOTFRIENDS EBLOCKED
                        EDELETED. One per (chat, seq, user), latest wins; a PENDING_REACTION row
                        for the peer unless they block the user (out.hidden = 1: stored, never
                        shown to them); out.notify = 1 when the author is to be notified. */
    STORE_MSG_EDIT,  /* in: user, chat_id, seq, text, now, window_ms -> msg (edited) |
                        ENOTFOUND EFORBIDDEN EPERM (not the sender) ENOTFRIENDS EBLOCKED EEXPIRED
                        EDELETED EINVAL (not a text message). Overwrites the text, sets
                        edited_at, updates an undelivered copy and a PENDING_EDITED row for
                        the peer (none when withheld from them: out.hidden). */
    STORE_MSG_HIDE,  /* in: user, chat_id, seq, now -> msg | ENOTFOUND EFORBIDDEN. Hides the
                        message for the user only, adds a PENDING_HIDDEN row for the user's
                        other devices; out.unchanged when already hidden. */
    /* c-org: search and organise (docs/protocol.md "Search", "Organise") */
    STORE_SEARCH,         /* in: user, query (the user's words), chat_id when has_chat, before
                             (a cursor of the last page, 0 = newest), limit (1..STORE_SEARCH_MAX)
                             -> hits[] newest first, more (a next page may exist) | EFORBIDDEN
                             (has_chat and not a member). Only messages the user may read: not
                             deleted, not withheld from them; former friends' chats included. */
    STORE_CHAT_STATE_SET, /* in: user, chat_id, state_set (bits STATE_SET_*), state, now
                             -> state (the result), unchanged | EFORBIDDEN ELIMIT (a fourth pin).
                             Replaces the user's PENDING_CHAT_STATE row of the chat. */
    /* Web Push (issue 16; docs/protocol.md "Push"). Subscriptions belong to
       a user and to the session that registered them (logout removes them). */
    STORE_PUSH_SUB_ADD,    /* in: user, token_hash, push.{endpoint, p256dh, auth, device}, limit
                              (subscriptions per user at most: the oldest go), now -> push_sub.
                              An endpoint already stored (any user) is replaced. */
    STORE_PUSH_SUB_LIST,   /* in: user -> push_subs[] oldest first */
    STORE_PUSH_SUB_DELETE, /* in: user, push.sub_id -> ENOTFOUND; its jobs go too */
    STORE_PUSH_SUB_LOGOUT, /* in: user, token_hash: deletes that session's subscriptions
                              (push.kind 1: every other session's, a password change) */
    STORE_PUSH_PREFS,      /* in: user, push.preview (-1 = keep) -> push_preview */
    STORE_PUSH_ENQUEUE,    /* in: user (the recipient), chat_id, seq, push.kind, push.sender,
                              text, push.instance, now -> push_jobs[]: one job per subscription
                              of user, owned by push.instance (none when the user muted the
                              chat). MESSAGE: text is kept only with
                              the user's preview on; marks the chat as notified. CLEAR: only
                              when the chat was notified since the last clear (else none). */
    STORE_PUSH_JOBS_LIST,  /* in: push.instance -> push_jobs[]: every job it owns */
    STORE_PUSH_JOB_DONE,   /* in: push.job_id, push.result, now: DELIVERED deletes the job and
                              stamps its subscription's last_success; GONE deletes the
                              subscription and its jobs; FAILED deletes the job */
    /* uploads and media (issue 15) */
    STORE_UPLOAD_CREATE,  /* in: user, upload (id, length, name, filetype, created_at,
                             expires_at), max_per_day (bytes created in the last 24 h, with
                             this one; 0 = none), max_pending (uploads staging at once; 0 =
                             none) -> upload | ELIMIT (bytes per day) EFULL (in flight) */
    STORE_UPLOAD_GET,     /* in: user, upload_id -> upload | ENOTFOUND (also another user's) */
    STORE_UPLOAD_UPDATE,  /* in: user, upload_id, seq (the new offset; only forward), kind
                             (0 = keep), text (mime, NULL = keep), upload_state (-1 = keep)
                             -> upload | ENOTFOUND. Never touches an attached upload. */
    STORE_UPLOAD_DELETE,  /* in: user (zero: the sweep, any owner), upload_id, now -> upload
                             (its state before) | ENOTFOUND; EFORBIDDEN when attached (a
                             message holds it). Staging or stored: marked deleted (the
                             files are the caller's to remove; the sweep clears the row);
                             deleted (the sweep only): the row goes */
    STORE_UPLOAD_EXPIRED, /* in: now, limit -> uploads[]: unattached ones whose expires_at
                             passed, and deleted ones (their blobs are to go) */
    STORE_MEDIA_GET,      /* in: user, upload_id -> upload | ENOTFOUND unless the user may read
                             it: their own stored upload, or attached to a message the user's
                             history shows (member of the chat, not deleted, not withheld from
                             them) */
    STORE_OP_COUNT
};

struct store_req {
    enum store_op op;
    store_cb cb;
    void *data; /* for the caller */
    int status; /* 0 or a negative error code, set before cb runs */

    struct {
        duet_id user;
        duet_id chat_id;
        const char *username;     /* STORE_USER_CREATE, USER_GET_BY_NAME */
        const char *name;         /* the other side, friend and block ops */
        const char *display_name; /* USER_CREATE, USER_UPDATE */
        const char *pwhash;
        const char *message_id;
        const char *text;
        int lastseen_vis;
        int read_receipts;
        int kind; /* enum pending_kind, MSG_ACK */
        int64_t seq;
        int64_t before;
        int64_t after;
        int has_after; /* HISTORY: `after` is given (after = 0 pages from seq 1) */
        int cursors;   /* PENDING_LIST: also return cursors[] */
        int limit;
        int64_t now;
        int64_t idle_ms;
        int64_t window_ms;
        int64_t page_bytes;  /* PENDING_LIST with limit: text per page (0 = no bound) */
        int64_t max_pending; /* MSG_SEND: EFULL when the receiver has this many pending rows (0 = no
                                ceiling) */
        int64_t max_per_day; /* FRIEND_REQUEST: ELIMIT when user sent this many in the last 24 h (0
                                = none) */
        uint8_t token_hash[32];
        /* issue 17 (c-msg) */
        const char *emoji; /* MSG_REACT: "" removes */
        int64_t reply_to;  /* MSG_SEND: 0 = none */
        int has_forward;   /* MSG_SEND: copy (fwd_chat, fwd_seq) */
        duet_id fwd_chat;
        int64_t fwd_seq;
        /* c-org */
        const char *query; /* SEARCH: the user's words, 1..STORE_QUERY_MAX bytes */
        int has_chat;      /* SEARCH: only chat_id */
        int state_set;     /* CHAT_STATE_SET: which of state's fields to set */
        struct duet_chat_state state;
        struct {
            const char *endpoint, *p256dh, *auth, *device;
            const char *from;     /* ENQUEUE: the sender's name (NULL: read sender's) */
            duet_id sender;       /* ENQUEUE MESSAGE: the message's sender */
            const char *instance; /* ENQUEUE, JOBS_LIST: the owning instance */
            duet_id sub_id;
            duet_id job_id;
            int kind;    /* enum push_job_kind */
            int result;  /* enum push_job_result */
            int preview; /* PREFS: 0, 1, or -1 to read only */
        } push;
        /* issue 15 */
        const struct duet_upload *upload; /* UPLOAD_CREATE */
        const char *upload_id;            /* UPLOAD_*, MEDIA_GET, MSG_SEND (NULL: no media) */
        int upload_state;                 /* UPLOAD_UPDATE */
        int msg_type;                     /* MSG_SEND: 0 text, enum media_kind */
        const char *preview;              /* MSG_SEND: the thumbnail ("" none) */
        const char *media;                /* MSG_SEND: the media JSON (msg.media) */
        const char *media_mime;           /* MSG_SEND: the type the media is served as */
    } in;                                 /* borrowed by the store until the callback runs */

    struct {
        struct duet_user user; /* USER_*, SESSION_GET */
        struct duet_user peer; /* friend ops, CHAT_PEER */
        struct duet_msg msg;   /* MSG_SEND, MSG_DELETE */
        duet_id chat_id;
        int friend_result; /* enum friend_result */
        /* BLOCK: the two are friends. UNBLOCK: they are, and no block is
         * left between them (the peer does not block the user). */
        int friends;
        /* FRIEND_REQUEST: the peer blocks the user, who is not to be told.
         * MSG_SEND, MSG_DELETE: the message is withheld from its receiver
         * (they block the sender): no event to them. */
        int hidden;
        int unchanged; /* BLOCK: already blocked, no request withdrawn */
        int duplicate;
        struct {
            int changed;
            duet_id peer;
            int64_t seq;
            int64_t at;
        } receipt;
        int64_t read_seq;
        struct duet_msg *msgs;
        size_t n_msgs;
        /* HISTORY with has_after: the sequences after+1..void_to are void
         * (claimed, never written, given up on: docs/cassandra.md "Holes");
         * msgs has none of them. 0 when none (always, on SQLite). */
        int64_t void_to;
        struct duet_pending *pending;
        size_t n_pending;
        int more; /* PENDING_LIST paged: the page was cut; rows may follow */
        struct duet_cursor *cursors;
        size_t n_cursors;
        struct duet_chat *chats;
        size_t n_chats;
        struct duet_user *users;
        size_t n_users;
        struct duet_friend_req *reqs_in;
        size_t n_reqs_in;
        struct duet_friend_req *reqs_out;
        size_t n_reqs_out;
        /* issue 17 (c-msg) */
        int changed;                   /* MSG_REACT: the reaction changed */
        int notify;                    /* MSG_REACT: a new reaction for the author (push hook) */
        struct duet_reaction reaction; /* MSG_REACT: the new state (emoji "" = removed) */
        /* c-org */
        struct duet_hit *hits; /* SEARCH */
        size_t n_hits;
        /* SEARCH: the query's words the match used, one space between, or
         * NULL for all of in.query's (SQLite leaves out a word its index
         * holds no token of: "—", "😀"); a snippet marks these only. */
        const char *search_words;
        struct duet_chat_state state;  /* CHAT_STATE_SET */
        struct duet_push_sub push_sub; /* PUSH_SUB_ADD */
        struct duet_push_sub *push_subs;
        size_t n_push_subs;
        struct duet_push_job *push_jobs;
        size_t n_push_jobs;
        int push_preview;
        /* s-cass: SEARCH with more and no hits: the cursor to continue from
         * (Cassandra's bounded scan stopped before it found a match). */
        int64_t search_next;
        /* issue 15 */
        struct duet_upload upload;   /* UPLOAD_*, MEDIA_GET */
        struct duet_upload *uploads; /* UPLOAD_EXPIRED */
        size_t n_uploads;
        /* MSG_DELETE: the deleted message's upload id (its blob is to be
         * removed; the upload is marked deleted), or NULL. */
        const char *deleted_upload;
        /* s-shard: SEARCH stopped before the oldest message (more = 1):
         * the next page's `before`, even with no hit; 0: the last hit's
         * cursor is (Cassandra, or a full page). */
        int64_t next_before;
    } out;

    pool_t pool;     /* owns out's strings and arrays */
    store_req *next; /* the backend's queue link */
};

typedef void (*store_ready_cb)(store_t *s, void *data);
typedef void (*store_done_cb)(void *data);

/* The backend vtable; both backends (SQLite, Cassandra) implement all of it. */
struct store_backend {
    const char *name;
    /* Queue the request; its callback runs later. 0, or an error and the
     * callback will not run. */
    int (*submit)(store_t *s, store_req *req);
    /* Calls cb(s, data) once the store serves requests: at once (from
     * inside) when it already does (SQLite, always); Cassandra: once the
     * keyspace and tables exist, never while no node answers. Requests may
     * be submitted before, they wait. One waiter at a time. */
    void (*ready)(store_t *s, store_ready_cb cb, void *data);
    /* Calls done(data) once every request submitted so far (and every
     * request their callbacks submit) has completed: at once (from inside)
     * for SQLite, whose close completes them itself; later for Cassandra,
     * whose requests complete asynchronously. Call before close. */
    void (*drain)(store_t *s, store_done_cb done, void *data);
    /* Complete every queued request, then release everything. The callbacks
     * of queued requests still run (from inside close). */
    void (*close)(store_t *s);
};

struct store {
    const struct store_backend *backend;
};

/* Initialises req for op (zeroes in/out, sets up the pool). */
void store_req_init(store_req *req, enum store_op op, store_cb cb, void *data);
/* Frees results; the req can be initialised again. */
void store_req_reset(store_req *req);

static inline int store_submit(store_t *s, store_req *req)
{
    return s->backend->submit(s, req);
}

static inline void store_ready(store_t *s, store_ready_cb cb, void *data)
{
    s->backend->ready(s, cb, data);
}

static inline void store_drain(store_t *s, store_done_cb done, void *data)
{
    s->backend->drain(s, done, data);
}

static inline void store_close(store_t *s)
{
    s->backend->close(s);
}

struct store_sqlite_opts {
    const char *path;  /* database file */
    int sync_full;     /* 1: PRAGMA synchronous=FULL (fsync each commit) */
    int64_t cache_kib; /* page cache size */
    /* Group commit window: at most one commit per this many ms (a batch
     * that comes sooner waits, unless it is very large); 0 commits once a
     * loop turn. Fewer, larger commits write fewer WAL pages per message,
     * for up to this much added latency under load and none when idle.
     * A batch that only reads never waits and does not start a window. */
    int64_t commit_window_ms;
    /* Requests submitted and not yet completed, at most; beyond, submit
     * returns DUET_EBUSY. 0: 131072 (SQ_INFLIGHT_MAX). */
    size_t max_inflight;
    /* s-shard: messages per search index shard (sqlite_shards.c); 0: the
     * default, SQ_SHARD_ROWS. Applies to shards created from now on. */
    int64_t fts_shard_rows;
};

/* Opens (creating and migrating the schema) the SQLite store. On success
 * *out is a store whose submit/close use the loop. */
int store_sqlite_open(uv_loop_t *loop, const struct store_sqlite_opts *opts, store_t **out);

/* The Cassandra store (docs/cassandra.md). Strings are copied. */
struct store_cass_opts {
    const char *hosts;       /* contact points, "h1,h2:9043" */
    const char *keyspace;    /* created at start-up if missing */
    const char *replication; /* CQL map text for CREATE KEYSPACE */
    const char *username;    /* NULL = no authentication */
    const char *password;
    const char *consistency; /* "LOCAL_QUORUM", "QUORUM", ... (NULL: LOCAL_QUORUM) */
    int64_t timeout_ms;      /* per CQL request attempt */
};

/* Checks the options (-EINVAL, logged: a keyspace that is not an
 * identifier, an unknown consistency, no host), creates the store and
 * starts connecting at once; no request runs until
 * the keyspace and tables exist (store_ready()). While no node answers the
 * store logs why and keeps retrying. store_close() may be called at any
 * time. */
int store_cass_open(uv_loop_t *loop, const struct store_cass_opts *opts, store_t **out);

const char *store_op_name(enum store_op op);

#endif
