#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"

enum opt_type { OPT_STR, OPT_INT, OPT_FLAG };

struct opt {
    const char *name;
    enum opt_type type;
    size_t offset;
    const char *def; /* default, as text */
    int64_t min, max;
    const char *help;
};

#define OFF(f) offsetof(struct config, f)

static const struct opt opts[] = {
    {"listen", OPT_STR, OFF(listen), "127.0.0.1:8080", 0, 0, "address and port (port 0: any free)"},
    {"data", OPT_STR, OFF(data_dir), "./data", 0, 0, "data folder (SQLite file duet.db)"},
    {"web", OPT_STR, OFF(web_dir), "./web", 0, 0, "web client folder served over HTTP"},
    {"instance", OPT_STR, OFF(instance), "duet-1", 0, 0,
     "this instance's id, for logs and clients"},
    {"allowed-origin", OPT_STR, OFF(allowed_origin), NULL, 0, 0,
     "an extra WebSocket Origin to accept (default: same host only)"},
    {"session-idle", OPT_INT, OFF(session_idle_s), "2592000", 1, 10LL * 365 * 86400,
     "seconds of inactivity before a session expires"},
    {"max-message-chars", OPT_INT, OFF(max_message_chars), "4000", 1, 16000,
     "longest text message, in characters"},
    {"delete-window", OPT_INT, OFF(delete_window_s), "3600", 0, 10LL * 365 * 86400,
     "seconds during which a sender may delete for everyone"},
    {"secure-cookies", OPT_FLAG, OFF(secure_cookies), "0", 0, 1,
     "mark cookies Secure (when served behind TLS)"},
    {"trust-proxy", OPT_FLAG, OFF(trust_proxy), "0", 0, 1,
     "take the client address from X-Forwarded-For (behind nginx)"},
    {"login-max-failures", OPT_INT, OFF(login_max_failures), "5", 1, 1000000,
     "failed logins per username per window before throttling"},
    {"login-max-failures-addr", OPT_INT, OFF(login_max_failures_addr), "20", 1, 1000000,
     "failed logins per client address per window before throttling"},
    {"login-window", OPT_INT, OFF(login_window_s), "900", 1, 86400,
     "seconds of the login throttling window"},
    {"argon2-ops", OPT_INT, OFF(argon2_ops), "2", 1, 32, "Argon2id passes"},
    {"argon2-mem", OPT_INT, OFF(argon2_mem_kib), "65536", 8, 4194304, "Argon2id memory in KiB"},
    {"hash-concurrency", OPT_INT, OFF(hash_concurrency), "2", 1, 64,
     "password hashes computed at once (thread pool)"},
    {"hash-queue", OPT_INT, OFF(hash_queue), "256", 1, 100000,
     "password hashes waiting at most; more are refused as busy"},
    {"sync", OPT_STR, OFF(sync), "full", 0, 0,
     "SQLite durability: full (fsync each commit) or normal"},
    {"cache", OPT_INT, OFF(cache_mib), "64", 1, 65536, "SQLite page cache in MiB"},
    {"commit-window", OPT_INT, OFF(commit_window_ms), "2", 0, 100,
     "group commit: at most one SQLite commit per this many ms (0: each batch at once)"},
    /* s-shard: the search index's shard size; small values are for tests
     * (an old shard without 32,768 messages). */
    {"fts-shard-rows", OPT_INT, OFF(fts_shard_rows), "32768", 1, 1LL << 30,
     "messages per search index shard (SQLite): a delete re-writes one shard"},
    {"max-body", OPT_INT, OFF(max_body_kib), "64", 1, 65536, "largest HTTP body in KiB"},
    {"max-ws-message", OPT_INT, OFF(max_ws_msg_kib), "64", 1, 65536,
     "largest WebSocket message in KiB"},
    {"max-ws-queue", OPT_INT, OFF(max_ws_queue_kib), "32768", 64, 4194304,
     "KiB of output queued per WebSocket before it is cut off (a reconnect replays the\n"
     "                               whole backlog through it)"},
    {"max-conns", OPT_INT, OFF(max_conns), "16000", 1, 1000000,
     "open connections at most; more are answered 503 and closed"},
    /* 128: a household or office behind one NAT, each person with a few
     * tabs (6 HTTP connections and a WebSocket each at most), fits; one
     * client needs 125 addresses to fill the default --max-conns. */
    {"max-conns-per-addr", OPT_INT, OFF(max_conns_per_addr), "128", 1, 1000000,
     "open connections from one peer address at most; more are answered 429 and closed\n"
     "                               (not applied with --trust-proxy: nginx's limit_conn is)"},
    {"keepalive-timeout", OPT_INT, OFF(keepalive_s), "20", 1, 3600,
     "seconds an idle keep-alive HTTP connection stays open"},
    {"ws-ping", OPT_INT, OFF(ws_ping_s), "30", 1, 3600,
     "seconds between pings to a WebSocket; one without a pong by the next is closed"},
    {"max-ws-per-addr", OPT_INT, OFF(max_ws_per_addr), "64", 1, 1000000,
     "WebSockets from one client address at most"},
    {"msg-rate", OPT_INT, OFF(msg_rate), "20", 1, 1000000,
     "messages per second one user may send, sustained"},
    {"msg-burst", OPT_INT, OFF(msg_burst), "60", 1, 1000000,
     "messages one user may send in a burst above the rate"},
    /* 10000: a reconnect reads the whole backlog at once (then sends it in
     * slices, client.c), so this bounds what one reconnect holds in memory
     * and how long it takes. One sender at --msg-rate 20 needs over 8
     * minutes to fill it. */
    {"max-pending", OPT_INT, OFF(max_pending), "10000", 0, 100000000,
     "undelivered rows one user may have waiting; a send past it is refused (0: none)"},
    {"max-friend-requests-per-day", OPT_INT, OFF(max_friend_req_day), "100", 0, 1000000,
     "friend requests one user may send in 24 hours (0: no limit)"},
    {"max-header-bytes", OPT_INT, OFF(max_header_bytes), "16384", 1024, 65536,
     "largest HTTP request line plus headers, in bytes (431 beyond)"},
    {"signup-rate", OPT_INT, OFF(signup_rate), "10", 0, 1000000,
     "sign-ups per hour from one client address, sustained (0: no limit)"},
    {"signup-burst", OPT_INT, OFF(signup_burst), "5", 1, 1000000,
     "sign-ups from one client address at once, above the rate"},
    /* Friend and block requests name users: bounded, they cannot be used
     * to test many names for existence (issue 14 item 8). */
    {"lookup-rate", OPT_INT, OFF(lookup_rate), "120", 0, 1000000,
     "friend and block requests naming a user, per hour per user, sustained (0: no limit)"},
    {"lookup-burst", OPT_INT, OFF(lookup_burst), "30", 1, 1000000,
     "friend and block requests naming a user at once, above the rate"},
    /* Each delete for everyone costs an erasing checkpoint and a merge of
     * the search index: a budget of their own (docs/security.md). */
    {"delete-rate", OPT_INT, OFF(erase_rate), "120", 0, 1000000,
     "deletes for everyone per hour per user, sustained (0: no limit)"},
    {"delete-burst", OPT_INT, OFF(erase_burst), "30", 1, 1000000,
     "deletes for everyone one user may make at once, above the rate"},
    {"log-level", OPT_STR, OFF(log_level), "info", 0, 0, "debug, info, warn or error"},
    {"redis", OPT_STR, OFF(redis), NULL, 0, 0,
     "HOST:PORT of Redis, to run as one of several instances (default: alone)"},
    {"presence-ttl", OPT_INT, OFF(presence_ttl_s), "10", 2, 3600,
     "seconds after which the users of a silent instance show offline (with --redis)"},
    {"redis-timeout", OPT_INT, OFF(redis_timeout_ms), "3000", 100, 600000,
     "ms after which an unanswered Redis command counts as Redis down"},
    {"store", OPT_STR, OFF(store), "sqlite", 0, 0,
     "where data lives: sqlite (the --data folder) or cassandra (docs/cassandra.md)"},
    {"cassandra", OPT_STR, OFF(cassandra), "127.0.0.1", 0, 0,
     "Cassandra contact points, HOST[:PORT] separated by commas (with --store cassandra)"},
    {"cassandra-keyspace", OPT_STR, OFF(cassandra_keyspace), "duet", 0, 0,
     "keyspace, created at start-up if missing"},
    {"cassandra-replication", OPT_STR, OFF(cassandra_replication),
     "{'class':'SimpleStrategy','replication_factor':1}", 0, 0,
     "replication map used when creating the keyspace, e.g.\n"
     "                               {'class':'NetworkTopologyStrategy','dc1':3}"},
    {"cassandra-consistency", OPT_STR, OFF(cassandra_consistency), "LOCAL_QUORUM", 0, 0,
     "consistency of reads and writes (QUORUM, LOCAL_QUORUM, ONE, ...)"},
    {"cassandra-user", OPT_STR, OFF(cassandra_user), NULL, 0, 0,
     "user name for Cassandra's PasswordAuthenticator (default: none)"},
    {"cassandra-password", OPT_STR, OFF(cassandra_password), NULL, 0, 0,
     "its password (better set as DUET_CASSANDRA_PASSWORD)"},
    {"cassandra-timeout", OPT_INT, OFF(cassandra_timeout_ms), "12000", 100, 600000,
     "ms per Cassandra request attempt before it counts as failed"},
    {"push-contact", OPT_STR, OFF(push_contact), "mailto:push@duet.invalid", 0, 0,
     "VAPID contact (a mailto: or https: URL) the push services may reach the operator at"},
    {"vapid-key", OPT_STR, OFF(vapid_key), NULL, 0, 0,
     "VAPID key file (PEM, 0600) shared by a cluster (default: <data>/vapid.pem)"},
    {"push-max-subs", OPT_INT, OFF(push_max_subs), "10", 1, 15,
     "push subscriptions per user at most; a new one drops the oldest"},
    {"push-ca-file", OPT_STR, OFF(push_ca_file), NULL, 0, 0,
     "CA bundle for push services' certificates (default: the system's)"},
    {"push-test-loopback", OPT_FLAG, OFF(push_test_loopback), "0", 0, 1,
     "TESTS ONLY: allow http:// push endpoints and loopback/private addresses"},
    {"media", OPT_STR, OFF(media), "local", 0, 0,
     "where media bytes live: local (<data>/media) or s3 (docs/deploy.md)"},
    {"max-upload-bytes", OPT_INT, OFF(max_upload_bytes), "104857600", 1, 1LL << 40,
     "largest upload (photo, video, voice note or file), in bytes"},
    {"upload-quota-bytes", OPT_INT, OFF(upload_quota_bytes), "1073741824", 0, 1LL << 50,
     "bytes one user may upload in 24 hours (0: no limit)"},
    {"max-uploads-inflight", OPT_INT, OFF(max_uploads_inflight), "4", 0, 100000,
     "unfinished uploads one user may have at once (0: no limit)"},
    /* Hidden (no help): the tests shorten them. */
    {"upload-ttl-ms", OPT_INT, OFF(upload_ttl_ms), "86400000", 100, 1LL << 40, NULL},
    {"upload-sweep-ms", OPT_INT, OFF(upload_sweep_ms), "60000", 50, 86400000, NULL},
    /* Tests: a small SQLite queue, to see what a busy store does. */
    {"store-max-inflight", OPT_INT, OFF(store_max_inflight), "0", 0, 1000000, NULL},
    /* S3 for media (--media s3; docs/deploy.md) */
    {"s3-endpoint", OPT_STR, OFF(s3_endpoint), NULL, 0, 0,
     "S3 endpoint http(s)://HOST[:PORT], path-style (with --media s3)"},
    {"s3-bucket", OPT_STR, OFF(s3_bucket), NULL, 0, 0, "the (private) bucket for media"},
    {"s3-region", OPT_STR, OFF(s3_region), "us-east-1", 0, 0, "the bucket's region"},
    {"s3-access-key-file", OPT_STR, OFF(s3_access_key_file), NULL, 0, 0,
     "file with the access key id, mode 0600 (or env DUET_S3_ACCESS_KEY)"},
    {"s3-secret-key-file", OPT_STR, OFF(s3_secret_key_file), NULL, 0, 0,
     "file with the secret key, mode 0600 (or env DUET_S3_SECRET_KEY)"},
    {"s3-presign", OPT_INT, OFF(s3_presign_s), "300", 1, 604800,
     "seconds a presigned download URL stays valid"},
    {"s3-part-size", OPT_INT, OFF(s3_part_mib), "8", 5, 4096, "MiB per part of a multipart upload"},
    {"s3-multipart-min", OPT_INT, OFF(s3_multipart_min_mib), "16", 5, 1LL << 20,
     "files of this many MiB or more are uploaded in parts"},
    {"edit-window", OPT_INT, OFF(edit_window_s), "900", 0, 10LL * 365 * 86400,
     "seconds during which a sender may edit a message (0: no edits)"},
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *f)
{
    fprintf(f, "usage: duetd [options]\n\n"
               "Every option can also be set in the environment as DUET_<NAME>\n"
               "(upper case, dashes as underscores), e.g. DUET_LISTEN=0.0.0.0:8080.\n\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char left[64];
        if (opts[i].help == NULL)
            continue; /* a hidden option */
        snprintf(left, sizeof(left), "--%s%s", opts[i].name,
                 opts[i].type == OPT_FLAG  ? ""
                 : opts[i].type == OPT_INT ? " N"
                                           : " VALUE");
        /* A name too long for the column gets a line of its own, so the
         * descriptions stay aligned. */
        if (strlen(left) > 28)
            fprintf(f, "  %s\n  %-28s %s", left, "", opts[i].help);
        else
            fprintf(f, "  %-28s %s", left, opts[i].help);
        if (opts[i].def != NULL && opts[i].type != OPT_FLAG)
            fprintf(f, " [%s]", opts[i].def);
        fputc('\n', f);
    }
    fprintf(f, "  %-28s %s\n", "--help", "print this and exit");
}

