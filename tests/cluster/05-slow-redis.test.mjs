// 05 - a slow or hung Redis never blocks an instance: while Redis is
// stopped (SIGSTOP) every instance still answers, stores and acknowledges
// messages, and delivers between its own users; a short stall only delays
// cross-instance events, a long one (over --redis-timeout) counts as Redis
// lost and clients resume once it answers again. Nothing is lost.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SLOW, sleep, waitFor } from '../integration/lib/server.mjs';
import { httpGet, startCluster } from './lib/cluster.mjs';
import { checkPairs, closePairs, makePairs, startTraffic } from './lib/traffic.mjs';

describe('05 a slow Redis', { timeout: 300000 }, () => {
  let cl;
  before(async () => {
    cl = await startCluster({ args: ['--redis-timeout', '2000'] });
  });
  after(async () => {
    cl?.redis.resume();
    await cl?.stop();
  });

  async function answersFast() {
    for (const s of cl.servers) {
      const t0 = Date.now();
      const r = await httpGet('127.0.0.1', s.port, '/healthz', '127.0.0.1');
      assert.equal(r.status, 200);
      assert.ok(Date.now() - t0 < 500 * SLOW, `${s.opts.args[1]} took ${Date.now() - t0} ms`);
    }
  }

  it('a stall shorter than the timeout only delays; a longer one ends in a resume; nothing is lost', async () => {
    const pairs = await makePairs(cl, [[1, 2], [3, 3], [4, 2]], 's');
    const local = pairs[1]; // both on duet-3
    const all = pairs.flatMap((p) => [p.a, p.b]);
    const t = startTraffic(pairs, 40);
    await waitFor(() => t.count() >= 10, 'traffic', 20000 * SLOW);

    // A 1 s stall: no resume, only delay.
    cl.redis.pause();
    const id = local.a.send(local.chat, 'local during a stall');
    await local.a.sent(id, 1000 * SLOW);
    await local.b.seen('message', (e) => e.id === id, 1000 * SLOW);
    await answersFast();
    await sleep(600);
    cl.redis.resume();
    await sleep(500);
    assert.ok(all.every((c) => c.conns.length === 1), 'nobody had to resume after a short stall');

    // A 4 s stall (timeout 2 s): Redis counts as lost, and back later.
    cl.redis.pause();
    await sleep(2500);
    await answersFast();
    const id2 = local.a.send(local.chat, 'local while Redis is hung');
    await local.a.sent(id2, 2000 * SLOW);
    await local.b.seen('message', (e) => e.id === id2, 2000 * SLOW);
    await sleep(1500);
    cl.redis.resume();
    await waitFor(() => all.every((c) => c.conns.length >= 2 && c.cur.synced && !c.cur.closed), 'every client to resume', 30000 * SLOW);
    const k0 = t.count();
    await waitFor(() => t.count() >= k0 + 10, 'traffic after', 20000 * SLOW);
    t.stop();
    await checkPairs(pairs);
    await closePairs(pairs);
  });
});
