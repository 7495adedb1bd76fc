/* cql_pool.c - the cluster: contact points, one connection per node with
 * reconnection and backoff, node choice, and closing. Node discovery and
 * the token ring are in cql_disco.c, requests in cql_req.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "cql_int.h"

enum { BACKOFF_MIN_MS = 250, BACKOFF_MAX_MS = 30000, MAX_NODES = 1024 };

static void contact_try(cql_cluster *cl);

static char *dup_opt(const char *s, int *fail)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    if (d == NULL)
        *fail = 1;
    return d;
}

static void addr_name(const struct sockaddr_storage *a, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)a;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
        port = ntohs(s->sin_port);
    } else if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
        port = ntohs(s->sin6_port);
    }
    snprintf(out, cap, "%s:%d", ip, port);
}

static int addr_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

/* ---- handles and closing --------------------------------------------------- */
/* The copies of the options' strings, and cl itself. */
static void cluster_free_opts(cql_cluster *cl)
{
    free(cl->contact_points);
    free(cl->keyspace);
    free(cl->username);
    free(cl->password);
    free(cl->local_dc);
    free(cl);
}

static void cluster_free(cql_cluster *cl)
{
    void (*done)(void *) = cl->done;
    void *done_data = cl->done_data;
    for (int i = 0; i < cl->n_nodes; i++)
        free(cl->nodes[i]);
    free(cl->nodes);
    free(cl->ring);
    free(cl->contacts);
    while (cl->stmts != NULL) {
        struct cql_stmt *s = cl->stmts;
        cl->stmts = s->next;
        for (int i = 0; i < s->n_per_node; i++)
            free(s->per_node[i].id);
        free(s->per_node);
        free(s->query);
        free(s);
    }
    cql_buf_free(&cl->scratch);
    cluster_free_opts(cl);
    if (done != NULL)
        done(done_data);
}

static void handle_gone(cql_cluster *cl)
{
    if (--cl->open_handles == 0 && cl->closing)
        cluster_free(cl);
}

static void on_timer_closed(uv_handle_t *h)
{
    handle_gone(h->data);
}

static void on_node_timer_closed(uv_handle_t *h)
{
    struct cql_node *n = h->data;
    handle_gone(n->cl);
}

/* ---- ready ------------------------------------------------------------------- */
void cql__maybe_ready(cql_cluster *cl)
{
    if (cl->ready_called || cl->closing)
        return;
    if (!cl->discovered)
        return;
    /* Wait until every discovered node's first attempt settled, so that the
     * caller starts with the whole pool (bounded by the connect timeout). */
    for (int i = 0; i < cl->n_nodes; i++)
        if (cl->nodes[i]->first_round)
            return;
    cl->ready_called = 1;
    cl->ready(cl, cql_cluster_up(cl) > 0 ? 0 : CQL_ENOHOST, cl->ready_data);
}

static void first_round_failed(cql_cluster *cl, int status)
{
    if (cl->ready_called || cl->closing)
        return;
    cl->ready_called = 1;
    cl->ready(cl, status, cl->ready_data);
}

/* ---- nodes --------------------------------------------------------------------- */
struct cql_node *cql__node_add(cql_cluster *cl, const struct sockaddr_storage *addr, const char *dc)
{
    for (int i = 0; i < cl->n_nodes; i++)
        if (addr_eq(&cl->nodes[i]->addr, addr))
            return cl->nodes[i];
    if (cl->n_nodes >= MAX_NODES)
        return NULL;
    struct cql_node **a = realloc(cl->nodes, sizeof(*a) * (size_t)(cl->n_nodes + 1));
    if (a == NULL)
        return NULL;
    cl->nodes = a;
    struct cql_node *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return NULL;
    if (uv_timer_init(cl->loop, &n->retry) < 0) {
        free(n);
        return NULL;
    }
    n->retry.data = n;
    cl->open_handles++;
    n->cl = cl;
    n->idx = cl->n_nodes;
    n->addr = *addr;
    n->backoff_ms = BACKOFF_MIN_MS;
    addr_name(addr, n->name, sizeof(n->name));
    snprintf(n->dc, sizeof(n->dc), "%s", dc ? dc : "");
    a[cl->n_nodes++] = n;
    return n;
}

