// 29 - issue 14 item 5: reads made while read receipts were off stay
// unreported when they are turned on again. peer_read_seq is the position
// the peer last reported with receipts on (both sides), not its read
// position; the next seen made with receipts on reports cumulatively, as
// every seen receipt does.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { User, befriend, chatWith, expectStatus, fullHistory, sendMsg } from './lib/client.mjs';

describe('29 read receipts are not reported retroactively (issue 14 item 5)', { timeout: 120000 }, () => {
  let srv, amy, ben, chat, A, B;
  before(async () => {
    srv = await startServer();
    [amy, ben] = await User.all(srv, ['amy', 'ben']);
    chat = await befriend(amy, ben);
    A = await amy.connect();
    B = await ben.connect();
  });
  after(async () => {
    await srv?.stop();
  });

  async function amySends(text) {
    const s = await sendMsg(A, chat, text);
    await B.next('message', (e) => e.seq === s.seq);
    return s.seq;
  }

  async function seenAt(seq) {
    return (await fullHistory(amy, chat)).find((m) => m.seq === seq).seen_at;
  }

  it('ben reads with receipts off, turns them on: amy learns nothing of those reads', async () => {
    const s1 = await amySends('one');
    B.send({ type: 'seen', chat_id: chat, seq: s1 });
    await A.next('receipt', (r) => r.status === 'seen' && r.seq === s1);
    assert.equal((await chatWith(amy, chat)).peer_read_seq, s1, 'reported with both on');

    expectStatus(await ben.http.patch('/api/me', { read_receipts: false }), 200);
    const s2 = await amySends('two');
    const s3 = await amySends('three');
    B.send({ type: 'seen', chat_id: chat, seq: s3 });
    await B.ping();
    assert.equal((await chatWith(ben, chat)).read_seq, s3, "ben's own read position moved");

    expectStatus(await ben.http.patch('/api/me', { read_receipts: true }), 200);
    const c = await chatWith(amy, chat);
    assert.equal(c.peer_read_seq, s1, `peer_read_seq jumped to ${c.peer_read_seq} with reads made while receipts were off`);
    assert.equal(await seenAt(s2), null);
    assert.equal(await seenAt(s3), null);
    await A.expectNo('receipt', 400, (r) => r.status === 'seen');
    // A reconnecting device of amy gets no receipt for them either.
    const A2 = await amy.connect();
    assert.ok(!A2.pending.some((e) => e.type === 'receipt' && e.status === 'seen' && e.seq > s1), JSON.stringify(A2.pending));
    await A2.close();
  });

  it('the next seen made with receipts on reports as usual, cumulatively', async () => {
    const s4 = await amySends('four');
    B.send({ type: 'seen', chat_id: chat, seq: s4 });
    const r = await A.next('receipt', (x) => x.status === 'seen' && x.seq === s4);
    assert.equal((await chatWith(amy, chat)).peer_read_seq, s4);
    assert.equal(await seenAt(s4), r.at);
  });

  it('amy turning hers off and on reveals nothing of what ben read meanwhile', async () => {
    expectStatus(await amy.http.patch('/api/me', { read_receipts: false }), 200);
    const s5 = await amySends('five');
    B.send({ type: 'seen', chat_id: chat, seq: s5 });
    await B.ping();
    expectStatus(await amy.http.patch('/api/me', { read_receipts: true }), 200);
    const c = await chatWith(amy, chat);
    assert.ok(c.peer_read_seq < s5, `peer_read_seq ${c.peer_read_seq} shows a read made while amy had receipts off`);
    await A.expectNo('receipt', 300, (x) => x.status === 'seen' && x.seq === s5);
  });
});
