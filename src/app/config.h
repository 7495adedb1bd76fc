/* config.h - duetd's options, from the command line and DUET_* variables.
 *
 * Every option --foo-bar can also be set as DUET_FOO_BAR; the command line
 * wins. The table in config.c is the single list that --help prints.
 */
#ifndef DUET_CONFIG_H
#define DUET_CONFIG_H

#include <stdint.h>

struct config {
    char *listen;  /* HOST:PORT */
    char host[64]; /* parsed from listen */
    int port;
    char *data_dir;
    char *web_dir;
    char *instance;
    char *allowed_origin; /* NULL = same host only */
    int64_t session_idle_s;
    int64_t max_message_chars;
    int64_t delete_window_s;
    int secure_cookies;
    int trust_proxy;
    int64_t login_max_failures;
    int64_t login_max_failures_addr;
    int64_t login_window_s;
    int64_t argon2_ops;
    int64_t argon2_mem_kib;
    int64_t hash_concurrency;
    int64_t hash_queue;
    char *sync;      /* "full" | "normal" */
    char *log_level; /* debug | info | warn | error */
    int64_t cache_mib;
    int64_t commit_window_ms;
    int64_t fts_shard_rows; /* s-shard: --fts-shard-rows */
    int64_t max_body_kib;
    int64_t max_ws_msg_kib;
    int64_t max_ws_queue_kib;
    int64_t max_conns;
    int64_t max_conns_per_addr;
    int64_t keepalive_s;
    int64_t max_ws_per_addr;
    int64_t ws_ping_s;
    int64_t msg_rate;
    int64_t msg_burst;
    int64_t max_pending;        /* a recipient's pending rows at most (0 = no ceiling) */
    int64_t max_friend_req_day; /* friend requests per user per 24 h (0 = no ceiling) */
    int64_t max_header_bytes;   /* HTTP request line + headers */
    int64_t signup_rate;        /* sign-ups per hour per client address (0 = no limit) */
    int64_t signup_burst;       /* sign-ups at once per client address */
    int64_t lookup_rate;        /* requests naming a user, per hour per user (0 = no limit) */
    int64_t lookup_burst;       /* such requests at once per user */
    int64_t erase_rate;         /* deletes for everyone per hour per user (0 = no limit) */
    int64_t erase_burst;        /* such deletes at once per user */
    char *redis;                /* HOST:PORT of the Redis hub; NULL = in-process hub */
    char redis_host[256];
    int redis_port;
    int64_t presence_ttl_s;   /* a silent instance's users go offline after this */
    int64_t redis_timeout_ms; /* a later reply counts as Redis down */
    char *store;              /* "sqlite" | "cassandra" */
    char *cassandra;          /* contact points, "h1,h2:9043" */
    char *cassandra_keyspace;
    char *cassandra_replication; /* CQL map text for CREATE KEYSPACE */
    char *cassandra_consistency; /* a level name; checked by check_config */
    char *cassandra_user;        /* NULL = no authentication */
    char *cassandra_password;
    int64_t cassandra_timeout_ms;
    char *push_contact;     /* VAPID sub: mailto: or https: */
    char *vapid_key;        /* the key file; NULL = <data>/vapid.pem */
    int64_t push_max_subs;  /* subscriptions per user */
    char *push_ca_file;     /* NULL = the system's CA bundle */
    int push_test_loopback; /* tests: http endpoints, no SSRF guard */
    /* media (issue 15) */
    char *media;                  /* "local" | "s3" */
    int64_t max_upload_bytes;     /* one upload's length at most */
    int64_t upload_quota_bytes;   /* bytes a user may upload per 24 h (0 = no limit) */
    int64_t max_uploads_inflight; /* a user's unfinished uploads at once (0 = no limit) */
    int64_t store_max_inflight;   /* SQLite requests outstanding at most (0: default; tests) */
    int64_t upload_ttl_ms;        /* unattached uploads are removed after this (tests: short) */
    int64_t upload_sweep_ms;      /* how often the sweep looks for them */
    /* S3 for media (--media s3) */
    char *s3_endpoint; /* "http(s)://host[:port]"; checked by check_config */
    char *s3_bucket;
    char *s3_region;
    char *s3_access_key_file; /* NULL: env DUET_S3_ACCESS_KEY */
    char *s3_secret_key_file; /* NULL: env DUET_S3_SECRET_KEY */
    int64_t s3_presign_s;
    int64_t s3_part_mib;
    int64_t s3_multipart_min_mib;
    int64_t edit_window_s; /* issue 17: a sender may edit this long (0 = never) */
};

/* Fills cfg from defaults, then the environment, then argv.
 * Returns 0 to run, 1 when --help was printed (exit 0), or -EINVAL after
 * printing an error (exit 2). */
int config_load(struct config *cfg, int argc, char **argv);
void config_free(struct config *cfg);

#endif