static void on_node_retry(uv_timer_t *t)
{
    struct cql_node *n = t->data;
    if (!n->cl->closing && n->conn == NULL)
        cql__node_connect(n);
}

static void node_schedule_retry(struct cql_node *n)
{
    if (n->cl->closing)
        return;
    (void)uv_timer_start(&n->retry, on_node_retry, (uint64_t)n->backoff_ms, 0);
    n->backoff_ms = n->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : n->backoff_ms * 2;
}

static void on_conn_free(struct cql_conn *c, void *data)
{
    struct cql_node *n = data;
    (void)c;
    handle_gone(n->cl);
}

static void on_node_down(struct cql_conn *c, int status, void *data)
{
    struct cql_node *n = data;
    cql_cluster *cl = n->cl;
    n->up = 0;
    n->conn = NULL;
    if (!cl->closing)
        log_warn("cql: node %s down: %s", n->name, cql_strerror(status));
    node_schedule_retry(n);
}

static void on_node_ready(struct cql_conn *c, int status, void *data)
{
    struct cql_node *n = data;
    cql_cluster *cl = n->cl;
    int first = n->first_round;
    n->first_round = 0;
    if (status < 0) {
        n->conn = NULL;
        if (!cl->closing)
            log_warn("cql: cannot connect to %s: %s", n->name, cql_strerror(status));
        if (!cl->discovered && n == cl->control) {
            /* Still looking for a first node: the next contact point. */
            cl->first_status = status;
            cl->control = NULL;
            cl->contact_i++;
            contact_try(cl);
            return;
        }
        node_schedule_retry(n);
        if (first)
            cql__maybe_ready(cl);
        return;
    }
    n->up = 1;
    n->backoff_ms = BACKOFF_MIN_MS;
    /* cql_cluster_use ran while this conn was in its handshake. */
    if (n->ks_gen != cl->ks_gen && cl->keyspace != NULL) {
        int r = cql_conn_use(c, cl->keyspace);
        if (r < 0) {
            cql_conn_close(c, r); /* on_node_down: retried later */
            if (first)
                cql__maybe_ready(cl);
            return;
        }
    }
    log_info("cql: connected to %s", n->name);
    if (!cl->discovered && n == cl->control) {
        cql__discover(cl, n);
        return;
    }
    if (first)
        cql__maybe_ready(cl);
}

void cql__node_connect(struct cql_node *n)
{
    cql_cluster *cl = n->cl;
    struct cql_conn_opts o = {
        .addr = n->addr,
        .username = cl->username,
        .password = cl->password,
        .keyspace = cl->keyspace,
        .connect_timeout_ms = cl->o.connect_timeout_ms,
        .request_timeout_ms = cl->o.request_timeout_ms,
        .on_ready = on_node_ready,
        .on_down = on_node_down,
        .on_free = on_conn_free,
        .data = n,
    };
    n->ks_gen = cl->ks_gen;
    int r = cql_conn_open(cl->loop, &o, &n->conn);
    if (r < 0) {
        n->conn = NULL;
        log_warn("cql: cannot connect to %s: %s", n->name, cql_strerror(r));
        node_schedule_retry(n);
        return;
    }
    cl->open_handles++; /* until on_conn_free */
}

/* ---- contact points -------------------------------------------------------------- */
static void on_contact_retry(uv_timer_t *t)
{
    cql_cluster *cl = t->data;
    cl->contact_i = 0;
    contact_try(cl);
}

/* Connects to contact point contact_i, or, when every one failed, reports
 * the first round and tries the list again later. */
