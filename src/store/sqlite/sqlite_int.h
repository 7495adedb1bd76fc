/* sqlite_int.h - internals shared by the files of the SQLite backend.
 *
 * sqlite.c owns the connection, the statement cache and the request queue;
 * sqlite_schema.c holds the schema as migrations; sqlite_users.c, sqlite_friends.c and
 * sqlite_msgs.c implement the ops (sqlite_conv.c issue 17's: reply, forward,
 * reactions, edit, delete for me). An op runs inside a savepoint of the batch's transaction and
 * returns the request's status; it fills req->out from req->pool.
 * sqlite_ckpt.h has the WAL's helpers (checkpoints, the scrub).
 */
#ifndef DUET_STORE_SQLITE_INT_H
#define DUET_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "../store.h"
#include "sqlite_ckpt.h"

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
    SQ_BLOCKS_ME,
    SQ_SEEN_CLAMP,
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
    SQ_PENDING_NEW_MSG,
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
    SQ_PENDING_PAGE,
    SQ_CHAT_CURSORS,
    /* sqlite_search.c (c-org) */
    SQ_FTS_ROW_INSERT,
    SQ_FTS_SET_ID,
    SQ_FTS_ROW_OF,
    SQ_FTS_ROW_DELETE,
    /* sqlite_org.c (c-org) */
    SQ_STATE_GET,
    SQ_STATE_PUT,
    SQ_STATE_PINNED,
    SQ_STATE_UNARCHIVE,
    SQ_STATE_PENDING,
    /* sqlite_push.c */
    SQ_PUSH_SUB_UPSERT,
    SQ_PUSH_SUB_COUNT,
    SQ_PUSH_SUB_OLDEST_DEL,
    SQ_PUSH_SUB_LIST,
    SQ_PUSH_SUB_DELETE,
    SQ_PUSH_SUB_JOBS_DELETE,
    SQ_PUSH_SUB_LOGOUT_JOBS,
    SQ_PUSH_SUB_LOGOUT,
    SQ_PUSH_PREFS_GET,
    SQ_PUSH_PREFS_SET,
    SQ_PUSH_NOTIFIED_SET,
    SQ_PUSH_NOTIFIED_CLEAR,
    SQ_PUSH_JOB_INSERT,
    SQ_PUSH_SUB_DELETE_ANY,
    SQ_PUSH_JOBS_LIST,
    SQ_PUSH_JOB_SUB,
    SQ_PUSH_JOB_DELETE,
    SQ_PUSH_SUB_SUCCESS,
    SQ_PUSH_SUB_OTHERS_JOBS,
    SQ_PUSH_SUB_OTHERS,
    SQ_PUSH_MUTED,
    SQ_PUSH_JOBS_ERASE,
    /* sqlite_uploads.c (issue 15) */
    SQ_UPLOAD_INSERT,
    SQ_UPLOAD_GET,
    SQ_UPLOAD_UPDATE,
    SQ_UPLOAD_DELETE,
    SQ_UPLOAD_DAY_BYTES,
    SQ_UPLOAD_INFLIGHT,
    SQ_UPLOAD_EXPIRED,
    SQ_UPLOAD_ATTACH,
    SQ_UPLOAD_MARK_DELETED,
    SQ_UPLOAD_LOG_INSERT,
    SQ_UPLOAD_LOG_PRUNE,
    SQ_UPLOAD_MARK_GONE,
    /* sqlite_conv.c (issue 17: reply, forward, react, edit, hide) */
    SQ_CV_MSG_EXTRA,
    SQ_CV_MSG_SET_EXTRA,
    SQ_CV_EXTRA_RANGE,
    SQ_CV_QUOTE,
    SQ_CV_REACT_GET,
    SQ_CV_REACT_PUT,
    SQ_CV_REACT_DEL,
    SQ_CV_REACT_DEL_ALL,
    SQ_CV_REACT_RANGE,
    SQ_CV_PENDING_PUT,
    SQ_CV_PENDING_TEXT,
    SQ_CV_PENDING_DEL_CONV,
    SQ_CV_MSG_EDIT,
    SQ_CV_HIDE_PUT,
    SQ_CV_HIDDEN_RANGE,
    /* sqlite_defer.c (issue 18, round 6) */
    SQ_DEFER_KEYS,
    SQ_DEFER_DELETE_KEY,
    SQ_DEFER_RECEIPT_SRC,
    SQ_DEFER_RECEIPT_PUT,
    SQ_PENDING_KEYS_AT, /* round 7 */
    SQ_STMT_COUNT
};

