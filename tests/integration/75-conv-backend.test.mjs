// 75 - issue 17 on the configured backend (SQLite or Cassandra, with
// DUET_TEST_BACKEND): reply, forward, react, edit and hide each answered,
// and what history shows afterwards is the same on both (70-76 in depth).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BACKEND, startServer } from './lib/server.mjs';
import { User, befriend, history, sendMsg } from './lib/client.mjs';

describe(`75 issue 17 on ${BACKEND}`, { timeout: 180000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('each request is answered, and history carries the result', async () => {
    const [amy, ben] = await User.all(srv, ['b_amy', 'b_ben']);
    const chat = await befriend(amy, ben);
    const A = await amy.connect();
    const B = await ben.connect();
    const s = await sendMsg(A, chat, 'the one message');
    await B.next('message', (e) => e.seq === s.seq);
    const frames = [
      [{ type: 'send', chat_id: chat, id: 'r-1', text: 'reply', reply_to: s.seq }, 'sent'],
      [{ type: 'send', chat_id: chat, id: 'f-1', forward: { chat_id: chat, seq: s.seq } }, 'sent'],
      [{ type: 'react', chat_id: chat, seq: s.seq, emoji: '👍' }, 'reaction'],
      [{ type: 'edit', chat_id: chat, seq: s.seq, text: 'edited' }, 'edited'],
      [{ type: 'hide', chat_id: chat, seq: s.seq + 1 }, 'hidden'],
    ];
    for (const [frame, answer] of frames) assert.equal((await A.request(frame)).type, answer, JSON.stringify(frame));
    const h = await history(amy, chat);
    assert.deepEqual(h.map((m) => m.seq), [s.seq, s.seq + 1, s.seq + 2]);
    assert.equal(h[0].text, 'edited');
    assert.ok(h[0].edited_at > 0);
    assert.deepEqual(h[0].reactions.map((r) => [r.user, r.emoji]), [[amy.id, '👍']]);
    assert.equal(h[1].hidden, true);
    assert.equal(h[1].text, '');
    assert.equal(h[2].forwarded, true);
    assert.equal(h[2].text, 'the one message');
    const hb = await history(ben, chat);
    assert.equal(hb[1].reply_to.seq, s.seq);
    assert.equal(hb[1].reply_to.snippet, 'edited', 'the quote is read from the original: its edit shows');
    assert.equal(hb[1].hidden, undefined, 'hidden for amy only');
  });
});
