/* sqlite_int.h - internals shared by the files of the SQLite backend.
 *
 * sqlite.c owns the connection, the statement cache and the request queue;
 * sqlite_schema.c holds the schema as migrations; sqlite_users.c, sqlite_friends.c and
 * sqlite_msgs.c implement the ops. An op runs inside a savepoint of the batch's transaction and
 * returns the request's status; it fills req->out from req->pool.
 */
#ifndef DUET_STORE_SQLITE_INT_H
#define DUET_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "store.h"

/* Every cached statement. Each op file defines the SQL of its own ids in a
 * table indexed by this enum; sqlite.c prepares all of them once at open. */
enum sq_stmt_id {
    /* sqlite.c: transaction control */
    SQ_BEGIN,
    SQ_COMMIT,
    SQ_ROLLBACK,
    SQ_SAVEPOINT,
    SQ_RELEASE,
    SQ_ROLLBACK_TO,
    /* sqlite_users.c */
    SQ_USER_BY_ID,
    SQ_USER_BY_NAME,
    SQ_USER_INSERT,
    SQ_USER_UPDATE,
    SQ_USER_SET_PASSWORD,
    SQ_USER_SET_LAST_SEEN,
    SQ_SESSION_INSERT,
    SQ_SESSION_GET,
    SQ_SESSION_TOUCH,
    SQ_SESSION_DELETE,
    SQ_SESSION_DELETE_OTHERS,
    /* sqlite_friends.c */
    SQ_CHAT_GET,
    SQ_CHAT_BEFRIEND,
    SQ_CHAT_UNFRIEND,
    SQ_BLOCKED_EITHER,
    SQ_RECEIPTS_BOTH,
    SQ_REQ_INSERT,
    SQ_REQ_DELETE,
    SQ_REQ_SENT_LOG,
    SQ_REQ_SENT_PRUNE,
    SQ_REQ_SENT_COUNT,
    SQ_BLOCK_INSERT,
    SQ_BLOCK_DELETE,
    SQ_REQS_IN,
    SQ_REQS_OUT,
    SQ_BLOCKS_LIST,
    SQ_CHATS_LIST,
    SQ_CHAT_LAST_MSG,
    SQ_CHAT_UNREAD,
    SQ_PRESENCE_PEERS,
    /* sqlite_msgs.c */
    SQ_MSG_BY_ID,
    SQ_MSG_BY_SEQ,
    SQ_MSG_INSERT,
    SQ_CHAT_SENT,
    SQ_CHAT_SET_READ,
    SQ_PENDING_FROM_MSG,
    SQ_PENDING_DELETE_UPTO,
    SQ_PENDING_DELETE_AT,
    SQ_PENDING_COUNT,
    SQ_MSG_RECV_FLOOR,
    SQ_MSG_MARK_RECV,
    SQ_MSG_SEEN_FLOOR,
    SQ_MSG_MARK_SEEN,
    SQ_MSG_ERASE,
    SQ_HISTORY_AFTER,
    SQ_HISTORY_BEFORE,
    SQ_PENDING_LIST,
    SQ_CHAT_CURSORS,
    SQ_STMT_COUNT
};

extern const char *const sq_users_sql[SQ_STMT_COUNT];
extern const char *const sq_friends_sql[SQ_STMT_COUNT];
extern const char *const sq_msgs_sql[SQ_STMT_COUNT];

/* Column lists read by sq_read_user() and sq_read_msg(); p is a table alias
 * prefix such as "u." or "". */
#define SQ_USER_COLS(p)                                                                            \
    p "user_id, " p "username, " p "display_name, " p "created_at, " p "last_seen, " p             \
      "lastseen_vis, " p "read_receipts"
#define SQ_USER_NCOLS 7
#define SQ_MSG_COLS(p)                                                                             \
    p "chat_id, " p "sender, " p "receiver, " p "message_id, " p "message, " p "type, " p          \
      "preview, " p "sequence, " p "sent_at, " p "received_at, " p "seen_at, " p "deleted_at"

/* Ownership: created by store_sqlite_open(); owns the connection, the
 * statements and the two uv handles, and is freed by the last handle close
 * callback after store_close(). Queued requests are borrowed from callers. */
typedef struct sq_store {
    store_t base; /* first: a store_t * is a sq_store * */
    sqlite3 *db;
    sqlite3_stmt *stmts[SQ_STMT_COUNT];
    uv_check_t check;     /* commits the batch and completes it, once a loop turn */
    uv_idle_t idle;       /* keeps poll from blocking while a batch waits */
    uv_timer_t timer;     /* ends the group commit window */
    int n_handles;        /* open uv handles; the last close callback frees us */
    uint64_t window_ms;   /* group commit window (0: every loop turn) */
    uint64_t last_commit; /* uv_now at the last commit */
    size_t batch_len;     /* requests in the waiting batch */
    int in_txn;           /* a BEGIN IMMEDIATE is open */
    int64_t txn_changes;  /* sqlite3_total_changes64 at its BEGIN */
    int closing;          /* store_close() is running */
    int closed;           /* db closed; submit refuses */
    int keep_writes;      /* the running op's writes stand although it fails */
    store_req *cur;       /* the running request, for log lines */
    /* Executed, waiting for the commit; txn_first is the first of them inside
     * the open transaction (earlier ones already failed). */
    store_req *wait_head, *wait_tail, *txn_first;
    /* Committed (or failed), waiting for their callbacks. */
    store_req *done_head, *done_tail;
} sq_store;

