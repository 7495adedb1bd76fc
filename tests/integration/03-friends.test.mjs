// 03 - friend requests, friendships, blocks, and the friends_changed events.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep, startServer } from './lib/server.mjs';
import { HttpClient, UUID_RE, User, befriend, chats, expectError, expectStatus, history, idOf, sendMsg } from './lib/client.mjs';

// friends_changed's `user` is read as "the other user" (an object or an id).
function changed(ws, reason, other) {
  return ws.next('friends_changed', function about(e) {
    return e.reason === reason && idOf(e.user) === other.id;
  });
}

function assertUser(u, expected) {
  assert.equal(u.id, expected.id, `user object ${JSON.stringify(u)} is not ${expected.username}`);
  assert.equal(u.username, expected.username);
  assert.equal(typeof u.display_name, 'string');
}

async function requests(u) {
  const r = expectStatus(await u.http.get('/api/friends/requests'), 200);
  assert.ok(Array.isArray(r.json.incoming) && Array.isArray(r.json.outgoing), r.text);
  return r.json;
}

describe('03 friends and blocks', { timeout: 180000 }, () => {
  let srv;
  let U = {};
  let W = {};
  before(async () => {
    srv = await startServer();
    const names = ['alice', 'bob', 'carol', 'dave', 'eve', 'frank', 'gus', 'hal', 'ida', 'jon', 'kim', 'lou'];
    const users = await User.all(srv, names);
    users.forEach((u) => (U[u.username] = u));
    const sockets = await Promise.all(users.map((u) => u.connect()));
    sockets.forEach((s, i) => (W[names[i]] = s));
  });
  after(async () => {
    await srv?.stop();
  });

  it('a request → 201 requested; both see it in their lists; both get friends_changed request', async () => {
    const { alice, bob } = U;
    const t0 = Date.now();
    const res = expectStatus(await alice.http.post('/api/friends/requests', { username: 'bob' }), 201);
    assert.equal(res.json.status, 'requested');
    assertUser(res.json.user, bob);
    await changed(W.bob, 'request', alice);
    await changed(W.alice, 'request', bob);
    const a = await requests(alice);
    const b = await requests(bob);
    assert.equal(a.outgoing.length, 1);
    assert.equal(a.incoming.length, 0);
    assertUser(a.outgoing[0].user, bob);
    assert.equal(b.incoming.length, 1);
    assert.equal(b.outgoing.length, 0);
    assertUser(b.incoming[0].user, alice);
    const ca = b.incoming[0].created_at;
    assert.ok(Number.isInteger(ca) && ca >= t0 - 5000 && ca <= Date.now() + 5000, `created_at ${ca} is not ms since the epoch now`);
    assert.equal(a.outgoing[0].created_at, ca);
  });

  it('asking again does not create a second request', async () => {
    const { alice, bob } = U;
    const res = await alice.http.post('/api/friends/requests', { username: 'bob' });
    assert.ok([201, 409].includes(res.status), `repeated request: ${res.status} ${res.text}`);
    assert.equal((await requests(bob)).incoming.length, 1);
    assert.equal((await requests(alice)).outgoing.length, 1);
  });

  it('accept → 200 friends with a chat id; both get accepted; the chat appears for both', async () => {
    const { alice, bob } = U;
    const res = expectStatus(await bob.http.post('/api/friends/requests/alice/accept'), 200);
    assert.equal(res.json.status, 'friends');
    assertUser(res.json.user, alice);
    assert.match(res.json.chat_id, UUID_RE);
    // Both sides learn the new chat's id from the event (issue 12 item 3).
    assert.equal((await changed(W.alice, 'accepted', bob)).chat_id, res.json.chat_id, 'accepted carries the chat id (asker)');
    assert.equal((await changed(W.bob, 'accepted', alice)).chat_id, res.json.chat_id, 'accepted carries the chat id (accepter)');
    const a = await requests(alice);
    const b = await requests(bob);
    assert.equal(a.outgoing.length + a.incoming.length + b.outgoing.length + b.incoming.length, 0, 'requests gone after accept');
    const ac = await chats(alice);
    const bc = await chats(bob);
    assert.equal(ac.length, 1);
    assert.equal(bc.length, 1);
    for (const [c, peer] of [[ac[0], bob], [bc[0], alice]]) {
      assert.equal(c.chat_id, res.json.chat_id);
      assertUser(c.peer, peer);
      assert.equal(typeof c.peer.online, 'boolean');
      assert.equal(c.last_message, null);
      assert.equal(c.unread, 0);
      assert.equal(c.read_seq, 0);
      assert.equal(c.peer_read_seq, 0);
      assert.equal(c.blocked_by_me, false);
      assert.equal('blocked_me' in c, false, 'no one is told that they are blocked');
      assert.equal(c.friends, true);
      assert.ok(Number.isInteger(c.last_activity), `last_activity: ${c.last_activity}`);
    }
    U.chatAB = res.json.chat_id;
  });

  it('accepting again → 404; asking a friend → 409 already_friends (both directions)', async () => {
    const { alice, bob } = U;
    expectError(await bob.http.post('/api/friends/requests/alice/accept'), 404, 'not_found');
    expectError(await alice.http.post('/api/friends/requests', { username: 'bob' }), 409, 'already_friends');
    expectError(await bob.http.post('/api/friends/requests', { username: 'ALICE' }), 409, 'already_friends');
  });

  it('request errors: not_found, self, missing_field, bad_request, unauthorized', async () => {
    const { alice } = U;
    expectError(await alice.http.post('/api/friends/requests', { username: 'no_such_user' }), 404, 'not_found');
    expectError(await alice.http.post('/api/friends/requests', { username: 'alice' }), 400, 'self');
    expectError(await alice.http.post('/api/friends/requests', { username: 'Alice' }), 400, 'self');
    expectError(await alice.http.post('/api/friends/requests', {}), 400, 'missing_field');
    expectError(await alice.http.post('/api/friends/requests', { username: 42 }), 400, 'bad_request');
    expectError(await new HttpClient(srv).post('/api/friends/requests', { username: 'bob' }), 401, 'unauthorized');
    expectError(await new HttpClient(srv).get('/api/friends/requests'), 401, 'unauthorized');
    expectError(await new HttpClient(srv).get('/api/chats'), 401, 'unauthorized');
    expectError(await new HttpClient(srv).get('/api/blocks'), 401, 'unauthorized');
    expectError(await alice.http.post('/api/friends/requests/no_such_user/accept'), 404, 'not_found');
    expectError(await alice.http.post('/api/friends/requests/carol/accept'), 404, 'not_found', 'accept without a request:');
    expectError(await alice.http.post('/api/friends/requests/carol/decline'), 404, 'not_found', 'decline without a request:');
    expectError(await alice.http.del('/api/friends/requests/carol'), 404, 'not_found', 'cancel without a request:');
    assert.equal((await requests(alice)).outgoing.length, 0);
  });

  it('the username in a request body is case-insensitive', async () => {
    const { kim, lou } = U;
    const res = expectStatus(await kim.http.post('/api/friends/requests', { username: 'LOU' }), 201);
    assertUser(res.json.user, lou);
    await changed(W.lou, 'request', kim);
    expectStatus(await kim.http.del('/api/friends/requests/lou'), 204);
    await changed(W.lou, 'cancelled', kim);
  });

  it('crossing requests become one friendship (200 friends with a chat id)', async () => {
    const { carol, dave } = U;
    expectStatus(await carol.http.post('/api/friends/requests', { username: 'dave' }), 201);
    await changed(W.dave, 'request', carol);
    const res = expectStatus(await dave.http.post('/api/friends/requests', { username: 'carol' }), 200);
    assert.equal(res.json.status, 'friends');
    assertUser(res.json.user, carol);
    assert.match(res.json.chat_id, UUID_RE);
    await changed(W.carol, 'accepted', dave);
    const cc = await chats(carol);
    assert.deepEqual(cc.map((c) => c.chat_id), [res.json.chat_id]);
    assert.deepEqual((await chats(dave)).map((c) => c.chat_id), [res.json.chat_id]);
    const r = await requests(carol);
    assert.equal(r.incoming.length + r.outgoing.length, 0);
  });

  it('decline → 204; the asker gets declined; a second decline → 404', async () => {
    const { eve, frank } = U;
    expectStatus(await eve.http.post('/api/friends/requests', { username: 'frank' }), 201);
    await changed(W.frank, 'request', eve);
    expectStatus(await frank.http.post('/api/friends/requests/eve/decline'), 204);
    await changed(W.eve, 'declined', frank);
    assert.equal((await requests(eve)).outgoing.length, 0);
    assert.equal((await requests(frank)).incoming.length, 0);
    expectError(await frank.http.post('/api/friends/requests/eve/decline'), 404, 'not_found');
    assert.equal((await chats(eve)).length, 0, 'no chat after a decline');
  });

  it('cancel → 204; the other side gets cancelled; a second cancel → 404', async () => {
    const { eve, gus } = U;
    expectStatus(await eve.http.post('/api/friends/requests', { username: 'gus' }), 201);
    await changed(W.gus, 'request', eve);
    expectStatus(await eve.http.del('/api/friends/requests/gus'), 204);
    await changed(W.gus, 'cancelled', eve);
    assert.equal((await requests(gus)).incoming.length, 0);
    expectError(await eve.http.del('/api/friends/requests/gus'), 404, 'not_found');
    expectError(await gus.http.post('/api/friends/requests/eve/accept'), 404, 'not_found', 'accepting a cancelled request:');
  });

  it('remove friend → 204, removed with the chat id to both, the chat stays listed (friends: false), history readable', async () => {
    const { alice, bob } = U;
    const chat = U.chatAB;
    const sent = await sendMsg(W.alice, chat, 'before removal');
    await W.bob.next('message', (e) => e.seq === sent.seq);
    expectStatus(await alice.http.del('/api/friends/bob'), 204);
    assert.equal((await changed(W.alice, 'removed', bob)).chat_id, chat);
    assert.equal((await changed(W.bob, 'removed', alice)).chat_id, chat, 'the removed friend is told, with the chat');
    for (const [u, peer] of [[alice, bob], [bob, alice]]) {
      const l = await chats(u);
      assert.equal(l.length, 1, `${u.username} still lists the conversation`);
      assert.equal(l[0].chat_id, chat);
      assert.equal(l[0].peer.id, peer.id);
      assert.equal(l[0].friends, false, 'marked as no longer friends');
      assert.equal(l[0].last_message?.text, 'before removal');
      assert.equal(l[0].peer.online, false, 'no presence of a former friend');
    }
    for (const u of [alice, bob]) {
      const h = await history(u, chat);
      assert.deepEqual(h.map((m) => m.text), ['before removal'], `${u.username} reads the history after the friendship ended`);
    }
    expectError(await alice.http.del('/api/friends/bob'), 404, 'not_found');
    expectError(await bob.http.del('/api/friends/alice'), 404, 'not_found');
    const e = await W.alice.expectError({ type: 'send', chat_id: chat, id: 'after-removal', text: 'x' }, 'not_friends');
    assert.ok(e);
  });

  it('befriending again restores the same chat and its history', async () => {
    const { alice, bob } = U;
    const chat = await befriend(bob, alice);
    assert.equal(chat, U.chatAB, 'the pair keeps its chat id');
    await changed(W.alice, 'accepted', bob);
    assert.equal((await chats(alice))[0].friends, true, 'friends again');
    const h = await history(alice, chat);
    assert.deepEqual(h.map((m) => m.text), ['before removal']);
    const s = await sendMsg(W.alice, chat, 'after reunion');
    assert.equal(s.seq, h[h.length - 1].seq + 1, 'seq goes on where it stopped');
  });

  it('block: 204, listed, friends_changed blocked to the blocker only; a request to the blocker looks sent and waits unseen', async () => {
    const { hal, ida } = U;
    expectStatus(await hal.http.put('/api/blocks/ida'), 204);
    await changed(W.hal, 'blocked', ida);
    const bl = expectStatus(await hal.http.get('/api/blocks'), 200).json.blocked;
    assert.equal(bl.length, 1);
    assertUser(bl[0], ida);
    assert.deepEqual(expectStatus(await ida.http.get('/api/blocks'), 200).json.blocked, [], 'the blocked user blocks no one');
    // PUT is idempotent.
    expectStatus(await hal.http.put('/api/blocks/IDA'), 204);
    assert.equal(expectStatus(await hal.http.get('/api/blocks'), 200).json.blocked.length, 1);
    // The blocked user is told nothing (issue 12 item 4 point 2).
    await W.ida.expectNo('friends_changed', 300, (e) => idOf(e.user) === hal.id);
    const asked = await ida.http.post('/api/friends/requests', { username: 'hal' });
    const res = expectStatus(asked, 201, 'a request to the blocker is answered as sent:');
    assert.equal(res.json.status, 'requested');
    await changed(W.ida, 'request', hal);
    await W.hal.expectNo('friends_changed', 300, (e) => idOf(e.user) === ida.id && e.reason === 'request');
    assert.equal((await requests(ida)).outgoing.length, 1, 'the sender sees it pending');
    expectError(await hal.http.post('/api/friends/requests', { username: 'ida' }), 403, 'blocked');
    assert.equal((await requests(hal)).incoming.length, 0, 'the blocker does not see it');
    assert.equal((await requests(ida)).incoming.length, 0);
  });

  it('block errors: self, not_found', async () => {
    const { hal } = U;
    expectError(await hal.http.put('/api/blocks/hal'), 400, 'self');
    expectError(await hal.http.put('/api/blocks/no_such_user'), 404, 'not_found');
    expectError(await new HttpClient(srv).put('/api/blocks/ida'), 401, 'unauthorized');
  });

  it('unblock → 204; unblocked to both; requests work again', async () => {
    const { hal, ida } = U;
    expectStatus(await hal.http.del('/api/blocks/ida'), 204);
    await changed(W.hal, 'unblocked', ida);
    await W.ida.expectNo('friends_changed', 300, (e) => idOf(e.user) === hal.id);
    assert.deepEqual(expectStatus(await hal.http.get('/api/blocks'), 200).json.blocked, []);
    assert.equal((await requests(hal)).incoming.length, 1, 'the request sent during the block shows once unblocked');
    expectStatus(await ida.http.post('/api/friends/requests', { username: 'hal' }), 201);
    expectStatus(await hal.http.post('/api/friends/requests/ida/accept'), 200);
  });

  it('a block withdraws pending friend requests in both directions', async () => {
    const { jon, kim, lou } = U;
    expectStatus(await jon.http.post('/api/friends/requests', { username: 'kim' }), 201);
    expectStatus(await lou.http.post('/api/friends/requests', { username: 'jon' }), 201);
    expectStatus(await kim.http.put('/api/blocks/jon'), 204, 'the recipient blocks:');
    assert.equal((await requests(kim)).incoming.length, 0, "the blocked user's request is withdrawn");
    assert.equal((await requests(jon)).outgoing.length, 0);
    expectStatus(await jon.http.put('/api/blocks/lou'), 204, 'the recipient blocks:');
    assert.equal((await requests(lou)).outgoing.length, 0, 'the request to the blocker is withdrawn');
    assert.equal((await requests(jon)).incoming.length, 0);
    expectStatus(await kim.http.del('/api/blocks/jon'), 204);
    expectStatus(await jon.http.del('/api/blocks/lou'), 204);
    assert.equal((await requests(kim)).incoming.length, 0, 'unblocking does not bring a withdrawn request back');
    // Own outgoing request withdrawn too when blocking its recipient.
    expectStatus(await jon.http.post('/api/friends/requests', { username: 'lou' }), 201);
    expectStatus(await jon.http.put('/api/blocks/lou'), 204);
    assert.equal((await requests(lou)).incoming.length, 0, "the blocker's own request is withdrawn");
    expectStatus(await jon.http.del('/api/blocks/lou'), 204);
  });

  it('a block between friends keeps the friendship and the chat; the flags show it', async () => {
    const { carol, dave } = U;
    const before = await chats(carol);
    assert.equal(before.length, 1);
    expectStatus(await carol.http.put('/api/blocks/dave'), 204);
    const c = await chats(carol);
    const d = await chats(dave);
    assert.equal(c.length, 1, 'the blocker still lists the chat');
    assert.equal(d.length, 1, 'the blocked still lists the chat');
    assert.equal(c[0].blocked_by_me, true);
    assert.equal(d[0].blocked_by_me, false);
    assert.equal('blocked_me' in d[0], false, 'the blocked user is not told');
    assert.equal(d[0].friends, true);
    // As if there were no block: already friends.
    const again = await dave.http.post('/api/friends/requests', { username: 'carol' });
    expectError(again, 409, 'already_friends', 'request to a blocking friend:');
    expectStatus(await carol.http.del('/api/blocks/dave'), 204);
    const c2 = await chats(carol);
    assert.equal(c2[0].blocked_by_me, false);
  });

  it('unblocking someone not blocked changes nothing: 404 not_found, as for a missing user (issue 14 items 8, 9)', async () => {
    expectError(await U.eve.http.del('/api/blocks/frank'), 404, 'not_found');
    assert.deepEqual(expectStatus(await U.eve.http.get('/api/blocks'), 200).json.blocked, []);
  });

  it('the conversation list is ordered by newest activity first', async () => {
    const { eve, frank, gus, hal } = U;
    const cf = await befriend(frank, eve);
    const cg = await befriend(gus, eve);
    const ch = await befriend(hal, eve);
    const ws = W.eve;
    // A few ms apart so that the times differ.
    await sendMsg(ws, cg, 'one');
    await sleep(5);
    await sendMsg(ws, ch, 'two');
    await sleep(5);
    await sendMsg(ws, cf, 'three');
    await sleep(5);
    let list = await chats(eve);
    assert.deepEqual(list.map((c) => c.chat_id), [cf, ch, cg], 'newest activity first');
    await sendMsg(ws, cg, 'four');
    list = await chats(eve);
    assert.deepEqual(list.map((c) => c.chat_id), [cg, cf, ch]);
    for (let i = 1; i < list.length; i++) assert.ok(list[i - 1].last_activity >= list[i].last_activity);
    assert.equal(list[0].last_message.text, 'four');
  });
});
