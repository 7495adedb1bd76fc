/* cql_smoke_checks.c - the checks of cql_smoke.c against a running node. */
#include <stdlib.h>
#include <string.h>

#include "../../src/cql/cql_codec.h"
#include "../../src/cql/cql_int.h"
#include "cql_smoke.h"

/* ---- the checks ------------------------------------------------------------- */
void check_types(cql_cluster *cl)
{
    cql_stmt *ins, *sel;
    CHECK(cql_stmt_new(cl,
                       "INSERT INTO types (k, c, big, ts, b, t, bl, u, tu, n) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       &ins) == 0,
          "statement registered");
    CHECK(cql_stmt_new(cl, "SELECT k, c, big, ts, b, t, bl, u, tu, n FROM types WHERE k = ?",
                       &sel) == 0,
          "statement registered");
    uint8_t u[16], tu[16];
    for (int i = 0; i < 16; i++)
        u[i] = (uint8_t)(0xA0 + i);
    /* A version-1 UUID for the timeuuid column. */
    static const uint8_t tu0[16] = {0x5b, 0x6e, 0x7a, 0x10, 0x9c, 0x3d, 0x11, 0xee,
                                    0x80, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc};
    memcpy(tu, tu0, 16);
    const char blob[] = {0, 1, 2, (char)0xff};
    cql_req req;
    cql_req_init(&req, CQL_REQ_EXECUTE, NULL, NULL);
    req.stmt = ins;
    req.idempotent = 1;
    cql_bind_cstr(&req.values, "typed");
    cql_bind_int(&req.values, -7);
    cql_bind_bigint(&req.values, INT64_MIN + 1);
    cql_bind_bigint(&req.values, 1700000000123LL); /* a timestamp in ms */
    cql_bind_bool(&req.values, 1);
    cql_bind_text(&req.values, "h\xc3\xa9llo", 6);
    cql_bind_blob(&req.values, blob, sizeof(blob));
    cql_bind_uuid(&req.values, u);
    cql_bind_uuid(&req.values, tu);
    cql_bind_null(&req.values);
    int r = run(cl, &req);
    CHECK(r == 0, "prepared INSERT with every bound type (%s)", cql_strerror(r));
    CHECK(req.result_kind == CQL_RESULT_VOID, "INSERT answers Void");
    cql_req_reset(&req);

    cql_req_init(&req, CQL_REQ_EXECUTE, NULL, NULL);
    req.stmt = sel;
    cql_bind_cstr(&req.values, "typed");
    r = run(cl, &req);
    CHECK(r == 0 && req.result_kind == CQL_RESULT_ROWS && req.rows.n_rows == 1 &&
              req.rows.n_cols == 10,
          "prepared SELECT reads the row back");
    if (r == 0 && req.rows.n_rows == 1) {
        const struct cql_rows *rows = &req.rows;
        int32_t i32;
        int64_t i64;
        int b;
        uint8_t g[16];
        CHECK(cql_get_int(cql_cell(rows, 0, 1), &i32) == 0 && i32 == -7, "int");
        CHECK(cql_get_bigint(cql_cell(rows, 0, 2), &i64) == 0 && i64 == INT64_MIN + 1, "bigint");
        CHECK(cql_get_bigint(cql_cell(rows, 0, 3), &i64) == 0 && i64 == 1700000000123LL,
              "timestamp");
        CHECK(rows->col_types[3] == CQL_T_TIMESTAMP, "timestamp column type");
        CHECK(cql_get_bool(cql_cell(rows, 0, 4), &b) == 0 && b == 1, "boolean");
        CHECK(strcmp(cql_get_text(cql_cell(rows, 0, 5), &req.pool), "h\xc3\xa9llo") == 0, "text");
        CHECK(cql_cell(rows, 0, 6)->len == 4 && memcmp(cql_cell(rows, 0, 6)->value, blob, 4) == 0,
              "blob");
        CHECK(cql_get_uuid(cql_cell(rows, 0, 7), g) == 0 && memcmp(g, u, 16) == 0, "uuid");
        CHECK(cql_get_uuid(cql_cell(rows, 0, 8), g) == 0 && memcmp(g, tu, 16) == 0, "timeuuid");
        CHECK(rows->col_types[8] == CQL_T_TIMEUUID, "timeuuid column type");
        CHECK(cql_cell(rows, 0, 9)->value == NULL && cql_cell(rows, 0, 9)->len == -1 &&
                  cql_get_int(cql_cell(rows, 0, 9), &i32) < 0,
              "null");
        CHECK(strcmp(rows->col_names[5], "t") == 0, "column names");
    }
    cql_req_reset(&req);
}

void check_tokens(cql_cluster *cl)
{
    cql_stmt *tok;
    CHECK(cql_stmt_new(cl, "SELECT token(k), k FROM types WHERE k = ?", &tok) == 0, "statement");
    int agree = 0, n = 0;
    for (int i = 0; i < 20; i++) {
        char key[32];
        snprintf(key, sizeof(key), "tk-%d\xc3\xa9", i * 7919);
        char q[128];
        snprintf(q, sizeof(q), "INSERT INTO types (k, c) VALUES ('%s', 1)", key);
        int r = query(cl, q);
        if (r != 0) {
            printf("# INSERT of %s: %s\n", key, cql_strerror(r));
            continue;
        }
        cql_req req;
        cql_req_init(&req, CQL_REQ_EXECUTE, NULL, NULL);
        req.stmt = tok;
        cql_bind_cstr(&req.values, key);
        int64_t server;
        if (run(cl, &req) == 0 && req.rows.n_rows == 1 &&
            cql_get_bigint(cql_cell(&req.rows, 0, 0), &server) == 0) {
            n++;
            agree += server == cql_murmur3_token(key, strlen(key));
        }
        cql_req_reset(&req);
    }
    CHECK(n == 20 && agree == 20, "Murmur3: the driver's token equals token(k) for %d/%d keys",
          agree, n);
    CHECK(tok->pk_known && tok->n_pk == 1 && tok->pk[0] == 0,
          "partition-key indexes from the PREPARE result");
}

/* With several nodes: discovery found them all, and each key goes to the
 * node owning its token (printed for comparison with `nodetool
 * getendpoints cql_smoke types KEY`). */
void check_routing(cql_cluster *cl)
{
    if (cl->n_nodes < 2) {
        printf("# one node: token-aware routing has nothing to choose from\n");
        return;
    }
    cql_stmt *tok;
    cql_stmt_new(cl, "SELECT token(k) FROM types WHERE k = ?", &tok);
    int owners[64] = {0}, right = 0;
    for (int i = 0; i < 30; i++) {
        char key[32];
        snprintf(key, sizeof(key), "route-%d", i);
        struct cql_att att = {.has_token = 1, .token = cql_murmur3_token(key, strlen(key))};
        struct cql_node *n = cql__pick_node(cl, &att, NULL);
        if (n == NULL)
            continue;
        /* The owner is the first ring token >= the key's token. */
        const struct cql_ring_entry *own = &cl->ring[0];
        for (size_t k = 0; k < cl->n_ring; k++)
            if (cl->ring[k].token >= att.token) {
                own = &cl->ring[k];
                break;
            }
        right += own->node == n;
        if (n->idx < 64)
            owners[n->idx]++;
        if (i < 5)
            printf("# %s -> %s (token %lld)\n", key, n->name, (long long)att.token);
    }
    int used = 0;
    for (int i = 0; i < 64; i++)
        used += owners[i] > 0;
    CHECK(right == 30 && used >= 2, "token-aware: 30/30 keys to their owner, spread over %d nodes",
          used);
    (void)tok;
}

void check_paging(cql_cluster *cl)
{
    cql_stmt *ins, *sel;
    cql_stmt_new(cl, "INSERT INTO types (k, c, t) VALUES ('paged', ?, ?)", &ins);
    cql_stmt_new(cl, "SELECT c FROM types WHERE k = 'paged'", &sel);
    int ok = 1;
    for (int i = 0; i < 250 && ok; i++) {
        cql_req req;
        cql_req_init(&req, CQL_REQ_EXECUTE, NULL, NULL);
        req.stmt = ins;
        cql_bind_int(&req.values, i);
        cql_bind_cstr(&req.values, "p");
        ok = run(cl, &req) == 0;
        cql_req_reset(&req);
    }
    CHECK(ok, "250 prepared INSERTs");
    int pages = 0, rows = 0, in_order = 1;
    uint8_t state[256];
    size_t state_len = 0;
    for (;;) {
        cql_req req;
        cql_req_init(&req, CQL_REQ_EXECUTE, NULL, NULL);
        req.stmt = sel;
        req.page_size = 70;
        req.paging_state = state_len ? state : NULL;
        req.paging_state_len = state_len;
        if (run(cl, &req) != 0) {
            ok = 0;
            cql_req_reset(&req);
            break;
        }
        pages++;
        for (int64_t i = 0; i < req.rows.n_rows; i++) {
            int32_t c;
            in_order &= cql_get_int(cql_cell(&req.rows, i, 0), &c) == 0 && c == rows;
            rows++;
        }
        state_len = req.rows.paging_state_len;
        if (state_len > sizeof(state))
            state_len = 0, ok = 0;
        if (state_len)
            memcpy(state, req.rows.paging_state, state_len);
        cql_req_reset(&req);
        if (state_len == 0 || pages > 100)
            break;
    }
    CHECK(ok && pages >= 4 && rows == 250 && in_order,
          "paging: %d rows in order over %d pages of 70", rows, pages);
}

void check_batch_and_lwt(cql_cluster *cl)
{
    cql_stmt *ins, *cnt, *lwt;
    cql_stmt_new(cl, "INSERT INTO types (k, c, n) VALUES (?, ?, ?)", &ins);
    cql_stmt_new(cl, "SELECT count(*) FROM types WHERE k = ?", &cnt);
    cql_stmt_new(cl, "INSERT INTO types (k, c, n) VALUES (?, ?, ?) IF NOT EXISTS", &lwt);
    cql_req req;
    cql_req_init(&req, CQL_REQ_BATCH, NULL, NULL);
    req.batch_type = CQL_BATCH_LOGGED;
    req.n_batch = 3;
    for (int i = 0; i < 3; i++) {
        req.batch[i].stmt = ins;
        cql_bind_cstr(&req.batch[i].values, "batched");
        cql_bind_int(&req.batch[i].values, i);
        cql_bind_int(&req.batch[i].values, i * 10);
    }
    int r = run(cl, &req);
    CHECK(r == 0 && req.result_kind == CQL_RESULT_VOID, "LOGGED batch of 3 prepared inserts (%s)",
          cql_strerror(r));
    cql_req_reset(&req);
    cql_req_init(&req, CQL_REQ_EXECUTE, NULL, NULL);
    req.stmt = cnt;
    cql_bind_cstr(&req.values, "batched");
    int64_t n = -1;
    r = run(cl, &req);
    CHECK(r == 0 && req.rows.n_rows == 1 && cql_get_bigint(cql_cell(&req.rows, 0, 0), &n) == 0 &&
              n == 3,
          "the batch wrote 3 rows (%lld)", (long long)n);
    cql_req_reset(&req);

    query(cl, "DELETE FROM types WHERE k = 'lwt'");
    for (int round = 0; round < 2; round++) {
        cql_req_init(&req, CQL_REQ_EXECUTE, NULL, NULL);
        req.stmt = lwt;
        req.consistency = CQL_QUORUM;
        req.serial_consistency = CQL_SERIAL;
        cql_bind_cstr(&req.values, "lwt");
        cql_bind_int(&req.values, 1);
        cql_bind_int(&req.values, 100 + round);
        r = run(cl, &req);
        CHECK(r == 0 && req.applied == (round == 0 ? 1 : 0),
              "LWT INSERT IF NOT EXISTS, round %d: [applied] = %d", round + 1, req.applied);
        cql_req_reset(&req);
    }
}

void check_unprepared(cql_cluster *cl)
{
    cql_stmt *sel;
    cql_stmt_new(cl, "SELECT n FROM types WHERE k = 'batched' AND c = 2", &sel);
    cql_req req;
    cql_req_init(&req, CQL_REQ_EXECUTE, NULL, NULL);
    req.stmt = sel;
    int r = run(cl, &req);
    cql_req_reset(&req);
    /* Make every node's copy of the id unknown to the server, as after a
     * node restart: the next EXECUTE gets UNPREPARED and must recover. */
    int bogus = 0;
    for (int i = 0; i < sel->n_per_node; i++)
        if (sel->per_node[i].state == PREP_READY && sel->per_node[i].id_len > 0) {
            sel->per_node[i].id[0] ^= 0x5A;
            bogus++;
        }
    cql_req_init(&req, CQL_REQ_EXECUTE, NULL, NULL);
    req.stmt = sel;
    r = run(cl, &req);
    int32_t n = -1;
    CHECK(bogus > 0 && r == 0 && req.rows.n_rows == 1 &&
              cql_get_int(cql_cell(&req.rows, 0, 0), &n) == 0 && n == 20,
          "UNPREPARED: a stale id is prepared again and the EXECUTE succeeds (%s)",
          cql_strerror(r));
    cql_req_reset(&req);
}

void check_errors(cql_cluster *cl)
{
    cql_req req;
    cql_req_init(&req, CQL_REQ_QUERY, NULL, NULL);
    req.query = "SELEC nonsense FROM";
    int r = run(cl, &req);
    CHECK(r == CQL_ESERVER && req.err.code == CQL_ERR_SYNTAX && req.err.message != NULL &&
              req.err.message[0] != '\0',
          "syntax error: CQL_ESERVER, code 0x%04x", req.err.code);
    cql_req_reset(&req);

    cql_stmt *bad;
    cql_stmt_new(cl, "SELECT * FROM no_such_table WHERE k = ?", &bad);
    cql_req_init(&req, CQL_REQ_EXECUTE, NULL, NULL);
    req.stmt = bad;
    cql_bind_cstr(&req.values, "x");
    r = run(cl, &req);
    CHECK(r == CQL_ESERVER && req.err.code == CQL_ERR_INVALID,
          "a PREPARE error reaches the request: %s", cql_error_name(req.err.code));
    cql_req_reset(&req);

    cql_req_init(&req, CQL_REQ_QUERY, NULL, NULL);
    req.query = "CREATE KEYSPACE cql_smoke WITH replication = "
                "{'class': 'SimpleStrategy', 'replication_factor': 1}";
    r = run(cl, &req);
    CHECK(r == CQL_ESERVER && req.err.code == CQL_ERR_ALREADY_EXISTS && req.err.keyspace &&
              strcmp(req.err.keyspace, "cql_smoke") == 0 && req.err.table &&
              strcmp(req.err.table, "") == 0,
          "ALREADY_EXISTS with its keyspace (and an empty table)");
    cql_req_reset(&req);
}

/* A cluster whose requests time out after 1 ms: heavy reads time out, their
 * stream ids stay taken until the late answers come, then are free again. */
void check_timeouts(const char *hosts)
{
    int status;
    cql_cluster *cl = open_cluster(hosts, NULL, 1, &status);
    CHECK(cl != NULL && status == 0, "second cluster for timeouts");
    if (cl == NULL)
        return;
    enum { N = 40 };
    static cql_req reqs[N];
    int done = 0;
    for (int i = 0; i < N; i++) {
        cql_req_init(&reqs[i], CQL_REQ_QUERY, on_req_done, &done);
        reqs[i].query = "SELECT * FROM system_schema.columns";
        reqs[i].consistency = CQL_ONE;
        if (cql_submit(cl, &reqs[i]) < 0)
            done++;
    }
    while (done < N)
        uv_run(&loop, UV_RUN_ONCE);
    int timeouts = 0, others = 0;
    for (int i = 0; i < N; i++) {
        timeouts += reqs[i].status == CQL_ETIMEOUT;
        others += reqs[i].status != CQL_ETIMEOUT && reqs[i].status != 0;
        cql_req_reset(&reqs[i]);
    }
    CHECK(timeouts > 0 && others == 0, "%d of %d requests timed out, none failed otherwise",
          timeouts, N);
    int held = 0;
    for (int i = 0; i < cl->n_nodes; i++)
        if (cl->nodes[i]->conn)
            held += cql_conn_streams_used(cl->nodes[i]->conn);
    /* The late answers arrive: wait for them (bounded), then every id is free. */
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    for (int waited = 0; waited < 100; waited++) {
        int used = 0;
        for (int i = 0; i < cl->n_nodes; i++)
            if (cl->nodes[i]->conn)
                used += cql_conn_streams_used(cl->nodes[i]->conn);
        if (used == 0)
            break;
        uv_timer_start(&t, noop_timer, 100, 0);
        uv_run(&loop, UV_RUN_ONCE);
    }
    int used = 0;
    for (int i = 0; i < cl->n_nodes; i++)
        if (cl->nodes[i]->conn)
            used += cql_conn_streams_used(cl->nodes[i]->conn);
    CHECK(held > 0 && used == 0,
          "timed-out stream ids stayed reserved (%d) until their late answers (%d left)", held,
          used);
    uv_close((uv_handle_t *)&t, NULL);
    close_cluster(cl);
}

void check_close_with_requests(cql_cluster *cl)
{
    enum { N = 20 };
    static cql_req reqs[N];
    int done = 0;
    for (int i = 0; i < N; i++) {
        cql_req_init(&reqs[i], CQL_REQ_QUERY, on_req_done, &done);
        reqs[i].query = "SELECT * FROM system_schema.columns";
        if (cql_submit(cl, &reqs[i]) < 0)
            done++;
    }
    int closed = 0;
    cql_cluster_close(cl, on_closed, &closed);
    int all_closed = done == N;
    while (!closed)
        uv_run(&loop, UV_RUN_ONCE);
    int eclosed = 0;
    for (int i = 0; i < N; i++) {
        eclosed += reqs[i].status == CQL_ECLOSED;
        cql_req_reset(&reqs[i]);
    }
    CHECK(all_closed && eclosed == N, "close fails %d/%d requests in flight with CQL_ECLOSED",
          eclosed, N);
}
