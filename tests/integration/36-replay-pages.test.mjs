// 36 - the reconnect replay reads the backlog a page at a time, and the next
// page only once the socket took the last (issue 14 item 2): sockets that
// never read hold a page each, not the whole backlog. Paging is not one cut,
// so messages sent while a backlog is being replayed must still arrive
// exactly once, in order, whether they land in a later page or live.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { NO_RATE_LIMIT, SLOW, isSanitized, startServer } from './lib/server.mjs';
import { RawWs, User, befriend, nextAddr } from './lib/client.mjs';

const MiB = 1024 * 1024;
// Under ASan freed memory sits in a quarantine (kept small here) and every
// byte has shadow: the bound is looser there, and reported either way.
const ASAN_ENV = { ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ?? ''}:quarantine_size_mb=8` };
const RSS_BOUND = 16 * MiB * (isSanitized ? 2 : 1);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

// Sends n messages pipelined (answers come in request order) and waits for
// every `sent`.
async function sendMany(ws, chat, prefix, n, text) {
  for (let i = 0; i < n; i++) ws.send({ type: 'send', ref: `${prefix}${i}`, chat_id: chat, id: `${prefix}${i}`, text: `${prefix}${i} ${text}` });
  const seqs = [];
  for (let i = 0; i < n; i++) {
    const ev = await ws.next(null, (e) => e.ref === `${prefix}${i}`, 30000 * SLOW);
    assert.equal(ev.type, 'sent', JSON.stringify(ev).slice(0, 200));
    seqs.push(ev.seq);
  }
  return seqs;
}

describe('36 the backlog replayed in pages', { timeout: 600000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: [...NO_RATE_LIMIT], env: isSanitized ? ASAN_ENV : {} });
  });
  after(async () => {
    await srv?.stop();
  });

  it('messages sent during a paged replay arrive once each, in order, in every chat', async () => {
    const [bob, ...friends] = await User.all(srv, ['bob', 'ali', 'cyd', 'dia']);
    const chats = [];
    const socks = [];
    for (const f of friends) {
      chats.push(await befriend(f, bob));
      socks.push(await f.connect());
    }
    // About 5 pages of backlog in each chat.
    await Promise.all(socks.map((s, i) => sendMany(s, chats[i], 'old', 300, 'x'.repeat(200))));
    // bob connects while his friends keep sending.
    const during = Promise.all(socks.map((s, i) => sendMany(s, chats[i], 'new', 150, 'y'.repeat(200))));
    const B = await bob.connect();
    await during;
    const got = new Map(chats.map((c) => [c, []]));
    for (const e of B.pending) if (e.type === 'message') got.get(e.chat_id).push(e.seq);
    // the rest arrives live
    for (;;) {
      const total = [...got.values()].reduce((n, a) => n + a.length, 0);
      if (total >= 3 * 450) break;
      const e = await B.next('message', () => true, 10000 * SLOW);
      got.get(e.chat_id).push(e.seq);
    }
    for (const c of chats) {
      assert.deepEqual(got.get(c), Array.from({ length: 450 }, (_, i) => i + 1), `chat ${c}: every message once, in order`);
    }
    const inBacklog = B.pending.filter((e) => e.type === 'message').length;
    console.log(`# 36 replay during sends: ${inBacklog} messages in the backlog, ${3 * 450 - inBacklog} live`);
    assert.ok(B.synced.pending >= 900, `the backlog had ${B.synced.pending} rows`);
    await B.close();
    await Promise.all(socks.map((s) => s.close()));
  });

  it('40 sockets that never read cost a few MiB, not 40 backlogs', async () => {
    const [eve, fay] = await User.all(srv, ['eve', 'fay']);
    const chat = await befriend(eve, fay);
    const F = await fay.connect();
    // 1,000 messages of 4,000 emoji: a 16 MB backlog.
    const TEXT = '😀'.repeat(3990);
    for (let k = 0; k < 10; k++) await sendMany(F, chat, `b${k}-`, 100, TEXT);
    await F.close();
    // One reader first: the store's cache is warm, the backlog is real.
    const E = await eve.connect();
    assert.equal(E.pending.filter((e) => e.type === 'message').length, 1000);
    await E.terminate();
    await sleep(500);
    const replayed = async () => Number(/duet_pending_replayed_total (\d+)/.exec((await fay.http.get('/metrics')).text)[1]);
    const n0 = await replayed();
    const rss0 = rssBytes(srv.pid);
    const socks = [];
    for (let i = 0; i < 40; i++) {
      const r = await RawWs.connect(srv, { cookie: eve.session, localAddress: nextAddr() });
      r.sock.pause(); // reads nothing more
      socks.push(r);
    }
    let peak = rss0;
    const end = Date.now() + 4000 * SLOW;
    while (Date.now() < end) {
      peak = Math.max(peak, rssBytes(srv.pid));
      await sleep(100);
    }
    const growth = peak - rss0;
    const sent = (await replayed()) - n0;
    // Every socket was sent its first pages (the kernel took them), none all.
    assert.ok(sent >= 40 * 2 && sent < 40 * 1000, `${sent} backlog rows were sent to the 40 sockets`);
    console.log(`# 36 40 non-reading sockets (${sent} rows sent in all)`);
    console.log(`# 36 40 non-reading sockets, 16 MB backlog each: RSS ${(rss0 / MiB).toFixed(1)} MiB -> peak ${(peak / MiB).toFixed(1)} MiB (+${(growth / MiB).toFixed(1)} MiB)`);
    assert.ok(growth < RSS_BOUND, `RSS grew by ${(growth / MiB).toFixed(1)} MiB (bound ${RSS_BOUND / MiB} MiB)`);
    const res = await fay.http.get('/api/me');
    assert.equal(res.status, 200);
    for (const r of socks) r.destroy();
  });
});