extern const char *const sq_users_sql[SQ_STMT_COUNT];
extern const char *const sq_friends_sql[SQ_STMT_COUNT];
extern const char *const sq_msgs_sql[SQ_STMT_COUNT];
extern const char *const sq_search_sql[SQ_STMT_COUNT];
extern const char *const sq_org_sql[SQ_STMT_COUNT];
extern const char *const sq_push_sql[SQ_STMT_COUNT];
extern const char *const sq_uploads_sql[SQ_STMT_COUNT];
extern const char *const sq_conv_sql[SQ_STMT_COUNT];
extern const char *const sq_defer_sql[SQ_STMT_COUNT];

/* Column lists read by sq_read_user() and sq_read_msg(); p is a table alias
 * prefix such as "u." or "". */
#define SQ_USER_COLS(p)                                                                            \
    p "user_id, " p "username, " p "display_name, " p "created_at, " p "last_seen, " p             \
      "lastseen_vis, " p "read_receipts"
#define SQ_USER_NCOLS 7
#define SQ_MSG_COLS(p)                                                                             \
    p "chat_id, " p "sender, " p "receiver, " p "message_id, " p "message, " p "type, " p          \
      "preview, " p "sequence, " p "sent_at, " p "received_at, " p "seen_at, " p "deleted_at, " p  \
      "media"
/* The column after SQ_MSG_COLS in the reads that add ", withheld". */
#define SQ_MSG_WITHHELD 13

/* The search index in shards by age (sqlite_shards.c, s-shard): FTS5 table
 * msg_fts_<k> holds the FTS rowids from v[k].first_id up to the next
 * shard's first_id. Ownership: embedded in sq_store (writer fields); owns v
 * and each shard's statements. */
enum sq_shard_stmt { SQ_SH_FLUSH, SQ_SH_DELETE, SQ_SH_OPTIMIZE, SQ_SH_SEARCH, SQ_SH_COUNT };
struct sq_shard {
    int64_t first_id;                 /* lowest FTS rowid it holds */
    sqlite3_stmt *stmts[SQ_SH_COUNT]; /* prepared on first use */
    int dirty;                        /* a delete since its last optimize */
};
struct sq_shards {
    struct sq_shard *v; /* oldest first; v[k] is table msg_fts_<k> */
    size_t n, cap;
    size_t n_committed; /* of n, those whose creation committed */
    int64_t rows;       /* FTS rowids per new shard */
    int64_t max_id;     /* no FTS rowid in use is above it */
};

/* Acks and receipts coalesced per batch (sqlite_defer.c). A slot is the
 * pending rows of one (user, chat, kind) whose writes wait for the flush.
 * Ownership: plain values in sq_defer's table. */
struct sq_slot {
    duet_id user, chat;
    int kind;
    int used;
    int rep;                  /* a replace waits: delete every row, insert one at rep_seq */
    int64_t rep_seq, rep_now; /* ... the receipt's sequence and time */
    int64_t del;              /* delete sequence <= del before the replace (INT64_MIN: none) */
    int64_t del_after;        /* the same after the replace */
};
/* One pending write of the running request, kept until its savepoint is
 * released (sq_defer_commit) or rolled back (sq_defer_unstage). */
struct sq_defer_op {
    duet_id user, chat;
    int kind, replace;
    int64_t seq, now;
};
#define SQ_DEFER_STAGED 4
/* Ownership: embedded in sq_store (writer fields); owns v. */
struct sq_defer {
    struct sq_slot *v; /* open addressing, cap a power of two, at most half full */
    size_t cap, n;
    struct sq_defer_op staged[SQ_DEFER_STAGED];
    int n_staged;
    uint64_t flushes; /* flushes that ran (statistics for tests) */
    uint64_t ranges;  /* slot deletes that ran as a range, not by key (tests) */
};
/* Internal status of an op: roll me back, flush the slots, run me again. */
#define SQ_EFLUSH (-1999)

/* Ownership: created by store_sqlite_open(); owns the connection, the
 * statements, the writer thread, its mutex and condition variables and the
 * three uv handles, and is freed by the last handle close callback after
 * store_close(). Queued requests are borrowed from callers.
 *
 * Three kinds of fields, by who may touch them (sqlite_writer.c, sqlite_queue.c):
 *  - writer: only the writer thread while it runs; the loop thread before it
 *    starts and after it was joined (open, close).
 *  - shared: only with mu held, by either thread.
 *  - loop: only the loop thread. */
