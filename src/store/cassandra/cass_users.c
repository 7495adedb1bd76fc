/* cass_users.c - accounts and sessions on Cassandra. */
#include "cass_int.h"

#include <errno.h>
#include <string.h>

const char *const cs_users_cql[CS_STMT_COUNT] = {
    [CS_USER_BY_ID] = "SELECT " CS_USER_COLS " FROM @.users WHERE user_id = ?",
    [CS_USER_BY_ID_PW] = "SELECT " CS_USER_COLS ", pwhash FROM @.users WHERE user_id = ?",
    [CS_USERS_IN] = "SELECT " CS_USER_COLS " FROM @.users WHERE user_id IN ?",
    [CS_NAME_GET] = "SELECT user_id FROM @.usernames WHERE username = ?",
    /* The one place a name becomes taken: a lightweight transaction. */
    [CS_NAME_CLAIM] = "INSERT INTO @.usernames (username, user_id) VALUES (?, ?) IF NOT EXISTS",
    /* No last_seen: only CS_USER_SET_LAST_SEEN writes it, with its value
     * as the write timestamp, which a 0 written now could outrank. */
    [CS_USER_INSERT] = "INSERT INTO @.users (user_id, username, display_name, pwhash, created_at,"
                       " lastseen_vis, read_receipts) VALUES (?, ?, ?, ?, ?, 0, 1)",
    [CS_USER_DELETE] = "DELETE FROM @.users WHERE user_id = ?",
    [CS_USER_UPDATE] = "UPDATE @.users SET display_name = ?, lastseen_vis = ?, read_receipts = ?"
                       " WHERE user_id = ?",
    [CS_USER_SET_PW] = "UPDATE @.users SET pwhash = ? WHERE user_id = ?",
    /* The write timestamp is last_seen itself: the newest value wins even
     * when two instances write it in the other order. */
    [CS_USER_SET_LAST_SEEN] = "UPDATE @.users USING TIMESTAMP ? SET last_seen = ?"
                              " WHERE user_id = ?",
    [CS_SESSION_INSERT] = "INSERT INTO @.sessions (token_hash, user_id, created_at, last_used)"
                          " VALUES (?, ?, ?, ?)",
    [CS_USER_SESSION_INSERT] = "INSERT INTO @.user_sessions (user_id, token_hash) VALUES (?, ?)",
    [CS_SESSION_GET] = "SELECT user_id, last_used FROM @.sessions WHERE token_hash = ?",
    [CS_SESSION_TOUCH] = "UPDATE @.sessions SET last_used = ? WHERE token_hash = ?",
    [CS_SESSION_DELETE] = "DELETE FROM @.sessions WHERE token_hash = ?",
    [CS_USER_SESSION_DELETE] = "DELETE FROM @.user_sessions WHERE user_id = ? AND token_hash = ?",
    [CS_USER_SESSIONS] = "SELECT token_hash FROM @.user_sessions WHERE user_id = ?",
};

/* Sessions are refreshed at most this often (as the SQLite backend). */
#define CS_SESSION_TOUCH_MS 60000
/* Sessions deleted per batch by a password change. */
#define CS_SESSIONS_PER_BATCH 8

/* Reads the user row of q into u: 0, DUET_ENOTFOUND or an error. */
static int cs_user_row(cs_op *op, struct duet_user *u, int with_pwhash)
{
    int rc = cs_q_status(op);
    if (rc < 0)
        return rc;
    const struct cql_rows *r = &op->q.rows;
    /* A row without a name is not an account (see cs_user_create). */
    if (r->n_rows < 1 || cs_is_null(cql_cell(r, 0, 1)))
        return DUET_ENOTFOUND;
    if (cs_read_user(&op->req->pool, r, 0, 0, u) < 0)
        return -ENOMEM;
    if (with_pwhash && cs_get_str(&op->req->pool, cql_cell(r, 0, CS_USER_NCOLS), &u->pwhash) < 0)
        return -ENOMEM;
    return 0;
}

/* Steps of cs_user_create. */
enum {
    CREATE_START = 0,
    CREATE_ROW,     /* the user row written */
    CREATE_CLAIMED, /* the name claim's outcome */
    CREATE_UNDONE,  /* the orphan row deleted */
};

/* The users row is written first under a fresh id that nothing points to;
 * the name claim (LWT) then makes it reachable. A lost race deletes the
 * row. A claim that timed out fails the request, though it may have
 * applied: the account then exists and a login works (docs/cassandra.md). */
