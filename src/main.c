/* main.c - duetd: start-up, signals and graceful shutdown.
 *
 * Shutdown order matters for "nothing acknowledged is lost": stop accepting,
 * close every WebSocket with 1001 (their close handlers still submit last-seen
 * writes), let the hub tell the other instances (Redis), and only then close
 * the store, which commits and completes everything still queued. A store
 * may complete its queue asynchronously (Cassandra), so main.c first waits
 * for it to drain (store_drain) and then closes it.
 *
 * Start-up: duetd waits (running the loop, so signals work) until the store
 * is ready (store_ready; with Cassandra, until the keyspace and tables
 * exist), and only then listens.
 * While no node answers the store logs why and retries; nothing is served
 * meanwhile, so a balancer sends clients to the instances that are ready.
 */
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/api.h"
#include "app/app.h"
#include "app/client.h"
#include "app/presence.h"
#include "app/push_svc.h"
#include "app/uploads.h"
#include "base/log.h"
#include "net/static.h"

/* Ownership: lives on main's stack for the life of the loop. */
struct daemon {
    struct app app;
    struct config cfg;
    uv_loop_t loop;
    uv_signal_t sigterm, sigint;
    int nsignals;      /* how many of the two are initialised */
    int cassandra;     /* --store cassandra */
    int store_ready;   /* the store serves requests (store_ready) */
    int stop_waiting;  /* a signal came while waiting for the store */
    char headers[128]; /* added to every HTTP response */
};

/* Closes the signal handles that were initialised (once). */
static void close_signals(struct daemon *d)
{
    if (d->nsignals > 0)
        uv_close((uv_handle_t *)&d->sigterm, NULL);
    if (d->nsignals > 1)
        uv_close((uv_handle_t *)&d->sigint, NULL);
    d->nsignals = 0;
}

/* Every queued store request has completed: close the store and the rest. */
static void finish_shutdown(void *dp)
{
    struct daemon *d = dp;
    struct app *app = &d->app;
    store_close(app->store);
    app->store = NULL;
    auth_close(&app->auth);
    close_signals(d);
    log_info("shutdown complete");
}

/* Uploads in flight have stored their offsets and the blob store is
 * closed: the store may drain. */
static void on_uploads_closed(void *dp)
{
    struct daemon *d = dp;
    store_drain(d->app.store, finish_shutdown, d);
}

/* The hub has sent what other instances must hear of our users leaving. */
static void on_hub_done(void *ctx)
{
    struct app *app = ctx;
    struct daemon *d = (struct daemon *)app; /* app is the first member */
    uploads_close(app, on_uploads_closed, d);
}

static void on_uploads_abandoned(void *dp)
{
    (void)dp; /* start-up failed; run() closes the rest */
}

static void on_net_closed(void *appp)
{
    struct app *app = appp;
    app->net = NULL;
    retry_close(app);
    /* Pushes in flight are cancelled; their jobs stay for the next start. */
    push_svc_close(app->push);
    app->push = NULL;
    hub_shutdown(app->hub, on_hub_done);
}

static void on_hub_abandoned(void *ctx)
{
    /* Start-up failed; run() closes the rest. */
}

static int start_hub(struct daemon *d)
{
    struct config *c = &d->cfg;
    struct hub_host host;
    app_hub_host(&d->app, &host);
    if (c->redis == NULL) {
        log_info("hub: in-process (this instance alone)");
        return hub_local_new(&host, &d->app.hub);
    }
    struct hub_redis_opts o = {
        .host = c->redis_host,
        .instance = c->instance,
        .port = c->redis_port,
        .ttl_ms = c->presence_ttl_s * 1000,
        .timeout_ms = c->redis_timeout_ms,
    };
    log_info("hub: redis %s:%d (presence ttl %llds)", o.host, o.port, (long long)c->presence_ttl_s);
    return hub_redis_new(d->app.loop, &host, &o, &d->app.hub);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;
    if (d->app.stopping) {
        log_warn("second signal: exiting now");
        exit(1);
    }
    d->app.stopping = 1;
    if (d->app.net == NULL) {
        /* Still waiting for the store: nothing to close yet. */
        log_info("%s: stopping before start-up finished", signum == SIGTERM ? "SIGTERM" : "SIGINT");
        d->stop_waiting = 1;
        return;
    }
    log_info("%s: shutting down", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    net_server_stop_accepting(d->app.net);
    net_server_close(d->app.net, 1001);
}

static int make_dirs(const char *dir)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        log_error("cannot create data folder %s: %s", dir, strerror(errno));
        return -errno;
    }
    return 0;
}

static void on_store_ready(store_t *st, void *dp)
{
    struct daemon *d = dp;
    d->store_ready = 1;
}

