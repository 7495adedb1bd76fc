/* sqlite_push.c - Web Push on SQLite: subscriptions, the preview setting,
 * the chats with a notification showing, and the persisted push queue
 * (store.h, STORE_PUSH_*). Runs on the writer thread like every op. */
#include <errno.h>
#include <string.h>

#include "../store_rules.h"
#include "sqlite_int.h"

#define SUB_COLS                                                                                   \
    "s.sub_id, s.user_id, s.endpoint, s.p256dh, s.auth, s.device, s.created_at, s.last_success"
#define JOB_COLS                                                                                   \
    "j.job_id, j.kind, j.chat_id, j.seq, j.sender_name, j.body, j.created_at, " SUB_COLS

const char *const sq_push_sql[SQ_STMT_COUNT] = {
    [SQ_PUSH_SUB_UPSERT] =
        "INSERT INTO push_subs (sub_id, user_id, token_hash, endpoint, p256dh, auth, device,"
        " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (endpoint) DO UPDATE SET"
        " sub_id = ?1, user_id = ?2, token_hash = ?3, p256dh = ?5, auth = ?6, device = ?7,"
        " created_at = ?8, last_success = 0",
    [SQ_PUSH_SUB_COUNT] = "SELECT count(*) FROM push_subs WHERE user_id = ?1",
    [SQ_PUSH_SUB_OLDEST_DEL] =
        "DELETE FROM push_subs WHERE sub_id = (SELECT sub_id FROM push_subs WHERE user_id = ?1"
        " ORDER BY created_at, sub_id LIMIT 1) RETURNING sub_id",
    [SQ_PUSH_SUB_LIST] =
        "SELECT " SUB_COLS " FROM push_subs s WHERE s.user_id = ?1 ORDER BY s.created_at, s.sub_id",
    [SQ_PUSH_SUB_DELETE] = "DELETE FROM push_subs WHERE sub_id = ?1 AND user_id = ?2",
    [SQ_PUSH_SUB_JOBS_DELETE] = "DELETE FROM push_jobs WHERE sub_id = ?1",
    [SQ_PUSH_SUB_LOGOUT_JOBS] =
        "DELETE FROM push_jobs WHERE sub_id IN (SELECT sub_id FROM push_subs WHERE user_id = ?1"
        " AND token_hash = ?2)",
    [SQ_PUSH_SUB_LOGOUT] = "DELETE FROM push_subs WHERE user_id = ?1 AND token_hash = ?2",
    [SQ_PUSH_PREFS_GET] = "SELECT preview FROM push_prefs WHERE user_id = ?1",
    /* The user's mute of the chat (c-org's chat_state): a muted chat pushes nothing. */
    [SQ_PUSH_JOBS_ERASE] = "UPDATE push_jobs SET body = '' WHERE chat_id = ?1 AND seq = ?2"
                           " AND body != ''",
    [SQ_PUSH_MUTED] = "SELECT muted_until FROM chat_state WHERE user_id = ?1 AND chat_id = ?2",
    [SQ_PUSH_PREFS_SET] = "INSERT INTO push_prefs (user_id, preview) VALUES (?1, ?2)"
                          " ON CONFLICT (user_id) DO UPDATE SET preview = ?2",
    [SQ_PUSH_NOTIFIED_SET] =
        "INSERT INTO push_notified (user_id, chat_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    [SQ_PUSH_NOTIFIED_CLEAR] = "DELETE FROM push_notified WHERE user_id = ?1 AND chat_id = ?2",
    [SQ_PUSH_JOB_INSERT] =
        "INSERT INTO push_jobs (job_id, instance, sub_id, kind, chat_id, seq, sender_name, body,"
        " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [SQ_PUSH_SUB_DELETE_ANY] = "DELETE FROM push_subs WHERE sub_id = ?1",
    [SQ_PUSH_JOBS_LIST] = "SELECT " JOB_COLS " FROM push_jobs j JOIN push_subs s"
                          " ON s.sub_id = j.sub_id WHERE j.instance = ?1 ORDER BY j.created_at",
    [SQ_PUSH_JOB_SUB] = "SELECT sub_id FROM push_jobs WHERE job_id = ?1",
    [SQ_PUSH_JOB_DELETE] = "DELETE FROM push_jobs WHERE job_id = ?1",
    [SQ_PUSH_SUB_SUCCESS] = "UPDATE push_subs SET last_success = ?2 WHERE sub_id = ?1",
    [SQ_PUSH_SUB_OTHERS_JOBS] =
        "DELETE FROM push_jobs WHERE sub_id IN (SELECT sub_id FROM push_subs WHERE user_id = ?1"
        " AND token_hash <> ?2)",
    [SQ_PUSH_SUB_OTHERS] = "DELETE FROM push_subs WHERE user_id = ?1 AND token_hash <> ?2",
};

