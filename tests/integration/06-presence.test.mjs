// 06 - presence: online while a WebSocket is open, last seen when the last one
// closes; only friends see it; blocks and last_seen "nobody" hide it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, waitFor } from './lib/server.mjs';
import { User, befriend, chatWith, expectStatus } from './lib/client.mjs';

function presenceOf(u, online) {
  return function presence(e) {
    return e.user === u.id && e.online === online;
  };
}

describe('06 presence', { timeout: 180000 }, () => {
  let srv;
  let alice, bob, carol, dave, eve, fay;
  let chatAB, chatCD, chatEF;
  before(async () => {
    srv = await startServer();
    [alice, bob, carol, dave, eve, fay] = await User.all(srv, ['alice', 'bob', 'carol', 'dave', 'eve', 'fay']);
    chatAB = await befriend(alice, bob);
    chatCD = await befriend(carol, dave);
    chatEF = await befriend(eve, fay);
  });
  after(async () => {
    await srv?.stop();
  });

  it('a friend coming online and going offline is pushed; last_seen is when the last socket closed', async () => {
    const A = await alice.connect();
    const C = await carol.connect(); // not bob's friend
    const B = await bob.connect();
    const on = await A.next('presence', presenceOf(bob, true));
    assert.equal(on.user, bob.id);
    let c = await chatWith(alice, chatAB);
    assert.equal(c.peer.online, true, 'the chat list shows bob online');
    const t0 = Date.now();
    await B.close();
    const off = await A.next('presence', presenceOf(bob, false));
    const t1 = Date.now();
    assert.ok(Number.isInteger(off.last_seen), `last_seen on going offline: ${JSON.stringify(off)}`);
    assert.ok(off.last_seen >= t0 - 1000 && off.last_seen <= t1 + 1000, `last_seen ${off.last_seen} not between ${t0} and ${t1}`);
    c = await chatWith(alice, chatAB);
    assert.equal(c.peer.online, false);
    assert.equal(c.peer.last_seen, off.last_seen);
    await C.expectNo('presence', 200, (e) => e.user === bob.id);
    await A.close();
    await C.close();
  });

  it('online while at least one socket is open: closing one of two sends nothing', async () => {
    const A = await alice.connect();
    const B1 = await bob.connect();
    await A.next('presence', presenceOf(bob, true));
    const B2 = await bob.connect();
    await A.expectNo('presence', 300, (e) => e.user === bob.id && e.online === false);
    await B1.close();
    await A.expectNo('presence', 400, (e) => e.user === bob.id && e.online === false);
    assert.equal((await chatWith(alice, chatAB)).peer.online, true);
    await B2.close();
    await A.next('presence', presenceOf(bob, false));
    await A.close();
  });

  it('an abruptly dropped connection (no close handshake) also ends presence', async () => {
    const A = await alice.connect();
    const B = await bob.connect();
    await A.next('presence', presenceOf(bob, true));
    B.ws._socket.destroy();
    const off = await A.next('presence', presenceOf(bob, false));
    assert.ok(Number.isInteger(off.last_seen));
    await A.close();
  });

  it('the user who connects sees the friend\'s state in the chat list', async () => {
    const B = await bob.connect();
    const c = await chatWith(alice, chatAB);
    assert.equal(c.peer.online, true);
    await B.close();
    await waitFor(async () => (await chatWith(alice, chatAB)).peer.online === false, 'bob offline in the chat list');
  });

  it('a new connection gets a snapshot of its friends\' presence before the backlog, in order with later changes', async () => {
    const B = await bob.connect();
    const A = await alice.connect();
    const snap = A.presence.filter((e) => e.user === bob.id);
    assert.equal(snap.length, 1, `one snapshot event for bob: ${JSON.stringify(A.presence)}`);
    assert.equal(snap[0].online, true);
    assert.equal(snap[0].last_seen, null);
    assert.ok(!A.presence.some((e) => e.user === carol.id), 'carol is not alice\'s friend');
    await B.close();
    const A2 = await alice.connect();
    const off = A2.presence.find((e) => e.user === bob.id);
    assert.ok(off, `snapshot after bob left: ${JSON.stringify(A2.presence)}`);
    assert.equal(off.online, false);
    assert.ok(Number.isInteger(off.last_seen), `bob's last seen in the snapshot: ${JSON.stringify(off)}`);
    // The snapshot comes between hello and the backlog.
    const i = A2.events.findIndex((e) => e.type === 'presence');
    assert.equal(A2.events[0].type, 'hello');
    assert.ok(i > 0 && i < A2.events.findIndex((e) => e.type === 'synced'));
    await A.close();
    await A2.close();
  });

  it('a block hides presence both ways, in events and in the chat list', async () => {
    const D = await dave.connect();
    const C = await carol.connect();
    await D.next('presence', presenceOf(carol, true));
    expectStatus(await carol.http.put('/api/blocks/dave'), 204);
    // The blocked one sees the blocker go offline with no last seen, as
    // someone who hides it (issue 12 item 4 point 2), and then nothing.
    const gone = await D.next('presence', (e) => e.user === carol.id);
    assert.equal(gone.online, false);
    assert.equal(gone.last_seen, null);
    await C.close();
    await D.expectNo('presence', 400, (e) => e.user === carol.id);
    const C2 = await carol.connect();
    await D.expectNo('presence', 300, (e) => e.user === carol.id);
    const dv = await chatWith(dave, chatCD);
    assert.equal(dv.peer.online, false, 'the blocked one does not see the blocker online');
    assert.equal(dv.peer.last_seen, null);
    // And the other way round.
    await D.close();
    await C2.expectNo('presence', 400, (e) => e.user === dave.id);
    const cv = await chatWith(carol, chatCD);
    assert.equal(cv.peer.online, false, 'the blocker does not see the blocked one');
    assert.equal(cv.peer.last_seen, null);
    const D2 = await dave.connect();
    await C2.expectNo('presence', 300, (e) => e.user === dave.id);
    assert.equal((await chatWith(carol, chatCD)).peer.online, false);
    // Unblocked: visible again.
    expectStatus(await carol.http.del('/api/blocks/dave'), 204);
    assert.equal((await chatWith(carol, chatCD)).peer.online, true);
    await D2.close();
    await C2.next('presence', presenceOf(dave, false));
    await C2.close();
  });

  it('last_seen "nobody": neither online nor last seen is shown or pushed, either way (issue 14 item 4)', async () => {
    expectStatus(await fay.http.patch('/api/me', { last_seen: 'nobody' }), 200);
    const E = await eve.connect();
    const F = await fay.connect();
    await E.expectNo('presence', 500, (e) => e.user === fay.id);
    await F.close();
    await E.expectNo('presence', 500, (e) => e.user === fay.id);
    const ev = await chatWith(eve, chatEF);
    assert.equal(ev.peer.online, false);
    assert.equal(ev.peer.last_seen, null);
    // Fay sees no one's presence either.
    const F2 = await fay.connect();
    const snap = F2.presence.find((e) => e.user === eve.id);
    assert.ok(snap, 'the snapshot still names every friend');
    assert.equal(snap.online, false, 'eve is online, but fay hides her own last seen');
    assert.equal(snap.last_seen, null);
    await E.close();
    await F2.expectNo('presence', 500, (e) => e.user === eve.id);
    const fv = await chatWith(fay, chatEF);
    assert.equal(fv.peer.online, false);
    assert.equal(fv.peer.last_seen, null);
    // Back to friends: both visible again, pushed to fay at once.
    expectStatus(await fay.http.patch('/api/me', { last_seen: 'friends' }), 200);
    const back = await F2.next('presence', (e) => e.user === eve.id);
    assert.equal(back.online, false);
    assert.ok(Number.isInteger(back.last_seen), `eve's last seen after fay shares hers again: ${JSON.stringify(back)}`);
    const fv2 = await chatWith(fay, chatEF);
    assert.ok(Number.isInteger(fv2.peer.last_seen), `eve's last seen after fay shares hers again: ${JSON.stringify(fv2.peer)}`);
    await F2.close();
  });

  it('a removed friend no longer gets presence', async () => {
    const A = await alice.connect();
    expectStatus(await alice.http.del('/api/friends/bob'), 204);
    const B = await bob.connect();
    await A.expectNo('presence', 400, (e) => e.user === bob.id);
    await B.close();
    await A.expectNo('presence', 300, (e) => e.user === bob.id);
    await A.close();
  });
});
