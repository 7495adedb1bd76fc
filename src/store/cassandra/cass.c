/* cass.c - the Cassandra store: cluster, schema, statements, closing.
 *
 * Requests run concurrently as CQL round trips, but the store.h contract
 * still holds:
 *
 *  - FIFO completion: a finished op waits in the queue until every earlier
 *    one finished; callbacks run from the queue's head only (cass_queue.c),
 *    never from inside submit (an op that finishes at once arms an idle
 *    handle).
 *  - "Each request sees the effects of earlier ones": a request starts only
 *    when no earlier unfinished request may touch the same user, chat or name
 *    (cass_sched.c), and reads and writes both use LOCAL_QUORUM (or the
 *    configured level), so a write that completed is visible to a later read.
 *  - Durability: a callback runs only after Cassandra acknowledged every
 *    write of the request at that consistency level.
 *  - Atomicity: an op's writes that must stand together go in one LOGGED
 *    batch; see docs/cassandra.md for the few multi-step ops and what a
 *    failure between their steps leaves.
 *
 * Start-up (store_cass_open): connect; while no node answers, log and keep
 * retrying; then CREATE KEYSPACE / TABLE IF NOT EXISTS one by one, wait for
 * schema agreement, register the statements, and call ready.
 */
#include "../../base/log.h"
#include "cass_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* schema_i after the DDL: the two schema-agreement reads. */
#define CS_AGREE_LOCAL  (cs_n_ddl + 1)
#define CS_AGREE_PEERS  (cs_n_ddl + 2)
#define CS_AGREE_MAX_MS 30000
#define CS_RETRY_MS     2000

static void cs_schema_next(cs_store *s);

int64_t cs_ts(cs_store *s)
{
    struct timespec ts;
    int64_t now = 0;
    if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
        now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    /* Strictly increasing, so two writes of one process never tie. */
    if (now <= s->last_ts)
        now = s->last_ts + 1;
    s->last_ts = now;
    return now;
}

cql_stmt *cs_stmt(cs_store *s, enum cs_stmt_id id)
{
    return s->stmts[id];
}

/* ---- closing ---- */

static void cs_on_handle_closed(uv_handle_t *h)
{
    cs_store *s = h->data;
    if (--s->n_handles > 0)
        return;
    free(s->hosts);
    free(s->keyspace);
    free(s->replication);
    cs_members_clear(s);
    map_free(&s->members);
    log_info("store: cassandra: blocks cache: %llu hits, %llu misses",
             (unsigned long long)s->access.hits, (unsigned long long)s->access.misses);
    cs_access_free(&s->access);
    cs_sched_free(&s->sched);
    free(s);
}

/* Once closing, with the cluster closed and the queue empty, closes the
 * handles; the last close callback frees the store. */
void cs_maybe_free(cs_store *s)
{
    if (s->closing != 1 || s->cluster_open || s->head != NULL || s->pumping || s->ddl_live)
        return;
    s->closing = 2; /* the handles are closing: never again */
    uv_close((uv_handle_t *)&s->timer, cs_on_handle_closed);
    uv_close((uv_handle_t *)&s->idle, cs_on_handle_closed);
}

static void cs_on_cluster_closed(void *data)
{
    cs_store *s = data;
    s->cluster_open = 0;
    cs_pump_now(s);
}

static void cs_close(store_t *base)
{
    cs_store *s = (cs_store *)base;
    if (s->closing)
        return;
    s->closing = 1;
    (void)uv_timer_stop(&s->timer); /* always 0 */
    if (s->cluster_open)
        cql_cluster_close(s->cl, cs_on_cluster_closed, s);
    cs_pump_now(s);
}

static void cs_ready(store_t *base, store_ready_cb cb, void *data)
{
    cs_store *s = (cs_store *)base;
    if (s->ready) {
        cb(base, data);
        return;
    }
    s->ready_cb = cb;
    s->ready_data = data;
}

static const struct store_backend cs_backend = {
    .name = "cassandra",
    .submit = cs_submit,
    .ready = cs_ready,
    .drain = cs_drain,
    .close = cs_close,
};

/* ---- start-up: connection, schema, statements ---- */

static void cs_on_timer(uv_timer_t *h);

static void cs_retry_later(cs_store *s, uint64_t ms)
{
    int rc = uv_timer_start(&s->timer, cs_on_timer, ms, 0);
    if (rc < 0)
        log_error("store: cassandra: uv_timer_start: %s", uv_strerror(rc));
}

static void cs_schema_fail(cs_store *s, const char *what, cql_req *q)
{
    if (q->status == CQL_ESERVER)
        log_error("store: cassandra: %s: %s: %s; retrying", what, cql_error_name(q->err.code),
                  q->err.message != NULL ? q->err.message : "");
    else
        log_error("store: cassandra: %s: %s; retrying", what, cql_strerror(q->status));
    s->schema_i = 0;
    cs_retry_later(s, CS_RETRY_MS);
}

