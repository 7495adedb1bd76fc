/* sqlite_uploads.c - uploads (tus state) and the access check of media
 * downloads (issue 15). The bytes never come here: only the upload's
 * length, offset, sniffed type and which message holds it. */
#include "sqlite_int.h"

#include <errno.h>
#include <string.h>

#define SQ_UPLOAD_COLS                                                                             \
    "id, owner, length, upload_offset, name, filetype, mime, kind, state, created_at,"             \
    " expires_at, chat_id, seq"
#define SQ_DAY_MS (24LL * 3600 * 1000)

const char *const sq_uploads_sql[SQ_STMT_COUNT] = {
    [SQ_UPLOAD_INSERT] = "INSERT INTO uploads (id, owner, length, name, filetype, created_at,"
                         " expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [SQ_UPLOAD_GET] = "SELECT " SQ_UPLOAD_COLS " FROM uploads WHERE id = ?1",
    /* Offsets only move forward, and an attached upload is the message's. */
    [SQ_UPLOAD_UPDATE] = "UPDATE uploads SET upload_offset = max(upload_offset, ?3),"
                         " kind = iif(?4 = 0, kind, ?4), mime = coalesce(?5, mime),"
                         " state = iif(?6 < 0, state, ?6)"
                         " WHERE id = ?1 AND owner = ?2 AND state < 2",
    [SQ_UPLOAD_DELETE] = "DELETE FROM uploads WHERE id = ?1",
    /* A never-attached upload is marked deleted before its files go, so
     * that a crash in between leaves a row the sweep finishes. */
    [SQ_UPLOAD_MARK_GONE] = "UPDATE uploads SET state = 3, expires_at = ?2"
                            " WHERE id = ?1 AND state < 2",
    /* The daily quota counts every upload created in the last 24 h, the
     * ones since deleted included (a sweep must not refill it). */
    [SQ_UPLOAD_DAY_BYTES] = "SELECT coalesce(sum(length), 0) FROM upload_log"
                            " WHERE owner = ?1 AND created_at > ?2",
    [SQ_UPLOAD_LOG_INSERT] =
        "INSERT INTO upload_log (owner, created_at, length) VALUES (?1, ?2, ?3)",
    [SQ_UPLOAD_LOG_PRUNE] = "DELETE FROM upload_log WHERE owner = ?1 AND created_at <= ?2",
    [SQ_UPLOAD_INFLIGHT] = "SELECT count(*) FROM uploads WHERE owner = ?1 AND state = 0"
                           " AND expires_at > ?2",
    [SQ_UPLOAD_EXPIRED] = "SELECT " SQ_UPLOAD_COLS " FROM uploads WHERE (state < 2 AND"
                          " expires_at <= ?1) OR state = 3 LIMIT ?2",
    /* The message's declared type and the served type replace the sniffed
     * ones: a photo sent as a file (4) is served as an attachment. */
    [SQ_UPLOAD_ATTACH] = "UPDATE uploads SET state = 2, chat_id = ?3, seq = ?4, kind = ?5,"
                         " mime = coalesce(?6, mime) WHERE id = ?1 AND owner = ?2 AND state = 1",
    [SQ_UPLOAD_MARK_DELETED] = "UPDATE uploads SET state = 3, expires_at = ?3"
                               " WHERE chat_id = ?1 AND seq = ?2 AND state = 2 RETURNING id",
};

static int read_upload(pool_t *p, sqlite3_stmt *st, struct duet_upload *u)
{
    memset(u, 0, sizeof(*u));
    if (sq_col_str(p, st, 0, &u->id) < 0 || sq_col_str(p, st, 4, &u->name) < 0 ||
        sq_col_str(p, st, 5, &u->filetype) < 0 || sq_col_str(p, st, 6, &u->mime) < 0)
        return -ENOMEM;
    sq_col_id(st, 1, &u->owner);
    u->length = (uint64_t)sqlite3_column_int64(st, 2);
    u->offset = (uint64_t)sqlite3_column_int64(st, 3);
    u->kind = sqlite3_column_int(st, 7);
    u->state = sqlite3_column_int(st, 8);
    u->created_at = sqlite3_column_int64(st, 9);
    u->expires_at = sqlite3_column_int64(st, 10);
    if (sqlite3_column_type(st, 11) == SQLITE_BLOB)
        sq_col_id(st, 11, &u->chat_id);
    u->seq = sqlite3_column_int64(st, 12);
    return 0;
}

