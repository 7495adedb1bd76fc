/* sqlite_users.c - accounts and sessions. */
#include "sqlite_int.h"

#include <errno.h>
#include <string.h>

const char *const sq_users_sql[SQ_STMT_COUNT] = {
    [SQ_USER_BY_ID] = "SELECT " SQ_USER_COLS("") " FROM users WHERE user_id = ?1",
    [SQ_USER_BY_NAME] = "SELECT " SQ_USER_COLS("") ", pwhash FROM users WHERE username = ?1",
    [SQ_USER_INSERT] = "INSERT INTO users (user_id, username, display_name, pwhash, created_at)"
                       " VALUES (?1, ?2, ?3, ?4, ?5)",
    [SQ_USER_UPDATE] = "UPDATE users SET display_name = coalesce(?2, display_name),"
                       " lastseen_vis = iif(?3 < 0, lastseen_vis, ?3),"
                       " read_receipts = iif(?4 < 0, read_receipts, ?4)"
                       " WHERE user_id = ?1",
    [SQ_USER_SET_PASSWORD] = "UPDATE users SET pwhash = ?2 WHERE user_id = ?1",
    [SQ_USER_SET_LAST_SEEN] = "UPDATE users SET last_seen = max(last_seen, ?2) WHERE user_id = ?1",
    /* The SELECT makes a session for an unknown user insert nothing. */
    [SQ_SESSION_INSERT] = "INSERT INTO sessions (token_hash, user_id, created_at, last_used)"
                          " SELECT ?1, user_id, ?3, ?3 FROM users WHERE user_id = ?2",
    [SQ_SESSION_GET] = "SELECT s.last_used, " SQ_USER_COLS(
        "u.") " FROM sessions s"
              " JOIN users u ON u.user_id = s.user_id WHERE s.token_hash = ?1",
    [SQ_SESSION_TOUCH] = "UPDATE sessions SET last_used = ?2 WHERE token_hash = ?1",
    [SQ_SESSION_DELETE] = "DELETE FROM sessions WHERE token_hash = ?1",
    [SQ_SESSION_DELETE_OTHERS] = "DELETE FROM sessions WHERE user_id = ?1 AND token_hash <> ?2",
};

/* Sessions are refreshed at most this often, to spare a write per request. */
#define SQ_SESSION_TOUCH_MS 60000

/* Reads one user row of statement id (bound by the caller). */
static int sq_user_row(sq_store *s, pool_t *p, sqlite3_stmt *st, struct duet_user *u,
                       int with_pwhash)
{
    if (st == NULL)
        return DUET_ESTORE;
    int rc = sq_step(s, st);
    if (rc <= 0)
        return rc == 0 ? DUET_ENOTFOUND : rc;
    rc = sq_read_user(p, st, 0, u);
    if (rc == 0 && with_pwhash)
        rc = sq_col_str(p, st, SQ_USER_NCOLS, &u->pwhash);
    sq_reset(st);
    return rc;
}

int sq_user_by_id(sq_store *s, pool_t *p, const duet_id *id, struct duet_user *u)
{
    return sq_user_row(s, p, sq_bind(s, SQ_USER_BY_ID, "i", id), u, 0);
}

int sq_user_by_name(sq_store *s, pool_t *p, const char *name, struct duet_user *u)
{
    if (name == NULL)
        return DUET_ENOTFOUND;
    return sq_user_row(s, p, sq_bind(s, SQ_USER_BY_NAME, "s", name), u, 0);
}

int sq_user_create(sq_store *s, store_req *req)
{
    const char *name = req->in.username, *display = req->in.display_name;
    struct duet_user u;
    duet_id id;

    if (name == NULL || req->in.pwhash == NULL)
        return -EINVAL;
    if (display == NULL || display[0] == '\0')
        display = name;
    /* Checked first so that a taken name is an answer, not a constraint
     * error; the transaction's write lock makes check and insert atomic. */
    int rc = sq_user_by_name(s, &req->pool, name, &u);
    if (rc != DUET_ENOTFOUND)
        return rc == 0 ? DUET_EEXISTS : rc;
    duet_id_random(&id);
    rc = sq_exec(s, SQ_USER_INSERT, "isssl", &id, name, display, req->in.pwhash, req->in.now);
    if (rc < 0)
        return rc;
    return sq_user_by_id(s, &req->pool, &id, &req->out.user);
}

