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

typedef struct store store_t;
typedef struct store_req store_req;
typedef void (*store_cb)(store_req *req);

/* The seed's service_type column of the pending table. */
enum pending_kind {
    PENDING_MESSAGE = 0,   /* a new message for the recipient */
    PENDING_DELIVERED = 1, /* "delivered up to seq", for the sender */
    PENDING_SEEN = 2,      /* "seen up to seq", for the sender */
    PENDING_DELETED = 3,   /* a message at seq was deleted for everyone */
    /* c-org: the user's pin/archive/mute of a chat changed (latest wins per
     * chat: one row per user and chat, at sequence 0; the state is in
     * duet_pending.state). */
    PENDING_CHAT_STATE = 7,
};

enum lastseen_vis { LASTSEEN_FRIENDS = 0, LASTSEEN_NOBODY = 1 };

struct duet_user {
    duet_id id;
    const char *username;     /* lowercase */
    const char *display_name; /* UTF-8, 1..64 chars */
    const char *pwhash;       /* Argon2id string; only filled by USER_GET_BY_NAME */
    int64_t created_at;
    int64_t last_seen; /* when the last connection closed; 0 = never */
    int lastseen_vis;  /* enum lastseen_vis */
    int read_receipts; /* 1 = on */
};

/* A row of the seed's private-chat table. */
struct duet_msg {
    duet_id chat_id;
    duet_id sender;
    duet_id receiver;
    const char *message_id; /* client-generated, unique per chat */
    const char *message;    /* "" once deleted */
    int type;               /* 0 = text (seed: 1 image, 2 video, 3 audio) */
    const char *preview;    /* "" for text */
    int64_t sequence;       /* per chat, from 1, no gaps */
    int64_t sent_at;
    int64_t received_at;
    int64_t seen_at;
    int64_t deleted_at;
    /* Only in the receiver's reads of a message withheld from them (sent
     * while they blocked the sender): a placeholder with no text, so that
     * sequence numbers stay gap-free; never set in the sender's. */
    int withheld;
};

/* One user's organisation of one chat (c-org): per user, never seen by the
 * peer. muted_until: ms, 0 = not muted, INT64_MAX = always (the push
 * engineer's hook: no notification while now < muted_until). */
struct duet_chat_state {
    int pinned;          /* 0/1; at most STORE_MAX_PINNED per user */
    int archived;        /* 0/1; a new message from the peer clears it */
    int64_t muted_until; /* 0 = not muted */
    int64_t pinned_at;   /* when pinned (orders the pinned chats), 0 = not */
};

/* A row of the seed's pending/notification table, for one user.
 *  MESSAGE:   msg is the whole message.
 *  DELIVERED: msg.chat_id, msg.sequence (up to), msg.received_at.
 *  SEEN:      msg.chat_id, msg.sequence (up to), msg.seen_at.
 *  DELETED:   msg.chat_id, msg.sequence, msg.message_id, msg.deleted_at,
 *             msg.sender.
 *  CHAT_STATE: msg.chat_id, msg.sequence = 0, state.
 */
struct duet_pending {
    int kind; /* enum pending_kind */
    struct duet_msg msg;
    struct duet_chat_state state; /* CHAT_STATE only */
};

/* One entry of the conversation list. */
struct duet_chat {
    duet_id chat_id;
    struct duet_user peer; /* no pwhash */
    int has_last;
    struct duet_msg last;  /* the newest message, when has_last */
    int64_t unread;        /* peer's messages after my read position */
    int64_t last_activity; /* newest message's sent_at, else friendship time */
    int64_t my_read_seq;   /* how far I have seen */
    int64_t peer_read_seq; /* how far the peer has seen; 0 unless receipts on both sides */
    int blocked_by_me;
    int blocked_me; /* for presence only: never shown to the user (docs/security.md) */
    int friends;    /* 0: the friendship ended; the chat stays, read-only */
    struct duet_chat_state state; /* the user's pin/archive/mute (muted_until: push's hook) */
};

/* A search result (STORE_SEARCH): the message as the user may read it. */
struct duet_hit {
    struct duet_msg msg;
    int64_t cursor; /* the backend's position: pass as before for the next page */
};

#define STORE_MAX_PINNED 3
#define STORE_SEARCH_MAX 50
#define STORE_QUERY_MAX  256 /* bytes of a search query */
/* muted_until of "always": the year 9999, still exact in JavaScript */
#define STORE_MUTE_ALWAYS 253402300799999LL

/* How far a chat had got when a request read it (STORE_PENDING_LIST). */
struct duet_cursor {
    duet_id chat_id;
    int64_t last_seq;
};

/* A friend request, seen from one side. */
struct duet_friend_req {
    struct duet_user user; /* the other side */
    int64_t created_at;
};

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
    STORE_MSG_SEND,     /* in: user, chat_id, message_id, text, now -> msg, duplicate |
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
    /* c-org: search and organise (docs/protocol.md "Search", "Organise") */
    STORE_SEARCH,         /* in: user, query (the user's words), chat_id when has_chat, before
                             (a cursor of the last page, 0 = newest), limit (1..STORE_SEARCH_MAX)
                             -> hits[] newest first, more (a next page may exist) | EFORBIDDEN
                             (has_chat and not a member). Only messages the user may read: not
                             deleted, not withheld from them; former friends' chats included. */
    STORE_CHAT_STATE_SET, /* in: user, chat_id, state_set (bits STATE_SET_*), state, now
                             -> state (the result), unchanged | EFORBIDDEN ELIMIT (a fourth pin).
                             Replaces the user's PENDING_CHAT_STATE row of the chat. */
    STORE_OP_COUNT
};

enum { STATE_SET_PIN = 1, STATE_SET_ARCHIVE = 2, STATE_SET_MUTE = 4 };

enum friend_result { FRIEND_REQUESTED = 1, FRIEND_ACCEPTED = 2, FRIEND_PENDING = 3 };

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
        /* c-org */
        const char *query; /* SEARCH: the user's words, 1..STORE_QUERY_MAX bytes */
        int has_chat;      /* SEARCH: only chat_id */
        int state_set;     /* CHAT_STATE_SET: which of state's fields to set */
        struct duet_chat_state state;
    } in; /* borrowed by the store until the callback runs */

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
        /* c-org */
        struct duet_hit *hits; /* SEARCH */
        size_t n_hits;
        struct duet_chat_state state; /* CHAT_STATE_SET */
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
