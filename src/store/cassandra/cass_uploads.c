/* cass_uploads.c - uploads and the access check of media downloads on
 * Cassandra (issue 15; store.h has the contract, sqlite_uploads.c the
 * SQLite twin). An upload is one row keyed by its random id; SAI indexes on
 * owner and state serve the in-flight count and the sweep; upload_log rows
 * (TTL one day) count the bytes of the last 24 hours. The bytes are never
 * here. Attaching to a message is an LWT in MSG_SEND (cass_msgs.c). */
#include "cass_int.h"

#include <errno.h>
#include <string.h>

#define CS_UPLOAD_COLS                                                                             \
    "id, owner, length, upload_offset, name, filetype, mime, kind, state, created_at,"             \
    " expires_at, chat_id, message_id"
#define CS_DAY_MS (24LL * 3600 * 1000)

const char *const cs_uploads_cql[CS_STMT_COUNT] = {
    [CS_UPLOAD_INSERT] = "INSERT INTO @.uploads (id, owner, length, upload_offset, name, filetype,"
                         " mime, kind, state, created_at, expires_at)"
                         " VALUES (?, ?, ?, 0, ?, ?, '', 0, 0, ?, ?)",
    [CS_UPLOAD_LOG_INSERT] = "INSERT INTO @.upload_log (owner, created_at, id, length)"
                             " VALUES (?, ?, ?, ?) USING TTL 86400",
    [CS_UPLOAD_DAY_BYTES] =
        "SELECT sum(length) FROM @.upload_log WHERE owner = ? AND created_at > ?",
    [CS_UPLOAD_OF_OWNER] = "SELECT state, expires_at FROM @.uploads WHERE owner = ?",
    [CS_UPLOAD_GET] = "SELECT " CS_UPLOAD_COLS " FROM @.uploads WHERE id = ?",
    [CS_UPLOAD_SET] = "UPDATE @.uploads SET upload_offset = ?, kind = ?, mime = ?, state = ?"
                      " WHERE id = ?",
    /* An LWT, as the attach is: a sweep that read the row before a send
     * attached it must not delete it after. */
    [CS_UPLOAD_DELETE] = "DELETE FROM @.uploads WHERE id = ? IF state = ?",
    [CS_UPLOAD_BY_STATE] = "SELECT " CS_UPLOAD_COLS " FROM @.uploads WHERE state = ? LIMIT ?",
    [CS_UPLOAD_ATTACH] = "UPDATE @.uploads SET state = 2, chat_id = ?, message_id = ?, kind = ?,"
                         " mime = ? WHERE id = ? IF state = ? AND owner = ?",
    [CS_UPLOAD_MARK_DELETED] = "UPDATE @.uploads SET state = ?, expires_at = ? WHERE id = ?",
    /* A never-attached upload is marked deleted before its files go (a
     * crash in between leaves a row the sweep finishes); an LWT for the
     * same reason as the delete. */
    [CS_UPLOAD_MARK_GONE] = "UPDATE @.uploads SET state = 3, expires_at = ? WHERE id = ?"
                            " IF state = ?",
};

/* Row `row` of q (CS_UPLOAD_COLS) into u; strings in p. */
static int read_upload(pool_t *p, const struct cql_rows *r, int64_t row, struct duet_upload *u,
                       const char **message_id)
{
    memset(u, 0, sizeof(*u));
    if (cs_get_str(p, cql_cell(r, row, 0), &u->id) < 0 ||
        cs_get_str(p, cql_cell(r, row, 4), &u->name) < 0 ||
        cs_get_str(p, cql_cell(r, row, 5), &u->filetype) < 0 ||
        cs_get_str(p, cql_cell(r, row, 6), &u->mime) < 0 ||
        cs_get_str(p, cql_cell(r, row, 12), message_id) < 0)
        return -ENOMEM;
    cs_get_id(cql_cell(r, row, 1), &u->owner);
    u->length = (uint64_t)cs_get_i64(cql_cell(r, row, 2));
    u->offset = (uint64_t)cs_get_i64(cql_cell(r, row, 3));
    u->kind = cs_get_i32(cql_cell(r, row, 7));
    u->state = cs_get_i32(cql_cell(r, row, 8));
    u->created_at = cs_get_i64(cql_cell(r, row, 9));
    u->expires_at = cs_get_i64(cql_cell(r, row, 10));
    cs_get_id(cql_cell(r, row, 11), &u->chat_id);
    return 0;
}

