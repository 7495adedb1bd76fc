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
      'DROP TABLE msg_fts; DROP TABLE msg_fts_rows; DROP TABLE chat_state;' +
        ' ALTER TABLE messages DROP COLUMN fts_id; PRAGMA user_version=5;',
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
});