static int read_sub(pool_t *p, sqlite3_stmt *st, int col, struct duet_push_sub *sub)
{
    memset(sub, 0, sizeof(*sub));
    sq_col_id(st, col, &sub->id);
    sq_col_id(st, col + 1, &sub->user);
    if (sq_col_str(p, st, col + 2, &sub->endpoint) < 0 ||
        sq_col_str(p, st, col + 3, &sub->p256dh) < 0 ||
        sq_col_str(p, st, col + 4, &sub->auth) < 0 || sq_col_str(p, st, col + 5, &sub->device) < 0)
        return -ENOMEM;
    sub->created_at = sqlite3_column_int64(st, col + 6);
    sub->last_success = sqlite3_column_int64(st, col + 7);
    return 0;
}

int sq_push_sub_add(sq_store *s, store_req *req)
{
    const duet_id *user = &req->in.user;
    struct duet_push_sub *o = &req->out.push_sub;
    int64_t n = 0;
    int rc;
    duet_id_random(&o->id);
    /* The endpoint may have been another subscription (re-subscribed after
     * a logout, or another account in the same browser): its jobs go. */
    rc = sq_exec(s, SQ_PUSH_SUB_UPSERT, "iihssssl", &o->id, user, req->in.token_hash,
                 req->in.push.endpoint, req->in.push.p256dh, req->in.push.auth,
                 req->in.push.device ? req->in.push.device : "", req->in.now);
    if (rc < 0)
        return rc;
    /* Over the bound the oldest subscriptions go: a browser that was
     * reinstalled never said goodbye, the newest device is the one in use. */
    while (req->in.limit > 0) {
        if ((rc = sq_get_int(s, &n, SQ_PUSH_SUB_COUNT, "i", user)) < 0)
            return rc;
        if (n <= req->in.limit)
            break;
        sqlite3_stmt *st = sq_bind(s, SQ_PUSH_SUB_OLDEST_DEL, "i", user);
        if (st == NULL || (rc = sq_step(s, st)) < 0)
            return DUET_ESTORE;
        if (rc == 1) {
            duet_id old;
            sq_col_id(st, 0, &old);
            sq_reset(st);
            if ((rc = sq_exec(s, SQ_PUSH_SUB_JOBS_DELETE, "i", &old)) < 0)
                return rc;
        }
    }
    o->user = *user;
    o->endpoint = pool_strdup(&req->pool, req->in.push.endpoint);
    o->p256dh = pool_strdup(&req->pool, req->in.push.p256dh);
    o->auth = pool_strdup(&req->pool, req->in.push.auth);
    o->device = pool_strdup(&req->pool, req->in.push.device ? req->in.push.device : "");
    o->created_at = req->in.now;
    if (o->endpoint == NULL || o->p256dh == NULL || o->auth == NULL || o->device == NULL)
        return -ENOMEM;
    return 0;
}