static int is_zero(const duet_id *id)
{
    static const duet_id zero;
    return duet_id_eq(id, &zero);
}

int cs_upload_attached_here(cs_op *op)
{
    const store_req *req = op->req;
    struct duet_upload u;
    const char *mid = "";
    if (op->q.rows.n_rows < 1)
        return DUET_ENOTFOUND;
    if (read_upload(&op->pool, &op->q.rows, 0, &u, &mid) < 0)
        return -ENOMEM;
    if (u.state == UPLOAD_ATTACHED && duet_id_eq(&u.owner, &req->in.user) &&
        duet_id_eq(&u.chat_id, &op->chat.id) && strcmp(mid, req->in.message_id) == 0)
        return 0;
    return DUET_ENOTFOUND;
}

const char *cs_media_upload_id(pool_t *p, const char *media)
{
    static const char head[] = "{\"id\":\"";
    if (media == NULL || strncmp(media, head, sizeof(head) - 1) != 0 ||
        strlen(media) < sizeof(head) - 1 + 32)
        return NULL;
    char id[33];
    memcpy(id, media + sizeof(head) - 1, 32);
    id[32] = '\0';
    for (int i = 0; i < 32; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return NULL;
    return pool_strdup(p, id);
}

/* Steps, shared by the ops (each op uses its own subset). */
enum {
    UP_START = 0,
    UP_OWNER, /* CREATE: the owner's uploads (in flight) */
    UP_BYTES, /* CREATE: bytes of the last day */
    UP_WRITTEN,
    UP_DELETED, /* DELETE's LWT */
    UP_ROW,     /* the upload's row */
    UP_CHAT,    /* MEDIA_GET: the chat's statics */
    UP_CLAIM,   /* MEDIA_GET: the message id's claim (its sequence) */
    UP_MSG,     /* MEDIA_GET: the message row */
    UP_STATE,   /* EXPIRED: the rows of one state */
};

static void create_write(cs_op *op)
{
    store_req *req = op->req;
    const struct duet_upload *u = req->in.upload;
    cs_batch_begin(op);
    cs_batch_add(op, CS_UPLOAD_INSERT, "silssll", u->id, &req->in.user, (int64_t)u->length,
                 u->name ? u->name : "", u->filetype ? u->filetype : "", u->created_at,
                 u->expires_at);
    cs_batch_add(op, CS_UPLOAD_LOG_INSERT, "ilsl", &req->in.user, req->in.now, u->id,
                 (int64_t)u->length);
    cs_batch_submit(op, UP_WRITTEN, 0);
}

static int create_step(cs_op *op)
{
    store_req *req = op->req;
    const struct duet_upload *u = req->in.upload;
    int rc;
    switch (op->step) {
    case UP_START:
        if (u == NULL || u->id == NULL)
            return -EINVAL;
        if (req->in.max_pending > 0) {
            cs_read(op, UP_OWNER, CS_UPLOAD_OF_OWNER, "i", &req->in.user);
            return 1;
        }
        /* fall through */
    case UP_OWNER:
        if (op->step == UP_OWNER) {
            if ((rc = cs_q_status(op)) < 0)
                return rc;
            int64_t n = 0;
            for (int64_t i = 0; i < op->q.rows.n_rows; i++)
                if (cs_get_i32(cql_cell(&op->q.rows, i, 0)) == UPLOAD_STAGING &&
                    cs_get_i64(cql_cell(&op->q.rows, i, 1)) > req->in.now)
                    n++;
            if (n >= req->in.max_pending)
                return DUET_EFULL;
        }
        if (req->in.max_per_day > 0) {
            cs_read(op, UP_BYTES, CS_UPLOAD_DAY_BYTES, "il", &req->in.user,
                    req->in.now - CS_DAY_MS);
            return 1;
        }
        create_write(op);
        return 1;
    case UP_BYTES: {
        if ((rc = cs_q_status(op)) < 0)
            return rc;
        int64_t n = op->q.rows.n_rows > 0 ? cs_get_i64(cql_cell(&op->q.rows, 0, 0)) : 0;
        if (n + (int64_t)u->length > req->in.max_per_day)
            return DUET_ELIMIT;
        create_write(op);
        return 1;
    }
    default: /* UP_WRITTEN */
        if ((rc = cs_q_status(op)) < 0)
            return rc;
        req->out.upload = *u;
        req->out.upload.owner = req->in.user;
        req->out.upload.id = pool_strdup(&req->pool, u->id);
        req->out.upload.name = pool_strdup(&req->pool, u->name ? u->name : "");
        req->out.upload.filetype = pool_strdup(&req->pool, u->filetype ? u->filetype : "");
        req->out.upload.mime = "";
        if (req->out.upload.id == NULL || req->out.upload.name == NULL ||
            req->out.upload.filetype == NULL)
            return -ENOMEM;
        return 0;
    }
}

/* The upload's row, read by CS_UPLOAD_GET (q), into u and *mid. */
static int row_loaded(cs_op *op, struct duet_upload *u, const char **mid)
{
    int rc = cs_q_status(op);
    if (rc < 0)
        return rc;
    if (op->q.rows.n_rows < 1)
        return DUET_ENOTFOUND;
    return read_upload(&op->req->pool, &op->q.rows, 0, u, mid) < 0 ? -ENOMEM : 0;
}

/* GET, UPDATE, DELETE: the row first, then what the op does with it. */
static int row_step(cs_op *op)
{
    store_req *req = op->req;
    struct duet_upload *u = &req->out.upload;
    const char *mid = "";
    int rc;
    if (op->step == UP_START) {
        if (req->in.upload_id == NULL)
            return -EINVAL;
        cs_read(op, UP_ROW, CS_UPLOAD_GET, "s", req->in.upload_id);
        return 1;
    }
    if (op->step == UP_WRITTEN)
        return cs_q_status(op);
    if (op->step == UP_DELETED) /* not applied: the row changed (attached?) */
        return (rc = cs_q_status(op)) < 0 ? rc : op->q.applied == 1 ? 0 : DUET_EFORBIDDEN;
    if ((rc = row_loaded(op, u, &mid)) < 0)
        return rc;
    int sweep = req->op == STORE_UPLOAD_DELETE && is_zero(&req->in.user);
    if (!sweep && !duet_id_eq(&u->owner, &req->in.user))
        return DUET_ENOTFOUND;
    switch (req->op) {
    case STORE_UPLOAD_UPDATE:
        if (u->state >= UPLOAD_ATTACHED)
            return DUET_ENOTFOUND;
        if ((uint64_t)req->in.seq > u->offset)
            u->offset = (uint64_t)req->in.seq;
        if (req->in.kind != 0)
            u->kind = req->in.kind;
        if (req->in.text != NULL && (u->mime = pool_strdup(&req->pool, req->in.text)) == NULL)
            return -ENOMEM;
        if (req->in.upload_state >= 0)
            u->state = req->in.upload_state;
        cs_write(op, UP_WRITTEN, CS_UPLOAD_SET, "ldsds", (int64_t)u->offset, u->kind, u->mime,
                 u->state, u->id);
        return 1;
    case STORE_UPLOAD_DELETE:
        if (u->state == UPLOAD_ATTACHED)
            return DUET_EFORBIDDEN;
        if (!sweep && u->state == UPLOAD_DELETED)
            return DUET_ENOTFOUND;
        if (u->state == UPLOAD_DELETED)
            cs_lwt(op, UP_DELETED, CS_UPLOAD_DELETE, "sd", u->id, u->state);
        else
            cs_lwt(op, UP_DELETED, CS_UPLOAD_MARK_GONE, "lsd", req->in.now, u->id, u->state);
        return 1;
    default: /* GET */
        return 0;
    }
}

/* MEDIA_GET: what the user's history shows them (store.h). */
static int media_step(cs_op *op)
{
    store_req *req = op->req;
    const duet_id *me = &req->in.user;
    struct duet_upload *u = &req->out.upload;
    const char *mid = "";
    int rc;
    switch (op->step) {
    case UP_START:
        if (req->in.upload_id == NULL)
            return -EINVAL;
        cs_read(op, UP_ROW, CS_UPLOAD_GET, "s", req->in.upload_id);
        return 1;
    case UP_ROW:
        if ((rc = row_loaded(op, u, &mid)) < 0)
            return rc;
        if (u->state == UPLOAD_STORED)
            return duet_id_eq(&u->owner, me) ? 0 : DUET_ENOTFOUND;
        if (u->state != UPLOAD_ATTACHED || mid[0] == '\0')
            return DUET_ENOTFOUND;
        op->id = u->chat_id;
        /* The message id (in the request's pool) names the claim to read. */
        req->in.message_id = mid;
        cs_read(op, UP_CHAT, CS_CHAT_GET, "i", &u->chat_id);
        return 1;
    case UP_CHAT:
        if ((rc = cs_load_member_chat(op)) < 0)
            return rc == DUET_EFORBIDDEN ? DUET_ENOTFOUND : rc;
        cs_read(op, UP_CLAIM, CS_CLAIM_GET, "is", &op->id, req->in.message_id);
        return 1;
    case UP_CLAIM:
        if ((rc = cs_q_status(op)) < 0)
            return rc;
        if (op->q.rows.n_rows < 1 || cs_is_null(cql_cell(&op->q.rows, 0, 0)))
            return DUET_ENOTFOUND;
        op->seq = cs_get_i64(cql_cell(&op->q.rows, 0, 0));
        u->seq = op->seq;
        cs_read(op, UP_MSG, CS_MSG_GET, "ill", &op->id, cs_bucket(op->seq), op->seq);
        return 1;
    default: { /* UP_MSG */
        if ((rc = cs_q_status(op)) < 0)
            return rc;
        struct duet_msg m;
        if (op->q.rows.n_rows < 1 || cs_row_void(&op->q.rows, 0, 0))
            return DUET_ENOTFOUND;
        if (cs_read_msg(&op->pool, &op->q.rows, 0, 0, &op->id, &m) < 0)
            return -ENOMEM;
        if (m.deleted_at != 0 ||
            (cs_row_withheld(&op->q.rows, 0, 0) && duet_id_eq(&m.receiver, me)))
            return DUET_ENOTFOUND;
        return 0;
    }
    }
}

/* EXPIRED: the rows of states staging, stored (expired ones) and deleted
 * (all), at most limit in all. op->count walks the three states. */
static int expired_step(cs_op *op)
{
    static const int states[] = {UPLOAD_STAGING, UPLOAD_STORED, UPLOAD_DELETED};
    store_req *req = op->req;
    int limit = req->in.limit > 0 ? req->in.limit : 100;
    int rc;
    if (op->step == UP_START) {
        req->out.uploads = pool_alloc(&req->pool, (size_t)limit * sizeof(*req->out.uploads));
        if (req->out.uploads == NULL)
            return -ENOMEM;
        op->count = 0;
    } else {
        if ((rc = cs_q_status(op)) < 0)
            return rc;
        for (int64_t i = 0; i < op->q.rows.n_rows && req->out.n_uploads < (size_t)limit; i++) {
            struct duet_upload *u = &req->out.uploads[req->out.n_uploads];
            const char *mid;
            if (read_upload(&req->pool, &op->q.rows, i, u, &mid) < 0)
                return -ENOMEM;
            if (u->state == UPLOAD_DELETED || u->expires_at <= req->in.now)
                req->out.n_uploads++;
        }
        op->count++;
    }
    if (op->count >= 3 || req->out.n_uploads >= (size_t)limit)
        return 0;
    /* A sweep's batch: expired rows are found among the first few thousand. */
    cs_read(op, UP_STATE, CS_UPLOAD_BY_STATE, "dd", states[op->count], 5000);
    return 1;
}

void cs_upload_op(cs_op *op)
{
    int rc;
    switch (op->req->op) {
    case STORE_UPLOAD_CREATE:
        rc = create_step(op);
        break;
    case STORE_MEDIA_GET:
        rc = media_step(op);
        break;
    case STORE_UPLOAD_EXPIRED:
        rc = expired_step(op);
        break;
    default:
        rc = row_step(op);
        break;
    }
    if (rc != 1) /* 1: a request went out; else the op is over */
        cs_finish(op, rc);
}
