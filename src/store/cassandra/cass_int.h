/* cass_int.h - internals shared by the files of the Cassandra backend.
 *
 * cass.c owns the cluster, the schema and the statements; cass_queue.c the
 * request queue; cass_sched.c (cass_sched.h) decides which queued requests
 * may run at once, and cass_group.c runs some of them as one;
 * cass_util.c has the binding, reading and scanning helpers;
 * cass_users.c, cass_friends.c, cass_lists.c and cass_msgs.c implement the
 * ops (cass_ops.h); cass_conv.c and cass_conv_read.c issue 17's (reply,
 * forward, reactions, edit, delete for me). docs/cassandra.md describes the
 * schema and every query.
 *
 * An op is a small state machine: its function is called with op->step set,
 * issues at most one CQL request (op->q) and returns; the request's callback
 * calls the function again with the next step. cs_finish() ends the op.
 */
#ifndef DUET_STORE_CASS_INT_H
#define DUET_STORE_CASS_INT_H

#include "../../base/map.h"
#include "../../cql/cql.h"
#include "../store.h"
#include "cass_access.h"
#include "cass_ops.h"
#include "cass_sched.h"

/* Messages per private_chat partition: (chat_id, bucket) with bucket =
 * (sequence - 1) / CS_BUCKET keeps a partition near 2.5 MB at most. */
#define CS_BUCKET 10000
/* How long a client message id is remembered for dedupe (the claim row). */
#define CS_CLAIM_TTL_S (30 * 86400)
/* The window of the friend-requests-per-day ceiling. */
#define CS_DAY_S       86400
#define CS_CLAIM_TRIES 16 /* lost sequence races before giving up */
/* The queue: at most CS_QUEUE_MAX requests (beyond: DUET_EBUSY, so that
 * waiting stays bounded when Cassandra is slower than the offered load),
 * and at most CS_RUN_MAX of them running (in flight on the cluster) at once;
 * the others wait in cass_sched.c's lists. */
#define CS_QUEUE_MAX 2048
/* The ops a connection makes as it opens and closes (cs_is_setup: the
 * session, the user, presence, the replay, the chat list, last seen) have
 * a ceiling of their own. A reconnect storm queues five or so per client
 * at once, 75,000 for 15,000 clients: under CS_QUEUE_MAX most of them
 * were refused (a client then retries, or its friends never see it come
 * online). Each connection has one or two of them in flight, so the
 * connection ceiling already bounds them; this caps their memory (~2 KB
 * each here, plus the caller's request) for any --max-conns. */
#define CS_SETUP_MAX   32768
#define CS_RUN_MAX     512
#define CS_HISTORY_MAX 100 /* as the SQLite backend */
#define CS_SCAN_CHUNK  500 /* rows per scan query */
#define CS_IN_MAX      100 /* ids per IN query */
/* Holes (docs/cassandra.md): a private_chat row with this type marks a
 * claimed sequence whose rows were never written as void. It is written
 * with the timestamp CS_VOID_TS, below that of any real write, so the
 * message's real rows win whenever they land. */
#define CS_TYPE_VOID (-1)
/* A text message withheld from its receiver (sent while the receiver
 * blocked the sender; store.h, STORE_MSG_SEND): its type cell, read back as
 * type 0. The SQLite backend has a column for it; here the type cell keeps
 * the schema as it is, as the void marker does. */
#define CS_TYPE_WITHHELD (-2) /* CS_TYPE_WITHHELD - t for a withheld message of type t */
#define CS_VOID_TS       1
#define CS_VOID_BATCH    16 /* holes voided by one HISTORY request at most */

/* The bucket of a sequence number (sequences start at 1). */
static inline int64_t cs_bucket(int64_t seq)
{
    return seq <= 0 ? 0 : (seq - 1) / CS_BUCKET;
}

/* Row kinds of the relations table: one partition per user holds its
 * requests, blocks (both directions), chats and the friend-request log. */
enum cs_rel_kind {
    REL_REQ_OUT = 0,   /* I asked other */
    REL_REQ_IN = 1,    /* other asked me */
    REL_SENT = 2,      /* one request I sent (other is random), TTL one day */
    REL_BLOCK_OUT = 3, /* I block other */
    REL_BLOCK_IN = 4,  /* other blocks me */
    REL_CHAT = 5,      /* a chat with other exists (kept after unfriending) */
};