/* Requests submitted and not yet completed, at most, by default: beyond,
 * DUET_EBUSY. The loop does not wait for the disk, so when more is offered
 * than the writer commits, the queue would grow without bound. A reconnect
 * storm of 15,000 clients has about 60,000 outstanding at its peak (a few
 * requests each), which must fit; 131072 requests are about 100 MB at most. */
#define SQ_INFLIGHT_MAX 131072

typedef struct sq_store {
    store_t base; /* first: a store_t * is a sq_store * */
    /* writer */
    sqlite3 *db;
    sqlite3_stmt *stmts[SQ_STMT_COUNT];
    int in_txn;              /* a BEGIN IMMEDIATE is open */
    int keep_writes;         /* the running op's writes stand although it fails */
    store_req *cur;          /* the running request, for log lines */
    store_req *txn_first;    /* first request of the batch inside the open transaction */
    uint64_t window_ns;      /* group commit window (0: none); set before the thread starts */
    uint64_t last_commit_ns; /* uv_hrtime() after the last commit */
    int erase_owed;          /* a delete committed, its erasing checkpoint failed */
    int fts_optimize;        /* a delete left tokens in old FTS segments: optimize (c-org) */
    int64_t fts_pending;     /* lowest FTS rowid of this batch not yet in FTS5 (0: none) */
    struct sq_shards shards; /* the FTS shards (s-shard, sqlite_shards.c) */
    struct sq_defer defer;   /* acks and receipts coalesced per batch (sqlite_defer.c) */
    struct sq_scrub scrub;   /* moved rows' copies (sqlite_scrub.c) */
    /* shared */
    uv_mutex_t mu;
    uv_cond_t work_cond;            /* the writer waits here for work, a full batch or stop */
    uv_cond_t done_cond;            /* store_close() waits here for finished batches */
    store_req *in_head, *in_tail;   /* handed over, not yet taken by the writer */
    size_t in_len;                  /* requests in the in list */
    size_t in_writes;               /* ... of which may write (not sq_op_reads_only) */
    store_req *out_head, *out_tail; /* executed and committed (or failed), not yet completed */
    int writer_wait;                /* enum sq_wait: what would wake the writer */
    int stop;                       /* the writer exits once the in list is empty */
    struct sq_ckpt ckpt;            /* checkpoints (its own rules, above) */
    /* loop */
    uv_thread_t thread;
    uv_async_t async; /* the writer's "a batch is finished" */
    uv_check_t check; /* hands this loop turn's requests over */
    uv_idle_t idle;   /* keeps poll from blocking while requests wait for check */
    int n_handles;    /* open uv handles; the last close callback frees us */
    int sync_init;    /* mu, work_cond, done_cond initialised (bits 1, 2, 4) */
    int thread_started;
    int closing;                    /* store_close() is running */
    int closed;                     /* writer joined, db closed; submit refuses */
    size_t inflight;                /* submitted, callback not yet run */
    size_t max_inflight;            /* beyond: DUET_EBUSY (SQ_INFLIGHT_MAX by default) */
    int full_logged;                /* the "busy" warning was logged */
    store_req *sub_head, *sub_tail; /* submitted this loop turn */
    store_req *cb_head, *cb_tail;   /* finished, callbacks running (in order) */
} sq_store;

/* sqlite.c: the handler of each op, and the connection's teardown. */
typedef int (*sq_op_fn)(sq_store *s, store_req *req);
extern const sq_op_fn sq_ops[STORE_OP_COUNT];
void sq_release_db(sq_store *s);
/* Logs an SQLite error of the running request (any thread: log_msg is). */
void sq_log(sq_store *s, const char *what, int rc);

/* sqlite_queue.c: the request queue (loop thread). */
extern const struct store_backend sq_backend;
/* Sets up the handles, the locks and the writer thread of an opened s
 * (db, statements and window_ns set). On error s is released: the database
 * closed and s freed, now or by its handles' close callbacks. */
int sq_writer_start(sq_store *s, uv_loop_t *loop);

/* sqlite_writer.c: the writer thread (its main, given to uv_thread_create). */
void sq_writer_main(void *arg);
/* 1 if op only reads: a batch of nothing else neither waits for the commit
 * window nor starts one. */
int sq_op_reads_only(enum store_op op);
/* A batch this big commits without waiting for the rest of the window. */
#define SQ_BATCH_MAX 4096
/* What would wake the writer (sq_store.writer_wait): the loop signals
 * work_cond only then, not on every hand-over. */
