// 28 - issue 14 item 4: "last seen: nobody" leaks nothing through presence.
// When either of two friends hides last seen, neither online nor last seen
// is shown or pushed between them: no live presence event (its arrival time
// would be the last seen), online false and last_seen null in the snapshot
// and the chat list. Changing the setting tells both sides what they now see.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { User, befriend, chatWith, expectStatus } from './lib/client.mjs';

describe('28 presence privacy (issue 14 item 4)', { timeout: 120000 }, () => {
  let srv, amy, ben, cal, dee, chatAB, chatCD;
  before(async () => {
    srv = await startServer();
    [amy, ben, cal, dee] = await User.all(srv, ['amy', 'ben', 'cal', 'dee']);
    chatAB = await befriend(amy, ben);
    chatCD = await befriend(cal, dee);
  });
  after(async () => {
    await srv?.stop();
  });

  it('the user who hides: friends get no presence event as they come and go, and see them offline everywhere', async () => {
    expectStatus(await ben.http.patch('/api/me', { last_seen: 'nobody' }), 200);
    const A = await amy.connect();
    for (let i = 0; i < 3; i++) {
      const B = await ben.connect();
      const seen = await chatWith(amy, chatAB);
      assert.equal(seen.peer.online, false, 'the chat list does not show a hidden friend online');
      assert.equal(seen.peer.last_seen, null);
      const A2 = await amy.connect();
      const snap = A2.presence.find((e) => e.user === ben.id);
      assert.deepEqual([snap?.online, snap?.last_seen], [false, null], `snapshot: ${JSON.stringify(snap)}`);
      await A2.close();
      await B.close();
    }
    await A.expectNo('presence', 800, (e) => e.user === ben.id);
    const after = await chatWith(amy, chatAB);
    assert.equal(after.peer.last_seen, null);
    await A.close();
  });

  it('the viewer who hides sees no one: no events about friends, offline in the list', async () => {
    // ben hides (from the test above); ben watches amy come and go.
    const B = await ben.connect();
    const A = await amy.connect();
    await A.close();
    await B.expectNo('presence', 800, (e) => e.user === amy.id);
    const seen = await chatWith(ben, chatAB);
    assert.deepEqual([seen.peer.online, seen.peer.last_seen], [false, null]);
    await B.close();
  });

  it('hiding while online tells friends once (offline, no time); showing again pushes the real state', async () => {
    const C = await cal.connect();
    const D = await dee.connect();
    const on = await C.next('presence', (e) => e.user === dee.id);
    assert.equal(on.online, true, 'both share: dee shows online');
    expectStatus(await dee.http.patch('/api/me', { last_seen: 'nobody' }), 200);
    const hid = await C.next('presence', (e) => e.user === dee.id);
    assert.deepEqual([hid.online, hid.last_seen], [false, null], 'cal now sees nothing of dee');
    // cal's own "online" (cal connected just before dee) may still reach dee
    // first, on a slower store: the hiding is the first "offline" after it.
    const mine = await D.next('presence', (e) => e.user === cal.id && e.online === false);
    assert.deepEqual([mine.online, mine.last_seen], [false, null], 'dee now sees nothing of cal');
    // dee leaves and comes back: nothing reaches cal.
    await D.close();
    const D2 = await dee.connect();
    await C.expectNo('presence', 800, (e) => e.user === dee.id);
    expectStatus(await dee.http.patch('/api/me', { last_seen: 'friends' }), 200);
    const shown = await C.next('presence', (e) => e.user === dee.id);
    assert.deepEqual([shown.online, shown.last_seen], [true, null], 'dee is online again for cal');
    const theirs = await D2.next('presence', (e) => e.user === cal.id);
    assert.equal(theirs.online, true, 'and dee sees cal online again');
    assert.equal((await chatWith(cal, chatCD)).peer.online, true);
    // Live changes flow again.
    await D2.close();
    const off = await C.next('presence', (e) => e.user === dee.id && !e.online);
    assert.ok(Number.isInteger(off.last_seen), JSON.stringify(off));
    await C.close();
  });
});
