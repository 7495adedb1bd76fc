// 94 - search words made of symbols (audit 9): the query is split at ASCII
// punctuation and spaces only, so "—", "😀" or "→" stay words; the SQLite
// index (FTS5 unicode61) holds no token for them, and as a phrase of no
// token each matched nothing, emptying the whole AND: "café — paris" did
// not find "café — paris". Such words are now left out of the match; a
// query of nothing else finds nothing (200, never 500). Audit 10: the
// snippet marked them all the same; now it marks only the words the
// search used (on Cassandra, which matches symbols too, every word).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isCassandra, startServer } from './lib/server.mjs';
import { User, befriend, expectStatus, sendMsg } from './lib/client.mjs';

async function search(user, q) {
  const res = await user.http.get(`/api/search?q=${encodeURIComponent(q)}`);
  expectStatus(res, 200, `search ${JSON.stringify(q)}:`);
  return res.json.results;
}

describe('94 search: words of symbols', { timeout: 60000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('a word of symbols does not empty the match', async () => {
    const [amy, ben] = await User.all(srv, ['ss_amy', 'ss_ben']);
    const chat = await befriend(amy, ben);
    const A = await amy.connect();
    const m = await sendMsg(A, chat, 'meet at the café — paris 😀 tomorrow → station');
    await sendMsg(A, chat, 'something else entirely');

    for (const q of ['café — paris', 'paris 😀', '😀 tomorrow', 'tomorrow → station', 'meet — — — at']) {
      const hits = await search(amy, q);
      assert.deepEqual(
        hits.map((h) => h.seq),
        [m.seq],
        `${JSON.stringify(q)} finds the message: ${JSON.stringify(hits)}`,
      );
      assert.ok(hits[0].snippet.includes('paris'));
    }
    // The snippet marks the words the search matched on, never a word of
    // symbols it left out (audit 10: "—" and "😀" were marked on SQLite).
    // Cassandra's scan matches every word, symbols too, so it marks them.
    const marked = (hit) => hit.matches.map(([at, n]) => hit.snippet.slice(at, at + n));
    for (const [q, sqliteWords, cassWords] of [
      ['café — paris', ['café', 'paris'], ['café', '—', 'paris']],
      ['paris 😀', ['paris'], ['paris', '😀']],
      ['😀 tomorrow', ['tomorrow'], ['😀', 'tomorrow']],
      ['tomorrow → station', ['tomorrow', 'station'], ['tomorrow', '→', 'station']],
      ['meet — — — at', ['meet', 'at'], ['meet', 'at', '—']],
    ]) {
      const words = isCassandra ? cassWords : sqliteWords;
      const [hit] = await search(amy, q);
      assert.deepEqual(marked(hit), words, `${JSON.stringify(q)} marks ${JSON.stringify(words)}: ${JSON.stringify(hit)}`);
    }
    // The words that do count still must all be there.
    assert.deepEqual(await search(amy, 'café — london'), []);
    // Nothing but symbols: answered, with no result on SQLite (the index
    // has no token for them), never an error.
    for (const q of ['😀', '— →']) {
      const res = await amy.http.get(`/api/search?q=${encodeURIComponent(q)}`);
      assert.equal(res.status, 200, `${JSON.stringify(q)}: ${res.text}`);
    }
    await A.close();
  });
});
