/* cass_schema.c - what the Cassandra store is given and what it creates: its
 * options (checked here, not in config.c: they are this backend's) and the
 * keyspace's tables. */
#include "../../base/log.h"
#include "cass_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The schema; %1$s is the keyspace. Ids are uuids, times timestamps (ms,
 * 0 = unset), sequences bigints. docs/cassandra.md explains each table. */
const char *const cs_ddl[] = {
    "CREATE TABLE IF NOT EXISTS %1$s.users (user_id uuid PRIMARY KEY, username text,"
    " display_name text, pwhash text, created_at timestamp, last_seen timestamp,"
    " lastseen_vis int, read_receipts int)",
    "CREATE TABLE IF NOT EXISTS %1$s.usernames (username text PRIMARY KEY, user_id uuid)",
    "CREATE TABLE IF NOT EXISTS %1$s.sessions (token_hash blob PRIMARY KEY, user_id uuid,"
    " created_at timestamp, last_used timestamp)",
    "CREATE TABLE IF NOT EXISTS %1$s.user_sessions (user_id uuid, token_hash blob,"
    " PRIMARY KEY ((user_id), token_hash))",
    "CREATE TABLE IF NOT EXISTS %1$s.relations (user_id uuid, kind int, other uuid,"
    " created_at timestamp, PRIMARY KEY ((user_id), kind, other))",
    "CREATE TABLE IF NOT EXISTS %1$s.chats (chat_id uuid, message_id text,"
    " user_a uuid static, user_b uuid static, friends boolean static, since timestamp static,"
    " last_seq bigint static, last_activity timestamp static,"
    " a_read_seq bigint static, b_read_seq bigint static,"
    " a_recv_seq bigint static, b_recv_seq bigint static,"
    " a_seen_seq bigint static, b_seen_seq bigint static,"
    " sequence bigint, sender uuid, receiver uuid, message text, sent_at timestamp,"
    " PRIMARY KEY ((chat_id), message_id))",
    "CREATE TABLE IF NOT EXISTS %1$s.private_chat (chat_id uuid, bucket bigint, sequence bigint,"
    " sender uuid, receiver uuid, message_id text, message text, type int, preview text,"
    " sent_at timestamp, received_at timestamp, seen_at timestamp, deleted_at timestamp,"
    " PRIMARY KEY ((chat_id, bucket), sequence)) WITH CLUSTERING ORDER BY (sequence DESC)",
    "CREATE TABLE IF NOT EXISTS %1$s.pending (user_id uuid, chat_id uuid, service_type int,"
    " sequence bigint, sender uuid, receiver uuid, message_id text, message text, type int,"
    " preview text, sent_at timestamp, received_at timestamp, seen_at timestamp,"
    " deleted_at timestamp, PRIMARY KEY ((user_id), chat_id, service_type, sequence))",
    /* c-org (issue 17): each user's pin, archive and mute of a chat, one
     * partition per user (cass_org.c). */
    "CREATE TABLE IF NOT EXISTS %1$s.chat_state (user_id uuid, chat_id uuid,"
    " pinned_at timestamp, archived boolean, muted_until timestamp,"
    " PRIMARY KEY ((user_id), chat_id))",
    /* Web Push (issue 16; cass_push.c). */
    "CREATE TABLE IF NOT EXISTS %1$s.push_subs (user_id uuid, sub_id uuid, token_hash blob,"
    " endpoint text, p256dh text, auth text, device text, created_at timestamp,"
    " last_success timestamp, PRIMARY KEY ((user_id), sub_id))",
    "CREATE TABLE IF NOT EXISTS %1$s.push_endpoints (endpoint text PRIMARY KEY, user_id uuid,"
    " sub_id uuid)",
    "CREATE TABLE IF NOT EXISTS %1$s.push_prefs (user_id uuid PRIMARY KEY, preview int)",
    "CREATE TABLE IF NOT EXISTS %1$s.push_notified (user_id uuid, chat_id uuid,"
    " PRIMARY KEY ((user_id), chat_id))",
    "CREATE TABLE IF NOT EXISTS %1$s.push_jobs (instance text, job_id uuid, sub_id uuid,"
    " user_id uuid, endpoint text, p256dh text, auth text, kind int, chat_id uuid, seq bigint,"
    " sender_name text, body text, created_at timestamp, PRIMARY KEY ((instance), job_id))",
    /* s-cass (issue 17): search across chats seeks each chat's partitions
     * below a time (cass_search.c); SAI, numeric, no analyzer. */
    "CREATE CUSTOM INDEX IF NOT EXISTS private_chat_sent_at ON %1$s.private_chat (sent_at)"
    " USING 'StorageAttachedIndex'",
    /* media (issue 15): the message's media object (JSON text) beside the
     * seed's type and preview, in the rows and in the claim (a retry
     * rewrites the rows from it); uploads (tus state, never the bytes),
     * SAI on owner (in-flight count) and state (the sweep); bytes per user
     * per day, rows expiring after a day. */
    "ALTER TABLE %1$s.private_chat ADD IF NOT EXISTS media text",
    "ALTER TABLE %1$s.pending ADD IF NOT EXISTS media text",
    "ALTER TABLE %1$s.chats ADD IF NOT EXISTS mtype int",
    "ALTER TABLE %1$s.chats ADD IF NOT EXISTS mpreview text",
    "ALTER TABLE %1$s.chats ADD IF NOT EXISTS mmedia text",
    "CREATE TABLE IF NOT EXISTS %1$s.uploads (id text PRIMARY KEY, owner uuid, length bigint,"
    " upload_offset bigint, name text, filetype text, mime text, kind int, state int,"
    " created_at timestamp, expires_at timestamp, chat_id uuid, message_id text)",
    "CREATE INDEX IF NOT EXISTS uploads_owner ON %1$s.uploads (owner) USING 'sai'",
    "CREATE INDEX IF NOT EXISTS uploads_state ON %1$s.uploads (state) USING 'sai'",
    "CREATE TABLE IF NOT EXISTS %1$s.upload_log (owner uuid, created_at timestamp, id text,"
    " length bigint, PRIMARY KEY ((owner), created_at, id))",
    /* c-msg (issue 17): a message's quote (the quoted seq; the snippet is
     * read from the original), forwarded copy and last edit; reactions, one
     * per user per message (withheld: shown to its author only); hidden,
     * "delete for me" per user. */
    "ALTER TABLE %1$s.private_chat ADD IF NOT EXISTS reply_to bigint",
    "ALTER TABLE %1$s.private_chat ADD IF NOT EXISTS forwarded boolean",
    "ALTER TABLE %1$s.private_chat ADD IF NOT EXISTS edited_at timestamp",
    "CREATE TABLE IF NOT EXISTS %1$s.reactions (chat_id uuid, sequence bigint, user_id uuid,"
    " emoji text, at timestamp, withheld boolean, PRIMARY KEY ((chat_id), sequence, user_id))",
    "CREATE TABLE IF NOT EXISTS %1$s.hidden (user_id uuid, chat_id uuid, sequence bigint,"
    " PRIMARY KEY ((user_id, chat_id), sequence))",
};
const int cs_n_ddl = (int)(sizeof(cs_ddl) / sizeof(cs_ddl[0]));