static int set_opt(struct config *cfg, const struct opt *o, const char *val, const char *from)
{
    char *field = (char *)cfg + o->offset;
    if (o->type == OPT_STR) {
        char *copy = strdup(val);
        if (copy == NULL)
            return -ENOMEM;
        free(*(char **)field);
        *(char **)field = copy;
        return 0;
    }
    if (o->type == OPT_FLAG) {
        int on = strcmp(val, "1") == 0 || strcmp(val, "true") == 0 || strcmp(val, "yes") == 0;
        int off = strcmp(val, "0") == 0 || strcmp(val, "false") == 0 || strcmp(val, "no") == 0;
        if (!on && !off) {
            fprintf(stderr, "duetd: %s: %s wants 1 or 0, not '%s'\n", from, o->name, val);
            return -EINVAL;
        }
        *(int *)field = on;
        return 0;
    }
    char *end;
    errno = 0;
    long long v = strtoll(val, &end, 10);
    if (errno != 0 || end == val || *end != '\0' || v < o->min || v > o->max) {
        fprintf(stderr, "duetd: %s: %s wants a whole number from %lld to %lld, not '%s'\n", from,
                o->name, (long long)o->min, (long long)o->max, val);
        return -EINVAL;
    }
    *(int64_t *)field = v;
    return 0;
}