/* The upload with id into out: 0 or DUET_ENOTFOUND. */
static int load(sq_store *s, store_req *req, const char *id, struct duet_upload *out)
{
    if (id == NULL)
        return -EINVAL;
    sqlite3_stmt *st = sq_bind(s, SQ_UPLOAD_GET, "s", id);
    if (st == NULL)
        return DUET_ESTORE;
    int rc = sq_step(s, st);
    if (rc <= 0)
        return rc == 0 ? DUET_ENOTFOUND : rc;
    rc = read_upload(&req->pool, st, out);
    sq_reset(st);
    return rc;
}

static int is_zero(const duet_id *id)
{
    static const duet_id zero;
    return duet_id_eq(id, &zero);
}

int sq_upload_create(sq_store *s, store_req *req)
{
    const struct duet_upload *u = req->in.upload;
    int64_t n = 0;
    int rc;
    if (u == NULL || u->id == NULL)
        return -EINVAL;
    if (req->in.max_pending > 0) {
        if ((rc = sq_get_int(s, &n, SQ_UPLOAD_INFLIGHT, "il", &req->in.user, req->in.now)) < 0)
            return rc;
        if (n >= req->in.max_pending)
            return DUET_EFULL;
    }
    if (req->in.max_per_day > 0) {
        if ((rc = sq_get_int(s, &n, SQ_UPLOAD_DAY_BYTES, "il", &req->in.user,
                             req->in.now - SQ_DAY_MS)) < 0)
            return rc;
        if (n + (int64_t)u->length > req->in.max_per_day)
            return DUET_ELIMIT;
    }
    if ((rc = sq_exec(s, SQ_UPLOAD_LOG_PRUNE, "il", &req->in.user, req->in.now - SQ_DAY_MS)) < 0 ||
        (rc = sq_exec(s, SQ_UPLOAD_LOG_INSERT, "ill", &req->in.user, req->in.now,
                      (int64_t)u->length)) < 0)
        return rc;
    rc = sq_exec(s, SQ_UPLOAD_INSERT, "silssll", u->id, &req->in.user, (int64_t)u->length,
                 u->name ? u->name : "", u->filetype ? u->filetype : "", u->created_at,
                 u->expires_at);
    if (rc < 0)
        return rc;
    return load(s, req, u->id, &req->out.upload);
}

int sq_upload_get(sq_store *s, store_req *req)
{
    int rc = load(s, req, req->in.upload_id, &req->out.upload);
    if (rc < 0)
        return rc;
    /* Someone else's upload is as absent as a missing one. */
    if (!duet_id_eq(&req->out.upload.owner, &req->in.user))
        return DUET_ENOTFOUND;
    return 0;
}

int sq_upload_update(sq_store *s, store_req *req)
{
    int rc = sq_exec(s, SQ_UPLOAD_UPDATE, "sildsd", req->in.upload_id, &req->in.user, req->in.seq,
                     req->in.kind, req->in.text, req->in.upload_state);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return DUET_ENOTFOUND;
    return load(s, req, req->in.upload_id, &req->out.upload);
}

