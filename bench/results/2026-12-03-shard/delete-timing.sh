#!/bin/sh
# delete-timing.sh OLD_DB NEW_DB ID: one delete for everyone's index work,
# timed by the sqlite3 CLI as in 2026-12-03-search (secure_delete on, the
# FTS5 'delete' of rowid ID, then the optimize duetd runs, then COMMIT).
# OLD_DB has c-org's single msg_fts; NEW_DB the shards (the optimize of the
# shard holding ID only). Both are scratch copies: the delete stays.
set -eu
old=$1 new=$2 id=$3
echo "== before (c-org, one msg_fts): rowid $id"
sqlite3 "$old" <<SQL
PRAGMA secure_delete=ON;
.timer on
BEGIN;
INSERT INTO msg_fts(msg_fts, rowid, text, chat) SELECT 'delete', r.id, m.message, hex(m.chat_id) FROM msg_fts_rows r JOIN messages m ON m.chat_id = r.chat_id AND m.sequence = r.sequence WHERE r.id = $id;
INSERT INTO msg_fts(msg_fts) VALUES('optimize');
COMMIT;
SQL
k=$(sqlite3 "$new" "SELECT n FROM msg_fts_shards WHERE first_id <= $id ORDER BY n DESC LIMIT 1")
t=msg_fts_$k
echo "== after (shards): rowid $id in $t ($(sqlite3 "$new" "SELECT count(*) FROM $t") rows)"
sqlite3 "$new" <<SQL
PRAGMA secure_delete=ON;
.timer on
BEGIN;
INSERT INTO $t($t, rowid, text, chat) SELECT 'delete', r.id, m.message, hex(m.chat_id) FROM msg_fts_rows r JOIN messages m ON m.chat_id = r.chat_id AND m.sequence = r.sequence WHERE r.id = $id;
INSERT INTO $t($t) VALUES('optimize');
COMMIT;
SQL