static void contact_try(cql_cluster *cl)
{
    if (cl->closing)
        return;
    if (cl->contact_i >= cl->n_contacts) {
        first_round_failed(cl, cl->first_status ? cl->first_status : CQL_ENOHOST);
        (void)uv_timer_start(&cl->contact_retry, on_contact_retry, (uint64_t)cl->contact_backoff_ms,
                             0);
        cl->contact_backoff_ms = cl->contact_backoff_ms * 2 > BACKOFF_MAX_MS
                                     ? BACKOFF_MAX_MS
                                     : cl->contact_backoff_ms * 2;
        return;
    }
    struct cql_node *n = cql__node_add(cl, &cl->contacts[cl->contact_i], NULL);
    if (n == NULL) {
        cl->first_status = -ENOMEM;
        cl->contact_i = cl->n_contacts;
        contact_try(cl);
        return;
    }
    cl->control = n;
    if (n->conn == NULL) {
        (void)uv_timer_stop(&n->retry);
        cql__node_connect(n);
        if (n->conn == NULL) {
            cl->control = NULL;
            cl->contact_i++;
            contact_try(cl);
        }
    } else if (n->up) {
        cql__discover(cl, n);
    }
}

/* ---- node choice ---------------------------------------------------------------------- */
static int usable(const cql_cluster *cl, const struct cql_node *n, int local_only)
{
    return n->up && n->conn != NULL &&
           (!local_only || cl->local_dc == NULL || strcmp(n->dc, cl->local_dc) == 0);
}

struct cql_node *cql__pick_node(cql_cluster *cl, const struct cql_att *att,
                                const struct cql_node *avoid)
{
    if (cl->n_nodes == 0)
        return NULL;
    for (int pass = 0; pass < 4; pass++) {
        int local_only = pass % 2 == 0 && cl->local_dc != NULL;
        const struct cql_node *skip = pass < 2 ? avoid : NULL;
        if (pass % 2 == 1 && cl->local_dc == NULL)
            continue;
        /* Token-aware: the owner of the token, then the next nodes along
         * the ring (the replicas, for SimpleStrategy). */
        if (att != NULL && att->has_token && cl->n_ring > 0) {
            size_t lo = 0, hi = cl->n_ring;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (cl->ring[mid].token < att->token)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (size_t k = 0; k < cl->n_ring; k++) {
                struct cql_node *n = cl->ring[(lo + k) % cl->n_ring].node;
                if (n != skip && usable(cl, n, local_only))
                    return n;
            }
        }
        for (int k = 0; k < cl->n_nodes; k++) {
            struct cql_node *n = cl->nodes[(cl->rr + (unsigned)k) % (unsigned)cl->n_nodes];
            if (n != skip && usable(cl, n, local_only)) {
                cl->rr += (unsigned)k + 1;
                return n;
            }
        }
    }
    return NULL;
}

/* ---- public ---------------------------------------------------------------------------- */
static int parse_contacts(cql_cluster *cl)
{
    const char *s = cl->contact_points;
    int n = 1;
    for (const char *p = s; *p; p++)
        n += *p == ',';
    cl->contacts = calloc((size_t)n, sizeof(*cl->contacts));
    if (cl->contacts == NULL)
        return -ENOMEM;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        while (len > 0 && (*s == ' ' || *s == '\t'))
            s++, len--;
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        if (len > 0) {
            if (cql_parse_addr(s, len, 9042, &cl->contacts[cl->n_contacts]) < 0)
                return -EINVAL;
            cl->n_contacts++;
        }
        if (e == NULL)
            break;
        s = e + 1;
    }
    return cl->n_contacts > 0 ? 0 : -EINVAL;
}