int sq_upload_delete(sq_store *s, store_req *req)
{
    int rc = load(s, req, req->in.upload_id, &req->out.upload);
    if (rc < 0)
        return rc;
    const struct duet_upload *u = &req->out.upload;
    int sweep = is_zero(&req->in.user);
    if (!sweep && !duet_id_eq(&u->owner, &req->in.user))
        return DUET_ENOTFOUND;
    if (u->state == UPLOAD_ATTACHED)
        return DUET_EFORBIDDEN;
    if (!sweep && u->state == UPLOAD_DELETED)
        return DUET_ENOTFOUND;
    if (u->state == UPLOAD_DELETED)
        rc = sq_exec(s, SQ_UPLOAD_DELETE, "s", u->id);
    else
        rc = sq_exec(s, SQ_UPLOAD_MARK_GONE, "sl", u->id, req->in.now);
    return rc < 0 ? rc : 0;
}

int sq_upload_expired(sq_store *s, store_req *req)
{
    int limit = req->in.limit > 0 ? req->in.limit : 100;
    req->out.uploads = pool_alloc(&req->pool, (size_t)limit * sizeof(*req->out.uploads));
    if (req->out.uploads == NULL)
        return -ENOMEM;
    sqlite3_stmt *st = sq_bind(s, SQ_UPLOAD_EXPIRED, "ld", req->in.now, limit);
    if (st == NULL)
        return DUET_ESTORE;
    int rc;
    while ((rc = sq_step(s, st)) == 1) {
        if (req->out.n_uploads == (size_t)limit ||
            read_upload(&req->pool, st, &req->out.uploads[req->out.n_uploads]) < 0) {
            sq_reset(st);
            return req->out.n_uploads == (size_t)limit ? 0 : -ENOMEM;
        }
        req->out.n_uploads++;
    }
    return rc;
}

int sq_media_get(sq_store *s, store_req *req)
{
    const duet_id *me = &req->in.user;
    struct duet_upload *u = &req->out.upload;
    int rc = load(s, req, req->in.upload_id, u);
    if (rc < 0)
        return rc;
    if (u->state == UPLOAD_STORED)
        return duet_id_eq(&u->owner, me) ? 0 : DUET_ENOTFOUND;
    if (u->state != UPLOAD_ATTACHED)
        return DUET_ENOTFOUND;
    /* What the user's history shows them: a member of the chat, the
     * message not deleted and not withheld from them. */
    struct sq_chat c;
    if ((rc = sq_chat_load(s, &u->chat_id, me, &c)) < 0)
        return rc == DUET_EFORBIDDEN ? DUET_ENOTFOUND : rc;
    sqlite3_stmt *st = sq_bind(s, SQ_MSG_BY_SEQ, "il", &u->chat_id, u->seq);
    if (st == NULL)
        return DUET_ESTORE;
    if ((rc = sq_step(s, st)) <= 0)
        return rc == 0 ? DUET_ENOTFOUND : rc;
    struct duet_msg m;
    rc = sq_read_msg(&req->pool, st, 0, &m);
    int withheld = sqlite3_column_int(st, SQ_MSG_WITHHELD) != 0;
    sq_reset(st);
    if (rc < 0)
        return rc;
    if (m.deleted_at != 0 || (withheld && duet_id_eq(&m.receiver, me)))
        return DUET_ENOTFOUND;
    return 0;
}

int sq_upload_attach(sq_store *s, store_req *req, const duet_id *chat, int64_t seq)
{
    int rc = sq_exec(s, SQ_UPLOAD_ATTACH, "siilds", req->in.upload_id, &req->in.user, chat, seq,
                     req->in.msg_type, req->in.media_mime);
    if (rc < 0)
        return rc;
    return rc == 1 ? 0 : DUET_ENOTFOUND;
}

int sq_upload_detach(sq_store *s, store_req *req, const duet_id *chat, int64_t seq)
{
    sqlite3_stmt *st = sq_bind(s, SQ_UPLOAD_MARK_DELETED, "ill", chat, seq, req->in.now);
    if (st == NULL)
        return DUET_ESTORE;
    int rc = sq_step(s, st);
    if (rc <= 0)
        return rc;
    rc = sq_col_str(&req->pool, st, 0, &req->out.deleted_upload);
    sq_reset(st);
    return rc;
}