int sq_user_get_by_name(sq_store *s, store_req *req)
{
    if (req->in.username == NULL)
        return DUET_ENOTFOUND;
    sqlite3_stmt *st = sq_bind(s, SQ_USER_BY_NAME, "s", req->in.username);
    return sq_user_row(s, &req->pool, st, &req->out.user, 1);
}

int sq_user_get(sq_store *s, store_req *req)
{
    return sq_user_by_id(s, &req->pool, &req->in.user, &req->out.user);
}

int sq_user_update(sq_store *s, store_req *req)
{
    int vis = req->in.lastseen_vis, rr = req->in.read_receipts;
    const char *display = req->in.display_name;

    if (vis < -1 || vis > LASTSEEN_NOBODY || rr < -1 || rr > 1)
        return -EINVAL;
    if (display != NULL && display[0] == '\0')
        return -EINVAL;
    int rc = sq_exec(s, SQ_USER_UPDATE, "isdd", &req->in.user, display, vis, rr);
    if (rc <= 0)
        return rc == 0 ? DUET_ENOTFOUND : rc;
    return sq_user_by_id(s, &req->pool, &req->in.user, &req->out.user);
}

int sq_user_set_password(sq_store *s, store_req *req)
{
    if (req->in.pwhash == NULL)
        return -EINVAL;
    int rc = sq_exec(s, SQ_USER_SET_PASSWORD, "is", &req->in.user, req->in.pwhash);
    if (rc <= 0)
        return rc == 0 ? DUET_ENOTFOUND : rc;
    rc = sq_exec(s, SQ_SESSION_DELETE_OTHERS, "ih", &req->in.user, req->in.token_hash);
    return rc < 0 ? rc : 0;
}

int sq_user_set_last_seen(sq_store *s, store_req *req)
{
    int rc = sq_exec(s, SQ_USER_SET_LAST_SEEN, "il", &req->in.user, req->in.now);
    if (rc <= 0)
        return rc == 0 ? DUET_ENOTFOUND : rc;
    return 0;
}

int sq_session_create(sq_store *s, store_req *req)
{
    int rc = sq_exec(s, SQ_SESSION_INSERT, "hil", req->in.token_hash, &req->in.user, req->in.now);
    if (rc <= 0)
        return rc == 0 ? DUET_ENOTFOUND : rc;
    return 0;
}

int sq_session_get(sq_store *s, store_req *req)
{
    int64_t now = req->in.now, last_used;
    sqlite3_stmt *st = sq_bind(s, SQ_SESSION_GET, "h", req->in.token_hash);
    if (st == NULL)
        return DUET_ESTORE;
    int rc = sq_step(s, st);
    if (rc <= 0)
        return rc == 0 ? DUET_ENOTFOUND : rc;
    last_used = sqlite3_column_int64(st, 0);
    rc = sq_read_user(&req->pool, st, 1, &req->out.user);
    sq_reset(st);
    if (rc < 0)
        return rc;

    if (req->in.idle_ms > 0 && now - last_used > req->in.idle_ms) {
        /* The deletion stands although the request fails. */
        rc = sq_exec(s, SQ_SESSION_DELETE, "h", req->in.token_hash);
        if (rc < 0)
            return rc;
        s->keep_writes = 1;
        return DUET_ENOTFOUND;
    }
    /* Refresh rarely (a write per request would be waste), but often
     * enough relative to the idle limit that use keeps a session alive. */
    int64_t touch = SQ_SESSION_TOUCH_MS;
    if (req->in.idle_ms > 0 && req->in.idle_ms / 4 < touch)
        touch = req->in.idle_ms / 4;
    if (now - last_used > touch) {
        rc = sq_exec(s, SQ_SESSION_TOUCH, "hl", req->in.token_hash, now);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int sq_session_delete(sq_store *s, store_req *req)
{
    int rc = sq_exec(s, SQ_SESSION_DELETE, "h", req->in.token_hash);
    return rc < 0 ? rc : 0;
}
