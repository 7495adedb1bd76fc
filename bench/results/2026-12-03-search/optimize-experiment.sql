PRAGMA secure_delete=ON;
.timer on
CREATE VIRTUAL TABLE f2 USING fts5(text, chat, content='', tokenize='unicode61 remove_diacritics 2');
INSERT INTO f2(rowid, text, chat) SELECT r.id, m.message, hex(m.chat_id) FROM msg_fts_rows r JOIN messages m ON m.chat_id = r.chat_id AND m.sequence = r.sequence ORDER BY r.id;
INSERT INTO f2(f2) VALUES('optimize');
SELECT sum(length(block)) FROM f2_data;
BEGIN;
INSERT INTO f2(f2, rowid, text, chat) SELECT 'delete', r.id, m.message, hex(m.chat_id) FROM msg_fts_rows r JOIN messages m ON m.chat_id = r.chat_id AND m.sequence = r.sequence WHERE r.id = 700000;
INSERT INTO f2(f2) VALUES('optimize');
COMMIT;
SELECT count(*) FROM (SELECT rowid FROM f2 WHERE f2 MATCH 'text : ("qab"*)' ORDER BY rowid DESC LIMIT 21);
SELECT count(*) FROM (SELECT rowid FROM msg_fts WHERE msg_fts MATCH 'text : ("qab"*)' ORDER BY rowid DESC LIMIT 21);
SELECT count(*) FROM (SELECT rowid FROM f2 WHERE f2 MATCH 'text : ("qa"*)' ORDER BY rowid DESC LIMIT 21);
SELECT count(*) FROM (SELECT rowid FROM msg_fts WHERE msg_fts MATCH 'text : ("qa"*)' ORDER BY rowid DESC LIMIT 21);
