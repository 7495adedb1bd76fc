/* sqlite_schema.c - the SQLite schema, as the migrations that build it.
 *
 * sqlite.c applies them at open (sq_migrate), inside one write transaction,
 * from PRAGMA user_version up to sq_migrations_count. Never edit a released
 * migration: add the next one.
 */
#include "sqlite_int.h"

/* Each migration moves the schema from version i to i + 1 (PRAGMA
 * user_version). Ids are 16-byte BLOBs, times INTEGER ms with 0 = unset. */
const char *const sq_migrations[] = {
    /* 1: the initial schema. */
    "CREATE TABLE users ("
    " user_id BLOB PRIMARY KEY NOT NULL,"
    " username TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    " display_name TEXT NOT NULL,"
    " pwhash TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL DEFAULT 0,"
    " lastseen_vis INTEGER NOT NULL DEFAULT 0,"
    " read_receipts INTEGER NOT NULL DEFAULT 1"
    ") WITHOUT ROWID;"
    "CREATE TABLE sessions ("
    " token_hash BLOB PRIMARY KEY NOT NULL,"
    " user_id BLOB NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " last_used INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX sessions_user ON sessions (user_id);"
    /* One row per pair, created by the first friendship and kept for good so
     * that history survives unfriending; user_a < user_b bytewise. */
    "CREATE TABLE chats ("
    " chat_id BLOB PRIMARY KEY NOT NULL,"
    " user_a BLOB NOT NULL,"
    " user_b BLOB NOT NULL,"
    " friends INTEGER NOT NULL,"
    " since INTEGER NOT NULL,"
    " last_seq INTEGER NOT NULL DEFAULT 0,"
    " last_activity INTEGER NOT NULL,"
    " a_read_seq INTEGER NOT NULL DEFAULT 0,"
    " b_read_seq INTEGER NOT NULL DEFAULT 0"
    ") WITHOUT ROWID;"
    "CREATE INDEX chats_a ON chats (user_a);"
    "CREATE INDEX chats_b ON chats (user_b);"
    "CREATE TABLE friend_requests ("
    " from_id BLOB NOT NULL,"
    " to_id BLOB NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " PRIMARY KEY (from_id, to_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX friend_requests_to ON friend_requests (to_id);"
    "CREATE TABLE blocks ("
    " blocker BLOB NOT NULL,"
    " blocked BLOB NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " PRIMARY KEY (blocker, blocked)"
    ") WITHOUT ROWID;"
    /* The seed's private-chat table. The seed keys it (chat_id, message_id,
     * sequence), Cassandra's partition + clustering key. Here the key is
     * (chat_id, sequence) without rowid, so a conversation is stored in send
     * order: a new message lands on the chat's last leaf page and history is
     * one range scan, which keeps the pages written per message low. The
     * UNIQUE constraint keeps the dedupe of client message ids. */
    "CREATE TABLE messages ("
    " chat_id BLOB NOT NULL,"
    " sender BLOB NOT NULL,"
    " receiver BLOB NOT NULL,"
    " message_id TEXT NOT NULL,"
    " message TEXT NOT NULL,"
    " type INTEGER NOT NULL DEFAULT 0,"
    " preview TEXT NOT NULL DEFAULT '',"
    " sent_at INTEGER NOT NULL,"
    " received_at INTEGER NOT NULL DEFAULT 0,"
    " seen_at INTEGER NOT NULL DEFAULT 0,"
    " sequence INTEGER NOT NULL,"
    " deleted_at INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (chat_id, sequence),"
    " UNIQUE (chat_id, message_id)"
    ") WITHOUT ROWID;"
    /* The seed's pending/notification table (service_type = enum
     * pending_kind). MESSAGE rows copy the message so that a reconnect reads
     * one key range. deleted_at is ours, for PENDING_DELETED rows. */
    "CREATE TABLE pending ("
    " user_id BLOB NOT NULL,"
    " chat_id BLOB NOT NULL,"
    " sender BLOB NOT NULL,"
    " receiver BLOB NOT NULL,"
    " service_type INTEGER NOT NULL,"
    " message_id TEXT NOT NULL,"
    " message TEXT NOT NULL DEFAULT '',"
    " type INTEGER NOT NULL DEFAULT 0,"
    " preview TEXT NOT NULL DEFAULT '',"
    " sent_at INTEGER NOT NULL DEFAULT 0,"
    " received_at INTEGER NOT NULL DEFAULT 0,"
    " seen_at INTEGER NOT NULL DEFAULT 0,"
    " sequence INTEGER NOT NULL,"
    " deleted_at INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (user_id, chat_id, service_type, message_id, sequence)"
    ") WITHOUT ROWID;",
    /* 2: ceilings (store.h: max_pending, max_per_day).
     * pending_counts holds each user's number of pending rows, so that a send
     * checks the recipient's backlog with one key lookup instead of counting
     * rows. Triggers keep it exact in the same transaction as every insert
     * and delete of a pending row, wherever the statement is; the backend's
     * writes to pending never use INSERT OR REPLACE (its implicit delete
     * would bypass the delete trigger unless recursive_triggers is on), they
     * upsert instead. A small table of its own rather than a users column: a
     * send dirties one narrow row, not the wide users row with its pwhash.
     * friend_requests_sent logs every request a user made, for the daily
     * ceiling; rows older than a day are pruned as the user sends more. */
    "CREATE TABLE pending_counts ("
    " user_id BLOB PRIMARY KEY NOT NULL,"
    " n INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "INSERT INTO pending_counts (user_id, n) SELECT user_id, count(*) FROM pending"
    " GROUP BY user_id;"
    "CREATE TRIGGER pending_counts_ins AFTER INSERT ON pending BEGIN"
    " INSERT INTO pending_counts (user_id, n) VALUES (NEW.user_id, 1)"
    " ON CONFLICT (user_id) DO UPDATE SET n = n + 1;"
    " END;"
    "CREATE TRIGGER pending_counts_del AFTER DELETE ON pending BEGIN"
    " UPDATE pending_counts SET n = n - 1 WHERE user_id = OLD.user_id;"
    " END;"
    "CREATE TABLE friend_requests_sent ("
    " from_id BLOB NOT NULL,"
    " created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX friend_requests_sent_from ON friend_requests_sent (from_id, created_at);",
    /* 3: withheld messages (store.h, STORE_MSG_SEND): 1 for a message sent
     * while its receiver blocked its sender. */
    "ALTER TABLE messages ADD COLUMN withheld INTEGER NOT NULL DEFAULT 0;",
    /* 4: the replay reads pending rows a page at a time in (chat, sequence,
     * kind) order (STORE_PENDING_LIST with a limit): each page is one index
     * range, not a sort of the user's whole backlog. */
    "CREATE INDEX IF NOT EXISTS pending_replay"
    " ON pending"
    " (user_id, chat_id, sequence, service_type);",
    /* 5: the seen position each member has reported (issue 14 item 5).
     * a_seen_seq moves only with a seen made while both members have read
     * receipts on, so reads made while they were off stay unreported when
     * receipts come back; the conversation list's peer_read_seq is it (as
     * the Cassandra backend's a_seen_seq). Existing chats start from the
     * newest message each member was recorded to have seen. */
    "ALTER TABLE chats ADD COLUMN a_seen_seq INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE chats ADD COLUMN b_seen_seq INTEGER NOT NULL DEFAULT 0;"
    "UPDATE chats SET"
    " a_seen_seq = coalesce((SELECT max(sequence) FROM messages m WHERE m.chat_id ="
    " chats.chat_id AND m.receiver = chats.user_a AND m.seen_at <> 0), 0),"
    " b_seen_seq = coalesce((SELECT max(sequence) FROM messages m WHERE m.chat_id ="
    " chats.chat_id AND m.receiver = chats.user_b AND m.seen_at <> 0), 0);",
    /* c-org (issue 17): search and organise. msg_fts is a contentless FTS5
     * index of the text (sqlite_search.c: no copy of the text, and how a
     * delete leaves no token behind), with the chat as a token of its own
     * column; msg_fts_rows maps its rowids to messages, messages.fts_id
     * back. Existing messages are indexed here, oldest first. chat_state:
     * each user's pin, archive and mute of a chat (sqlite_org.c). */
    "ALTER TABLE messages ADD COLUMN fts_id INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE msg_fts_rows ("
    " id INTEGER PRIMARY KEY,"
    " chat_id BLOB NOT NULL,"
    " sequence INTEGER NOT NULL"
    ");"
    "CREATE VIRTUAL TABLE msg_fts USING fts5(text, chat, content='',"
    " tokenize='unicode61 remove_diacritics 2', prefix='2 3');"
    "INSERT INTO msg_fts_rows (chat_id, sequence) SELECT chat_id, sequence FROM messages"
    " WHERE deleted_at = 0 AND message <> '' ORDER BY sent_at, chat_id, sequence;"
    "UPDATE messages SET fts_id = r.id FROM msg_fts_rows r"
    " WHERE messages.chat_id = r.chat_id AND messages.sequence = r.sequence;"
    "INSERT INTO msg_fts (rowid, text, chat) SELECT r.id, m.message, hex(m.chat_id)"
    " FROM msg_fts_rows r JOIN messages m ON m.chat_id = r.chat_id AND m.sequence = r.sequence"
    " ORDER BY r.id;"
    "CREATE TABLE chat_state ("
    " user_id BLOB NOT NULL,"
    " chat_id BLOB NOT NULL,"
    " pinned_at INTEGER NOT NULL DEFAULT 0,"
    " archived INTEGER NOT NULL DEFAULT 0,"
    " muted_until INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (user_id, chat_id)"
    ") WITHOUT ROWID;",
    /* c-msg (issue 17): reply, forward, edit, reactions, delete for me.
     * reply_to is the quoted seq; its snippet is read from the original at
     * each read, so erasing the original erases the quote too. A reaction
     * made while the peer blocks the reactor is withheld (never shown to the
     * peer). hidden is "delete for me", per user. */
    "ALTER TABLE messages ADD COLUMN reply_to INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE messages ADD COLUMN forwarded INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE messages ADD COLUMN edited_at INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE reactions ("
    " chat_id BLOB NOT NULL,"
    " sequence INTEGER NOT NULL,"
    " user_id BLOB NOT NULL,"
    " emoji TEXT NOT NULL,"
    " at INTEGER NOT NULL,"
    " withheld INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (chat_id, sequence, user_id)"
    ") WITHOUT ROWID;"
    "CREATE TABLE hidden ("
    " user_id BLOB NOT NULL,"
    " chat_id BLOB NOT NULL,"
    " sequence INTEGER NOT NULL,"
    " PRIMARY KEY (user_id, chat_id, sequence)"
    ") WITHOUT ROWID;",
    /* Web Push (issue 16): subscriptions (tied to the session that made
     * them: logout removes them), the preview setting, which chats have a
     * notification showing (so a read sends one "clear"), and the persisted
     * push queue: one row per push due to one subscription, owned by the
     * instance that stored the message (docs/deploy.md). IF NOT EXISTS: the
     * unit tests rewind user_version and run the later migrations again. */
    "CREATE TABLE IF NOT EXISTS push_subs ("
    " sub_id BLOB PRIMARY KEY NOT NULL,"
    " user_id BLOB NOT NULL,"
    " token_hash BLOB NOT NULL,"
    " endpoint TEXT NOT NULL UNIQUE,"
    " p256dh TEXT NOT NULL,"
    " auth TEXT NOT NULL,"
    " device TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL,"
    " last_success INTEGER NOT NULL DEFAULT 0"
    ") WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS push_subs_user ON push_subs (user_id, created_at);"
    "CREATE INDEX IF NOT EXISTS push_subs_token ON push_subs (token_hash);"
    "CREATE TABLE IF NOT EXISTS push_prefs ("
    " user_id BLOB PRIMARY KEY NOT NULL,"
    " preview INTEGER NOT NULL DEFAULT 0"
    ") WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS push_notified ("
    " user_id BLOB NOT NULL,"
    " chat_id BLOB NOT NULL,"
    " PRIMARY KEY (user_id, chat_id)"
    ") WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS push_jobs ("
    " job_id BLOB PRIMARY KEY NOT NULL,"
    " instance TEXT NOT NULL,"
    " sub_id BLOB NOT NULL,"
    " kind INTEGER NOT NULL,"
    " chat_id BLOB NOT NULL,"
    " seq INTEGER NOT NULL,"
    " sender_name TEXT NOT NULL DEFAULT '',"
    " body TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS push_jobs_instance ON push_jobs (instance, created_at);"
    "CREATE INDEX IF NOT EXISTS push_jobs_sub ON push_jobs (sub_id);",
    /* media (issue 15): uploads (tus state; the bytes are on disk or in the
     * blob store, never here) and each message's media object (JSON text
     * beside the seed's type and preview), copied into pending rows like
     * the text. uploads_owner serves the daily quota and the in-flight
     * count, uploads_expiry the sweep. */
    "CREATE TABLE uploads ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " owner BLOB NOT NULL,"
    " length INTEGER NOT NULL,"
    " upload_offset INTEGER NOT NULL DEFAULT 0,"
    " name TEXT NOT NULL DEFAULT '',"
    " filetype TEXT NOT NULL DEFAULT '',"
    " mime TEXT NOT NULL DEFAULT '',"
    " kind INTEGER NOT NULL DEFAULT 0,"
    " state INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL,"
    " chat_id BLOB,"
    " seq INTEGER NOT NULL DEFAULT 0"
    ") WITHOUT ROWID;"
    "CREATE INDEX uploads_owner ON uploads (owner, created_at);"
    "CREATE INDEX uploads_expiry ON uploads (state, expires_at);"
    "CREATE INDEX uploads_message ON uploads (chat_id, seq);"
    /* Bytes each user created uploads for, for the daily quota: kept when
     * an upload is cancelled or swept (that must not refill the quota),
     * pruned as the user uploads more (like friend_requests_sent). */
    "CREATE TABLE upload_log (owner BLOB NOT NULL, created_at INTEGER NOT NULL,"
    " length INTEGER NOT NULL);"
    "CREATE INDEX upload_log_owner ON upload_log (owner, created_at);"
    "ALTER TABLE messages ADD COLUMN media TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE pending ADD COLUMN media TEXT NOT NULL DEFAULT '';",
    /* s-shard: the search index in shards by age, msg_fts_<n> holding the
     * FTS rowids from first_id on (sqlite_shards.c, which creates them and
     * splits c-org's msg_fts into them at open: the shard size is an
     * option, not SQL). */
    "CREATE TABLE msg_fts_shards ("
    " n INTEGER PRIMARY KEY,"
    " first_id INTEGER NOT NULL"
    ");",
};

const size_t sq_migrations_count = sizeof(sq_migrations) / sizeof(sq_migrations[0]);