static int env_name(const char *opt, char *out, size_t cap)
{
    int n = snprintf(out, cap, "DUET_%s", opt);
    if (n < 0 || (size_t)n >= cap)
        return -EINVAL;
    for (char *p = out; *p; p++)
        *p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    return 0;
}

static int load_defaults_and_env(struct config *cfg)
{
    for (size_t i = 0; i < NOPTS; i++) {
        if (opts[i].def != NULL) {
            int r = set_opt(cfg, &opts[i], opts[i].def, "default");
            if (r < 0)
                return r;
        }
        char name[64];
        if (env_name(opts[i].name, name, sizeof(name)) < 0)
            continue;
        const char *v = getenv(name);
        if (v != NULL) {
            int r = set_opt(cfg, &opts[i], v, name);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

static const struct opt *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static int load_argv(struct config *cfg, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "duetd: unexpected argument '%s' (see --help)\n", a);
            return -EINVAL;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt *o = find_opt(name, len);
        if (o == NULL) {
            fprintf(stderr, "duetd: unknown option '%s' (see --help)\n", a);
            return -EINVAL;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (val == NULL && o->type == OPT_FLAG)
            val = "1";
        if (val == NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "duetd: option '%s' needs a value\n", a);
                return -EINVAL;
            }
            val = argv[++i];
        }
        int r = set_opt(cfg, o, val, "command line");
        if (r < 0)
            return r;
    }
    return 0;
}

