// 81 - the search migration indexes the messages that were there before it
// (issue 17): a database is brought back to the schema before search
// (user_version 5: no msg_fts, msg_fts_rows, chat_state or fts_id, with
// the sqlite3 CLI), duetd starts on it and migrates, and search finds the
// old messages, but not one deleted before the migration; new messages
// are indexed as usual, and organising works on the migrated file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { NO_RATE_LIMIT, SLOW, isCassandra, startServer } from './lib/server.mjs';
import { User, befriend, chatWith, expectStatus, sendMsg } from './lib/client.mjs';

async function searchSeqs(user, q) {
  const res = await user.http.get(`/api/search?q=${encodeURIComponent(q)}`);
  expectStatus(res, 200, 'search:');
  return res.json.results.map((r) => r.seq);
}

function sql(srv, q) {
  return execFileSync('sqlite3', [srv.dbPath, q], { encoding: 'utf8' }).trim();
}

// SQL that drops the index's shards (s-shard) and their list.
function dropShards(srv) {
  const names = sql(srv, "SELECT 'msg_fts_' || n FROM msg_fts_shards");
  return names.split('\n').filter(Boolean).map((n) => `DROP TABLE ${n};`).join(' ') + ' DROP TABLE msg_fts_shards;';
}

describe('81 the search migration indexes existing messages', { timeout: 60000 * SLOW, skip: isCassandra && 'SQLite migrations' }, () => {
  let srv, alice, bob, chat;
  before(async () => {
    srv = await startServer({ args: NO_RATE_LIMIT });
    [alice, bob] = await User.all(srv, ['alice', 'bob']);
    chat = await befriend(alice, bob);
  });
  after(async () => {
    await srv?.stop();
  });

  it('old messages are found after the migration; deleted ones are not', async () => {
    const A = await alice.connect();
    await sendMsg(A, chat, 'an old walnut');
    const gone = await sendMsg(A, chat, 'a deleted walnut');
    await sendMsg(A, chat, 'another old walnut');
    const d = await A.request({ type: 'delete', ref: 'd', chat_id: chat, seq: gone.seq });
    assert.equal(d.type, 'deleted');
    await A.close();
    await srv.stop({ keepData: true });
    // Back to the schema before search.
    execFileSync('sqlite3', [
      srv.dbPath,
      dropShards(srv) +
        ' DROP TABLE msg_fts_rows; DROP TABLE chat_state;' +
        ' ALTER TABLE messages DROP COLUMN fts_id;' +
        // the later migrations that add columns run again too: undo them
        ' ALTER TABLE messages DROP COLUMN reply_to; ALTER TABLE messages DROP COLUMN forwarded;' +
        ' ALTER TABLE messages DROP COLUMN edited_at; DROP TABLE reactions; DROP TABLE hidden;' +
        ' DROP TABLE uploads; DROP TABLE upload_log;' +
        ' ALTER TABLE messages DROP COLUMN media; ALTER TABLE pending DROP COLUMN media;' +
        ' PRAGMA user_version=5;',
    ]);
    const tables = execFileSync('sqlite3', [srv.dbPath, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'msg_fts%'"], {
      encoding: 'utf8',
    }).trim();
    assert.equal(tables, '0', 'the index is gone before the restart');
    await srv.restart();
    assert.deepEqual(await searchSeqs(bob, 'walnut'), [3, 1]);
    const A2 = await alice.connect();
    await sendMsg(A2, chat, 'a new walnut');
    assert.deepEqual(await searchSeqs(bob, 'walnut'), [4, 3, 1]);
    await A2.close();
    expectStatus(await alice.http.put(`/api/chats/${chat}/state`, { pinned: true }), 200);
    assert.equal((await chatWith(alice, chat)).pinned, true);
  });

  // s-shard: a store that the c-org migration left with one msg_fts (no
  // shards) is split into shards at open; with 2 messages a shard, a delete
  // of an old message still finds and erases its row in its shard.
  it('a c-org store (one msg_fts) is split into shards at open', async () => {
    await srv.stop({ keepData: true });
    const n = Number(sql(srv, 'PRAGMA user_version'));
    // What the c-org migration left: msg_fts over msg_fts_rows, no shards.
    execFileSync('sqlite3', [
      srv.dbPath,
      dropShards(srv) +
        " CREATE VIRTUAL TABLE msg_fts USING fts5(text, chat, content='', tokenize='unicode61 remove_diacritics 2', prefix='2 3');" +
        ' INSERT INTO msg_fts (rowid, text, chat) SELECT r.id, m.message, hex(m.chat_id) FROM msg_fts_rows r' +
        ' JOIN messages m ON m.chat_id = r.chat_id AND m.sequence = r.sequence ORDER BY r.id;' +
        ` PRAGMA user_version=${n - 1};`,
    ]);
    await srv.restart({ args: [...NO_RATE_LIMIT, '--fts-shard-rows', '2'] });
    assert.equal(sql(srv, "SELECT count(*) FROM sqlite_master WHERE name = 'msg_fts'"), '0', 'msg_fts was dropped');
    const shards = Number(sql(srv, 'SELECT count(*) FROM msg_fts_shards'));
    assert.ok(shards >= 2, `the 3 indexed messages are in 2 shards or more (${shards})`);
    assert.deepEqual(await searchSeqs(bob, 'walnut'), [4, 3, 1]);
    const A = await alice.connect();
    const d = await A.request({ type: 'delete', ref: 'd', chat_id: chat, seq: 1 });
    assert.equal(d.type, 'deleted', JSON.stringify(d));
    await sendMsg(A, chat, 'walnut again');
    await A.close();
    assert.deepEqual(await searchSeqs(bob, 'walnut'), [5, 4, 3]);
  });
});