/* The code of a consistency level name ("LOCAL_QUORUM", ...), or -EINVAL. */
int cs_consistency(const char *name)
{
    static const struct {
        const char *name;
        int code;
    } levels[] = {
        {"ONE", CQL_ONE},
        {"TWO", CQL_TWO},
        {"THREE", CQL_THREE},
        {"QUORUM", CQL_QUORUM},
        {"ALL", CQL_ALL},
        {"LOCAL_QUORUM", CQL_LOCAL_QUORUM},
        {"EACH_QUORUM", CQL_EACH_QUORUM},
        {"LOCAL_ONE", CQL_LOCAL_ONE},
    };
    for (size_t i = 0; name != NULL && i < sizeof(levels) / sizeof(levels[0]); i++)
        if (strcasecmp(name, levels[i].name) == 0)
            return levels[i].code;
    return -EINVAL;
}

/* The options duetd takes from its command line, checked here rather than
 * in config.c: they are this backend's. Logs what is wrong. */
int cs_check_opts(const struct store_cass_opts *o)
{
    size_t klen = strlen(o->keyspace);
    /* It goes into CQL text unquoted: an identifier, as Cassandra allows. */
    if (klen == 0 || klen > 48 || !isalpha((unsigned char)o->keyspace[0]) ||
        strspn(o->keyspace, "abcdefghijklmnopqrstuvwxyz"
                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != klen) {
        log_error("store: cassandra: --cassandra-keyspace wants a letter then up to 47 of"
                  " A-Z a-z 0-9 _");
        return -EINVAL;
    }
    if (o->consistency != NULL && cs_consistency(o->consistency) < 0) {
        log_error("store: cassandra: --cassandra-consistency wants ONE, TWO, THREE, QUORUM, ALL,"
                  " LOCAL_QUORUM, EACH_QUORUM or LOCAL_ONE, not '%s'",
                  o->consistency);
        return -EINVAL;
    }
    if (o->hosts[0] == '\0') {
        log_error("store: cassandra: --cassandra wants at least one host");
        return -EINVAL;
    }
    return 0;
}

/* Replaces each "@." in text by "<keyspace>.": a malloc'd string or NULL. */
char *cs_expand(const char *text, const char *ks)
{
    size_t n = 0, kl = strlen(ks);
    for (const char *p = text; (p = strstr(p, "@.")) != NULL; p += 2)
        n++;
    char *out = malloc(strlen(text) + n * kl + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (const char *p = text; *p;) {
        if (p[0] == '@' && p[1] == '.') {
            memcpy(o, ks, kl);
            o += kl;
            *o++ = '.';
            p += 2;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}
