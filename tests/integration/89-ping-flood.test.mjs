// 89 - a client that sends pings and never reads cannot make the server
// hold its pongs without bound: past the output cap (--max-ws-queue, 1 MiB
// here) the connection is failed (1008) and reads nothing more, as when
// the app's own output would pass it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { SLOW, isSanitized, startServer } from './lib/server.mjs';
import { RawWs, User, nextAddr, wsFrame } from './lib/client.mjs';

const OP_PING = 9;
const MiB = 1024 * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

const ASAN_ENV = { ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ?? ''}:quarantine_size_mb=8` };

describe('89 ping flood from a client that does not read', { timeout: 120000 }, () => {
  let srv, alice;
  before(async () => {
    srv = await startServer({ args: ['--max-ws-queue', '1024'], env: isSanitized ? ASAN_ENV : {} });
    [alice] = await User.all(srv, ['alice']);
  });
  after(async () => {
    await srv?.stop();
  });

  it('holds a bounded amount of pongs, then fails the connection', async () => {
    const r = await RawWs.connect(srv, { cookie: alice.session, localAddress: nextAddr() });
    await r.waitEvent('synced');
    r.sock.pause(); // never reads the pongs
    const rss0 = rssBytes(srv.pid);
    // 64 MB of pings (125-byte payloads), written as the socket takes them.
    const batch = Buffer.concat(Array.from({ length: 4000 }, () => wsFrame(OP_PING, Buffer.alloc(125, 0x61))));
    let peak = rss0;
    for (let i = 0; i < 120 && !r.closedSocket && !r.sock.destroyed; i++) {
      if (!r.sock.write(batch)) await Promise.race([new Promise((res) => r.sock.once('drain', res)), sleep(200)]);
      peak = Math.max(peak, rssBytes(srv.pid));
    }
    await sleep(300);
    peak = Math.max(peak, rssBytes(srv.pid));
    const growth = peak - rss0;
    console.log(`# 89 ping flood: RSS ${(rss0 / MiB).toFixed(1)} MiB -> peak ${(peak / MiB).toFixed(1)} MiB`);
    assert.ok(growth < 24 * MiB * (isSanitized ? 2 : 1), `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
    r.destroy();
    const res = await alice.http.get('/api/me');
    assert.equal(res.status, 200);
  });
});
