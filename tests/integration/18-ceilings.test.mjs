// 18 - growth ceilings: a recipient's backlog of undelivered rows
// (--max-pending: a send past it is refused with recipient_backlog_full and
// not stored) and friend requests per user per day
// (--max-friend-requests-per-day: 429 daily_limit).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { User, befriend, expectError, expectStatus, fullHistory } from './lib/client.mjs';

describe('18 ceilings: a recipient\'s pending rows (--max-pending 5)', { timeout: 120000 }, () => {
  let srv, alice, bob, carol, chatAB, chatCB, A, A2, C;
  before(async () => {
    srv = await startServer({ args: ['--max-pending', '5'] });
    [alice, bob, carol] = await User.all(srv, ['alice', 'bob', 'carol']);
    chatAB = await befriend(alice, bob);
    chatCB = await befriend(carol, bob);
    A = await alice.connect();
    A2 = await alice.connect({ label: 'alice#2' });
    C = await carol.connect();
  });
  after(async () => {
    await srv?.stop();
  });

  const send = (ws, chat, id) => ws.request({ type: 'send', chat_id: chat, id, text: `text of ${id}` });

  it('bob offline: 5 messages are stored, the 6th is refused with recipient_backlog_full and not stored', async () => {
    for (let i = 1; i <= 5; i++) {
      const ev = await send(A, chatAB, `a${i}`);
      assert.equal(ev.type, 'sent', JSON.stringify(ev));
      await A2.next('message', (e) => e.id === `a${i}`);
    }
    const ev = await A.expectError({ type: 'send', chat_id: chatAB, id: 'a6', text: 'one too many' }, 'recipient_backlog_full');
    assert.ok(ev.ref, 'the error carries the request\'s ref');
    assert.equal(A.closeInfo, null, 'the connection stays open');
    await A2.expectNo('message', 200, (e) => e.id === 'a6');
    assert.deepEqual((await fullHistory(alice, chatAB)).map((m) => m.id), ['a1', 'a2', 'a3', 'a4', 'a5']);
    // The ceiling is bob's, whoever writes to him.
    await C.expectError({ type: 'send', chat_id: chatCB, id: 'c1', text: 'hi bob' }, 'recipient_backlog_full');
    assert.deepEqual(await fullHistory(carol, chatCB), []);
  });

  it('a retry of a stored message still succeeds as a duplicate; bob may still write', async () => {
    const dup = await send(A, chatAB, 'a3');
    assert.equal(dup.type, 'sent', JSON.stringify(dup));
    assert.equal(dup.duplicate, true);
    assert.equal(dup.seq, 3);
    const B = await bob.connect();
    const ev = await send(B, chatAB, 'b1');
    assert.equal(ev.type, 'sent', `alice's backlog is not bob's: ${JSON.stringify(ev)}`);
    await B.close();
  });

  it('bob connects and gets the 5; acking 3 of them makes room for exactly 3 more', async () => {
    const B = await bob.connect();
    assert.deepEqual(B.pending.filter((e) => e.type === 'message').map((e) => e.id), ['a1', 'a2', 'a3', 'a4', 'a5']);
    B.send({ type: 'ack', chat_id: chatAB, kind: 'message', seq: 3 });
    await A.next('receipt', (e) => e.seq === 3);
    // seq 6 is bob's b1: alice's a6-a8 are 7-9.
    for (const id of ['a6', 'a7', 'a8']) {
      const ev = await send(A, chatAB, id);
      assert.equal(ev.type, 'sent', `${id}: ${JSON.stringify(ev)}`);
      await B.next('message', (e) => e.id === id);
    }
    // Online but not acking: still full. Delivery is the ack, not the socket.
    await A.expectError({ type: 'send', chat_id: chatAB, id: 'a9', text: 'x' }, 'recipient_backlog_full');
    // Deleting an undelivered message swaps its pending row for a "deleted"
    // one: no room is made.
    const del = await A.request({ type: 'delete', chat_id: chatAB, seq: 9 });
    assert.equal(del.type, 'deleted', JSON.stringify(del));
    await A.expectError({ type: 'send', chat_id: chatAB, id: 'a9', text: 'x' }, 'recipient_backlog_full');
    // Acking everything empties the backlog.
    B.send({ type: 'ack', chat_id: chatAB, kind: 'message', seq: 9 });
    B.send({ type: 'ack', chat_id: chatAB, kind: 'deleted', seq: 9 });
    await A.next('receipt', (e) => e.seq === 9);
    await B.ping();
    const ok = await send(C, chatCB, 'c1');
    assert.equal(ok.type, 'sent', JSON.stringify(ok));
    await B.close();
    // A reconnect replays exactly what is still pending: carol's c1.
    const B2 = await bob.connect();
    assert.deepEqual(B2.pending.map((e) => `${e.type}:${e.id ?? e.seq}`), ['message:c1']);
    await B2.close();
  });
});

describe('18 ceilings: friend requests per day (--max-friend-requests-per-day 3)', { timeout: 120000 }, () => {
  let srv, dave, targets, extra, asker;
  before(async () => {
    srv = await startServer({ args: ['--max-friend-requests-per-day', '3'] });
    dave = await User.signup(srv, 'dave');
    targets = await User.all(srv, ['tt1', 'tt2', 'tt3', 'tt4']);
    [extra, asker] = await User.all(srv, ['tt5', 'asker']);
  });
  after(async () => {
    await srv?.stop();
  });

  const request = (from, to) => from.http.post('/api/friends/requests', { username: to.username });

  it('3 requests pass; the 4th is 429 daily_limit, is not stored and notifies nobody', async () => {
    for (const t of targets.slice(0, 3)) expectStatus(await request(dave, t), 201, `to ${t.username}:`);
    const W = await targets[3].connect();
    const res = await request(dave, targets[3]);
    expectError(res, 429, 'daily_limit');
    const out = expectStatus(await dave.http.get('/api/friends/requests'), 200).json.outgoing.map((r) => r.user.username);
    assert.deepEqual(out.sort(), ['tt1', 'tt2', 'tt3']);
    const inc = expectStatus(await targets[3].http.get('/api/friends/requests'), 200).json.incoming;
    assert.deepEqual(inc, []);
    await W.expectNo('friends_changed', 300);
    await W.close();
  });

  it('repeating a standing request is not a new one; cancelling does not give the quota back', async () => {
    expectStatus(await request(dave, targets[0]), 201, 'a repeat:');
    expectStatus(await dave.http.del(`/api/friends/requests/${targets[0].username}`), 204);
    expectError(await request(dave, targets[0]), 429, 'daily_limit', 'resend after cancel:');
  });

  it('answering someone\'s request is not limited; other users have their own quota', async () => {
    expectStatus(await request(asker, dave), 201);
    const res = expectStatus(await request(dave, asker), 200, 'a crossing request accepts:');
    assert.equal(res.json.status, 'friends');
    expectStatus(await request(extra, dave), 201);
    expectStatus(await dave.http.post(`/api/friends/requests/${extra.username}/accept`), 200);
    expectStatus(await request(targets[3], dave), 201, 'tt4 has its own quota:');
  });
});
