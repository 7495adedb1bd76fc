// 84 - acks and seens pipelined in one write (issue 18, round 4): the
// SQLite writer gets them in one batch and coalesces their pending writes
// per chat (src/store/sqlite/sqlite_defer.c). Every ack must still be
// answered as if it ran alone: the sender gets one receipt per ack or seen
// that moved something, in order, exactly once; an ack that moves nothing
// gives none; and nothing acknowledged comes back on a new connection, while
// everything not acknowledged does.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NO_RATE_LIMIT, startServer } from './lib/server.mjs';
import { RawWs, User, befriend, sendMsg, wsFrame } from './lib/client.mjs';

const frames = (objs) => Buffer.concat(objs.map((o) => wsFrame(1, Buffer.from(JSON.stringify(o)))));

describe('84 pipelined acks and seens of one chat', { timeout: 180000 }, () => {
  let srv, alice, bob, chat, A;
  before(async () => {
    srv = await startServer({ args: [...NO_RATE_LIMIT] });
    [alice, bob] = await User.all(srv, ['alice', 'bob']);
    chat = await befriend(alice, bob);
    A = await alice.connect({ label: 'alice' });
  });
  after(async () => {
    await srv?.stop();
  });

  async function aliceSends(n, tag) {
    const seqs = [];
    for (let i = 0; i < n; i++) seqs.push((await sendMsg(A, chat, `${tag} ${i}`)).seq);
    return seqs;
  }

  // The receipts alice gets, in arrival order, until `want` of them came;
  // then none more.
  async function receipts(want) {
    const got = [];
    while (got.length < want) {
      const r = await A.next('receipt', (x) => x.chat_id === chat);
      got.push(`${r.status}:${r.seq}`);
    }
    await A.expectNo('receipt', 500, (x) => x.chat_id === chat);
    return got;
  }

  async function bobRaw() {
    const B = await RawWs.connect(srv, { cookie: bob.session });
    await B.waitEvent('synced');
    return B;
  }

  it('each pipelined ack and seen gives its own receipt, in order, once', async () => {
    const seqs = await aliceSends(40, 'one');
    const B = await bobRaw();
    // Every ack moves the delivered mark by one; a seen every fifth.
    const reqs = [];
    const want = [];
    for (const s of seqs) {
      reqs.push({ type: 'ack', chat_id: chat, kind: 'message', seq: s });
      want.push(`delivered:${s}`);
      if (s % 5 === 0) {
        reqs.push({ type: 'seen', chat_id: chat, seq: s });
        want.push(`seen:${s}`);
      }
    }
    B.write(frames(reqs));
    assert.deepEqual(await receipts(want.length), want);
    assert.ok(!B.frames.some((f) => f.json?.type === 'error'), 'no error to bob');
    B.destroy();
  });

  it('acks that move nothing give nothing; the rest still in order', async () => {
    const seqs = await aliceSends(12, 'two');
    const s0 = seqs[0];
    const last = seqs[seqs.length - 1];
    const B = await bobRaw();
    // 3, 1 (behind), 3 (again), 7, 5 (behind), 12, 12 (again), 30 (beyond
    // the last message: delivers nothing new, and must not swallow a later one)
    const order = [3, 1, 3, 7, 5, 12, 12, 30].map((k) => s0 - 1 + k);
    B.write(frames(order.map((s) => ({ type: 'ack', chat_id: chat, kind: 'message', seq: s }))));
    assert.deepEqual(await receipts(3), [`delivered:${s0 + 2}`, `delivered:${s0 + 6}`, `delivered:${last}`]);
    assert.ok(!B.frames.some((f) => f.json?.type === 'error'), 'no error to bob');
    B.destroy();
    const after = await sendMsg(A, chat, 'after the ack beyond');
    const B2 = await bobRaw();
    const msgs = B2.frames.filter((f) => f.json?.type === 'message').map((f) => f.json.seq);
    assert.deepEqual(msgs, [after.seq], 'only the message sent after the acks is pending');
    B2.write(frames([{ type: 'ack', chat_id: chat, kind: 'message', seq: after.seq }]));
    assert.deepEqual(await receipts(1), [`delivered:${after.seq}`]);
    B2.destroy();
  });

  it('the sender\'s pipelined acks of its receipts leave nothing pending', async () => {
    // Alice's connection A never acknowledged a receipt: a new one replays
    // the newest of each kind.
    const R = await RawWs.connect(srv, { cookie: alice.session });
    await R.waitEvent('synced');
    const replayed = R.frames.filter((f) => f.json?.type === 'receipt' && f.json.chat_id === chat).map((f) => `${f.json.status}:${f.json.seq}`);
    assert.equal(replayed.length, 2, JSON.stringify(replayed));
    const top = Math.max(...replayed.map((r) => Number(r.split(':')[1])));
    const acks = [];
    for (let s = 1; s <= top; s++) {
      acks.push({ type: 'ack', chat_id: chat, kind: 'delivered', seq: s });
      acks.push({ type: 'ack', chat_id: chat, kind: 'seen', seq: s });
    }
    R.write(frames(acks));
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(!R.frames.some((f) => f.json?.type === 'error'), 'no error to alice');
    R.destroy();
    const R2 = await RawWs.connect(srv, { cookie: alice.session });
    await R2.waitEvent('synced');
    assert.deepEqual(R2.frames.filter((f) => f.json?.type === 'receipt'), [], 'nothing pending for alice');
    R2.destroy();
    const B = await bobRaw();
    assert.deepEqual(B.frames.filter((f) => f.json?.type === 'message'), [], 'nothing pending for bob');
    B.destroy();
  });
});
