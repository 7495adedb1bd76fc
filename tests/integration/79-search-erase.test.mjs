// 79 - delete for everyone also erases the search index (issue 17): the
// FTS5 index keeps tokens (lower-cased words), not the text, so the test
// plants a unique word and scans every byte under --data for it: found
// after the send (else the scan proves nothing), gone once `deleted` went
// out, also after more traffic, after kill -9 and after a restart; search
// no longer finds it. Fails without the optimize that follows a delete
// (sqlite_search.c): a contentless FTS5 delete only adds a marker.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { NO_RATE_LIMIT, SLOW, isCassandra, startServer } from './lib/server.mjs';
import { User, befriend, expectStatus, sendMsg } from './lib/client.mjs';

// A unique word; the scan looks for its random tail (FTS5 leaves share
// prefixes between neighbouring terms, never the tail).
function uniqueWord() {
  const tail = crypto.randomBytes(8).toString('hex');
  return { word: `zqx${tail}`, tail: Buffer.from(tail.slice(2)) };
}

async function found(srv, w) {
  return (await srv.storeBytes()).includes(w.tail);
}

async function searchCount(user, q) {
  const res = await user.http.get(`/api/search?q=${encodeURIComponent(q)}`);
  expectStatus(res, 200, 'search:');
  return res.json.results.length;
}

describe('79 delete for everyone erases the search index', { timeout: 120000 * SLOW, skip: isCassandra && 'SQLite files only' }, () => {
  let srv, alice, bob, chat;
  before(async () => {
    srv = await startServer({ args: NO_RATE_LIMIT });
    [alice, bob] = await User.all(srv, ['alice', 'bob']);
    chat = await befriend(alice, bob);
  });
  after(async () => {
    await srv?.stop();
  });

  async function plantAndDelete(A, w) {
    // History around it, so that the index has several segments.
    for (let i = 0; i < 30; i++) await sendMsg(A, chat, `filler before ${i} common words`);
    const s = await sendMsg(A, chat, `meet at ${w.word} please`);
    for (let i = 0; i < 30; i++) await sendMsg(A, chat, `filler after ${i} common words`);
    assert.equal(await searchCount(bob, w.word), 1, 'search finds the word before the delete');
    assert.ok(await found(srv, w), 'the scan finds the indexed word before the delete (else it proves nothing)');
    const d = await A.request({ type: 'delete', ref: 'd', chat_id: chat, seq: s.seq });
    assert.equal(d.type, 'deleted', JSON.stringify(d));
    return s;
  }

  it('no file holds the word once `deleted` went out, nor after more traffic', async () => {
    const A = await alice.connect();
    const w = uniqueWord();
    await plantAndDelete(A, w);
    assert.equal(await found(srv, w), false, 'right after `deleted`, the index still holds the word');
    assert.equal(await searchCount(bob, w.word), 0);
    for (let i = 0; i < 50; i++) await sendMsg(A, chat, `later ${i}`);
    assert.equal(await found(srv, w), false, 'later traffic brought the word back');
    // The other words of the index still work after the optimize.
    assert.ok((await searchCount(bob, 'filler')) > 0);
    await A.close();
  });

  it('kill -9 straight after `deleted`: no file holds the word, before and after the restart', async () => {
    const A = await alice.connect();
    const w = uniqueWord();
    await plantAndDelete(A, w);
    await srv.crash();
    assert.equal(await found(srv, w), false, 'the files a kill -9 left hold the word');
    await srv.restart();
    assert.equal(await found(srv, w), false, 'after the restart');
    assert.equal(await searchCount(bob, w.word), 0);
    assert.ok((await searchCount(bob, 'common')) > 0, 'the index survived the crash');
  });
});

// s-shard: the index is split into shards by age (sqlite_shards.c) and a
// delete optimizes only its own shard. With 8 messages a shard, the word sits
// in a shard several blocks older than the newest: it must still be erased
// (fails if the batch optimized only the newest shard, or none).
describe('79 the erase reaches a message in an old shard', { timeout: 120000 * SLOW, skip: isCassandra && 'SQLite files only' }, () => {
  let srv, alice, bob, chat;
  before(async () => {
    srv = await startServer({ args: [...NO_RATE_LIMIT, '--fts-shard-rows', '8'] });
    [alice, bob] = await User.all(srv, ['alice', 'bob']);
    chat = await befriend(alice, bob);
  });
  after(async () => {
    await srv?.stop();
  });

  it('no file holds the word of a message 5 shards back once `deleted` went out', async () => {
    const A = await alice.connect();
    const w = uniqueWord();
    for (let i = 0; i < 10; i++) await sendMsg(A, chat, `filler before ${i} common words`);
    const s = await sendMsg(A, chat, `meet at ${w.word} please`);
    for (let i = 0; i < 40; i++) await sendMsg(A, chat, `filler after ${i} common words`);
    const shards = Number(execFileSync('sqlite3', [srv.dbPath, 'SELECT count(*) FROM msg_fts_shards'], { encoding: 'utf8' }).trim());
    assert.ok(shards >= 6, `51 messages at 8 a shard make 6 shards or more (${shards})`);
    // A search from the newest page on reaches it (following next_before).
    let next = null;
    let hits = 0;
    for (let page = 0; page < 10 && (page === 0 || next !== null); page++) {
      const res = await bob.http.get(`/api/search?q=${w.word}${next ? `&before=${next}` : ''}`);
      expectStatus(res, 200, 'search:');
      hits += res.json.results.length;
      next = res.json.next_before;
    }
    assert.equal(hits, 1, 'search finds the word before the delete');
    assert.ok(await found(srv, w), 'the scan finds the indexed word before the delete (else it proves nothing)');
    const d = await A.request({ type: 'delete', ref: 'd', chat_id: chat, seq: s.seq });
    assert.equal(d.type, 'deleted', JSON.stringify(d));
    assert.equal(await found(srv, w), false, 'right after `deleted`, the old shard still holds the word');
    for (let i = 0; i < 20; i++) await sendMsg(A, chat, `later ${i}`);
    assert.equal(await found(srv, w), false, 'later traffic brought the word back');
    assert.ok((await searchCount(bob, 'filler')) > 0, 'the other words still work');
    await A.close();
  });
});