static int cs_register(cs_store *s)
{
    const char *const *tables[] = {cs_users_cql, cs_friends_cql, cs_msgs_cql,    cs_org_cql,
                                   cs_push_cql,  cs_search_cql,  cs_uploads_cql, cs_conv_cql};
    for (int i = 0; i < CS_STMT_COUNT; i++) {
        const char *text = NULL;
        for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]) && text == NULL; t++)
            text = tables[t][i];
        if (text == NULL) {
            log_error("store: cassandra: statement %d has no text", i);
            return DUET_ESTORE;
        }
        char *q = cs_expand(text, s->keyspace);
        if (q == NULL)
            return -ENOMEM;
        int rc = cql_stmt_new(s->cl, q, &s->stmts[i]);
        free(q);
        if (rc < 0) {
            log_error("store: cassandra: statement %d: %s", i, cql_strerror(rc));
            return rc;
        }
    }
    for (int op = 0; op < STORE_OP_COUNT; op++) {
        if (cs_op_handler(op) == NULL) {
            log_error("store: cassandra: op %s has no handler", store_op_name(op));
            return DUET_ESTORE;
        }
    }
    return 0;
}

static void cs_schema_done(cs_store *s)
{
    int rc = cs_register(s);
    if (rc < 0) {
        log_error("store: cassandra: cannot register statements; retrying");
        cs_retry_later(s, CS_RETRY_MS);
        return;
    }
    s->ready = 1;
    log_info("store: cassandra: keyspace %s ready (%d node%s up)", s->keyspace,
             cql_cluster_up(s->cl), cql_cluster_up(s->cl) == 1 ? "" : "s");
    if (s->ready_cb != NULL) {
        store_ready_cb cb = s->ready_cb;
        s->ready_cb = NULL;
        cb(&s->base, s->ready_data);
    }
    cs_pump_now(s);
}

/* Every schema_version read so far must be the same. */
static int cs_agreed(cs_store *s, const cql_req *q, uint8_t first[16], int *have)
{
    for (int64_t r = 0; r < q->rows.n_rows; r++) {
        uint8_t v[16];
        if (cql_get_uuid(cql_cell(&q->rows, r, 0), v) < 0)
            continue; /* a peer that has not said yet */
        if (!*have) {
            memcpy(first, v, 16);
            *have = 1;
        } else if (memcmp(first, v, 16) != 0) {
            return 0;
        }
    }
    return 1;
}

static void cs_on_ddl(cql_req *q)
{
    cs_store *s = q->data;
    s->ddl_live = 0;
    if (s->closing) {
        cql_req_reset(q);
        cs_pump_now(s);
        return;
    }
    if (q->status != 0) {
        cs_schema_fail(s, s->schema_i <= cs_n_ddl ? "creating the schema" : "schema agreement", q);
        cql_req_reset(q);
        return;
    }
    if (s->schema_i == CS_AGREE_LOCAL) {
        s->have_version = 0;
        (void)cs_agreed(s, q, s->version, &s->have_version);
    } else if (s->schema_i == CS_AGREE_PEERS) {
        int ok = cs_agreed(s, q, s->version, &s->have_version);
        cql_req_reset(q);
        if (ok) {
            cs_schema_done(s);
        } else if (uv_now(s->loop) - (uint64_t)s->agree_since > CS_AGREE_MAX_MS) {
            log_warn("store: cassandra: no schema agreement after %d s; going on",
                     CS_AGREE_MAX_MS / 1000);
            cs_schema_done(s);
        } else {
            s->schema_i = cs_n_ddl; /* check again soon */
            cs_retry_later(s, 500);
        }
        return;
    }
    cql_req_reset(q);
    s->schema_i++;
    cs_schema_next(s);
}

/* Sends schema step schema_i: CREATE KEYSPACE, the tables, then the two
 * schema_version reads. */
