// 10 - graceful shutdown: SIGTERM/SIGINT close WebSockets with 1001, the
// process exits 0, acknowledged messages survive, and a restart resumes.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { HttpClient, User, befriend, expectStatus, fullHistory, nextAddr, sendMsg } from './lib/client.mjs';

describe('10 shutdown', { timeout: 180000 }, () => {
  let srv;
  let alice, bob;
  let chat;
  after(async () => {
    await srv?.stop();
  });

  it('SIGTERM: every WebSocket closes with 1001, in-flight acknowledged sends survive, exit 0', async () => {
    srv = await startServer();
    [alice, bob] = await User.all(srv, ['alice', 'bob']);
    chat = await befriend(alice, bob);
    const A1 = await alice.connect({ label: 'alice#1' });
    const A2 = await alice.connect({ label: 'alice#2' });
    const B = await bob.connect();
    await sendMsg(A1, chat, 'before shutdown', 'pre-1');
    await B.next('message', (e) => e.id === 'pre-1');
    // An idle keep-alive connection and a half-sent request must not hold the exit up.
    const idle = net.connect({ host: srv.host, port: srv.port, localAddress: nextAddr() });
    const half = net.connect({ host: srv.host, port: srv.port, localAddress: nextAddr() });
    await Promise.all([new Promise((r) => idle.on('connect', r)), new Promise((r) => half.on('connect', r))]);
    idle.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    half.write('GET /healthz HTTP/1.1\r\nHo');
    idle.on('error', () => {});
    half.on('error', () => {});
    // Sends in flight while the signal arrives.
    const n = 60;
    for (let i = 0; i < n; i++) A1.send({ type: 'send', ref: `f${i}`, chat_id: chat, id: `flight-${i}`, text: `in flight ${i}` });
    await A1.next('sent', (e) => e.ref === 'f5');
    const res = await srv.signal('SIGTERM');
    assert.equal(res.code, 0, `exit status after SIGTERM: ${JSON.stringify(res)}`);
    for (const ws of [A1, A2, B]) {
      const c = await ws.waitClosed();
      assert.equal(c.code, 1001, `${ws.label} closed with ${c.code} ${c.reason}`);
    }
    idle.destroy();
    half.destroy();
    srv.assertHealthy();
    const acked = A1.events.filter((e) => e.type === 'sent');
    const errors = A1.events.filter((e) => e.type === 'error');
    assert.ok(acked.length >= 7, 'some sends were acknowledged');
    // Restart on the same data.
    srv = await srv.restart();
    expectStatus(await alice.http.get('/api/me'), 200, 'sessions survive a restart:');
    const h = await fullHistory(alice, chat);
    h.forEach((m, i) => assert.equal(m.seq, i + 1, 'no gap'));
    for (const s of acked) {
      const m = h.filter((x) => x.id === s.id);
      assert.equal(m.length, 1, `acknowledged ${s.id} stored ${m.length} times`);
      assert.equal(m[0].seq, s.seq);
    }
    assert.ok(errors.every((e) => ['store_failed', 'busy'].includes(e.code)), `unexpected errors: ${JSON.stringify(errors)}`);
    // bob resumes: every message after the one he saw is pending.
    const B2 = await bob.connect();
    const pend = B2.pending.filter((e) => e.type === 'message').map((e) => e.id);
    assert.deepEqual(pend, h.map((m) => m.id), 'bob never acked: everything is replayed, once, in order');
    await B2.close();
  });

  it('after a restart everything works: login, friends, messages', async () => {
    const h = new HttpClient(srv);
    expectStatus(await h.post('/api/login', { username: 'bob', password: bob.password }), 200);
    const carol = await User.signup(srv, 'carol');
    const c2 = await befriend(carol, alice);
    const A = await alice.connect();
    const C = await carol.connect();
    const s = await sendMsg(A, c2, 'hello after restart');
    assert.equal(s.seq, 1);
    await C.next('message', (e) => e.seq === 1);
    const s2 = await sendMsg(A, chat, 'old chat goes on');
    assert.equal(s2.seq, (await fullHistory(alice, chat)).length);
    await Promise.all([A.close(), C.close()]);
  });

  it('SIGINT behaves like SIGTERM', async () => {
    const A = await alice.connect();
    const res = await srv.signal('SIGINT');
    assert.equal(res.code, 0, `exit status after SIGINT: ${JSON.stringify(res)}`);
    const c = await A.waitClosed();
    assert.equal(c.code, 1001);
    srv.assertHealthy();
    srv = await srv.restart();
    expectStatus(await alice.http.get('/api/me'), 200);
  });

  it('a second server on the same port fails to start; the first keeps serving', async () => {
    const other = await startServer({ port: srv.port }).then(
      (s) => s,
      (e) => e,
    );
    if (!(other instanceof Error)) {
      await other.stop();
      assert.fail('a second duetd started on a port already in use');
    }
    expectStatus(await alice.http.get('/api/me'), 200);
  });
});