void cs_user_create(cs_op *op)
{
    store_req *req = op->req;
    const char *name = req->in.username, *display = req->in.display_name;
    int rc;
    if (display == NULL || display[0] == '\0')
        display = name;
    switch (op->step) {
    case CREATE_START:
        if (name == NULL || req->in.pwhash == NULL) {
            cs_finish(op, -EINVAL);
            return;
        }
        duet_id_random(&op->id);
        cs_write(op, CREATE_ROW, CS_USER_INSERT, "isssl", &op->id, name, display, req->in.pwhash,
                 req->in.now);
        return;
    case CREATE_ROW:
        if ((rc = cs_q_status(op)) < 0)
            break;
        cs_lwt(op, CREATE_CLAIMED, CS_NAME_CLAIM, "si", name, &op->id);
        return;
    case CREATE_CLAIMED:
        if ((rc = cs_q_status(op)) < 0)
            break;
        if (op->q.applied == 0) {
            cs_write(op, CREATE_UNDONE, CS_USER_DELETE, "i", &op->id);
            return;
        }
        struct duet_user *u = &req->out.user;
        memset(u, 0, sizeof(*u));
        u->id = op->id;
        u->username = pool_strdup(&req->pool, name);
        u->display_name = pool_strdup(&req->pool, display);
        u->created_at = req->in.now;
        u->read_receipts = 1;
        rc = u->username != NULL && u->display_name != NULL ? 0 : -ENOMEM;
        break;
    default: /* CREATE_UNDONE */
        /* The orphan row is unreachable whether or not its delete worked. */
        rc = DUET_EEXISTS;
        break;
    }
    cs_finish(op, rc);
}

int cs_name_read(cs_op *op, int next, const char *name)
{
    if (name == NULL) {
        cs_finish(op, DUET_ENOTFOUND);
        return DUET_ENOTFOUND;
    }
    return cs_read(op, next, CS_NAME_GET, "s", name);
}

int cs_name_id(cs_op *op)
{
    int rc = cs_q_status(op);
    if (rc < 0)
        return rc;
    if (op->q.rows.n_rows < 1 || cs_is_null(cql_cell(&op->q.rows, 0, 0)))
        return DUET_ENOTFOUND;
    cs_get_id(cql_cell(&op->q.rows, 0, 0), &op->id);
    return 0;
}

/* cs_user_get_by_name's steps. */
enum { BYNAME_START = 0, BYNAME_ID, BYNAME_USER };

void cs_user_get_by_name(cs_op *op)
{
    store_req *req = op->req;
    int rc;
    switch (op->step) {
    case BYNAME_START:
        cs_name_read(op, BYNAME_ID, req->in.username);
        return;
    case BYNAME_ID:
        if ((rc = cs_name_id(op)) < 0)
            break;
        cs_read(op, BYNAME_USER, CS_USER_BY_ID_PW, "i", &op->id);
        return;
    default: /* BYNAME_USER */
        rc = cs_user_row(op, &req->out.user, 1);
        break;
    }
    cs_finish(op, rc);
}

/* Steps of cs_user_get. */
enum {
    GET_START = 0,
    GET_ROW, /* the user row */
};

void cs_user_get(cs_op *op)
{
    if (op->step == GET_START) {
        cs_read(op, GET_ROW, CS_USER_BY_ID, "i", &op->req->in.user);
        return;
    }
    cs_finish(op, cs_user_row(op, &op->req->out.user, 0));
}

/* Steps of cs_user_update. */
enum {
    UPDATE_START = 0,
    UPDATE_ROW,     /* the user row */
    UPDATE_WRITTEN, /* the new settings written */
};

void cs_user_update(cs_op *op)
{
    store_req *req = op->req;
    struct duet_user *u = &req->out.user;
    int vis = req->in.lastseen_vis, rr = req->in.read_receipts, rc;
    const char *display = req->in.display_name;
    switch (op->step) {
    case UPDATE_START:
        if (vis < -1 || vis > LASTSEEN_NOBODY || rr < -1 || rr > 1 ||
            (display != NULL && display[0] == '\0')) {
            cs_finish(op, -EINVAL);
            return;
        }
        cs_read(op, UPDATE_ROW, CS_USER_BY_ID, "i", &req->in.user);
        return;
    case UPDATE_ROW:
        if ((rc = cs_user_row(op, u, 0)) < 0)
            break;
        if (display != NULL && (u->display_name = pool_strdup(&req->pool, display)) == NULL) {
            rc = -ENOMEM;
            break;
        }
        if (vis >= 0)
            u->lastseen_vis = vis;
        if (rr >= 0)
            u->read_receipts = rr;
        cs_write(op, UPDATE_WRITTEN, CS_USER_UPDATE, "sddi", u->display_name, u->lastseen_vis,
                 u->read_receipts, &req->in.user);
        return;
    default: /* UPDATE_WRITTEN */
        rc = cs_q_status(op);
        break;
    }
    cs_finish(op, rc);
}