static void cs_schema_next(cs_store *s)
{
    char buf[2048];
    int n;
    if (s->schema_i == 0)
        n = snprintf(buf, sizeof(buf), "CREATE KEYSPACE IF NOT EXISTS %s WITH replication = %s",
                     s->keyspace, s->replication);
    else if (s->schema_i <= cs_n_ddl)
        n = snprintf(buf, sizeof(buf), cs_ddl[s->schema_i - 1], s->keyspace);
    else if (s->schema_i == CS_AGREE_LOCAL)
        n = snprintf(buf, sizeof(buf), "SELECT schema_version FROM system.local");
    else
        n = snprintf(buf, sizeof(buf), "SELECT schema_version FROM system.peers");
    if (s->schema_i == cs_n_ddl + 1 && s->agree_since == 0)
        s->agree_since = (int64_t)uv_now(s->loop);
    if (n < 0 || (size_t)n >= sizeof(buf)) {
        log_error("store: cassandra: schema statement too long");
        return;
    }
    /* The text must outlive the request: keep it in the request's pool. */
    cql_req_init(&s->ddl, CQL_REQ_QUERY, cs_on_ddl, s);
    char *text = pool_strdup(&s->ddl.pool, buf);
    if (text == NULL) {
        cql_req_reset(&s->ddl);
        log_error("store: cassandra: out of memory; retrying");
        cs_retry_later(s, CS_RETRY_MS);
        return;
    }
    s->ddl.query = text;
    s->ddl.idempotent = 1; /* IF NOT EXISTS, and reads */
    s->ddl.consistency = s->schema_i > cs_n_ddl ? CQL_ONE : 0;
    int rc = cql_submit(s->cl, &s->ddl);
    if (rc < 0) {
        cql_req_reset(&s->ddl);
        log_error("store: cassandra: %s; retrying", cql_strerror(rc));
        cs_retry_later(s, CS_RETRY_MS);
        return;
    }
    s->ddl_live = 1;
}

static void cs_on_timer(uv_timer_t *h)
{
    cs_store *s = h->data;
    if (s->closing || s->ready)
        return;
    if (cql_cluster_up(s->cl) == 0) {
        /* Say so now and then, not every second. */
        if (s->up_logged++ % 15 == 0)
            log_error("store: cassandra: no node of %s answers; retrying", s->hosts);
        cs_retry_later(s, 1000);
        return;
    }
    cs_schema_next(s);
}

static void cs_on_cluster_ready(cql_cluster *cl, int status, void *data)
{
    cs_store *s = data;
    if (s->closing)
        return;
    if (status < 0) {
        log_error("store: cassandra: cannot connect to %s: %s; retrying", s->hosts,
                  cql_strerror(status));
        s->up_logged = 1;
        cs_retry_later(s, 1000);
        return;
    }
    log_info("store: cassandra: connected to %s; creating keyspace %s if needed", s->hosts,
             s->keyspace);
    s->schema_i = 0;
    cs_schema_next(s);
}

int store_cass_open(uv_loop_t *loop, const struct store_cass_opts *o, store_t **out)
{
    if (loop == NULL || o == NULL || o->hosts == NULL || o->keyspace == NULL ||
        o->replication == NULL || out == NULL)
        return -EINVAL;
    int rc = cs_check_opts(o);
    if (rc < 0)
        return rc;
    cs_store *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->base.backend = &cs_backend;
    s->loop = loop;
    s->consistency = o->consistency != NULL ? cs_consistency(o->consistency) : CQL_LOCAL_QUORUM;
    s->timeout_ms = o->timeout_ms;
    rc = -ENOMEM;
    s->hosts = strdup(o->hosts);
    s->keyspace = strdup(o->keyspace);
    s->replication = strdup(o->replication);
    if (s->hosts == NULL || s->keyspace == NULL || s->replication == NULL)
        goto err;
    if ((rc = map_init(&s->members)) < 0)
        goto err;
    if ((rc = cs_sched_init(&s->sched)) < 0)
        goto err_map;
    if ((rc = cs_access_init(&s->access, CS_ACCESS_SLOTS)) < 0)
        goto err_sched;
    if ((rc = uv_timer_init(loop, &s->timer)) < 0)
        goto err_access;
    s->timer.data = s;
    if ((rc = uv_idle_init(loop, &s->idle)) < 0) {
        /* The timer's close callback frees the store. */
        s->n_handles = 1;
        s->closing = 2;
        uv_close((uv_handle_t *)&s->timer, cs_on_handle_closed);
        return rc;
    }
    s->idle.data = s;
    s->n_handles = 2;

    struct cql_cluster_opts co = {
        .contact_points = o->hosts,
        .username = o->username,
        .password = o->password,
        .consistency = s->consistency,
        .serial_consistency = s->consistency == CQL_LOCAL_QUORUM || s->consistency == CQL_LOCAL_ONE
                                  ? CQL_LOCAL_SERIAL
                                  : CQL_SERIAL,
        .request_timeout_ms = o->timeout_ms,
        .max_retries = -1,
    };
    rc = cql_cluster_open(loop, &co, cs_on_cluster_ready, s, &s->cl);
    if (rc < 0) {
        log_error("store: cassandra: %s: %s", o->hosts, cql_strerror(rc));
        /* The handles free the store once closed. */
        s->closing = 1;
        cs_maybe_free(s);
        return rc;
    }
    s->cluster_open = 1;
    *out = &s->base;
    return 0;

err_access:
    cs_access_free(&s->access);
err_sched:
    cs_sched_free(&s->sched);
err_map:
    map_free(&s->members);
err:
    free(s->hosts);
    free(s->keyspace);
    free(s->replication);
    free(s);
    return rc;
}