enum cs_stmt_id {
    /* cass_users.c */
    CS_USER_BY_ID,
    CS_USER_BY_ID_PW,
    CS_USERS_IN,
    CS_NAME_GET,
    CS_NAME_CLAIM,
    CS_USER_INSERT,
    CS_USER_DELETE,
    CS_USER_UPDATE,
    CS_USER_SET_PW,
    CS_USER_SET_LAST_SEEN,
    CS_SESSION_INSERT,
    CS_USER_SESSION_INSERT,
    CS_SESSION_GET,
    CS_SESSION_TOUCH,
    CS_SESSION_DELETE,
    CS_USER_SESSION_DELETE,
    CS_USER_SESSIONS,
    /* cass_friends.c */
    CS_REL_ALL,
    CS_REL_BLOCKED,
    CS_REL_INSERT,
    CS_REL_INSERT_DAY,
    CS_REL_DELETE,
    CS_CHAT_GET,
    CS_CHATS_IN,
    CS_CHAT_BEFRIEND,
    CS_CHAT_UNFRIEND,
    /* cass_msgs.c */
    CS_CLAIM_GET,
    CS_CLAIM_GET_IN,
    CS_CLAIM_SEQ,
    CS_CLAIM_SEQ0,
    CS_CLAIM_ID,
    CS_CLAIM_ERASE,
    CS_MSG_INSERT,
    CS_MSG_GET,
    CS_MSG_VOID,
    CS_CLAIM_BY_SEQ,
    CS_MSG_ERASE,
    CS_MSG_MARK_RECV,
    CS_MSG_MARK_SEEN,
    CS_SCAN_ASC,
    CS_SCAN_DESC,
    CS_PENDING_MSG_INSERT,
    CS_PENDING_INSERT,
    CS_PENDING_COUNT,
    CS_PENDING_DEL_UPTO,
    CS_PENDING_DEL_BELOW,
    CS_PENDING_DEL_AT,
    CS_PENDING_LIST,
    CS_PENDING_FIRST,
    CS_PENDING_AFTER,
    CS_CHAT_READ_A,
    CS_CHAT_READ_B,
    CS_CHAT_RECV_A,
    CS_CHAT_RECV_B,
    CS_CHAT_SEEN_A,
    CS_CHAT_SEEN_B,
    /* cass_org.c (c-org) */
    CS_STATE_ALL,
    CS_STATE_PUT,
    CS_STATE_UNARCHIVE,
    /* cass_push.c */
    CS_PUSH_SUB_INSERT,
    CS_PUSH_SUBS,
    CS_PUSH_SUB_DELETE,
    CS_PUSH_SUB_SUCCESS,
    CS_PUSH_EP_GET,
    CS_PUSH_EP_INSERT,
    CS_PUSH_EP_DELETE,
    CS_PUSH_PREFS_GET,
    CS_PUSH_PREFS_SET,
    CS_PUSH_NOTIFIED_GET,
    CS_PUSH_NOTIFIED_SET,
    CS_PUSH_NOTIFIED_DEL,
    CS_PUSH_JOB_INSERT,
    CS_PUSH_JOBS,
    CS_PUSH_JOB_DELETE,
    CS_PUSH_MUTED,
    /* cass_search.c (s-cass) */
    CS_SEARCH_SCAN_TIME,
    /* cass_uploads.c */
    CS_UPLOAD_INSERT,
    CS_UPLOAD_LOG_INSERT,
    CS_UPLOAD_DAY_BYTES,
    CS_UPLOAD_OF_OWNER,
    CS_UPLOAD_GET,
    CS_UPLOAD_SET,
    CS_UPLOAD_DELETE,
    CS_UPLOAD_BY_STATE,
    CS_UPLOAD_ATTACH,
    CS_UPLOAD_MARK_DELETED,
    CS_UPLOAD_MARK_GONE,
    /* cass_conv.c (issue 17) */
    CS_CV_EXTRA_GET,
    CS_CV_EXTRA_RANGE,
    CS_CV_SET_EXTRA,
    CS_CV_EDIT,
    CS_CV_PENDING_GET,
    CS_CV_PENDING_TEXT,
    CS_CV_PENDING_PUT,
    CS_CV_REACT_GET,
    CS_CV_REACT_PUT,
    CS_CV_REACT_DEL,
    CS_CV_REACT_DEL_ALL,
    CS_CV_REACT_RANGE,
    CS_CV_HIDE_GET,
    CS_CV_HIDE_PUT,
    CS_CV_HIDDEN_RANGE,
    CS_CV_HIDDEN_TOP,
    CS_STMT_COUNT
};