static int open_cassandra(struct daemon *d)
{
    const struct config *c = &d->cfg;
    struct store_cass_opts co = {
        .hosts = c->cassandra,
        .keyspace = c->cassandra_keyspace,
        .replication = c->cassandra_replication,
        .username = c->cassandra_user,
        .password = c->cassandra_password,
        .consistency = c->cassandra_consistency,
        .timeout_ms = c->cassandra_timeout_ms,
    };
    int r = store_cass_open(&d->loop, &co, &d->app.store);
    if (r < 0) {
        log_error("cannot start the Cassandra store (%s): %s", c->cassandra, duet_strerror_code(r));
        return r;
    }
    log_info("store: cassandra %s, keyspace %s, consistency %s; waiting for it before listening",
             c->cassandra, c->cassandra_keyspace, c->cassandra_consistency);
    return 0;
}

/* Runs the loop until the store is ready (or a signal asks to stop). */
static int wait_store(struct daemon *d)
{
    store_ready(d->app.store, on_store_ready, d);
    while (!d->store_ready && !d->stop_waiting) {
        if (uv_run(&d->loop, UV_RUN_ONCE) == 0 && !d->store_ready) {
            log_error("store: %s: nothing left to wait for", d->app.store->backend->name);
            return DUET_ESTORE;
        }
    }
    return 0;
}

static int open_sqlite(struct daemon *d)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/duet.db", d->cfg.data_dir);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    struct store_sqlite_opts so = {
        .path = path,
        .sync_full = strcmp(d->cfg.sync, "full") == 0,
        .cache_kib = d->cfg.cache_mib * 1024,
        .commit_window_ms = d->cfg.commit_window_ms,
        .fts_shard_rows = d->cfg.fts_shard_rows,
        .max_inflight = (size_t)d->cfg.store_max_inflight,
    };
    int r = store_sqlite_open(&d->loop, &so, &d->app.store);
    if (r < 0)
        log_error("cannot open the database %s: %s", path, duet_strerror_code(r));
    else
        log_info("store: sqlite %s (sync=%s)", path, d->cfg.sync);
    return r;
}

static int open_store(struct daemon *d)
{
    int r = d->cassandra ? open_cassandra(d) : open_sqlite(d);
    return r < 0 ? r : wait_store(d);
}

static int start_net(struct daemon *d)
{
    int n = snprintf(d->headers, sizeof(d->headers), "X-Duet-Instance: %s\r\n", d->cfg.instance);
    if (n < 0 || (size_t)n >= sizeof(d->headers))
        return -EINVAL;
    struct net_server_opts no = {
        .headers = d->headers,
        .host = d->cfg.host,
        .port = d->cfg.port,
        .max_header_bytes = (size_t)d->cfg.max_header_bytes,
        .max_body_bytes = (size_t)d->cfg.max_body_kib * 1024,
        .max_ws_msg_bytes = (size_t)d->cfg.max_ws_msg_kib * 1024,
        .max_ws_queue_bytes = (size_t)d->cfg.max_ws_queue_kib * 1024,
        .max_conns = (size_t)d->cfg.max_conns,
        /* Behind a proxy every connection comes from it: nginx caps them
         * per client (limit_conn), the WebSocket cap (limits.c) still holds. */
        .max_conns_per_addr = d->cfg.trust_proxy ? 0 : (size_t)d->cfg.max_conns_per_addr,
        .header_timeout_ms = 10000,
        .idle_timeout_ms = (uint64_t)d->cfg.keepalive_s * 1000,
        .ws_ping_ms = (uint64_t)d->cfg.ws_ping_s * 1000,
        .stream_prefix = "/api/uploads/", /* tus PATCH bodies (uploads_patch.c) */
        .app_cb = {.on_request = api_on_request,
                   .on_ws_text = client_on_ws_text,
                   .on_ws_close = client_on_ws_close,
                   .on_ws_drain = client_on_ws_drain,
                   .on_closed = on_net_closed},
        .app = &d->app,
    };
    int r = net_server_start(&d->loop, &no, &d->app.net);
    if (r < 0) {
        log_error("cannot listen on %s: %s", d->cfg.listen, uv_strerror(r));
        return r;
    }
    log_info("listening on http://%s:%d (instance %s)", d->cfg.host, net_server_port(d->app.net),
             d->cfg.instance);
    return 0;
}

/* Web Push: the VAPID key (--vapid-key, else <data>/vapid.pem, made at
 * the first start) and the sender. Off when the key cannot be had: duet
 * runs without push (the API answers push_unavailable). */
static void start_push(struct daemon *d)
{
    push_vapid *v = NULL;
    int r;
    if (d->cfg.vapid_key != NULL)
        r = push_vapid_load(d->cfg.vapid_key, &v);
    else
        r = push_vapid_load_or_create(d->cfg.data_dir, &v);
    if (r < 0) {
        log_error("push: off: the VAPID key %s: %s",
                  d->cfg.vapid_key ? d->cfg.vapid_key : "<data>/vapid.pem", duet_strerror_code(r));
        return;
    }
    if ((r = push_svc_new(&d->app, v, &d->app.push)) < 0)
        log_error("push: off: %s", duet_strerror_code(r));
    else if (d->cfg.push_test_loopback)
        log_warn("push: --push-test-loopback: http endpoints and private addresses allowed");
}

