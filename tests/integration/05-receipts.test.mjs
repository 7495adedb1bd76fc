// 05 - delivery and read receipts: ack → delivered, seen → seen/read,
// reciprocal read-receipt setting, unread counts, pending receipts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep, startServer } from './lib/server.mjs';
import { User, befriend, chatWith, expectStatus, fullHistory, sendMsg } from './lib/client.mjs';

describe('05 receipts', { timeout: 180000 }, () => {
  let srv;
  let alice, bob;
  let A1, A2, B1, B2;
  let chat;
  before(async () => {
    srv = await startServer();
    [alice, bob] = await User.all(srv, ['alice', 'bob']);
    chat = await befriend(alice, bob);
    A1 = await alice.connect({ label: 'alice#1' });
    A2 = await alice.connect({ label: 'alice#2' });
    B1 = await bob.connect({ label: 'bob#1' });
    B2 = await bob.connect({ label: 'bob#2' });
  });
  after(async () => {
    await srv?.stop();
  });

  async function aliceSends(text) {
    const s = await sendMsg(A1, chat, text);
    await B1.next('message', (e) => e.seq === s.seq);
    await B2.next('message', (e) => e.seq === s.seq);
    await A2.next('message', (e) => e.seq === s.seq);
    return s;
  }

  const msgAt = async (user, seq) => (await fullHistory(user, chat)).find((m) => m.seq === seq);

  it('ack kind message → the sender gets receipt delivered; received_at is set', async () => {
    const s1 = await aliceSends('one');
    const t0 = Date.now();
    B1.send({ type: 'ack', chat_id: chat, kind: 'message', seq: s1.seq });
    for (const ws of [A1, A2]) {
      const r = await ws.next('receipt');
      assert.equal(r.chat_id, chat);
      assert.equal(r.status, 'delivered');
      assert.equal(r.seq, s1.seq);
      assert.ok(Number.isInteger(r.at) && r.at >= t0 - 2000 && r.at <= Date.now() + 2000, `at: ${r.at}`);
      assert.ok(r.pending === undefined || r.pending === false);
    }
    await B1.expectNo('receipt', 200);
    await B2.expectNo('receipt', 10);
    const m = await msgAt(alice, s1.seq);
    assert.ok(Number.isInteger(m.received_at), `received_at after ack: ${JSON.stringify(m)}`);
    assert.equal(m.seen_at, null);
    B1.send({ type: 'ack', chat_id: chat, kind: 'message', seq: s1.seq });
    await B1.expectNo('error', 300);
  });

  it('acks are cumulative; earlier delivery times are kept', async () => {
    const s2 = await aliceSends('two');
    const s3 = await aliceSends('three');
    const s4 = await aliceSends('four');
    B2.send({ type: 'ack', chat_id: chat, kind: 'message', seq: s2.seq });
    const r2 = await A1.next('receipt', (r) => r.seq === s2.seq);
    const first = (await msgAt(alice, s2.seq)).received_at;
    assert.equal(first, r2.at);
    await sleep(20);
    B1.send({ type: 'ack', chat_id: chat, kind: 'message', seq: s4.seq });
    const r4 = await A1.next('receipt', (r) => r.seq === s4.seq);
    assert.equal(r4.status, 'delivered');
    assert.ok(r4.at > first, 'a later delivery has a later time');
    const h = await fullHistory(alice, chat);
    assert.equal(h.find((m) => m.seq === s2.seq).received_at, first, 'a message that already had a time keeps it');
    assert.equal(h.find((m) => m.seq === s3.seq).received_at, r4.at);
    assert.equal(h.find((m) => m.seq === s4.seq).received_at, r4.at);
    // A lower ack after a higher one changes nothing and is not an error.
    B1.send({ type: 'ack', chat_id: chat, kind: 'message', seq: s3.seq });
    await B1.expectNo('error', 300);
    assert.deepEqual(await fullHistory(alice, chat), h);
  });

  it('an ack beyond the last message does not mark future messages delivered', async () => {
    const last = (await fullHistory(alice, chat)).at(-1).seq;
    B1.send({ type: 'ack', chat_id: chat, kind: 'message', seq: last + 100 });
    await B1.ping();
    const s = await aliceSends('sent after a too-high ack');
    await B1.ping();
    const m = await msgAt(alice, s.seq);
    assert.equal(m.received_at, null, `a message nobody acknowledged is shown delivered: ${JSON.stringify(m)}`);
    B1.send({ type: 'ack', chat_id: chat, kind: 'message', seq: s.seq });
    await A1.next('receipt', (r) => r.status === 'delivered' && r.seq === s.seq);
  });

  it('an ack is only for the peer\'s messages: acking your own does not mark them delivered', async () => {
    const s = await aliceSends('alice acks her own');
    A1.send({ type: 'ack', chat_id: chat, kind: 'message', seq: s.seq });
    await A1.ping();
    await A1.expectNo('receipt', 200, (r) => r.seq === s.seq);
    assert.equal((await msgAt(alice, s.seq)).received_at, null);
    B1.send({ type: 'ack', chat_id: chat, kind: 'message', seq: s.seq });
    await A1.next('receipt', (r) => r.status === 'delivered' && r.seq === s.seq);
  });

  it('seen → receipt seen to the sender, read to the viewer\'s other tabs, read_seq and unread move', async () => {
    const s5 = await aliceSends('five');
    const s6 = await aliceSends('six');
    B1.send({ type: 'ack', chat_id: chat, kind: 'message', seq: s6.seq });
    await A1.next('receipt', (r) => r.status === 'delivered' && r.seq === s6.seq);
    let cb = await chatWith(bob, chat);
    assert.equal(cb.read_seq, 0);
    assert.equal(cb.unread, s6.seq, 'every message of alice is unread');
    const t0 = Date.now();
    B1.send({ type: 'seen', chat_id: chat, seq: s5.seq });
    const r = await A1.next('receipt', (x) => x.status === 'seen');
    assert.equal(r.chat_id, chat);
    assert.equal(r.seq, s5.seq);
    assert.ok(r.at >= t0 - 2000 && r.at <= Date.now() + 2000);
    await A2.next('receipt', (x) => x.status === 'seen' && x.seq === s5.seq);
    const rd = await B2.next('read');
    assert.equal(rd.chat_id, chat);
    assert.equal(rd.seq, s5.seq);
    await B1.expectNo('read', 200);
    await A1.expectNo('read', 10);
    cb = await chatWith(bob, chat);
    assert.equal(cb.read_seq, s5.seq);
    assert.equal(cb.unread, 1);
    assert.ok(!(await fullHistory(bob, chat)).some((m) => m.from === bob.id && m.seq <= cb.peer_read_seq), `alice has seen nothing of bob, but bob's peer_read_seq is ${cb.peer_read_seq}`);
    const ca = await chatWith(alice, chat);
    assert.equal(ca.peer_read_seq, s5.seq);
    const h = await fullHistory(alice, chat);
    for (const m of h) {
      if (m.seq <= s5.seq) assert.ok(Number.isInteger(m.seen_at), `seq ${m.seq} should be seen: ${JSON.stringify(m)}`);
      else assert.equal(m.seen_at, null, `seq ${m.seq} should not be seen yet`);
    }
    B2.send({ type: 'seen', chat_id: chat, seq: s6.seq });
    await A1.next('receipt', (x) => x.status === 'seen' && x.seq === s6.seq);
    await B1.next('read', (x) => x.seq === s6.seq);
    assert.equal((await chatWith(bob, chat)).unread, 0);
  });

  it('a seen that moves nothing backwards is harmless', async () => {
    const before = await chatWith(bob, chat);
    B1.send({ type: 'seen', chat_id: chat, seq: 1 });
    await B1.ping();
    await A1.expectNo('receipt', 200, (x) => x.status === 'seen' && x.seq === 1);
    const afterC = await chatWith(bob, chat);
    assert.equal(afterC.read_seq, before.read_seq, 'the read position never moves backwards');
  });

  it('read receipts are reciprocal: whoever turns them off neither sends nor sees them', async () => {
    // Bob's own message, seen by alice while both are on.
    const sb = await sendMsg(B1, chat, 'from bob');
    await A1.next('message', (e) => e.seq === sb.seq);
    A1.send({ type: 'ack', chat_id: chat, kind: 'message', seq: sb.seq });
    await B1.next('receipt', (x) => x.status === 'delivered' && x.seq === sb.seq);
    A1.send({ type: 'seen', chat_id: chat, seq: sb.seq });
    await B1.next('receipt', (x) => x.status === 'seen' && x.seq === sb.seq);

    expectStatus(await bob.http.patch('/api/me', { read_receipts: false }), 200);
    const s = await aliceSends('bob has receipts off');
    B1.send({ type: 'ack', chat_id: chat, kind: 'message', seq: s.seq });
    const dr = await A1.next('receipt', (x) => x.status === 'delivered' && x.seq === s.seq);
    assert.ok(dr, 'delivered receipts do not depend on the setting');
    B1.send({ type: 'seen', chat_id: chat, seq: s.seq });
    await B2.next('read', (x) => x.seq === s.seq);
    await A1.expectNo('receipt', 400, (x) => x.status === 'seen' && x.seq === s.seq);
    assert.equal((await chatWith(bob, chat)).unread, 0, 'the read position still moves');
    assert.equal((await chatWith(alice, chat)).peer_read_seq, 0, 'peer_read_seq is 0 unless both have receipts on');
    assert.equal((await chatWith(bob, chat)).peer_read_seq, 0, 'bob sees no receipts either');
    const ha = await fullHistory(alice, chat);
    assert.equal(ha.find((m) => m.seq === s.seq).seen_at, null, 'seen_at is not recorded');
    for (const m of ha) assert.equal(m.seen_at, null, `seen_at is shown while bob has receipts off: ${JSON.stringify(m)}`);
    for (const m of await fullHistory(bob, chat)) assert.equal(m.seen_at, null, 'not shown to bob either');

    // Alice views bob's next message: bob (off) sees no receipt.
    const sb2 = await sendMsg(B1, chat, 'bob again');
    await A1.next('message', (e) => e.seq === sb2.seq);
    A1.send({ type: 'seen', chat_id: chat, seq: sb2.seq });
    await A2.next('read', (x) => x.seq === sb2.seq);
    await B1.expectNo('receipt', 400, (x) => x.status === 'seen');

    // Bob back on, alice off: the same the other way round.
    expectStatus(await bob.http.patch('/api/me', { read_receipts: true }), 200);
    expectStatus(await alice.http.patch('/api/me', { read_receipts: false }), 200);
    const s2 = await aliceSends('alice has receipts off');
    B1.send({ type: 'seen', chat_id: chat, seq: s2.seq });
    await B2.next('read', (x) => x.seq === s2.seq);
    await A1.expectNo('receipt', 400, (x) => x.status === 'seen');
    assert.equal((await chatWith(alice, chat)).peer_read_seq, 0);

    // Both on: the next seen is a receipt again, and seen_at is shown.
    expectStatus(await alice.http.patch('/api/me', { read_receipts: true }), 200);
    const s3 = await aliceSends('both on again');
    B1.send({ type: 'seen', chat_id: chat, seq: s3.seq });
    const r = await A1.next('receipt', (x) => x.status === 'seen' && x.seq === s3.seq);
    const m3 = await msgAt(alice, s3.seq);
    assert.ok(Number.isInteger(m3.seen_at), 'seen_at recorded again');
    assert.equal(m3.seen_at, r.at, 'seen_at is the receipt time');
    // The seen covers every earlier message; those seen while receipts were
    // off were not recorded then, so they get this time now.
    assert.equal((await msgAt(alice, s2.seq)).seen_at, r.at, 'an earlier message seen while receipts were off');
    assert.equal((await chatWith(alice, chat)).peer_read_seq, s3.seq);
  });

  it('receipts for an offline sender are pending until acked', async () => {
    expectStatus(await alice.http.patch('/api/me', { read_receipts: true }), 200);
    expectStatus(await bob.http.patch('/api/me', { read_receipts: true }), 200);
    const s = await aliceSends('alice goes offline');
    await A1.close();
    await A2.close();
    B1.send({ type: 'ack', chat_id: chat, kind: 'message', seq: s.seq });
    B1.send({ type: 'seen', chat_id: chat, seq: s.seq });
    await B2.next('read', (x) => x.seq === s.seq);
    await B1.ping();
    let w = await alice.connect({ label: 'alice#3' });
    const pend = w.pending.filter((e) => e.type === 'receipt');
    for (const e of w.pending) assert.equal(e.pending, true, `pending item without pending: true: ${JSON.stringify(e)}`);
    assert.equal(w.synced.pending, w.pending.length, 'synced.pending counts the pending items');
    const del = pend.find((e) => e.status === 'delivered' && e.seq === s.seq);
    const seen = pend.find((e) => e.status === 'seen' && e.seq === s.seq);
    assert.ok(del, `no pending delivered receipt for seq ${s.seq}: ${JSON.stringify(w.pending)}`);
    assert.ok(seen, `no pending seen receipt for seq ${s.seq}: ${JSON.stringify(w.pending)}`);
    assert.equal(del.chat_id, chat);
    // Not acknowledged: sent again on the next connect.
    await w.close();
    w = await alice.connect({ label: 'alice#4' });
    assert.ok(w.pending.find((e) => e.type === 'receipt' && e.status === 'delivered' && e.seq === s.seq), 'unacked receipts are replayed');
    w.send({ type: 'ack', chat_id: chat, kind: 'delivered', seq: s.seq });
    w.send({ type: 'ack', chat_id: chat, kind: 'seen', seq: s.seq });
    await w.ping();
    await w.expectNo('error', 100);
    await w.close();
    w = await alice.connect({ label: 'alice#5' });
    assert.deepEqual(w.pending.filter((e) => e.type === 'receipt'), [], 'acked receipts are not replayed');
    A1 = w;
    A2 = await alice.connect({ label: 'alice#6' });
  });

  it('bad acks and seens: unknown kind, missing fields, wrong types', async () => {
    await B1.expectError({ type: 'ack', chat_id: chat, kind: 'everything', seq: 1 }, 'bad_request');
    await B1.expectError({ type: 'ack', chat_id: chat, kind: 'message' }, 'missing_field');
    await B1.expectError({ type: 'ack', chat_id: chat, seq: 1 }, 'missing_field');
    await B1.expectError({ type: 'ack', kind: 'message', seq: 1 }, 'missing_field');
    await B1.expectError({ type: 'ack', chat_id: chat, kind: 'message', seq: '1' }, 'bad_request');
    await B1.expectError({ type: 'ack', chat_id: chat, kind: 'message', seq: 1.5 }, 'bad_request');
    await B1.expectError({ type: 'seen', chat_id: chat }, 'missing_field');
    await B1.expectError({ type: 'seen', chat_id: chat, seq: -3 }, 'bad_request');
    await B1.expectError({ type: 'seen', chat_id: 'x', seq: 1 }, 'bad_request');
  });
});
