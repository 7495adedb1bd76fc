// 08 - issue 14 item 4 across instances: when a friend hides last seen,
// neither online nor last seen crosses the Redis hub between the two, in
// either direction; a change of the setting reaches the friend's instance.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { User, befriend, chatWith, expectStatus } from '../integration/lib/client.mjs';
import { startCluster } from './lib/cluster.mjs';

describe('08 presence privacy across instances', { timeout: 300000 }, () => {
  let cl, amy, ben, chat;
  before(async () => {
    cl = await startCluster({ instances: 2 });
    amy = await User.signup(cl.endpoint, 'amy8', { localAddress: cl.addrFor(1) });
    ben = await User.signup(cl.endpoint, 'ben8', { localAddress: cl.addrFor(2) });
    chat = await befriend(amy, ben);
  });
  after(async () => {
    await cl?.stop();
  });

  it('both share: presence crosses instances (the control case)', async () => {
    const A = await amy.connect();
    assert.equal(A.hello.instance, 'duet-1');
    const B = await ben.connect();
    assert.equal(B.hello.instance, 'duet-2');
    await A.next('presence', (e) => e.user === ben.id && e.online);
    await B.close();
    const off = await A.next('presence', (e) => e.user === ben.id && !e.online);
    assert.ok(Number.isInteger(off.last_seen));
    await A.close();
  });

  it('ben hides: his comings and goings on instance 2 send amy on instance 1 nothing', async () => {
    const A = await amy.connect();
    expectStatus(await ben.http.patch('/api/me', { last_seen: 'nobody' }), 200);
    // The setting change itself: what amy now sees of ben (nothing).
    const hid = await A.next('presence', (e) => e.user === ben.id);
    assert.deepEqual([hid.online, hid.last_seen], [false, null]);
    for (let i = 0; i < 2; i++) {
      const B = await ben.connect();
      const seen = await chatWith(amy, chat);
      assert.deepEqual([seen.peer.online, seen.peer.last_seen], [false, null], 'the list hides him while he is online');
      // Reciprocal: ben sees nothing of amy, who is online.
      const snap = B.presence.find((e) => e.user === amy.id);
      assert.deepEqual([snap?.online, snap?.last_seen], [false, null], JSON.stringify(snap));
      await B.close();
    }
    await A.expectNo('presence', 1500, (e) => e.user === ben.id);
    await A.close();
  });

  it('ben shows it again while both are online: each instance pushes the real state', async () => {
    const A = await amy.connect();
    const B = await ben.connect();
    await A.expectNo('presence', 300, (e) => e.user === ben.id);
    expectStatus(await ben.http.patch('/api/me', { last_seen: 'friends' }), 200);
    const on = await A.next('presence', (e) => e.user === ben.id);
    assert.equal(on.online, true);
    const mine = await B.next('presence', (e) => e.user === amy.id);
    assert.equal(mine.online, true);
    await Promise.all([A.close(), B.close()]);
  });
});