enum sq_wait {
    SQ_RUNNING = 0, /* not waiting */
    SQ_WAIT_WORK,   /* waiting for any request or stop */
    SQ_WAIT_FULL,   /* in a commit window: waiting for SQ_BATCH_MAX requests or stop */
};

/* sqlite_schema.c: migration i moves the schema from version i to i + 1
 * (PRAGMA user_version). Ids are 16-byte BLOBs, times INTEGER ms (0 = unset). */
extern const char *const sq_migrations[];
extern const size_t sq_migrations_count;

/* Helpers (sqlite.c). Bind formats, one char an argument: 'i' const duet_id *,
 * 'h' const uint8_t[32], 's' const char * (NULL binds NULL), 'l' int64_t,
 * 'd' int. Bound memory must stay valid until the statement is reset. */

/* st (any statement of s->db) with fmt's arguments bound, or NULL (logged). */
sqlite3_stmt *sq_bind_st(sq_store *s, sqlite3_stmt *st, const char *fmt, ...);
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
/* The message st (bound SQ_MSG_BY_SEQ or SQ_MSG_BY_ID; NULL: a failed
 * bind) selects into m, *withheld from its receiver; DUET_ENOTFOUND. */
int sq_msg_get(sq_store *s, pool_t *p, sqlite3_stmt *st, struct duet_msg *m, int *withheld);

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
/* 1 if peer blocks user (that direction only), else 0 or an error;
 * sq_blocks_me(s, peer, user) asks whether user blocks peer. */
int sq_blocks_me(sq_store *s, const duet_id *user, const duet_id *peer);
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

/* sqlite_search.c (c-org): the FTS5 index of message text, kept in step in
 * the message's own transaction. index: after a message row was inserted
 * (its FTS5 entry waits for flush);
 * unindex: before a delete erases it (sets s->fts_optimize); optimize: once
 * per batch with a delete, before its commit, so that no segment keeps the
 * erased tokens (docs/security.md). */
int sq_search_index(sq_store *s, const duet_id *chat, int64_t seq, const char *text);
int sq_search_unindex(sq_store *s, const duet_id *chat, int64_t seq);
/* flush: once per batch, after its last request and before COMMIT: the
 * rows that index added and no later request removed go to FTS5, one
 * statement per shard (issue 18). DUET_ESTORE: the transaction must fail. */
int sq_search_flush(sq_store *s);
int sq_search_optimize(sq_store *s);
int sq_search(sq_store *s, store_req *req);

/* sqlite_shards.c (s-shard): the shards of the search index.
 * open: at store open, after the migrations: loads the shards, splits a
 * c-org store's single msg_fts into shards, and makes sure one exists.
 * grow: writer, first thing in a batch's transaction: creates the next shard
 * once the newest one is in use. settle: after the batch's COMMIT (1) or
 * its rollback (0): forgets the shards the rollback undid.
 * of: the shard holding rowid id. stmt: its statement (NULL: logged). */
int sq_shards_open(sq_store *s, int64_t rows);
void sq_shards_free(sq_store *s);
int sq_shards_grow(sq_store *s);
void sq_shards_settle(sq_store *s, int committed);
size_t sq_shard_of(const sq_store *s, int64_t id);
sqlite3_stmt *sq_shard_stmt(sq_store *s, size_t k, enum sq_shard_stmt which);

/* sqlite_defer.c (issue 18): pending writes of acks and receipts, run once
 * per slot per batch. reserve: before each op (room for its staged writes;
 * -ENOMEM). delete / replace: stage a write of the running op (the rows of
 * user, chat, kind: sequence <= upto; or all of them replaced by the
 * receipt at seq). commit / unstage: the op's savepoint was released with
 * success / rolled back. covers: a slot would delete a row at seq (the op
 * must return SQ_EFLUSH before writing one). flush: runs every slot (outside
 * any op's savepoint); DUET_ESTORE means the transaction must fail. clear:
 * the transaction is gone. n: slots open. */
int sq_defer_reserve(sq_store *s);
/* 1 if op may run while slots are open; before any other op, the writer
 * flushes them. */
int sq_defer_passes(enum store_op op);
int sq_defer_delete(sq_store *s, const duet_id *user, const duet_id *chat, int kind, int64_t upto);
int sq_defer_replace(sq_store *s, const duet_id *user, const duet_id *chat, int kind, int64_t seq,
                     int64_t now);
