// 15 - abuse limits: the per-user message rate (token bucket; reactions and
// hides take from it too), the cap on
// WebSockets per client address, the cap on open connections, and the
// sign-up rate per client address (token bucket).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sleep, startServer, waitFor } from './lib/server.mjs';
import { HttpClient, User, befriend, expectError, expectStatus, fullHistory, nextAddr, rawRequest } from './lib/client.mjs';

describe('15 limits: message rate', { timeout: 120000 }, () => {
  let srv, alice, bob, chat, A, B;
  before(async () => {
    srv = await startServer({ args: ['--msg-rate', '2', '--msg-burst', '3'] });
    [alice, bob] = await User.all(srv, ['alice', 'bob']);
    chat = await befriend(alice, bob);
    A = await alice.connect();
    B = await bob.connect();
  });
  after(async () => {
    await srv?.stop();
  });

  it('a burst over the bucket is refused with rate_limited and retry_after_ms, the socket stays open, and a retry later succeeds', async () => {
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(A.request({ type: 'send', chat_id: chat, id: `r-${i}`, text: `m${i}` }));
    const got = await Promise.all(answers);
    const sent = got.filter((e) => e.type === 'sent');
    const limited = got.filter((e) => e.type === 'error');
    assert.equal(sent.length, 3, `the burst of 3 passes: ${JSON.stringify(got)}`);
    assert.equal(limited.length, 3);
    for (const e of limited) {
      assert.equal(e.code, 'rate_limited');
      assert.equal(e.request, 'send');
      assert.ok(Number.isInteger(e.retry_after_ms) && e.retry_after_ms > 0 && e.retry_after_ms <= 1000, JSON.stringify(e));
    }
    assert.equal(A.closeInfo, null, 'the connection is not dropped');
    // Refused sends changed nothing; the client retries them with the same ids.
    assert.deepEqual((await fullHistory(alice, chat)).map((m) => m.id), ['r-0', 'r-1', 'r-2']);
    await sleep(limited[0].retry_after_ms + 50);
    const retry = await A.request({ type: 'send', chat_id: chat, id: 'r-3', text: 'm3' });
    assert.equal(retry.type, 'sent', JSON.stringify(retry));
    assert.equal(retry.seq, 4);
    await B.next('message', (e) => e.id === 'r-3');
  });

  it('the bucket is per user, not per connection', async () => {
    await sleep(1600); // refill to the full burst of 3
    const A2 = await alice.connect();
    const first = await Promise.all([0, 1, 2].map((i) => A.request({ type: 'send', chat_id: chat, id: `p-${i}`, text: 'x' })));
    assert.ok(first.every((e) => e.type === 'sent'), JSON.stringify(first));
    const other = await A2.request({ type: 'send', chat_id: chat, id: 'p-3', text: 'x' });
    assert.equal(other.type, 'error');
    assert.equal(other.code, 'rate_limited');
    // Bob's bucket is his own.
    const b = await B.request({ type: 'send', chat_id: chat, id: 'b-0', text: 'hi' });
    assert.equal(b.type, 'sent');
  });

  it('reactions and hides take from the same bucket; refused ones change nothing', async () => {
    await sleep(1600); // refill to the full burst of 3
    const emojis = ['👍', '😂', '❤️', '😮', '🎉'];
    const got = await Promise.all(emojis.map((emoji) => B.request({ type: 'react', chat_id: chat, seq: 1, emoji })));
    assert.deepEqual(got.map((e) => e.type), ['reaction', 'reaction', 'reaction', 'error', 'error'], JSON.stringify(got));
    for (const e of got.slice(3)) {
      assert.equal(e.code, 'rate_limited');
      assert.equal(e.request, 'react');
      assert.ok(e.retry_after_ms > 0, JSON.stringify(e));
    }
    const h = await fullHistory(bob, chat);
    assert.deepEqual(h.find((m) => m.seq === 1).reactions.map((r) => r.emoji), ['❤️'], 'the last one let through stands');
    const hide = await B.request({ type: 'hide', chat_id: chat, seq: 2 });
    assert.equal(hide.type, 'error');
    assert.equal(hide.code, 'rate_limited');
    assert.equal(hide.request, 'hide');
    assert.ok((await fullHistory(bob, chat)).some((m) => m.seq === 2), 'not hidden');
    // And a send waits for the same bucket.
    const send = await B.request({ type: 'send', chat_id: chat, id: 'b-1', text: 'x' });
    assert.equal(send.code, 'rate_limited');
    await sleep(hide.retry_after_ms + 50);
    const later = await B.request({ type: 'hide', chat_id: chat, seq: 2 });
    assert.equal(later.type, 'hidden', JSON.stringify(later));
    assert.equal(B.closeInfo, null);
  });
});

