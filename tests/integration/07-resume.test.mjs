// 07 - connecting and resuming: WebSocket auth, hello / pending / synced
// order, replay until ack, grouping, no gap and no duplicate, several devices.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { User, WsClient, befriend, fullHistory, sendMsg } from './lib/client.mjs';

// Reads hello, the presence snapshot, the pending items and synced, strictly
// in arrival order.
async function readConnect(ws) {
  const hello = await ws.shift();
  assert.equal(hello.type, 'hello', `the first event must be hello, got ${JSON.stringify(hello)}`);
  const pending = [];
  const presence = [];
  for (;;) {
    const ev = await ws.shift();
    if (ev.type === 'synced') return { hello, presence, pending, synced: ev };
    // The friends' presence snapshot comes first, before any pending item.
    if (ev.type === 'presence' && pending.length === 0) {
      presence.push(ev);
      continue;
    }
    assert.ok(['message', 'receipt', 'deleted'].includes(ev.type), `only pending items come between hello and synced, got ${JSON.stringify(ev)}`);
    assert.equal(ev.pending, true, `a replayed item has pending: true: ${JSON.stringify(ev)}`);
    pending.push(ev);
  }
}

describe('07 resume', { timeout: 180000 }, () => {
  let srv;
  let alice, bob, carol;
  let chatAB, chatCB;
  before(async () => {
    srv = await startServer();
    [alice, bob, carol] = await User.all(srv, ['alice', 'bob', 'carol']);
    chatAB = await befriend(alice, bob);
    chatCB = await befriend(carol, bob);
  });
  after(async () => {
    await srv?.stop();
  });

  it('the upgrade needs a valid session: 401 unauthorized otherwise', async () => {
    for (const cookie of [undefined, 'A'.repeat(43), 'garbage']) {
      await assert.rejects(WsClient.connect(srv, { cookie }), (e) => {
        assert.equal(e.status, 401, `upgrade with cookie ${cookie}: ${e.message}`);
        assert.equal(e.json?.error, 'unauthorized', `body: ${JSON.stringify(e.json)}`);
        return true;
      });
    }
  });

  it('an Origin must match the Host: 403 bad_origin otherwise', async () => {
    for (const origin of ['http://evil.example', `http://127.0.0.1:${srv.port + 1}`, 'null']) {
      await assert.rejects(WsClient.connect(srv, { cookie: alice.session, origin }), (e) => {
        assert.equal(e.status, 403, `origin ${origin}: ${e.message}`);
        assert.equal(e.json?.error, 'bad_origin');
        return true;
      });
    }
    const ok = await WsClient.connect(srv, { cookie: alice.session, origin: `http://127.0.0.1:${srv.port}` });
    await ok.next('synced');
    await ok.close();
  });

  it('hello comes first with me, instance and time; then synced', async () => {
    const ws = await alice.connect({ raw: true });
    const t0 = Date.now();
    const { hello, pending, synced } = await readConnect(ws);
    assert.equal(hello.user.id, alice.id);
    assert.equal(hello.user.username, 'alice');
    assert.deepEqual(hello.user.settings, { last_seen: 'friends', read_receipts: true });
    assert.equal(hello.instance, 'duet-1');
    assert.ok(Math.abs(hello.time - t0) < 10000, `hello.time ${hello.time} is not now`);
    assert.deepEqual(pending, []);
    assert.equal(synced.pending, 0);
    await ws.close();
  });

  it('an offline recipient gets every message on connect, in seq order, marked pending', async () => {
    const A = await alice.connect();
    const sents = [];
    for (let i = 0; i < 5; i++) sents.push(await sendMsg(A, chatAB, `offline ${i}`, `off-${i}`));
    const B = await bob.connect({ raw: true });
    const { pending, synced } = await readConnect(B);
    assert.deepEqual(pending.map((e) => e.type), Array(5).fill('message'));
    assert.deepEqual(pending.map((e) => e.seq), sents.map((s) => s.seq));
    assert.equal(synced.pending, 5);
    const m = pending[0];
    assert.equal(m.chat_id, chatAB);
    assert.equal(m.id, 'off-0');
    assert.equal(m.from, alice.id);
    assert.equal(m.to, bob.id);
    assert.equal(m.msg_type, 0);
    assert.equal(m.text, 'offline 0');
    assert.equal(m.sent_at, sents[0].sent_at);
    assert.equal(m.received_at, null);
    await B.close();
    await A.close();
  });

  it('unacked messages are replayed on every connect; acked ones are not', async () => {
    let B = await bob.connect();
    assert.equal(B.pending.length, 5, 'nothing was acked: all 5 again');
    B.send({ type: 'ack', chat_id: chatAB, kind: 'message', seq: B.pending[2].seq });
    await B.ping();
    await B.close();
    B = await bob.connect();
    assert.deepEqual(B.pending.map((e) => e.id), ['off-3', 'off-4'], 'acked up to the third');
    assert.equal(B.synced.pending, 2);
    B.send({ type: 'ack', chat_id: chatAB, kind: 'message', seq: B.pending[1].seq });
    await B.ping();
    await B.close();
    B = await bob.connect();
    assert.deepEqual(B.pending, []);
    assert.equal(B.synced.pending, 0);
    await B.close();
  });

  it('pending items are grouped by chat and in seq order within a chat', async () => {
    const A = await alice.connect();
    const C = await carol.connect();
    for (let i = 0; i < 4; i++) {
      await sendMsg(A, chatAB, `a${i}`);
      await sendMsg(C, chatCB, `c${i}`);
    }
    const B = await bob.connect();
    const chatsSeen = B.pending.map((e) => e.chat_id);
    assert.equal(B.pending.length, 8);
    const order = [...new Set(chatsSeen)];
    assert.equal(order.length, 2);
    assert.deepEqual(chatsSeen, [...Array(4).fill(order[0]), ...Array(4).fill(order[1])], 'grouped by chat');
    for (const c of order) {
      const seqs = B.pending.filter((e) => e.chat_id === c).map((e) => e.seq);
      assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'seq order within a chat');
    }
    assert.deepEqual(B.pending.filter((e) => e.chat_id === chatCB).map((e) => e.text), ['c0', 'c1', 'c2', 'c3']);
    for (const c of order) {
      const last = B.pending.filter((e) => e.chat_id === c).at(-1).seq;
      B.send({ type: 'ack', chat_id: c, kind: 'message', seq: last });
    }
    await B.ping();
    await Promise.all([A.close(), B.close(), C.close()]);
  });

  it('no gap and no duplicate between the replay and live events, while messages keep coming', async () => {
    const A = await alice.connect();
    const n = 120;
    const ids = Array.from({ length: n }, (_, i) => `race-${i}`);
    const start = (await fullHistory(alice, chatAB)).at(-1).seq;
    // Send in bursts while bob connects in the middle.
    const sending = (async () => {
      for (let i = 0; i < n; i++) {
        A.send({ type: 'send', ref: `race${i}`, chat_id: chatAB, id: ids[i], text: `race ${i}` });
        if (i % 10 === 4) await A.next('sent', (e) => e.ref === `race${i}`);
      }
    })();
    await A.next('sent', (e) => e.ref === 'race29');
    const B = await bob.connect({ raw: true });
    await sending;
    const lastSent = await A.next('sent', (e) => e.ref === `race${n - 1}`);
    assert.equal(lastSent.seq, start + n);
    const { pending } = await readConnect(B);
    const got = pending.map((e) => e.seq);
    assert.ok(pending.length > 0, 'some messages were sent before bob connected');
    while (got.length < n || got.at(-1) < lastSent.seq) {
      const ev = await B.next('message');
      assert.notEqual(ev.pending, true, 'a live event after synced is not pending');
      got.push(ev.seq);
      if (got.length > n + 5) break;
    }
    await B.expectNo('message', 300);
    const expected = Array.from({ length: n }, (_, i) => start + 1 + i);
    assert.deepEqual(got, expected, 'every seq exactly once, in order');
    B.send({ type: 'ack', chat_id: chatAB, kind: 'message', seq: lastSent.seq });
    await B.ping();
    await Promise.all([A.close(), B.close()]);
  });

  it('several devices: all get live events; the first ack clears pending; others catch up with history', async () => {
    const A = await alice.connect();
    const phone = await bob.device();
    const B1 = await bob.connect({ label: 'bob-laptop' });
    const B2 = await phone.connect({ label: 'bob-phone' });
    const s = await sendMsg(A, chatAB, 'to every device', 'multi-1');
    const m1 = await B1.next('message', (e) => e.id === 'multi-1');
    const m2 = await B2.next('message', (e) => e.id === 'multi-1');
    assert.deepEqual(m1, m2);
    B1.send({ type: 'ack', chat_id: chatAB, kind: 'message', seq: s.seq });
    await A.next('receipt', (r) => r.status === 'delivered' && r.seq === s.seq);
    await B2.close();
    // While the phone is offline, more messages arrive and the laptop acks them.
    const s2 = await sendMsg(A, chatAB, 'phone is away', 'multi-2');
    await B1.next('message', (e) => e.id === 'multi-2');
    B1.send({ type: 'ack', chat_id: chatAB, kind: 'message', seq: s2.seq });
    await A.next('receipt', (r) => r.status === 'delivered' && r.seq === s2.seq);
    const B3 = await phone.connect({ label: 'bob-phone-2' });
    assert.deepEqual(B3.pending.filter((e) => e.type === 'message'), [], 'pending items are per user: the laptop acked them');
    const h = await B3.request({ type: 'history', chat_id: chatAB, after: s.seq });
    assert.deepEqual(h.messages.map((m) => m.id), ['multi-2'], 'history with after catches up');
    await Promise.all([A.close(), B1.close(), B3.close()]);
  });

  it('a deletion while the recipient is offline is replayed as a pending deleted event, without the text', async () => {
    const A = await alice.connect();
    const secret = `secret-${crypto.randomBytes(6).toString('hex')}`;
    const s = await sendMsg(A, chatAB, secret, 'del-off');
    const d = await A.request({ type: 'delete', chat_id: chatAB, seq: s.seq });
    assert.equal(d.type, 'deleted', JSON.stringify(d));
    let B = await bob.connect({ raw: true });
    const { pending } = await readConnect(B);
    assert.ok(!JSON.stringify(pending).includes(secret), `the deleted text was replayed: ${JSON.stringify(pending)}`);
    const del = pending.find((e) => e.type === 'deleted' && e.seq === s.seq);
    assert.ok(del, `no pending deleted event: ${JSON.stringify(pending)}`);
    assert.equal(del.chat_id, chatAB);
    assert.equal(del.id, 'del-off');
    assert.equal(del.from, alice.id);
    assert.equal(del.deleted_at, d.deleted_at);
    const msg = pending.find((e) => e.type === 'message' && e.seq === s.seq);
    if (msg) {
      assert.equal(msg.text, '');
      assert.equal(msg.deleted_at, d.deleted_at);
    }
    B.send({ type: 'ack', chat_id: chatAB, kind: 'message', seq: s.seq });
    B.send({ type: 'ack', chat_id: chatAB, kind: 'deleted', seq: s.seq });
    await B.ping();
    await B.close();
    B = await bob.connect();
    assert.deepEqual(B.pending, [], 'acked deletions are not replayed');
    await Promise.all([A.close(), B.close()]);
  });

  it('a deletion of a message the recipient already has is a live deleted event', async () => {
    const A = await alice.connect();
    const B = await bob.connect();
    const s = await sendMsg(A, chatAB, 'short-lived', 'del-live');
    const m = await B.next('message', (e) => e.id === 'del-live');
    B.send({ type: 'ack', chat_id: chatAB, kind: 'message', seq: m.seq });
    await A.request({ type: 'delete', chat_id: chatAB, seq: s.seq });
    const del = await B.next('deleted', (e) => e.seq === s.seq);
    assert.ok(del.pending === undefined || del.pending === false);
    await B.close();
    // Not acked yet: it is pending on the next connect.
    let B2 = await bob.connect();
    assert.deepEqual(B2.pending.map((e) => [e.type, e.seq]), [['deleted', s.seq]]);
    B2.send({ type: 'ack', chat_id: chatAB, kind: 'deleted', seq: s.seq });
    await B2.ping();
    await B2.close();
    B2 = await bob.connect();
    assert.deepEqual(B2.pending, []);
    await Promise.all([A.close(), B2.close()]);
  });
});

describe('07 resume: --allowed-origin', { timeout: 60000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ['--allowed-origin', 'https://chat.example'] });
  });
  after(async () => {
    await srv?.stop();
  });

  it('the allowed origin and the same host are accepted; others are not', async () => {
    const u = await User.signup(srv, 'origin_user');
    for (const origin of ['https://chat.example', `http://127.0.0.1:${srv.port}`]) {
      const ws = await WsClient.connect(srv, { cookie: u.session, origin });
      await ws.next('synced');
      await ws.close();
    }
    for (const origin of ['https://chat.example.evil', 'http://chat.example', 'https://evil.example']) {
      await assert.rejects(WsClient.connect(srv, { cookie: u.session, origin }), (e) => {
        assert.equal(e.status, 403, `origin ${origin}: ${e.message}`);
        assert.equal(e.json?.error, 'bad_origin');
        return true;
      });
    }
  });
});