/* Statement texts by file; "@." stands for the keyspace. */
extern const char *const cs_users_cql[CS_STMT_COUNT];
extern const char *const cs_friends_cql[CS_STMT_COUNT];
extern const char *const cs_msgs_cql[CS_STMT_COUNT];
extern const char *const cs_org_cql[CS_STMT_COUNT];
extern const char *const cs_push_cql[CS_STMT_COUNT];
extern const char *const cs_search_cql[CS_STMT_COUNT];
extern const char *const cs_uploads_cql[CS_STMT_COUNT];
extern const char *const cs_conv_cql[CS_STMT_COUNT];

#define CS_USER_COLS                                                                               \
    "user_id, username, display_name, created_at, last_seen, lastseen_vis, read_receipts"
#define CS_USER_NCOLS 7
#define CS_MSG_COLS                                                                                \
    "sender, receiver, message_id, message, type, preview, sequence, sent_at, received_at,"        \
    " seen_at, deleted_at, media"
#define CS_MSG_NCOLS   12
#define CS_MSG_SEQ_COL 6 /* sequence's index within CS_MSG_COLS */
#define CS_CHAT_COLS                                                                               \
    "chat_id, user_a, user_b, friends, since, last_seq, last_activity, a_read_seq, b_read_seq,"    \
    " a_recv_seq, b_recv_seq, a_seen_seq, b_seen_seq"

/* The static columns of a chats partition, seen from one member.
 * Ownership: a plain value. */
struct cs_chat {
    duet_id id, a, b, peer;
    int friends;
    int me_is_a;
    int seq_null; /* last_seq was never set (no message yet) */
    int64_t since, last_seq, last_activity;
    int64_t my_read, peer_read, my_recv, my_seen;
    int64_t peer_seen; /* the peer's reported seen position: peer_read_seq */
};

/* A walk over private_chat rows with lo < sequence <= hi, bucket by bucket,
 * ascending or descending. Ownership: a plain value inside the op. */
struct cs_scan {
    duet_id chat;
    int64_t lo, hi;
    int64_t b; /* the bucket to read next */
    int asc;
    int asked; /* the LIMIT of the query in flight */
};

/* One row of a user's relations partition. */
struct cs_rel {
    int kind;
    duet_id other;
    int64_t created_at;
};

enum cs_op_state { CS_QUEUED, CS_RUNNING, CS_DONE };

/* A submitted request and its progress. Ownership: created by submit,
 * linked in the store's queue, freed after the request's callback ran.
 * The store_req is the caller's. */