static int check_config(struct config *cfg)
{
    const char *colon = strrchr(cfg->listen, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    size_t hlen = colon ? (size_t)(colon - cfg->listen) : 0;
    if (colon == NULL || *end != '\0' || end == colon + 1 || port < 0 || port > 65535 ||
        hlen == 0 || hlen >= sizeof(cfg->host)) {
        fprintf(stderr, "duetd: --listen wants HOST:PORT, not '%s'\n", cfg->listen);
        return -EINVAL;
    }
    memcpy(cfg->host, cfg->listen, hlen);
    cfg->host[hlen] = '\0';
    cfg->port = (int)port;
    if (strcmp(cfg->sync, "full") != 0 && strcmp(cfg->sync, "normal") != 0) {
        fprintf(stderr, "duetd: --sync wants full or normal, not '%s'\n", cfg->sync);
        return -EINVAL;
    }
    if (cfg->redis != NULL && cfg->redis[0] == '\0') {
        free(cfg->redis); /* DUET_REDIS= means "no Redis" */
        cfg->redis = NULL;
    }
    if (cfg->redis != NULL) {
        const char *rc = strrchr(cfg->redis, ':');
        long rport = rc ? strtol(rc + 1, &end, 10) : -1;
        size_t rlen = rc ? (size_t)(rc - cfg->redis) : 0;
        if (rc == NULL || *end != '\0' || end == rc + 1 || rport < 1 || rport > 65535 ||
            rlen == 0 || rlen >= sizeof(cfg->redis_host)) {
            fprintf(stderr, "duetd: --redis wants HOST:PORT, not '%s'\n", cfg->redis);
            return -EINVAL;
        }
        memcpy(cfg->redis_host, cfg->redis, rlen);
        cfg->redis_host[rlen] = '\0';
        cfg->redis_port = (int)rport;
    }
    if (strcmp(cfg->media, "local") != 0 && strcmp(cfg->media, "s3") != 0) {
        fprintf(stderr, "duetd: --media wants local or s3, not '%s'\n", cfg->media);
        return -EINVAL;
    }
    if (strcmp(cfg->store, "sqlite") != 0 && strcmp(cfg->store, "cassandra") != 0) {
        fprintf(stderr, "duetd: --store wants sqlite or cassandra, not '%s'\n", cfg->store);
        return -EINVAL;
    }
    enum log_level lv;
    if (log_parse_level(cfg->log_level, &lv) < 0) {
        fprintf(stderr, "duetd: --log-level wants debug, info, warn or error\n");
        return -EINVAL;
    }
    size_t ilen = strlen(cfg->instance);
    /* It goes into a response header: no room for anything but a name. */
    if (ilen == 0 || ilen > 64 ||
        strspn(cfg->instance, "abcdefghijklmnopqrstuvwxyz"
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "0123456789._-") != ilen) {
        fprintf(stderr, "duetd: --instance wants 1 to 64 of A-Z a-z 0-9 . _ -\n");
        return -EINVAL;
    }
    /* It becomes an origin in the page's CSP: scheme and authority only. */
    const char *e = cfg->s3_endpoint;
    const char *auth = !e                               ? NULL
                       : strncmp(e, "http://", 7) == 0  ? e + 7
                       : strncmp(e, "https://", 8) == 0 ? e + 8
                                                        : "";
    if (auth && (auth[0] == '\0' || strspn(auth, "abcdefghijklmnopqrstuvwxyz"
                                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                 "0123456789.-:[]") != strlen(auth))) {
        fprintf(stderr, "duetd: --s3-endpoint wants http(s)://HOST[:PORT], not '%s'\n", e);
        return -EINVAL;
    }
    return 0;
}

int config_load(struct config *cfg, int argc, char **argv)
{
    memset(cfg, 0, sizeof(*cfg));
    int r = load_defaults_and_env(cfg);
    if (r == 0)
        r = load_argv(cfg, argc, argv);
    if (r == 0)
        r = check_config(cfg);
    return r;
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].type == OPT_STR) {
            char **p = (char **)((char *)cfg + opts[i].offset);
            free(*p);
            *p = NULL;
        }
}
