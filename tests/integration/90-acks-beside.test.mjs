// 90 - one conversation with its receiver online (issue 19, round 6): the
// receiver acks each message as it arrives while the sender keeps a window
// of sends in flight, so acks queue between the sends. On Cassandra they
// run beside the send group they wait behind (docs/cassandra.md, "Acks
// beside the group"). Every send is stored once, in its socket's order,
// without gaps; every ack gives its receipt, in order, once; nothing is
// left pending for the receiver.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NO_RATE_LIMIT, startServer } from './lib/server.mjs';
import { User, befriend, fullHistory } from './lib/client.mjs';

describe('90 acks beside the sends: the receiver acks each message live', { timeout: 300000 }, () => {
  let srv, amy, ben;
  before(async () => {
    srv = await startServer({ args: [...NO_RATE_LIMIT] });
    [amy, ben] = await User.all(srv, ['amy', 'ben']);
  });
  after(async () => {
    await srv?.stop();
  });

  it('a window of 16 sends in flight, each message acked as it arrives', async () => {
    const chat = await befriend(amy, ben);
    const A = await amy.connect({ label: 'A' });
    const B = await ben.connect({ label: 'B' });
    const got = [];
    B.ws.on('message', (data) => {
      const ev = JSON.parse(data.toString('utf8'));
      if (ev.type !== 'message' || ev.chat_id !== chat) return;
      got.push(ev.seq);
      B.send({ type: 'ack', chat_id: chat, kind: 'message', seq: ev.seq });
    });
    const N = 300;
    const W = 16;
    const answers = [];
    const inflight = [];
    const answer = (ref) => A.next(null, (e) => e.ref === ref && (e.type === 'sent' || e.type === 'error'));
    for (let i = 0; i < N; i++) {
      const ref = `r${i}`;
      A.send({ type: 'send', ref, chat_id: chat, id: `w-${i}`, text: `window ${i}` });
      inflight.push(ref);
      if (inflight.length >= W) answers.push(await answer(inflight.shift()));
    }
    while (inflight.length) answers.push(await answer(inflight.shift()));
    const want = Array.from({ length: N }, (_, i) => i + 1);
    assert.deepEqual(answers.map((a) => a.type), Array(N).fill('sent'), 'every send stored');
    assert.deepEqual(answers.map((a) => a.seq), want, 'in the socket\'s order, no gap');
    // Each ack moved the delivered mark by one message: one receipt each.
    const receipts = [];
    while (receipts.length < N) {
      const r = await A.next('receipt', (x) => x.chat_id === chat);
      receipts.push(`${r.status}:${r.seq}`);
    }
    assert.deepEqual(receipts, want.map((s) => `delivered:${s}`));
    await A.expectNo('receipt', 500, (x) => x.chat_id === chat);
    assert.deepEqual(got, want, 'ben got each message once, in order');
    assert.ok(!B.events.some((e) => e.type === 'error'), 'no error to ben');
    const B2 = await ben.connect({ label: 'B2' });
    assert.deepEqual(B2.pending.filter((e) => e.type === 'message'), [], 'nothing pending for ben');
    const hist = await fullHistory(amy, chat);
    assert.deepEqual(hist.map((m) => m.seq), want);
    assert.deepEqual(hist.map((m) => m.id), want.map((s) => `w-${s - 1}`));
  });
});