struct cs_op {
    struct cs_store *s;
    store_req *req;
    cs_op *next;
    int state; /* enum cs_op_state */
    /* What it may conflict with (cass_sched.c). */
    int barrier;
    int nkeys;
    duet_id keys[CS_KEYS_MAX];
    /* Its place in the scheduler (cass_sched.c): the wait list of each key
     * (NULL for a key repeated in keys) and the next op in it; how many
     * earlier unfinished ops it waits for (one per key it is not first in,
     * plus one while an earlier barrier is unfinished); the ready list. */
    struct cs_keyq *kq[CS_KEYS_MAX];
    cs_op *kq_next[CS_KEYS_MAX];
    int deps;
    cs_op *ready_next;
    uint64_t ord; /* submission order (cs_sched_add), to restore it */
    int readied;  /* put on the ready list (once; cs_sched_early may do it early) */
    /* The state machine. */
    void (*fn)(cs_op *op); /* the op's function */
    int step;
    int batch_err; /* a cs_batch_add failed */
    int serial;    /* reads at the serial level (see an LWT's outcome) */
    int page_size; /* reads: rows per page, 0 = all */
    int q_live;    /* q was submitted and not reset yet */
    cql_req q;
    pool_t pool; /* the op's scratch memory */
    /* Scratch shared by the ops (each uses what it needs). */
    struct cs_chat chat;
    struct cs_scan scan;
    duet_id id; /* a resolved id */
    int tries, flag, receipts;
    int64_t seq, top, count;
    int64_t rows_ts;     /* MSG_SEND: the message rows' timestamp, kept across tries */
    int64_t retry_until; /* MSG_SEND: in-op retries stop at this cs_ts() */
    int64_t acc_at;      /* MSG_SEND: when its blocks read was sent (ms, monotonic) */
    uint64_t mask;       /* a bit per sequence of a window */
    struct cs_rel *rels;
    size_t n_rels;
    duet_id *ids; /* an IN list being read in chunks */
    size_t n_ids, i_ids;
    int64_t *marks;    /* sequences to mark */
    int64_t *marks_at; /* their received_at to write (seen marks) */
    size_t n_marks, cap_marks, i_marks;
    struct duet_user *users; /* read with CS_USERS_IN */
    size_t n_users, cap_users;
    void *items; /* op-specific array (chat list entries, ...) */
    size_t n_items, cap_items, i_items;
    uint8_t *paging; /* a copy of the paging state, for the next read */
    size_t paging_len;
    struct duet_msg msg; /* a message being worked on (strings in op pool) */
    int conv;            /* MSG_SEND: issue 17's quote/forward checked (cass_conv.c) */
    /* MSG_SEND groups (cass_group.c). A leader runs the group and owns the
     * array (in its pool; [0] is itself); a member is one of a leader's
     * group (never handed out by the scheduler while grouped); nogroup:
     * sends alone (after a group fell back). gstatus: a member's refusal,
     * or 0 when it takes op->seq (op->flag: withheld). */
    cs_op **group;
    int n_group;
    int grouped, nogroup, gstatus;
    int64_t gcount[2]; /* the receivers' pending counts: [0] the leader's peer */
    /* Acks behind a send group (cass_group.c; docs/cassandra.md "Acks
     * beside the group"). A leader: gacks, the acks found behind its
     * members, in order (in its pool): the first n_gacks its members were
     * moved ahead of; the first n_gall run beside the group from its claim
     * (those, and the acks right behind its last member unless members
     * left). A member: gpass, the users whose acks it was moved ahead of
     * (bit 0: the leader's user, bit 1: the peer). An ack: acap, its
     * sequence's cap (the chat's last_seq before the group's claim) when
     * has_acap; aseq, the sequence it acks (the highest of a merged run). */
    cs_op **gacks;
    int n_gacks, n_gall, gpass, has_acap;
    int64_t acap, aseq;
};

/* Ownership: created by store_cass_open(); owns the cluster, the options'
 * copies, the ops and the uv handles; freed once the cluster and the
 * handles are closed after store_close(). Queued store_reqs are borrowed. */
typedef struct cs_store {
    store_t base; /* first: a store_t * is a cs_store * */
    uv_loop_t *loop;
    cql_cluster *cl;
    char *hosts, *keyspace, *replication;
    int consistency;
    int64_t timeout_ms;
    cql_stmt *stmts[CS_STMT_COUNT];
    /* Start-up. */
    int ready;
    int schema_i; /* the DDL statement in flight */
    int64_t agree_since;
    uint8_t version[16]; /* the first schema_version seen in this round */
    int have_version;
    cql_req ddl;
    int ddl_live;
    int up_logged;           /* connection failures logged so far */
    store_ready_cb ready_cb; /* store_ready()'s waiter, called once */
    void *ready_data;
    uv_timer_t timer; /* start-up retries */
    uv_idle_t idle;   /* runs completions outside submit */
    int n_handles;
    /* The queue, in submission order. */
    cs_op *head, *tail;
    int running;
    int n_ops;       /* in the queue: CS_QUEUE_MAX + CS_SETUP_MAX at most */
    int n_setup;     /* of them cs_is_setup, CS_SETUP_MAX at most */
    int full_logged; /* "queue full" logged; again once it half drained */
    int trim_owed;   /* the queue was long: malloc_trim once it empties */
    int pumping, repump;
    struct cs_sched sched;   /* which queued ops may start */
    map_t members;           /* chat id -> struct cs_members, for conflict keys */
    struct cs_access access; /* chat id -> its blocks, for sends (cass_access.h) */
    int64_t last_ts;
    int closing, cluster_open;
    store_done_cb drained;
    void *drained_data;
} cs_store;

/* A chat's two members (they never change). Ownership: the members map. */
struct cs_members {
    duet_id a, b;
};

