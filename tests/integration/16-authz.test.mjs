// 16 - the authorisation matrix: every authenticated endpoint and every
// WebSocket request, tried by people who may not use it. Each gets a clear
// refusal with a stable code, the refusal carries no data, and nothing
// changes (checked through the owners' own view afterwards).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep, startServer } from './lib/server.mjs';
import { HttpClient, User, befriend, expectError, fullHistory } from './lib/client.mjs';

const CHAT = '00000000-0000-4000-8000-000000000000'; // replaced per test
const ROUTES = [
  ['POST', '/api/logout'],
  ['GET', '/api/me'],
  ['PATCH', '/api/me', { display_name: 'x' }],
  ['POST', '/api/me/password', { old_password: 'whatever1', new_password: 'whatever2' }],
  ['GET', '/api/friends/requests'],
  ['POST', '/api/friends/requests', { username: 'alice' }],
  ['POST', '/api/friends/requests/alice/accept'],
  ['POST', '/api/friends/requests/alice/decline'],
  ['DELETE', '/api/friends/requests/alice'],
  ['DELETE', '/api/friends/alice'],
  ['GET', '/api/blocks'],
  ['PUT', '/api/blocks/alice'],
  ['DELETE', '/api/blocks/alice'],
  ['GET', '/api/chats'],
  ['GET', `/api/chats/${CHAT}/messages`],
];

// The error body says why, and nothing else.
function assertBareError(res, status, code, what) {
  expectError(res, status, code, what);
  assert.deepEqual(Object.keys(res.json).sort(), ['error', 'message'], `${what}: the refusal carries data: ${res.text}`);
}

async function everyRouteRefused(http, what) {
  for (const [method, path, json] of ROUTES) {
    const res = await http.request(method, path, json ? { json } : {});
    assertBareError(res, 401, 'unauthorized', `${what}: ${method} ${path}`);
  }
}

describe('16 authz: sessions that are not valid', { timeout: 120000 }, () => {
  let srv, alice, bob, chat;
  before(async () => {
    srv = await startServer({ args: ['--session-idle', '2'] });
    [alice, bob] = await User.all(srv, ['alice', 'bob']);
    chat = await befriend(alice, bob);
  });
  after(async () => {
    await srv?.stop();
  });

  it('unauthenticated: every endpoint and the WebSocket answer 401 unauthorized', async () => {
    await everyRouteRefused(new HttpClient(srv), 'no cookie');
    await everyRouteRefused(new HttpClient(srv, { cookie: 'x'.repeat(43) }), 'a made-up token');
    await everyRouteRefused(new HttpClient(srv, { cookie: 'short' }), 'a malformed token');
    await assert.rejects(new User(srv, 'nobody', 'x').connect(), /401/);
  });

  it('logged out: the old cookie opens nothing', async () => {
    const d = await alice.device();
    const old = d.session;
    assert.equal((await d.http.post('/api/logout')).status, 204);
    await everyRouteRefused(new HttpClient(srv, { cookie: old }), 'logged-out session');
    const ghost = new User(srv, 'alice', 'x');
    ghost.http.session = old;
    await assert.rejects(ghost.connect(), /401/);
  });

  it('expired: a session unused for longer than --session-idle opens nothing', async () => {
    const d = await bob.device();
    const old = d.session;
    await sleep(3200);
    await everyRouteRefused(new HttpClient(srv, { cookie: old }), 'expired session');
    // Nothing was changed by any of those attempts.
    const me = await alice.device();
    const h = await fullHistory(me, chat);
    assert.equal(h.length, 0);
    assert.equal((await me.http.get('/api/me')).json.user.display_name, 'alice');
  });
});

