// 34 - a WebSocket's requests are answered in the order they were sent
// (issue 12 item 3): an answer that is ready at once (pong, a refused frame)
// waits for the earlier requests still at the store. And a connection has a
// bounded number of requests in flight (issue 14 item 1): beyond it the
// server stops reading the socket, so a pipelined flood of big history pages
// neither grows the server's memory nor delays other users. The bound is 32
// per connection (issue 19: a sender's pipelined sends form the Cassandra
// store's send groups, 8 capped one conversation at ~540 msg/s).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { NO_RATE_LIMIT, SLOW, isSanitized, startServer } from './lib/server.mjs';
import { RawWs, User, befriend, nextAddr, wsFrame } from './lib/client.mjs';

function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

const MiB = 1024 * 1024;
// Under ASan freed memory sits in a quarantine (kept small here) and every
// byte has shadow: the bound is looser there, and reported either way.
const ASAN_ENV = { ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ?? ''}:quarantine_size_mb=8` };
const RSS_BOUND = 64 * MiB * (isSanitized ? 2 : 1);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('34 answers in request order, bounded requests in flight', { timeout: 300000 }, () => {
  let srv, alice, bob, carol, chat;
  before(async () => {
    srv = await startServer({ args: [...NO_RATE_LIMIT], env: isSanitized ? ASAN_ENV : {} });
    [alice, bob, carol] = await User.all(srv, ['alice', 'bob', 'carol']);
    chat = await befriend(alice, bob);
  });
  after(async () => {
    await srv?.stop();
  });

  it('answers leave in request order, whatever finishes first', async () => {
    const r = await RawWs.connect(srv, { cookie: alice.session });
    await r.waitEvent('hello');
    await r.waitEvent('synced');
    // Everything in one write: the store-backed ones (send, history) take a
    // store round trip; ping, the empty text, bad JSON and an unknown type
    // are answered without one and used to overtake them.
    const frames = [
      { type: 'send', ref: 'r1', chat_id: chat, id: 'order-1', text: 'first' },
      { type: 'ping', ref: 'r2' },
      { type: 'history', ref: 'r3', chat_id: chat, limit: 10 },
      { type: 'send', ref: 'r4', chat_id: chat, id: 'order-2', text: '' },
      { type: 'nope', ref: 'r5' },
      { type: 'send', ref: 'r6', chat_id: chat, id: 'order-3', text: 'third' },
      { type: 'ping', ref: 'r7' },
    ].map((o) => wsFrame(1, Buffer.from(JSON.stringify(o))));
    frames.splice(5, 0, wsFrame(1, Buffer.from('{"type":')));
    r.write(Buffer.concat(frames));
    const got = [];
    while (got.length < 8) {
      const f = await r.waitFrame((x) => x.opcode === 1 && x.json && ['sent', 'pong', 'history', 'error'].includes(x.json.type));
      got.push(f.json);
    }
    const seen = got.map((e) => `${e.type}:${e.ref ?? e.code}`);
    assert.deepEqual(seen, ['sent:r1', 'pong:r2', 'history:r3', 'error:r4', 'error:r5', 'error:bad_json', 'sent:r6', 'pong:r7']);
    assert.equal(got[3].code, 'empty');
    assert.equal(got[4].code, 'unknown_type');
    // the history page saw the send before it (store order)
    assert.ok(got[2].messages.some((m) => m.id === 'order-1'));
    r.destroy();
  });

  it('a connection reads 31 pipelined sends at once, and pauses past 32', async () => {
    const paused = async () => {
      const m = /duet_ws_paused_total (\d+)/.exec((await carol.http.get('/metrics')).text);
      return Number(m[1]);
    };
    const r = await RawWs.connect(srv, { cookie: alice.session });
    await r.waitEvent('hello');
    await r.waitEvent('synced');
    // n sends in one write, answered in order with consecutive sequences.
    const burst = async (tag, n) => {
      const frames = Array.from({ length: n }, (_, i) =>
        wsFrame(1, Buffer.from(JSON.stringify({ type: 'send', ref: `${tag}-${i}`, chat_id: chat, id: `${tag}-${i}`, text: `${tag} ${i}` }))),
      );
      r.write(Buffer.concat(frames));
      const got = [];
      while (got.length < n) {
        const f = await r.waitFrame((x) => x.opcode === 1 && x.json && ['sent', 'error'].includes(x.json.type));
        got.push(f.json);
      }
      assert.deepEqual(
        got.map((e) => `${e.type}:${e.ref}`),
        Array.from({ length: n }, (_, i) => `sent:${tag}-${i}`),
      );
      for (let i = 1; i < n; i++) assert.equal(got[i].seq, got[i - 1].seq + 1);
    };
    const p0 = await paused();
    // Under the bound (32 slots: the 32nd request pauses) all are read
    // before the first is answered, and the socket is never paused.
    await burst('ahead', 31);
    assert.equal(await paused(), p0, '31 requests in flight paused the connection');
    // Past it the socket is paused, and every answer still comes in order.
    await burst('past', 80);
    assert.ok((await paused()) > p0, '80 pipelined requests did not pause the connection');
    r.destroy();
  });

  it('a flood of pipelined history pages: memory stays bounded, another user stays fast', async () => {
    // 110 messages of 4,000 emoji (16 KB each): a 100-message page is 1.6 MB.
    const A = await alice.connect();
    const TEXT = '😀'.repeat(3996);
    for (let i = 0; i < 110; i++) {
      const ev = await A.request({ type: 'send', chat_id: chat, id: `big-${i}`, text: `${i}${TEXT}` });
      assert.equal(ev.type, 'sent', JSON.stringify(ev).slice(0, 200));
    }
    await A.close();
    await sleep(500);
    const rss0 = rssBytes(srv.pid);
    // 3 sockets × 400 requests and 1 socket × 3,000 (issue 14's numbers),
    // none of which reads its answers.
    const counts = [400, 400, 400, 3000];
    const socks = [];
    for (const n of counts) {
      const r = await RawWs.connect(srv, { cookie: bob.session, localAddress: nextAddr() });
      await r.waitEvent('synced');
      r.sock.pause(); // never read again
      const req = wsFrame(1, Buffer.from(JSON.stringify({ type: 'history', chat_id: chat, limit: 100 })));
      r.sock.write(Buffer.concat(Array.from({ length: n }, () => req)));
      socks.push(r);
    }
    // Another user's requests meanwhile, and the server's RSS.
    let peak = rss0;
    const lat = [];
    const end = Date.now() + 6000 * SLOW;
    while (Date.now() < end) {
      peak = Math.max(peak, rssBytes(srv.pid));
      const t0 = performance.now();
      const res = await carol.http.get('/api/me');
      lat.push(performance.now() - t0);
      assert.equal(res.status, 200);
      await sleep(100);
    }
    lat.sort((a, b) => a - b);
    const growth = peak - rss0;
    const p50 = lat[Math.floor(lat.length / 2)];
    const max = lat[lat.length - 1];
    console.log(`# 34 history flood: RSS ${(rss0 / MiB).toFixed(1)} MiB -> peak ${(peak / MiB).toFixed(1)} MiB (+${(growth / MiB).toFixed(1)} MiB); another user's GET /api/me: median ${p50.toFixed(1)} ms, max ${max.toFixed(1)} ms over ${lat.length}`);
    assert.ok(growth < RSS_BOUND, `RSS grew by ${(growth / MiB).toFixed(1)} MiB (bound ${RSS_BOUND / MiB} MiB)`);
    assert.ok(max < 1000 * SLOW, `another user's request took ${max.toFixed(0)} ms`);
    const m = await carol.http.get('/metrics');
    assert.match(m.text, /duet_ws_paused_total [1-9]/, 'the sockets were paused');
    for (const r of socks) r.destroy();
  });

  it('one user flooding from 24 sockets: the history pages of another user stay fast', async () => {
    const [dan] = await User.all(srv, ['dan']);
    const dchat = await befriend(carol, dan);
    const C = await carol.connect();
    await C.request({ type: 'send', chat_id: dchat, id: 'hi', text: 'hi' });
    const socks = [];
    const req = wsFrame(1, Buffer.from(JSON.stringify({ type: 'history', chat_id: chat, limit: 100 })));
    for (let i = 0; i < 24; i++) {
      const r = await RawWs.connect(srv, { cookie: bob.session, localAddress: nextAddr() });
      r.sock.pause();
      r.sock.write(Buffer.concat(Array.from({ length: 50 }, () => req)));
      socks.push(r);
    }
    await sleep(200);
    const lat = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      const ev = await C.request({ type: 'history', chat_id: dchat, limit: 10 });
      lat.push(performance.now() - t0);
      assert.equal(ev.type, 'history');
      await sleep(50);
    }
    lat.sort((a, b) => a - b);
    const max = lat[lat.length - 1];
    console.log(`# 34 24 flooding sockets of one user: another user's history page: median ${lat[15].toFixed(1)} ms, max ${max.toFixed(1)} ms`);
    assert.ok(max < 1000 * SLOW, `another user's history page took ${max.toFixed(0)} ms`);
    for (const r of socks) r.destroy();
    await C.close();
  });

  it('a reader of the flood gets every answer, in order', async () => {
    const B = await bob.connect();
    const N = 30;
    for (let i = 0; i < N; i++) B.send({ type: 'history', ref: `h${i}`, chat_id: chat, limit: 100, before: 111 - (i % 10) });
    for (let i = 0; i < N; i++) {
      const ev = await B.next(null, (e) => e.type === 'history' || e.type === 'error', 30000 * SLOW);
      assert.equal(ev.type, 'history');
      assert.equal(ev.ref, `h${i}`);
      assert.equal(ev.messages.length, 100);
    }
    await B.close();
  });
});