/* ---- cass_queue.c ---- */
/* Ends op with status (0 or an error); its callback runs later, in order. */
void cs_finish(cs_op *op, int status);
/* Completes what is finished and starts what may start (the queue's pump). */
void cs_pump_now(cs_store *s);
/* Pumps from the loop soon (the idle handle), not from inside the caller. */
void cs_pump_soon(cs_store *s);
/* The store_backend's submit and drain (cass.c's table). */
int cs_submit(store_t *base, store_req *req);
void cs_drain(store_t *base, store_done_cb done, void *data);
/* The function that runs requests of kind op, or NULL. */
cs_op_fn cs_op_handler(enum store_op op);

/* ---- cass.c ---- */
/* Once closing, with the cluster closed and the queue empty, closes the
 * handles; the last close callback frees the store. */
void cs_maybe_free(cs_store *s);
/* A client-side write timestamp in microseconds, increasing. */
int64_t cs_ts(cs_store *s);
cql_stmt *cs_stmt(cs_store *s, enum cs_stmt_id id);

/* ---- cass_schema.c ---- */
/* The schema's statements (%1$s is the keyspace), cs_n_ddl of them. */
extern const char *const cs_ddl[];
extern const int cs_n_ddl;
/* The code of a consistency level name ("LOCAL_QUORUM", ...), or -EINVAL. */
int cs_consistency(const char *name);
/* Checks the options of store_cass_open: 0, or -EINVAL (logged). */
int cs_check_opts(const struct store_cass_opts *o);
/* Replaces each "@." in text by "<keyspace>.": a malloc'd string or NULL. */
char *cs_expand(const char *text, const char *ks);

/* ---- cass_util.c ---- */
/* Request helpers. Each submits op->q with the statement and values (fmt
 * as below) and arranges for op's function to run with step = next. They
 * return 0, or finish the op with an error and return it (the caller just
 * returns). Bind formats, one char an argument: 'i' const duet_id *, 'h'
 * const uint8_t[32] (blob), 's' const char * (NULL binds null), 'l' int64_t
 * (bigint, timestamp), 'd' int (int), 'b' int (boolean), 'L' a list of ids
 * (const duet_id *, size_t), 'S' a list of strings (const char *const *,
 * size_t). */
int cs_read(cs_op *op, int next, enum cs_stmt_id id, const char *fmt, ...);
/* A non-conditional write: idempotent, client timestamp. */
int cs_write(cs_op *op, int next, enum cs_stmt_id id, const char *fmt, ...);
/* cs_write with an explicit client timestamp (µs). */
int cs_write_at(cs_op *op, int next, enum cs_stmt_id id, int64_t ts, const char *fmt, ...);
/* A lightweight transaction: never retried by the driver. */
int cs_lwt(cs_op *op, int next, enum cs_stmt_id id, const char *fmt, ...);
/* Batches: begin, add up to CQL_BATCH_MAX statements, submit. A LOGGED
 * batch, idempotent; ts_from_stmts: the statements carry USING TIMESTAMP. */
void cs_batch_begin(cs_op *op);
int cs_batch_add(cs_op *op, enum cs_stmt_id id, const char *fmt, ...);
int cs_batch_submit(cs_op *op, int next, int ts_from_stmts);
/* cs_batch_submit with an explicit client timestamp (µs). */
int cs_batch_submit_at(cs_op *op, int next, int64_t ts);
/* A conditional batch (one partition): not idempotent. */
int cs_batch_submit_lwt(cs_op *op, int next);
/* After the callback: 0 if the request succeeded, else DUET_ESTORE
 * (logged). Does not reset q. */
int cs_q_status(cs_op *op);
/* The username -> id lookup that login and the friend ops start with:
 * cs_name_read reads name's row (step next), or finishes the op with
 * ENOTFOUND for a NULL name; both return like cs_read. At step next,
 * cs_name_id sets op->id: 0, ENOTFOUND (no such user) or a store error; the
 * caller finishes the op on an error. */
int cs_name_read(cs_op *op, int next, const char *name);
int cs_name_id(cs_op *op);
/* Frees op->q's results and values. */
void cs_q_reset(cs_op *op);
/* Index of column name in q's rows, or -1. */
int cs_col(const struct cql_rows *r, const char *name);

/* Cell readers: a null cell reads as 0 / the zero id / "". */
void cs_get_id(const struct cql_cell *c, duet_id *out);
int64_t cs_get_i64(const struct cql_cell *c);
int cs_get_i32(const struct cql_cell *c);
int cs_get_flag(const struct cql_cell *c);
static inline int cs_is_null(const struct cql_cell *c)
{
    return c->value == NULL || c->len < 0;
}
/* Strings are copied into p: 0 or -ENOMEM. */
int cs_get_str(pool_t *p, const struct cql_cell *c, const char **out);
int cs_read_user(pool_t *p, const struct cql_rows *r, int64_t row, int col, struct duet_user *u);
int cs_read_msg(pool_t *p, const struct cql_rows *r, int64_t row, int col, const duet_id *chat,
                struct duet_msg *m);