/* sqlite_schema.c: migration i moves the schema from version i to i + 1
 * (PRAGMA user_version). Ids are 16-byte BLOBs, times INTEGER ms (0 = unset). */
extern const char *const sq_migrations[];
extern const size_t sq_migrations_count;

/* Helpers (sqlite.c). Bind formats, one char an argument: 'i' const duet_id *,
 * 'h' const uint8_t[32], 's' const char * (NULL binds NULL), 'l' int64_t,
 * 'd' int. Bound memory must stay valid until the statement is reset. */

/* The cached statement id with fmt's arguments bound, or NULL (logged). */
sqlite3_stmt *sq_bind(sq_store *s, enum sq_stmt_id id, const char *fmt, ...);
/* 1: a row is ready; 0: done; DUET_ESTORE (logged). Resets on 0 and errors. */
int sq_step(sq_store *s, sqlite3_stmt *st);
/* Resets st and clears its bindings; harmless if already reset. */
void sq_reset(sqlite3_stmt *st);
/* Binds, runs and resets a write: the number of changed rows or DUET_ESTORE. */
int sq_exec(sq_store *s, enum sq_stmt_id id, const char *fmt, ...);
/* Reads column 0 of the first row into *v: 1 found, 0 no row, DUET_ESTORE. */
int sq_get_int(sq_store *s, int64_t *v, enum sq_stmt_id id, const char *fmt, ...);

/* Column readers; strings are copied into p. 0 or -ENOMEM. */
void sq_col_id(sqlite3_stmt *st, int col, duet_id *out);
int sq_col_str(pool_t *p, sqlite3_stmt *st, int col, const char **out);
int sq_read_user(pool_t *p, sqlite3_stmt *st, int col, struct duet_user *u);
int sq_read_msg(pool_t *p, sqlite3_stmt *st, int col, struct duet_msg *m);
/* Makes room for element n of a pool array of *cap elements of size bytes:
 * the (possibly moved) array, or NULL. */
void *sq_grow(pool_t *p, void *arr, size_t n, size_t *cap, size_t size);

/* Shared lookups (sqlite_users.c, sqlite_friends.c). */
int sq_user_by_id(sq_store *s, pool_t *p, const duet_id *id, struct duet_user *u);
/* The user named name (no pwhash): 0 or DUET_ENOTFOUND. */
int sq_user_by_name(sq_store *s, pool_t *p, const char *name, struct duet_user *u);

/* A chats row, seen from one member. Ownership: a plain value, no pointers. */
struct sq_chat {
    duet_id id;
    duet_id peer;
    int friends;
    int me_is_a; /* the member is user_a */
    int64_t since;
    int64_t last_seq;
    int64_t last_activity;
    int64_t my_read_seq;
    int64_t peer_read_seq;
};

/* Loads chat id for member user: 0, or DUET_EFORBIDDEN (no such chat or not
 * a member). */
int sq_chat_load(sq_store *s, const duet_id *id, const duet_id *user, struct sq_chat *c);
/* 1 if a blocks b or b blocks a, else 0; or DUET_ESTORE. */
int sq_blocked(sq_store *s, const duet_id *a, const duet_id *b);
/* 1 if both users have read receipts on, else 0; or DUET_ESTORE. */
int sq_receipts_both(sq_store *s, const duet_id *a, const duet_id *b);

/* The ops, by file. */
int sq_user_create(sq_store *s, store_req *req);
int sq_user_get_by_name(sq_store *s, store_req *req);
int sq_user_get(sq_store *s, store_req *req);
int sq_user_update(sq_store *s, store_req *req);
int sq_user_set_password(sq_store *s, store_req *req);
int sq_user_set_last_seen(sq_store *s, store_req *req);
int sq_session_create(sq_store *s, store_req *req);
int sq_session_get(sq_store *s, store_req *req);
int sq_session_delete(sq_store *s, store_req *req);

int sq_friend_request(sq_store *s, store_req *req);
int sq_friend_accept(sq_store *s, store_req *req);
int sq_friend_decline(sq_store *s, store_req *req);
int sq_friend_cancel(sq_store *s, store_req *req);
int sq_friend_remove(sq_store *s, store_req *req);
int sq_block(sq_store *s, store_req *req);
int sq_unblock(sq_store *s, store_req *req);
int sq_requests_list(sq_store *s, store_req *req);
int sq_blocks_list(sq_store *s, store_req *req);
int sq_chats_list(sq_store *s, store_req *req);
int sq_presence_peers(sq_store *s, store_req *req);
int sq_chat_peer(sq_store *s, store_req *req);

int sq_msg_send(sq_store *s, store_req *req);
int sq_msg_ack(sq_store *s, store_req *req);
int sq_msg_seen(sq_store *s, store_req *req);
int sq_msg_delete(sq_store *s, store_req *req);
int sq_history(sq_store *s, store_req *req);
int sq_pending_list(sq_store *s, store_req *req);

#endif