describe('16 authz: people who may not act on a chat', { timeout: 120000 }, () => {
  let srv, alice, bob, mallory, ex, blocker, blocked;
  let chatAB, chatAX, chatBlk, A, B, M, X, BK, BD, seqA;
  before(async () => {
    srv = await startServer();
    [alice, bob, mallory, ex, blocker, blocked] = await User.all(srv, ['alice', 'bob', 'mallory', 'exfriend', 'blocker', 'blocked']);
    chatAB = await befriend(alice, bob);
    chatAX = await befriend(alice, ex);
    chatBlk = await befriend(blocker, blocked);
    [A, B, M, X, BK, BD] = await Promise.all([alice, bob, mallory, ex, blocker, blocked].map((u) => u.connect()));
    const s = await A.request({ type: 'send', chat_id: chatAB, id: 'secret-1', text: 'only for bob' });
    assert.equal(s.type, 'sent');
    seqA = s.seq;
    await B.next('message', (e) => e.id === 'secret-1');
    assert.equal((await alice.http.del('/api/friends/exfriend')).status, 204);
    assert.equal((await blocker.http.put('/api/blocks/blocked')).status, 204);
  });
  after(async () => {
    await srv?.stop();
  });

  it("someone else's chat: every WebSocket request is forbidden, and HTTP history too", async () => {
    await M.expectError({ type: 'send', chat_id: chatAB, id: 'm-1', text: 'hi' }, 'forbidden');
    await M.expectError({ type: 'history', chat_id: chatAB }, 'forbidden');
    await M.expectError({ type: 'delete', chat_id: chatAB, seq: seqA }, 'forbidden');
    await M.expectError({ type: 'typing', chat_id: chatAB }, 'forbidden');
    await M.expectError({ type: 'ack', chat_id: chatAB, kind: 'message', seq: seqA }, 'forbidden');
    await M.expectError({ type: 'seen', chat_id: chatAB, seq: seqA }, 'forbidden');
    assertBareError(await mallory.http.get(`/api/chats/${chatAB}/messages`), 403, 'forbidden', 'history');
    assertBareError(await mallory.http.get(`/api/chats/${chatAB}/messages?after=0`), 403, 'forbidden', 'history after=0');
    // A chat id that does not exist looks the same as someone else's.
    const none = '11111111-2222-4333-8444-555555555555';
    await M.expectError({ type: 'history', chat_id: none }, 'forbidden');
    assertBareError(await mallory.http.get(`/api/chats/${none}/messages`), 403, 'forbidden', 'no such chat');
    // Nothing reached bob, and nothing changed.
    await B.expectNo('message', 300);
    await B.expectNo('typing', 100);
    const h = await fullHistory(bob, chatAB);
    assert.deepEqual(h.map((m) => [m.id, m.text, m.received_at === null, m.seen_at]), [['secret-1', 'only for bob', true, null]]);
  });

  it("deleting someone else's message: forbidden, the message stays", async () => {
    await B.expectError({ type: 'delete', chat_id: chatAB, seq: seqA }, 'forbidden');
    const h = await fullHistory(alice, chatAB);
    assert.equal(h[0].text, 'only for bob');
    assert.equal(h[0].deleted_at, null);
  });

  it('not a friend: messages and friend-only requests are refused, lists stay empty', async () => {
    const chats = await mallory.http.get('/api/chats');
    assert.deepEqual(chats.json.chats, []);
    assertBareError(await mallory.http.del('/api/friends/alice'), 404, 'not_found', 'remove a non-friend');
    assertBareError(await mallory.http.post('/api/friends/requests/alice/accept'), 404, 'not_found', 'accept a request that was never made');
  });

  it('removed friend: cannot send or type; history stays readable to both', async () => {
    await X.expectError({ type: 'send', chat_id: chatAX, id: 'x-1', text: 'hi' }, 'not_friends');
    await A.expectError({ type: 'send', chat_id: chatAX, id: 'a-1', text: 'hi' }, 'not_friends');
    await X.expectError({ type: 'typing', chat_id: chatAX }, 'not_friends');
    assert.equal((await ex.http.get(`/api/chats/${chatAX}/messages`)).status, 200);
    const kept = (await ex.http.get('/api/chats')).json.chats;
    assert.equal(kept.length, 1, 'the former friend still lists the conversation');
    assert.equal(kept[0].friends, false);
    await A.expectNo('typing', 200);
  });

  it('blocked and blocking: no messages, typing or requests either way; no presence of each other', async () => {
    // The blocked one's send is answered as sent (withheld from the blocker,
    // 34); the blocker's own is refused.
    BD.send({ type: 'send', chat_id: chatBlk, id: 'bd-1', text: 'hi', ref: 'bd-s' });
    assert.equal((await BD.next('sent', (e) => e.ref === 'bd-s')).id, 'bd-1');
    await BK.expectError({ type: 'send', chat_id: chatBlk, id: 'bk-1', text: 'hi' }, 'blocked');
    // Typing from the blocked user is dropped without an error, as the
    // throttle drops it: nothing tells them about the block.
    BD.send({ type: 'typing', chat_id: chatBlk, ref: 'bd-t' });
    await BD.expectNo('error', 300);
    await BK.expectNo('typing', 0);
    const asked = await blocked.http.post('/api/friends/requests', { username: 'blocker' });
    assert.equal(asked.status, 409, `a request to a blocking friend answers as without a block: ${asked.status} ${asked.text}`);
    assert.equal(asked.json.error, 'already_friends');
    assertBareError(await blocker.http.post('/api/friends/requests', { username: 'blocked' }), 403, 'blocked', 'request to the blocked');
    const seenByBlocked = (await blocked.http.get('/api/chats')).json.chats.find((c) => c.chat_id === chatBlk);
    assert.equal(seenByBlocked.peer.online, false, 'the blocked user does not see the blocker online');
    assert.equal(seenByBlocked.peer.last_seen, null);
    assert.equal('blocked_me' in seenByBlocked, false, 'the blocked user is not told');
    const seenByBlocker = (await blocker.http.get('/api/chats')).json.chats.find((c) => c.chat_id === chatBlk);
    assert.equal(seenByBlocker.peer.online, false);
    assert.equal(seenByBlocker.blocked_by_me, true);
    const h = await fullHistory(blocker, chatBlk);
    assert.deepEqual(h.map((m) => [m.withheld, m.text]), [[true, '']], 'the blocker has only a placeholder');
    await BK.expectNo('message', 0);
  });
});
