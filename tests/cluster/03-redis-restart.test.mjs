// 03 - Redis restarts under traffic (its data gone: no persistence). The
// instances keep storing and acknowledging messages without it, reconnect
// with backoff, ask their clients to resume (1012), and nothing
// acknowledged is lost; no duetd restarts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SLOW, sleep, waitFor } from '../integration/lib/server.mjs';
import { startCluster } from './lib/cluster.mjs';
import { checkPairs, closePairs, makePairs, startTraffic } from './lib/traffic.mjs';

describe('03 Redis restarts under traffic', { timeout: 300000 }, () => {
  let cl;
  before(async () => {
    cl = await startCluster();
  });
  after(async () => {
    await cl?.stop();
  });

  it('messages are stored while Redis is down and delivered once it is back, exactly once, in order', async () => {
    const pairs = await makePairs(cl, [[1, 2], [2, 3], [3, 4], [4, 1], [2, 2]], 'r');
    const all = pairs.flatMap((p) => [p.a, p.b]);
    const t = startTraffic(pairs, 30);
    await waitFor(() => t.count() >= 20, 'traffic before the outage', 20000 * SLOW);
    await cl.redis.kill();
    const acked = all.map((c) => [...c.sends.values()].filter((s) => s.seq != null).length);
    // Sends are still acknowledged: the store does not need Redis.
    await waitFor(() => all.every((c, i) => [...c.sends.values()].filter((s) => s.seq != null).length > acked[i] + 10),
      'sends acknowledged while Redis is down', 20000 * SLOW);
    await sleep(500);
    await cl.redis.start();
    // Every instance reconnects on its own and asks its clients to resume.
    for (const s of cl.servers) {
      await waitFor(() => (s.stderr.match(/redis: connected/g) || []).length >= 2, 'an instance to reconnect to Redis', 30000 * SLOW);
    }
    await waitFor(() => all.every((c) => c.conns.some((x) => x.closed && x.closed.code === 1012) && c.cur.synced && !c.cur.closed),
      'every client to be asked to resume (1012) and to be back', 30000 * SLOW);
    const k0 = t.count();
    await waitFor(() => t.count() >= k0 + 20, 'traffic after the outage', 20000 * SLOW);
    t.stop();
    await checkPairs(pairs);
    // Live cross-instance delivery works again (not only through replays).
    const p = pairs[0];
    const id = p.a.send(p.chat, 'after the restart');
    await p.a.sent(id);
    const ev = await p.b.seen('message', (e) => e.id === id);
    assert.equal(ev.pending, undefined, 'delivered live');
    // And presence is rebuilt: the registry knows everyone online again.
    for (const c of all) {
      const on = cl.redis.cli('EXISTS', `duet:on:${c.id.replace(/-/g, '')}`).trim();
      assert.equal(on, '1', `${c.label} is registered online again`);
    }
    await closePairs(pairs);
  });
});