int cql_cluster_open(uv_loop_t *loop, const struct cql_cluster_opts *opts, cql_ready_cb ready,
                     void *data, cql_cluster **out)
{
    if (opts == NULL || opts->contact_points == NULL || ready == NULL)
        return -EINVAL;
    cql_cluster *cl = calloc(1, sizeof(*cl));
    if (cl == NULL)
        return -ENOMEM;
    int fail = 0, r;
    cl->loop = loop;
    cl->o = *opts;
    cl->contact_points = dup_opt(opts->contact_points, &fail);
    cl->keyspace = dup_opt(opts->keyspace, &fail);
    cl->username = dup_opt(opts->username, &fail);
    cl->password = dup_opt(opts->password, &fail);
    cl->local_dc = dup_opt(opts->local_dc, &fail);
    if (fail) {
        r = -ENOMEM;
        goto err;
    }
    if (cl->o.consistency == 0)
        cl->o.consistency = CQL_LOCAL_QUORUM;
    if (cl->o.serial_consistency == 0)
        cl->o.serial_consistency = CQL_LOCAL_SERIAL;
    if (cl->o.request_timeout_ms <= 0)
        cl->o.request_timeout_ms = 12000;
    if (cl->o.connect_timeout_ms <= 0)
        cl->o.connect_timeout_ms = 5000;
    if (cl->o.max_retries < 0)
        cl->o.max_retries = 2;
    cl->ready = ready;
    cl->ready_data = data;
    cl->contact_backoff_ms = BACKOFF_MIN_MS;
    cql_buf_init(&cl->scratch);
    if ((r = parse_contacts(cl)) < 0)
        goto err;
    if ((r = uv_timer_init(loop, &cl->defer)) < 0)
        goto err;
    cl->defer.data = cl;
    cl->open_handles++;
    if ((r = uv_timer_init(loop, &cl->contact_retry)) < 0) {
        cl->closing = 1;
        uv_close((uv_handle_t *)&cl->defer, on_timer_closed);
        return r; /* freed by the close callback */
    }
    cl->contact_retry.data = cl;
    cl->open_handles++;
    if ((r = uv_timer_init(loop, &cl->agree_timer)) < 0) {
        cl->closing = 1;
        uv_close((uv_handle_t *)&cl->contact_retry, on_timer_closed);
        uv_close((uv_handle_t *)&cl->defer, on_timer_closed);
        return r; /* freed by the close callbacks */
    }
    cl->agree_timer.data = cl;
    cl->open_handles++;
    *out = cl;
    contact_try(cl);
    return 0;

err:
    free(cl->contacts);
    cluster_free_opts(cl);
    return r;
}

int cql_cluster_use(cql_cluster *cl, const char *keyspace)
{
    if (cl->closing)
        return CQL_ECLOSED;
    char *ks = strdup(keyspace);
    if (ks == NULL)
        return -ENOMEM;
    free(cl->keyspace);
    cl->keyspace = ks;
    cl->ks_gen++;
    for (int i = 0; i < cl->n_nodes; i++) {
        struct cql_node *n = cl->nodes[i];
        if (n->up && n->conn != NULL) {
            int r = cql_conn_use(n->conn, ks);
            if (r < 0) /* a new connection USEs it in its handshake */
                cql_conn_close(n->conn, r);
        }
    }
    return 0;
}

void cql_cluster_close(cql_cluster *cl, void (*done)(void *data), void *data)
{
    if (cl->closing)
        return;
    cl->closing = 1;
    cl->done = done;
    cl->done_data = data;
    cql__fail_deferred(cl);
    cql__schema_close(cl);
    for (int i = 0; i < cl->n_nodes; i++) {
        struct cql_node *n = cl->nodes[i];
        if (n->conn != NULL)
            cql_conn_close(n->conn, CQL_ECLOSED);
        uv_close((uv_handle_t *)&n->retry, on_node_timer_closed);
    }
    uv_close((uv_handle_t *)&cl->contact_retry, on_timer_closed);
    uv_close((uv_handle_t *)&cl->defer, on_timer_closed);
    uv_close((uv_handle_t *)&cl->agree_timer, on_timer_closed);
}

int cql_cluster_up(const cql_cluster *cl)
{
    int up = 0;
    for (int i = 0; i < cl->n_nodes; i++)
        up += cl->nodes[i]->up;
    return up;
}

int cql_stmt_new(cql_cluster *cl, const char *query, cql_stmt **out)
{
    cql_stmt *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->query_len = strlen(query);
    s->query = strdup(query);
    if (s->query == NULL) {
        free(s);
        return -ENOMEM;
    }
    s->cl = cl;
    s->next = cl->stmts;
    cl->stmts = s;
    *out = s;
    return 0;
}