static int start_signals(struct daemon *d)
{
    int r = uv_signal_init(&d->loop, &d->sigterm);
    if (r < 0)
        return r;
    d->nsignals = 1;
    r = uv_signal_init(&d->loop, &d->sigint);
    if (r < 0)
        return r;
    d->nsignals = 2;
    d->sigterm.data = d->sigint.data = d;
    if (r == 0)
        r = uv_signal_start(&d->sigterm, on_signal, SIGTERM);
    if (r == 0)
        r = uv_signal_start(&d->sigint, on_signal, SIGINT);
    return r;
}

static int run(struct daemon *d)
{
    struct app *app = &d->app;
    int r = uv_loop_init(&d->loop);
    if (r < 0)
        return r;
    app->loop = &d->loop;
    app->cfg = &d->cfg;
    app->started_at = duet_now_ms();
    d->cassandra = strcmp(d->cfg.store, "cassandra") == 0;
    /* Signals first: waiting for Cassandra may take a while. */
    if ((r = start_signals(d)) < 0)
        goto err_signals;
    if (!d->cassandra && (r = make_dirs(d->cfg.data_dir)) < 0)
        goto err_signals;
    if ((r = open_store(d)) < 0) {
        if (app->store != NULL)
            goto err_store;
        goto err_signals;
    }
    if (d->stop_waiting) {
        r = 0; /* asked to stop: a clean exit */
        goto err_store;
    }
    if ((r = start_hub(d)) < 0)
        goto err_store;
    if ((r = recent_init(&app->typing, APP_TYPING_INTERVAL_MS)) < 0)
        goto err_hub;
    r = limits_init(&app->limits, (double)d->cfg.msg_rate, (double)d->cfg.msg_burst,
                    d->cfg.max_ws_per_addr);
    if (r < 0)
        goto err_typing;
    limits_set_signup(&app->limits, (double)d->cfg.signup_rate, (double)d->cfg.signup_burst);
    limits_set_lookup(&app->limits, (double)d->cfg.lookup_rate, (double)d->cfg.lookup_burst);
    limits_set_erase(&app->limits, (double)d->cfg.erase_rate, (double)d->cfg.erase_burst);
    r = auth_init(&app->auth, &d->loop, (unsigned long long)d->cfg.argon2_ops,
                  (size_t)d->cfg.argon2_mem_kib, (int)d->cfg.hash_concurrency,
                  (size_t)d->cfg.hash_queue, d->cfg.login_window_s, d->cfg.login_max_failures,
                  d->cfg.login_max_failures_addr);
    if (r < 0)
        goto err_limits;
    if ((r = uploads_start(app)) < 0)
        goto err_auth;
    start_push(d);
    if ((r = start_net(d)) < 0) {
        push_svc_close(app->push);
        app->push = NULL;
        goto err_uploads;
    }

    uv_run(&d->loop, UV_RUN_DEFAULT);
    /* The network layer, the store and our handles are closed by now. */
    auth_free(&app->auth);
    limits_free(&app->limits);
    app_free_typing(app);
    jsonw_free(&app->out);
    hub_free(app->hub);
    if (uv_loop_close(&d->loop) != 0)
        log_warn("loop closed with handles still open");
    return 0;

err_uploads:
    uploads_close(app, on_uploads_abandoned, d);
err_auth:
    auth_close(&app->auth);
    auth_free(&app->auth);
err_limits:
    limits_free(&app->limits);
err_typing:
    app_free_typing(app);
    jsonw_free(&app->out);
err_hub:
    close_signals(d); /* else the loop below would wait for a signal */
    hub_shutdown(app->hub, on_hub_abandoned);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    hub_free(app->hub);
err_store:
    store_close(app->store);
    app->store = NULL;
err_signals:
    close_signals(d);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    uv_loop_close(&d->loop);
    return r;
}

int main(int argc, char **argv)
{
    struct daemon d;
    memset(&d, 0, sizeof(d));
    int r = config_load(&d.cfg, argc, argv);
    if (r != 0) {
        config_free(&d.cfg);
        return r > 0 ? 0 : 2;
    }
    enum log_level lv = LOG_INFO;
    log_parse_level(d.cfg.log_level, &lv);
    log_set_level(lv);
    if (sodium_init() < 0) {
        log_error("libsodium failed to initialise");
        config_free(&d.cfg);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    r = run(&d);
    static_cache_free(&d.app.web);
    config_free(&d.cfg);
    return r < 0 ? 1 : 0;
}