int sq_push_sub_list(sq_store *s, store_req *req)
{
    sqlite3_stmt *st = sq_bind(s, SQ_PUSH_SUB_LIST, "i", &req->in.user);
    size_t cap = 0;
    int rc;
    if (st == NULL)
        return DUET_ESTORE;
    while ((rc = sq_step(s, st)) == 1) {
        struct duet_push_sub *a =
            pool_grow(&req->pool, req->out.push_subs, req->out.n_push_subs, &cap, sizeof(*a));
        if (a == NULL || read_sub(&req->pool, st, 0, &a[req->out.n_push_subs]) < 0) {
            sq_reset(st);
            return -ENOMEM;
        }
        req->out.push_subs = a;
        req->out.n_push_subs++;
    }
    return rc;
}

int sq_push_sub_delete(sq_store *s, store_req *req)
{
    int rc = sq_exec(s, SQ_PUSH_SUB_DELETE, "ii", &req->in.push.sub_id, &req->in.user);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return DUET_ENOTFOUND;
    rc = sq_exec(s, SQ_PUSH_SUB_JOBS_DELETE, "i", &req->in.push.sub_id);
    return rc < 0 ? rc : 0;
}

int sq_push_sub_logout(sq_store *s, store_req *req)
{
    int others = req->in.push.kind == 1;
    int rc = sq_exec(s, others ? SQ_PUSH_SUB_OTHERS_JOBS : SQ_PUSH_SUB_LOGOUT_JOBS, "ih",
                     &req->in.user, req->in.token_hash);
    if (rc >= 0)
        rc = sq_exec(s, others ? SQ_PUSH_SUB_OTHERS : SQ_PUSH_SUB_LOGOUT, "ih", &req->in.user,
                     req->in.token_hash);
    return rc < 0 ? rc : 0;
}

static int get_preview(sq_store *s, const duet_id *user, int *out)
{
    int64_t v = 0;
    int rc = sq_get_int(s, &v, SQ_PUSH_PREFS_GET, "i", user);
    if (rc < 0)
        return rc;
    *out = rc == 1 && v != 0;
    return 0;
}

int sq_push_prefs(sq_store *s, store_req *req)
{
    if (req->in.push.preview >= 0) {
        int rc = sq_exec(s, SQ_PUSH_PREFS_SET, "id", &req->in.user, req->in.push.preview != 0);
        if (rc < 0)
            return rc;
    }
    return get_preview(s, &req->in.user, &req->out.push_preview);
}

/* One job for each of the user's subscriptions (out.push_subs, read
 * already), reported in out. */
static int enqueue_each(sq_store *s, store_req *req, const char *from, const char *text)
{
    int rc;
    size_t n = req->out.n_push_subs;
    struct duet_push_job *jobs = store_push_jobs(req, n, from, text);
    if (n > 0 && jobs == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct duet_push_job *j = &jobs[i];
        rc = sq_exec(s, SQ_PUSH_JOB_INSERT, "isidilssl", &j->id, req->in.push.instance, &j->sub.id,
                     j->kind, &j->chat_id, j->seq, from, text, j->created_at);
        if (rc < 0)
            return rc;
    }
    req->out.push_jobs = jobs;
    req->out.n_push_jobs = n;
    return 0;
}