/* Steps of cs_user_set_password. */
enum {
    PW_START = 0,
    PW_ROW,      /* the user row */
    PW_WRITTEN,  /* the new hash written */
    PW_SESSIONS, /* the user's sessions */
    PW_ENDED,    /* a batch of other sessions ended */
};

/* Changes the hash, then deletes every other session, a few per batch.
 * Each batch is idempotent; a failure part way leaves the new hash and
 * some sessions, and the request fails (docs/cassandra.md). */
void cs_user_set_password(cs_op *op)
{
    store_req *req = op->req;
    struct duet_user u;
    int rc;
    switch (op->step) {
    case PW_START:
        if (req->in.pwhash == NULL) {
            cs_finish(op, -EINVAL);
            return;
        }
        cs_read(op, PW_ROW, CS_USER_BY_ID, "i", &req->in.user);
        return;
    case PW_ROW:
        if ((rc = cs_user_row(op, &u, 0)) < 0)
            break;
        cs_write(op, PW_WRITTEN, CS_USER_SET_PW, "si", req->in.pwhash, &req->in.user);
        return;
    case PW_WRITTEN:
        if ((rc = cs_q_status(op)) < 0)
            break;
        cs_read(op, PW_SESSIONS, CS_USER_SESSIONS, "i", &req->in.user);
        return;
    case PW_SESSIONS: {
        if ((rc = cs_q_status(op)) < 0)
            break;
        const struct cql_rows *r = &op->q.rows;
        uint8_t(*tok)[32] = NULL;
        op->n_items = op->cap_items = op->i_items = 0;
        for (int64_t i = 0; i < r->n_rows; i++) {
            const struct cql_cell *c = cql_cell(r, i, 0);
            if (c->len != 32 || memcmp(c->value, req->in.token_hash, 32) == 0)
                continue;
            tok = pool_grow(&op->pool, op->items, op->n_items, &op->cap_items, sizeof(*tok));
            if (tok == NULL) {
                cs_finish(op, -ENOMEM);
                return;
            }
            op->items = tok;
            memcpy(tok[op->n_items++], c->value, 32);
        }
        goto next_batch;
    }
    default: /* PW_ENDED */
        if ((rc = cs_q_status(op)) < 0)
            break;
    next_batch:
        if (op->i_items < op->n_items) {
            uint8_t(*tok)[32] = op->items;
            cs_batch_begin(op);
            for (int n = 0; n < CS_SESSIONS_PER_BATCH && op->i_items < op->n_items; n++) {
                const uint8_t *t = tok[op->i_items++];
                cs_batch_add(op, CS_SESSION_DELETE, "h", t);
                cs_batch_add(op, CS_USER_SESSION_DELETE, "ih", &req->in.user, t);
            }
            cs_batch_submit(op, PW_ENDED, 0);
            return;
        }
        rc = 0;
        break;
    }
    cs_finish(op, rc);
}

/* Steps of cs_user_set_last_seen. */
enum {
    LS_START = 0,
    LS_ROW,     /* the user row */
    LS_WRITTEN, /* last_seen written */
};

void cs_user_set_last_seen(cs_op *op)
{
    store_req *req = op->req;
    struct duet_user u;
    int rc;
    switch (op->step) {
    case LS_START:
        cs_read(op, LS_ROW, CS_USER_BY_ID, "i", &req->in.user);
        return;
    case LS_ROW:
        if ((rc = cs_user_row(op, &u, 0)) < 0)
            break;
        /* A read (not a write) request: the statement carries its own
         * timestamp, and writing the same cell twice is harmless. */
        cs_read(op, LS_WRITTEN, CS_USER_SET_LAST_SEEN, "lli", req->in.now * 1000, req->in.now,
                &req->in.user);
        return;
    default: /* LS_WRITTEN */
        rc = cs_q_status(op);
        break;
    }
    cs_finish(op, rc);
}

/* Steps of cs_session_create. */
enum {
    SC_START = 0,
    SC_USER,    /* the user row */
    SC_WRITTEN, /* the session rows written */
};