void sq_defer_commit(sq_store *s);
void sq_defer_unstage(sq_store *s);
int sq_defer_covers(sq_store *s, const duet_id *user, const duet_id *chat, int kind, int64_t seq);
int sq_defer_flush(sq_store *s);
void sq_defer_clear(sq_store *s);
void sq_defer_free(sq_store *s);
/* Deletes user's pending rows of chat and kind at sequence seq, in place
 * (not deferred), without a temporary b-tree for the usual single row
 * (round 7): 0 or DUET_ESTORE. */
int sq_pending_delete_at(sq_store *s, const duet_id *user, const duet_id *chat, int kind,
                         int64_t seq);

/* sqlite_org.c (c-org): pin, archive, mute. */
int sq_chat_state_set(sq_store *s, store_req *req);
/* Fills c->state for user (chat list). */
int sq_state_fill(sq_store *s, const duet_id *user, struct duet_chat *c);
/* A message from the peer arrived: the receiver's archive of it ends. */
int sq_state_unarchive(sq_store *s, const duet_id *user, const duet_id *chat);
/* A PENDING_CHAT_STATE row as read by sq_read_msg: moves its columns into
 * p->state (the row keeps the state in the time columns). */
void sq_state_from_row(struct duet_pending *p);
/* sqlite_push.c: Web Push subscriptions and the push queue. */
int sq_push_sub_add(sq_store *s, store_req *req);
int sq_push_sub_list(sq_store *s, store_req *req);
int sq_push_sub_delete(sq_store *s, store_req *req);
int sq_push_sub_logout(sq_store *s, store_req *req);
int sq_push_prefs(sq_store *s, store_req *req);
int sq_push_enqueue(sq_store *s, store_req *req);
int sq_push_jobs_list(sq_store *s, store_req *req);
int sq_push_job_done(sq_store *s, store_req *req);
/* A message's text leaves the push jobs still queued for it (delete for
 * everyone): they go out with the sender's name only. */
int sq_push_erase(sq_store *s, const duet_id *chat, int64_t seq);
int sq_upload_create(sq_store *s, store_req *req);
int sq_upload_get(sq_store *s, store_req *req);
int sq_upload_update(sq_store *s, store_req *req);
int sq_upload_delete(sq_store *s, store_req *req);
int sq_upload_expired(sq_store *s, store_req *req);
int sq_media_get(sq_store *s, store_req *req);
/* MSG_SEND: attaches the user's stored upload in->upload_id to (chat, seq):
 * 0 or DUET_ENOTFOUND (not the user's stored upload). */
int sq_upload_attach(sq_store *s, store_req *req, const duet_id *chat, int64_t seq);
/* MSG_DELETE: marks the upload of (chat, seq) deleted; its id (in req's
 * pool) or NULL in out.deleted_upload. */
int sq_upload_detach(sq_store *s, store_req *req, const duet_id *chat, int64_t seq);
/* sqlite_conv.c (issue 17). What a send adds: the quoted message checked and
 * the forwarded one copied. Ownership: a plain value; strings borrowed from
 * the request's pool or input. */
struct sq_cv_send {
    const char *text; /* the text to store: the input's, or the forwarded copy's */
    int type;
    const char *preview;
    int64_t reply_to;
    int forwarded;
};
/* Checks req's reply_to and forward against chat c (before the insert). */
int sq_cv_send_check(sq_store *s, store_req *req, const struct sq_chat *c, struct sq_cv_send *cv);
/* Stores the extras on the inserted message (before its pending row is
 * copied from it) and fills them into req->out.msg. */
int sq_cv_send_apply(sq_store *s, store_req *req, const duet_id *chat, int64_t seq,
                     const struct sq_cv_send *cv);
/* Fills the extras (reply, forwarded, edited_at) of one message as stored. */
int sq_cv_decorate_one(sq_store *s, pool_t *p, struct duet_msg *m);
/* A history page for user me: extras, hidden, reactions. */
int sq_cv_decorate(sq_store *s, pool_t *p, const duet_id *me, const duet_id *chat,
                   struct duet_msg *msgs, size_t n);
/* The pending rows read: messages get their extras, EDITED rows their time. */
int sq_cv_decorate_pending(sq_store *s, pool_t *p, struct duet_pending *rows, size_t n);
/* Delete for everyone at (chat, seq): reactions and the peer's reaction and
 * edit rows go with the text. */
int sq_cv_on_delete(sq_store *s, const struct sq_chat *c, int64_t seq);
int sq_msg_react(sq_store *s, store_req *req);
int sq_msg_edit(sq_store *s, store_req *req);
int sq_msg_hide(sq_store *s, store_req *req);

#endif
