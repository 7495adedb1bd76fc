// 70 - reply (issue 17 item 1): send with reply_to quotes an earlier
// message of the same chat; the message event, history and the replay
// carry the quote {seq, sender, snippet, type, deleted}; a quote of a
// message deleted for everyone is erased with it; withheld ones cannot be
// quoted; bad input answers an error naming send.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { User, befriend, expectStatus, history, sendMsg } from './lib/client.mjs';


describe('70 reply', { timeout: 180000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('a reply carries the quote live, in history and in the replay', async () => {
    const [amy, ben] = await User.all(srv, ['q_amy', 'q_ben']);
    const chat = await befriend(amy, ben);
    const A = await amy.connect();
    let B = await ben.connect();
    const long = `first line ${'x'.repeat(150)}\nsecond line`;
    const orig = await sendMsg(A, chat, long);
    await B.next('message', (e) => e.seq === orig.seq);
    const r = await B.request({ type: 'send', chat_id: chat, id: 'rep-1', text: 'answer', reply_to: orig.seq });
    assert.equal(r.type, 'sent', JSON.stringify(r));
    const live = await A.next('message', (e) => e.seq === r.seq);
    assert.equal(live.text, 'answer');
    assert.equal(live.reply_to.seq, orig.seq);
    assert.equal(live.reply_to.sender, amy.id);
    assert.equal(live.reply_to.type, 0);
    assert.equal(live.reply_to.deleted, false);
    assert.equal([...live.reply_to.snippet].length, 100, 'at most 100 characters');
    assert.ok(live.reply_to.snippet.startsWith('first line x'));
    assert.ok(!live.reply_to.snippet.includes('second'), 'the first line only');

    const h = (await history(amy, chat)).find((m) => m.seq === r.seq);
    assert.deepEqual(h.reply_to, live.reply_to);
    const plain = (await history(amy, chat)).find((m) => m.seq === orig.seq);
    assert.equal(plain.reply_to, undefined, 'no quote on a plain message');

    // Offline: Amy replies while Ben is away; his replay carries the quote.
    await B.close();
    const r2 = await A.request({ type: 'send', chat_id: chat, id: 'rep-2', text: 'more', reply_to: r.seq });
    B = await ben.connect();
    const pend = B.pending.find((e) => e.type === 'message' && e.seq === r2.seq);
    assert.ok(pend, JSON.stringify(B.pending));
    assert.equal(pend.reply_to.seq, r.seq);
    assert.equal(pend.reply_to.snippet, 'answer');
    assert.equal(pend.reply_to.sender, ben.id);

    // A retry of the reply returns it with its quote.
    const dup = await B.request({ type: 'send', chat_id: chat, id: 'rep-1', text: 'answer', reply_to: orig.seq });
    assert.equal(dup.duplicate, true);
  });

  it('deleting the original for everyone erases the quote too', async () => {
    const [cal, dee] = await User.all(srv, ['q_cal', 'q_dee']);
    const chat = await befriend(cal, dee);
    const C = await cal.connect();
    const D = await dee.connect();
    const orig = await sendMsg(C, chat, 'secret plans');
    const r = await D.request({ type: 'send', chat_id: chat, id: 'r-1', text: 'ok', reply_to: orig.seq });
    await C.request({ type: 'delete', chat_id: chat, seq: orig.seq });
    for (const u of [cal, dee]) {
      const m = (await history(u, chat)).find((x) => x.seq === r.seq);
      assert.equal(m.reply_to.deleted, true);
      assert.equal(m.reply_to.snippet, '');
      assert.equal(m.reply_to.seq, orig.seq);
    }
    // Quoting a deleted message is allowed (the quote says deleted).
    const r2 = await D.request({ type: 'send', chat_id: chat, id: 'r-2', text: 'still?', reply_to: orig.seq });
    assert.equal(r2.type, 'sent');
    const m2 = await C.next('message', (e) => e.seq === r2.seq);
    assert.equal(m2.reply_to.deleted, true);
    assert.equal(m2.reply_to.snippet, '');
  });

  it('bad or foreign reply_to is refused; withheld messages cannot be quoted', async () => {
    const [eve, fay] = await User.all(srv, ['q_eve', 'q_fay']);
    const chat = await befriend(eve, fay);
    const E = await eve.connect();
    const F = await fay.connect();
    await E.expectError({ type: 'send', chat_id: chat, id: 'b-1', text: 'x', reply_to: 0 }, 'bad_request');
    await E.expectError({ type: 'send', chat_id: chat, id: 'b-2', text: 'x', reply_to: 'one' }, 'bad_request');
    await E.expectError({ type: 'send', chat_id: chat, id: 'b-3', text: 'x', reply_to: 42 }, 'not_found');
    // Fay blocks Eve: Eve's new message is withheld; nobody can quote it.
    expectStatus(await fay.http.put(`/api/blocks/${eve.username}`), 204);
    const w = await sendMsg(E, chat, 'withheld');
    expectStatus(await fay.http.del(`/api/blocks/${eve.username}`), 204);
    await E.expectError({ type: 'send', chat_id: chat, id: 'b-4', text: 'x', reply_to: w.seq }, 'not_found');
    await F.expectError({ type: 'send', chat_id: chat, id: 'b-5', text: 'x', reply_to: w.seq }, 'not_found');
  });
});