describe('15 limits: connections', { timeout: 120000 }, () => {
  let srv, carol;
  before(async () => {
    srv = await startServer({ args: ['--max-ws-per-addr', '2', '--max-conns', '6'] });
    [carol] = await User.all(srv, ['carol']);
  });
  after(async () => {
    await srv?.stop();
  });

  it('a third WebSocket from one address is refused with 429 too_many_connections; closing one frees a place', async () => {
    const addr = nextAddr();
    const w1 = await carol.connect({ localAddress: addr });
    await carol.connect({ localAddress: addr });
    await assert.rejects(carol.connect({ localAddress: addr }), /429/);
    // Another address is not affected.
    const w3 = await carol.connect({ localAddress: nextAddr() });
    assert.ok(w3.hello);
    w1.ws.close();
    await w1.closed;
    await waitFor(async () => {
      try {
        await carol.connect({ localAddress: addr });
        return true;
      } catch {
        return false;
      }
    }, 'a place frees up after a close');
    await carol.closeAll();
  });

  it('connections over --max-conns get 503 too_many_connections and are closed; the server keeps serving', async () => {
    await waitFor(async () => (await carol.http.get('/healthz')).status === 200, 'sockets from the previous test are gone');
    const held = [];
    for (let i = 0; i < 6; i++) {
      const s = net.connect({ host: srv.host, port: srv.port, localAddress: nextAddr() });
      await new Promise((res, rej) => s.once('connect', res).once('error', rej));
      held.push(s);
    }
    await sleep(100);
    const r = await rawRequest(srv, `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.equal(r.status, 503, r.text);
    assert.equal(JSON.parse(r.body).error, 'too_many_connections');
    for (const s of held) s.destroy();
    await waitFor(async () => (await rawRequest(srv, `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`)).status === 200, 'served again once connections close');
  });
});

describe('15 limits: sign-ups per client address (--signup-rate 360 --signup-burst 2)', { timeout: 120000 }, () => {
  let srv;
  before(async () => {
    // 360 an hour is one every 10 s: the refill can be seen within a test,
    // and slow (sanitizer, valgrind) builds still hit the limit.
    srv = await startServer({ args: ['--signup-rate', '360', '--signup-burst', '2', '--login-max-failures', '1000'] });
  });
  after(async () => {
    await srv?.stop();
  });

  const signup = (addr, username) => new HttpClient(srv, { localAddress: addr }).post('/api/signup', { username, password: 'signup rate pw' });

  it('a burst of 2 passes; the 3rd is 429 rate_limited with Retry-After, creates nothing, and works once the bucket refills', async () => {
    const addr = nextAddr();
    expectStatus(await signup(addr, 'rate_a1'), 201);
    expectStatus(await signup(addr, 'rate_a2'), 201);
    const res = await signup(addr, 'rate_a3');
    const body = expectError(res, 429, 'rate_limited');
    assert.ok(Number.isInteger(body.retry_after) && body.retry_after >= 1 && body.retry_after <= 10, JSON.stringify(body));
    assert.equal(res.headers['retry-after'], String(body.retry_after));
    assert.equal(res.headers['set-cookie'], undefined, 'no session');
    // Not created: the name is free, and no login works for it.
    expectError(await new HttpClient(srv).post('/api/login', { username: 'rate_a3', password: 'signup rate pw' }), 401, 'bad_credentials');
    // Another address has its own bucket.
    expectStatus(await signup(nextAddr(), 'rate_b1'), 201);
    await sleep(body.retry_after * 1000 + 100);
    expectStatus(await signup(addr, 'rate_a3'), 201, 'after Retry-After:');
  });

  it('invalid requests cost nothing; a taken name costs a token (probing names is limited too)', async () => {
    const addr = nextAddr();
    for (let i = 0; i < 5; i++) expectError(await signup(addr, 'Bad Name!'), 400, 'bad_username');
    expectError(await new HttpClient(srv, { localAddress: addr }).post('/api/signup', { username: 'rate_c0', password: 'short' }), 400, 'weak_password');
    expectError(await signup(addr, 'rate_a1'), 409, 'username_taken');
    expectStatus(await signup(addr, 'rate_c1'), 201);
    expectError(await signup(addr, 'rate_c2'), 429, 'rate_limited');
    expectError(await signup(addr, 'rate_a2'), 429, 'rate_limited', 'a limited address cannot probe names either:');
  });

  it('login is not limited by the sign-up bucket', async () => {
    const addr = nextAddr();
    expectStatus(await signup(addr, 'rate_d1'), 201);
    expectStatus(await signup(addr, 'rate_d2'), 201);
    expectError(await signup(addr, 'rate_d3'), 429, 'rate_limited');
    for (let i = 0; i < 5; i++) {
      expectStatus(await new HttpClient(srv, { localAddress: addr }).post('/api/login', { username: 'rate_d1', password: 'signup rate pw' }), 200);
    }
  });
});

// Every delete for everyone costs the store an erasing checkpoint and a
// merge of the search index: deletes have a budget of their own.
describe('15 limits: deletes for everyone', { timeout: 120000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ['--delete-rate', '1', '--delete-burst', '2'] });
  });
  after(async () => {
    await srv?.stop();
  });

  it('a burst of deletes over the budget is refused with rate_limited; the message stays', async () => {
    const [alice, bob] = await User.all(srv, ['dora', 'dirk']);
    const chat = await befriend(alice, bob);
    const A = await alice.connect();
    const seqs = [];
    for (let i = 0; i < 3; i++) {
      const r = await A.request({ type: 'send', chat_id: chat, id: `del-${i}`, text: `to delete ${i}` });
      assert.equal(r.type, 'sent', JSON.stringify(r));
      seqs.push(r.seq);
    }
    for (const seq of seqs.slice(0, 2)) {
      const d = await A.request({ type: 'delete', ref: `d${seq}`, chat_id: chat, seq });
      assert.equal(d.type, 'deleted', JSON.stringify(d));
    }
    const third = await A.request({ type: 'delete', ref: 'd-third', chat_id: chat, seq: seqs[2] });
    assert.equal(third.type, 'error', JSON.stringify(third));
    assert.equal(third.request, 'delete');
    assert.equal(third.ref, 'd-third');
    assert.equal(third.code, 'rate_limited');
    assert.ok(third.retry_after_ms > 60 * 60 * 1000 / 2, `retry_after_ms ${third.retry_after_ms}: about an hour at 1 per hour`);
    const hist = await fullHistory(alice, chat);
    assert.deepEqual(
      hist.map((m) => [m.text, m.deleted_at === null || m.deleted_at === undefined || m.deleted_at === 0]),
      [['', false], ['', false], ['to delete 2', true]],
    );
    // Sends are not charged to the delete budget, nor the other way round.
    const r = await A.request({ type: 'send', chat_id: chat, id: 'after', text: 'still sending' });
    assert.equal(r.type, 'sent', JSON.stringify(r));
  });

  it('edits erase the old text too: they take from the same budget', async () => {
    const [alice, bob] = await User.all(srv, ['edna', 'eddy']);
    const chat = await befriend(alice, bob);
    const A = await alice.connect();
    const s = await A.request({ type: 'send', chat_id: chat, id: 'ed-0', text: 'v0' });
    assert.equal(s.type, 'sent', JSON.stringify(s));
    for (let i = 1; i <= 2; i++) {
      const e = await A.request({ type: 'edit', chat_id: chat, seq: s.seq, text: `v${i}` });
      assert.equal(e.type, 'edited', JSON.stringify(e));
    }
    const third = await A.request({ type: 'edit', ref: 'e-third', chat_id: chat, seq: s.seq, text: 'v3' });
    assert.equal(third.type, 'error', JSON.stringify(third));
    assert.equal(third.request, 'edit');
    assert.equal(third.ref, 'e-third');
    assert.equal(third.code, 'rate_limited');
    assert.ok(third.retry_after_ms > 0);
    const d = await A.request({ type: 'delete', chat_id: chat, seq: s.seq });
    assert.equal(d.code, 'rate_limited', 'and a delete waits as well');
    const hist = await fullHistory(alice, chat);
    assert.equal(hist.find((m) => m.seq === s.seq).text, 'v2', 'nothing changed');
  });
});