int sq_push_enqueue(sq_store *s, store_req *req)
{
    const duet_id *user = &req->in.user;
    int rc;
    /* Most users have no subscription: one read, and nothing written. */
    if ((rc = sq_push_sub_list(s, req)) < 0 || req->out.n_push_subs == 0)
        return rc;
    if (req->in.push.kind == PUSH_JOB_CLEAR) {
        /* Only a chat whose notification may still show needs clearing. */
        if ((rc = sq_exec(s, SQ_PUSH_NOTIFIED_CLEAR, "ii", user, &req->in.chat_id)) <= 0)
            return rc;
        return enqueue_each(s, req, "", "");
    }
    int64_t muted_until = 0;
    if ((rc = sq_get_int(s, &muted_until, SQ_PUSH_MUTED, "ii", user, &req->in.chat_id)) < 0)
        return rc;
    if (rc == 1 && muted_until > req->in.now)
        return 0; /* muted: no notification, and nothing to clear later */
    int preview = 0;
    if ((rc = get_preview(s, user, &preview)) < 0)
        return rc;
    if ((rc = sq_exec(s, SQ_PUSH_NOTIFIED_SET, "ii", user, &req->in.chat_id)) < 0)
        return rc;
    const char *from = req->in.push.from;
    struct duet_user sender;
    if (from == NULL) {
        /* The name as it is now: a rename shows in later notifications. */
        if ((rc = sq_user_by_id(s, &req->pool, &req->in.push.sender, &sender)) < 0)
            return rc;
        from = sender.display_name;
    }
    const char *text = req->in.push.kind == PUSH_JOB_REACTION ? (req->in.text ? req->in.text : "")
                       : preview && req->in.text              ? req->in.text
                                                              : "";
    return enqueue_each(s, req, from, text);
}

int sq_push_jobs_list(sq_store *s, store_req *req)
{
    sqlite3_stmt *st = sq_bind(s, SQ_PUSH_JOBS_LIST, "s", req->in.push.instance);
    size_t cap = 0;
    int rc;
    if (st == NULL)
        return DUET_ESTORE;
    while ((rc = sq_step(s, st)) == 1) {
        struct duet_push_job *a =
            pool_grow(&req->pool, req->out.push_jobs, req->out.n_push_jobs, &cap, sizeof(*a));
        if (a == NULL) {
            sq_reset(st);
            return -ENOMEM;
        }
        struct duet_push_job *j = &a[req->out.n_push_jobs];
        memset(j, 0, sizeof(*j));
        sq_col_id(st, 0, &j->id);
        j->kind = sqlite3_column_int(st, 1);
        sq_col_id(st, 2, &j->chat_id);
        j->seq = sqlite3_column_int64(st, 3);
        j->created_at = sqlite3_column_int64(st, 6);
        if (sq_col_str(&req->pool, st, 4, &j->from) < 0 ||
            sq_col_str(&req->pool, st, 5, &j->text) < 0 ||
            read_sub(&req->pool, st, 7, &j->sub) < 0) {
            sq_reset(st);
            return -ENOMEM;
        }
        req->out.push_jobs = a;
        req->out.n_push_jobs++;
    }
    return rc;
}

int sq_push_job_done(sq_store *s, store_req *req)
{
    duet_id sub;
    const duet_id *job = &req->in.push.job_id;
    sqlite3_stmt *st = sq_bind(s, SQ_PUSH_JOB_SUB, "i", job);
    int rc;
    if (st == NULL || (rc = sq_step(s, st)) < 0)
        return DUET_ESTORE;
    if (rc == 0)
        return 0; /* already gone with its subscription */
    sq_col_id(st, 0, &sub);
    sq_reset(st);
    if ((rc = sq_exec(s, SQ_PUSH_JOB_DELETE, "i", job)) < 0)
        return rc;
    if (req->in.push.result == PUSH_RESULT_DELIVERED)
        rc = sq_exec(s, SQ_PUSH_SUB_SUCCESS, "il", &sub, req->in.now);
    else if (req->in.push.result == PUSH_RESULT_GONE)
        rc = sq_exec(s, SQ_PUSH_SUB_JOBS_DELETE, "i", &sub) < 0
                 ? DUET_ESTORE
                 : sq_exec(s, SQ_PUSH_SUB_DELETE_ANY, "i", &sub);
    return rc < 0 ? rc : 0;
}

int sq_push_erase(sq_store *s, const duet_id *chat, int64_t seq)
{
    int rc = sq_exec(s, SQ_PUSH_JOBS_ERASE, "il", chat, seq);
    return rc < 0 ? rc : 0;
}
