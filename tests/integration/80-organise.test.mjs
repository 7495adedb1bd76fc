// 80 - pin, archive, mute (issue 17, feature 7): PUT /api/chats/{id}/state,
// per user, in GET /api/chats; at most 3 pins (pin_limit); mute 8h / 1w /
// always / off from the server's clock; synced live to the user's other
// devices (chat_state) and to offline ones as a pending item (latest wins
// per chat, acked with kind chat_state); a new message from the peer ends
// an archive; bad input.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NO_RATE_LIMIT, SLOW, startServer } from './lib/server.mjs';
import { User, befriend, chatWith, expectError, expectStatus, sendMsg } from './lib/client.mjs';

async function setState(user, chat, body, status = 200) {
  const res = await user.http.put(`/api/chats/${chat}/state`, body);
  expectStatus(res, status, `state ${JSON.stringify(body)}:`);
  return res;
}

describe('80 organise: pin, archive, mute', { timeout: 60000 * SLOW }, () => {
  let srv, alice, bob, carol, dave, erin, frank;
  let ab, ac, ad, ae, af;
  before(async () => {
    srv = await startServer({ args: NO_RATE_LIMIT });
    [alice, bob, carol, dave, erin, frank] = await User.all(srv, ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']);
    ab = await befriend(alice, bob);
    ac = await befriend(alice, carol);
    ad = await befriend(alice, dave);
    ae = await befriend(alice, erin);
    af = await befriend(alice, frank);
  });
  after(async () => {
    await srv?.stop();
  });

  it('starts unorganised; pins at most 3 chats, per user', async () => {
    const c0 = await chatWith(alice, ab);
    assert.equal(c0.pinned, false);
    assert.equal(c0.archived, false);
    assert.equal(c0.muted_until, null);
    for (const c of [ab, ac, ad]) assert.equal((await setState(alice, c, { pinned: true })).json.pinned, true);
    const r = await alice.http.put(`/api/chats/${ae}/state`, { pinned: true });
    expectError(r, 409, 'pin_limit', 'a fourth pin');
    assert.equal((await chatWith(alice, ae)).pinned, false, 'the refused pin changed nothing');
    // Pinning a pinned chat again is no change, not a fourth pin.
    await setState(alice, ad, { pinned: true });
    await setState(alice, ad, { pinned: false });
    await setState(alice, ae, { pinned: true });
    assert.deepEqual(
      (await Promise.all([ab, ac, ad, ae].map((c) => chatWith(alice, c)))).map((c) => c.pinned),
      [true, true, false, true],
    );
    assert.equal((await chatWith(bob, ab)).pinned, false, 'a pin is the user\'s own, not the peer\'s');
    for (const c of [ab, ac, ae]) await setState(alice, c, { pinned: false });
  });

  it('mutes for 8 hours, a week, always, and unmutes', async () => {
    const t0 = Date.now();
    const h8 = (await setState(alice, ab, { mute: '8h' })).json.muted_until;
    assert.ok(Math.abs(h8 - (t0 + 8 * 3600e3)) < 60e3, `8h: ${h8 - t0}`);
    const w1 = (await setState(alice, ab, { mute: '1w' })).json.muted_until;
    assert.ok(Math.abs(w1 - (t0 + 7 * 24 * 3600e3)) < 60e3);
    const always = (await setState(alice, ab, { mute: 'always' })).json.muted_until;
    assert.equal(always, 253402300799999);
    assert.equal((await chatWith(alice, ab)).muted_until, always, 'the chat list returns muted_until');
    assert.equal((await setState(alice, ab, { mute: 'off' })).json.muted_until, null);
  });

  it('syncs live to the user\'s other devices, and to an offline one as a pending item (latest wins)', async () => {
    const phone = await alice.device();
    const A1 = await alice.connect();
    const P = await phone.connect();
    await setState(alice, af, { archived: true });
    for (const ws of [A1, P]) {
      const ev = await ws.next('chat_state', (e) => e.chat_id === af);
      assert.deepEqual(ev, { type: 'chat_state', chat_id: af, pinned: false, archived: true, muted_until: null });
      ws.send({ type: 'ack', chat_id: af, kind: 'chat_state', seq: 0 });
    }
    // An unchanged state tells nobody.
    await setState(alice, af, { archived: true });
    await P.expectNo('chat_state', 300 * SLOW);
    await P.close();
    await A1.close();
    // Offline: two changes, one pending item with the latest state.
    await setState(alice, af, { pinned: true });
    await setState(alice, af, { mute: 'always' });
    const P2 = await phone.connect();
    const st = P2.pending.filter((e) => e.type === 'chat_state' && e.chat_id === af);
    assert.equal(st.length, 1, JSON.stringify(P2.pending));
    assert.deepEqual(st[0], { type: 'chat_state', chat_id: af, pinned: true, archived: true, muted_until: 253402300799999, pending: true });
    P2.send({ type: 'ack', chat_id: af, kind: 'chat_state', seq: 0 });
    await P2.ping();
    await P2.close();
    const P3 = await phone.connect();
    assert.equal(P3.pending.filter((e) => e.type === 'chat_state' && e.chat_id === af).length, 0, 'the ack removed it');
    await P3.close();
    await setState(alice, af, { pinned: false, mute: 'off' });
  });

  it('a new message from the peer ends the archive; the user\'s own does not', async () => {
    await setState(alice, ab, { archived: true });
    const A = await alice.connect();
    await sendMsg(A, ab, 'from the archive');
    assert.equal((await chatWith(alice, ab)).archived, true, 'my own message keeps my archive');
    const B = await bob.connect();
    await sendMsg(B, ab, 'hello again');
    assert.equal((await chatWith(alice, ab)).archived, false, 'the peer\'s message ends it');
    await A.close();
    await B.close();
  });

  it('answers bad input and other users\' chats with stable codes', async () => {
    expectError(await alice.http.put(`/api/chats/${ab}/state`, { pinned: 'yes' }), 400, 'bad_request');
    expectError(await alice.http.put(`/api/chats/${ab}/state`, { mute: '2d' }), 400, 'bad_request');
    expectError(await alice.http.put(`/api/chats/${ab}/state`, { mute: 8 }), 400, 'bad_request');
    expectError(await alice.http.put(`/api/chats/${ab}/state`, {}), 400, 'missing_field');
    expectError(await alice.http.put(`/api/chats/${ab}/state`, []), 400, 'bad_json');
    expectError(await alice.http.put('/api/chats/nope/state', { pinned: true }), 400, 'bad_request');
    const bd = await befriend(bob, dave);
    expectError(await alice.http.put(`/api/chats/${bd}/state`, { pinned: true }), 403, 'forbidden');
    const A = await alice.connect();
    const e = await A.request({ type: 'ack', chat_id: ab, kind: 'chat_states', seq: 0 });
    assert.equal(e.code, 'bad_request');
    await A.close();
  });
});
