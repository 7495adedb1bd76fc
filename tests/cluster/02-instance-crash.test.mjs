// 02 - kill -9 of an instance under traffic: its users reconnect through
// nginx to another instance and lose nothing; everyone else goes on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SLOW, waitFor } from '../integration/lib/server.mjs';
import { startCluster } from './lib/cluster.mjs';
import { checkPairs, closePairs, makePairs, startTraffic } from './lib/traffic.mjs';

describe('02 an instance crashes under traffic', { timeout: 300000 }, () => {
  let cl;
  before(async () => {
    cl = await startCluster();
  });
  after(async () => {
    await cl?.stop();
  });

  it('users of the dead instance resume elsewhere; every acknowledged message arrives once, in order', async () => {
    // Pairs with one side on duet-1 (the victim), others across the rest.
    const pairs = await makePairs(cl, [[1, 2], [1, 3], [4, 1], [1, 1], [2, 3], [3, 4]], 'k');
    const victims = pairs.flatMap((p) => [p.a, p.b]).filter((c) => c.instance === 'duet-1');
    assert.equal(victims.length, 5);
    const t = startTraffic(pairs, 30);
    await waitFor(() => t.count() >= 30, 'some traffic before the crash', 20000 * SLOW);
    await cl.crash(1);
    await waitFor(() => victims.every((c) => c.cur.closed === null && c.cur.synced && c.instance !== 'duet-1'),
      'the victims to reconnect to another instance', 30000 * SLOW);
    const k0 = t.count();
    await waitFor(() => t.count() >= k0 + 30, 'traffic after the crash', 20000 * SLOW);
    t.stop();
    for (const v of victims) assert.notEqual(v.instance, 'duet-1');
    await checkPairs(pairs);
    // The survivors' connections never dropped.
    for (const p of pairs) {
      for (const c of [p.a, p.b]) {
        if (!victims.includes(c)) assert.equal(c.conns.length, 1, `${c.label} kept its connection`);
      }
    }
    await closePairs(pairs);
  });
});