void cs_session_create(cs_op *op)
{
    store_req *req = op->req;
    struct duet_user u;
    int rc;
    switch (op->step) {
    case SC_START:
        cs_read(op, SC_USER, CS_USER_BY_ID, "i", &req->in.user);
        return;
    case SC_USER:
        if ((rc = cs_user_row(op, &u, 0)) < 0)
            break;
        cs_batch_begin(op);
        cs_batch_add(op, CS_SESSION_INSERT, "hill", req->in.token_hash, &req->in.user, req->in.now,
                     req->in.now);
        cs_batch_add(op, CS_USER_SESSION_INSERT, "ih", &req->in.user, req->in.token_hash);
        cs_batch_submit(op, SC_WRITTEN, 0);
        return;
    default: /* SC_WRITTEN */
        rc = cs_q_status(op);
        break;
    }
    cs_finish(op, rc);
}

/* Steps of cs_session_get. */
enum {
    SG_START = 0,
    SG_SESSION, /* the session row */
    SG_USER,    /* its user row */
    SG_EXPIRED, /* an expired session deleted */
    SG_TOUCHED, /* last_used moved */
};

void cs_session_get(cs_op *op)
{
    store_req *req = op->req;
    int64_t now = req->in.now;
    int rc;
    switch (op->step) {
    case SG_START:
        cs_read(op, SG_SESSION, CS_SESSION_GET, "h", req->in.token_hash);
        return;
    case SG_SESSION:
        if ((rc = cs_q_status(op)) < 0)
            break;
        /* A touch racing a delete can leave a row with no user: none. */
        if (op->q.rows.n_rows < 1 || cs_is_null(cql_cell(&op->q.rows, 0, 0))) {
            rc = DUET_ENOTFOUND;
            break;
        }
        cs_get_id(cql_cell(&op->q.rows, 0, 0), &op->id);
        op->seq = cs_get_i64(cql_cell(&op->q.rows, 0, 1)); /* last_used */
        cs_read(op, SG_USER, CS_USER_BY_ID, "i", &op->id);
        return;
    case SG_USER: {
        if ((rc = cs_user_row(op, &req->out.user, 0)) < 0)
            break;
        if (req->in.idle_ms > 0 && now - op->seq > req->in.idle_ms) {
            cs_batch_begin(op);
            cs_batch_add(op, CS_SESSION_DELETE, "h", req->in.token_hash);
            cs_batch_add(op, CS_USER_SESSION_DELETE, "ih", &op->id, req->in.token_hash);
            cs_batch_submit(op, SG_EXPIRED, 0);
            return;
        }
        int64_t touch = CS_SESSION_TOUCH_MS;
        if (req->in.idle_ms > 0 && req->in.idle_ms / 4 < touch)
            touch = req->in.idle_ms / 4;
        if (now - op->seq > touch) {
            cs_write(op, SG_TOUCHED, CS_SESSION_TOUCH, "lh", now, req->in.token_hash);
            return;
        }
        rc = 0;
        break;
    }
    case SG_EXPIRED:
        /* Expired: the deletion stands although the request fails. */
        rc = cs_q_status(op);
        if (rc == 0)
            rc = DUET_ENOTFOUND;
        break;
    default: /* SG_TOUCHED */
        rc = cs_q_status(op);
        break;
    }
    cs_finish(op, rc);
}

/* Steps of cs_session_delete. */
enum {
    SD_START = 0,
    SD_SESSION, /* the session row */
    SD_DELETED, /* its rows deleted */
};

void cs_session_delete(cs_op *op)
{
    store_req *req = op->req;
    int rc;
    switch (op->step) {
    case SD_START:
        cs_read(op, SD_SESSION, CS_SESSION_GET, "h", req->in.token_hash);
        return;
    case SD_SESSION:
        if ((rc = cs_q_status(op)) < 0)
            break;
        if (op->q.rows.n_rows < 1) {
            rc = 0;
            break;
        }
        cs_get_id(cql_cell(&op->q.rows, 0, 0), &op->id);
        cs_batch_begin(op);
        cs_batch_add(op, CS_SESSION_DELETE, "h", req->in.token_hash);
        cs_batch_add(op, CS_USER_SESSION_DELETE, "ih", &op->id, req->in.token_hash);
        cs_batch_submit(op, SD_DELETED, 0);
        return;
    default: /* SD_DELETED */
        rc = cs_q_status(op);
        break;
    }
    cs_finish(op, rc);
}