/* Whether row (CS_MSG_COLS from col) is a message withheld from its
 * receiver (CS_TYPE_WITHHELD). */
int cs_row_withheld(const struct cql_rows *r, int64_t row, int col);
/* Makes m the receiver's placeholder of a withheld message: its sequence
 * and sender, nothing else (m->withheld = 1). */
void cs_withhold(struct duet_msg *m);
/* Whether row (CS_MSG_COLS from col) is a void marker, not a message. */
int cs_row_void(const struct cql_rows *r, int64_t row, int col);
/* How old (µs) a hole's claim must be before a reader voids it: longer
 * than the sender's own attempt can still write (its row batch and the
 * driver's retries of it) with a wide margin. */
int64_t cs_void_age_us(const cs_store *s);
/* Reads a CS_CHAT_GET / CS_CHATS_IN row for member user: 0, or
 * DUET_EFORBIDDEN when user is not a member. Caches the members. */
int cs_read_chat(cs_store *s, const struct cql_rows *r, int64_t row, const duet_id *user,
                 struct cs_chat *c);
/* The step after a CS_CHAT_GET read of req->in.chat_id (or another chat):
 * its row into op->chat for the caller, req->in.user. 0, DUET_EFORBIDDEN
 * (no such chat, or not a member) or the read's error. */
int cs_load_member_chat(cs_op *op);

/* Scans: set up for lo < sequence <= hi. cs_scan_next submits the next
 * query (at most limit rows) and returns 1, returns 0 when the walk is
 * over, or an error (op finished). cs_scan_advance consumes q's rows. */
void cs_scan_init(struct cs_scan *sc, const duet_id *chat, int64_t lo, int64_t hi, int asc);
/* The next bucket a scan would read, or -1 when it is over (pure). */
int64_t cs_scan_bucket(const struct cs_scan *sc);
int cs_scan_next(cs_op *op, int next, int limit);
void cs_scan_advance(cs_op *op);

/* The rows of a user's relations partition (CS_REL_ALL) into op->rels. */
int cs_read_rels(cs_op *op);
/* The relation row of kind with other, or NULL. */
const struct cs_rel *cs_rel_find(const cs_op *op, int kind, const duet_id *other);
/* Users read with CS_USERS_IN (q's rows) appended to op->users. */
int cs_read_users(cs_op *op);
const struct duet_user *cs_user_find(const cs_op *op, const duet_id *id);

/* seen_at shows only while both users have read receipts on.
 * cs_want_receipts reads both users (then step next) when m has a seen_at
 * to hide: 1 sent, 0 nothing to do, or an error (op finished).
 * cs_receipts_both, after that read: 1 both on, 0 not, or an error;
 * cs_receipts_apply, after it: clears m's seen_at unless both are on, 0 or
 * an error. */
int cs_want_receipts(cs_op *op, int next, const struct duet_msg *m);
int cs_receipts_both(cs_op *op);
int cs_receipts_apply(cs_op *op, struct duet_msg *m);

/* Shared by the lists (cass_lists.c, cass_pending.c). */
int cs_ids_add(cs_op *op, const duet_id *id, size_t *cap);
int cs_in_next(cs_op *op, int next, enum cs_stmt_id id);
/* Collects into op->ids the chats with the user's peers (skip_blocked: only
 * those that no block separates). */
int cs_chat_ids(cs_op *op, int skip_blocked);

/* ---- cass_access.c: the blocks of a send's chat (cass_access.h) ---- */
/* The blocks in CS_REL_BLOCKED rows: *out the reader blocks the other,
 * *in the other blocks the reader. */
void cs_blocks_bits(const struct cql_rows *r, int *out, int *in);
/* op->chat's blocks for req->in.user from the cache: 1, or 0 (read them). */
int cs_blocks_cached(cs_op *op, int *out, int *in);
/* Reads them (then step next), as cs_read; cs_blocks_got, at that step,
 * gives them and caches them. */
int cs_blocks_read(cs_op *op, int next);
void cs_blocks_got(cs_op *op, int *out, int *in);

#endif
