// 26 - issue 14 items 8 and 9: no endpoint that takes a username tells a
// missing user from a stranger, requests naming users are rate-limited, and
// an operation that changes nothing pushes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { User, befriend, expectError, expectStatus, idOf } from './lib/client.mjs';

// The error body without anything that could differ between the two cases.
function answer(res) {
  return `${res.status} ${res.json?.error}`;
}

describe('26 usernames and pushes (issue 14 items 8, 9)', { timeout: 120000 }, () => {
  let srv;
  const U = {};
  const W = {};
  before(async () => {
    srv = await startServer();
    const names = ['amy', 'ben', 'cat', 'dan', 'eli'];
    const users = await User.all(srv, names);
    users.forEach((u) => (U[u.username] = u));
    const sockets = await Promise.all(users.map((u) => u.connect()));
    sockets.forEach((s, i) => (W[names[i]] = s));
  });
  after(async () => {
    await srv?.stop();
  });

  it('DELETE /api/friends/{name}: a stranger and a missing user get the same 404 not_found', async () => {
    const { amy } = U;
    const stranger = await amy.http.del('/api/friends/ben');
    const missing = await amy.http.del('/api/friends/nobody_here');
    const self = await amy.http.del('/api/friends/amy');
    expectError(stranger, 404, 'not_found', 'a real user who is not a friend:');
    assert.equal(answer(missing), answer(stranger), 'a missing user answers as a stranger');
    assert.equal(answer(self), answer(stranger), 'oneself answers as a stranger');
  });

  it('DELETE /api/blocks/{name} for someone never blocked: 404 like a missing user, and nobody is told', async () => {
    const { amy, ben } = U;
    const never = await amy.http.del('/api/blocks/ben');
    const missing = await amy.http.del('/api/blocks/nobody_here');
    expectError(never, 404, 'not_found', 'an unblock that lifts nothing:');
    assert.equal(answer(missing), answer(never));
    await W.ben.expectNo('friends_changed', 500);
    await W.amy.expectNo('friends_changed', 10);
    // A real block and unblock still answer 204 and tell the blocker (only:
    // the blocked user is never told, docs/protocol.md).
    expectStatus(await amy.http.put('/api/blocks/ben'), 204);
    await W.amy.next('friends_changed', (e) => e.reason === 'blocked' && idOf(e.user) === ben.id);
    expectStatus(await amy.http.del('/api/blocks/ben'), 204);
    await W.amy.next('friends_changed', (e) => e.reason === 'unblocked' && idOf(e.user) === ben.id);
    await W.ben.expectNo('friends_changed', 300);
    // Twice: the second lifts nothing.
    expectError(await amy.http.del('/api/blocks/ben'), 404, 'not_found', 'unblocking again:');
    await W.ben.expectNo('friends_changed', 500);
  });

  it('repeating a pending friend request answers the same but pushes nothing', async () => {
    const { cat, dan } = U;
    const first = expectStatus(await cat.http.post('/api/friends/requests', { username: 'dan' }), 201);
    await W.dan.next('friends_changed', (e) => e.reason === 'request' && idOf(e.user) === cat.id);
    await W.cat.next('friends_changed', (e) => e.reason === 'request' && idOf(e.user) === dan.id);
    for (let i = 0; i < 5; i++) {
      const again = expectStatus(await cat.http.post('/api/friends/requests', { username: 'dan' }), 201, `repeat ${i}:`);
      assert.deepEqual(again.json, first.json, 'a repeat answers as the first request');
    }
    await W.dan.expectNo('friends_changed', 500);
    await W.cat.expectNo('friends_changed', 10);
    const reqs = expectStatus(await dan.http.get('/api/friends/requests'), 200).json;
    assert.equal(reqs.incoming.length, 1, 'still one request');
  });

  it('blocking someone already blocked answers 204 and pushes nothing', async () => {
    const { dan, eli } = U;
    expectStatus(await dan.http.put('/api/blocks/eli'), 204);
    await W.dan.next('friends_changed', (e) => e.reason === 'blocked' && idOf(e.user) === eli.id);
    for (let i = 0; i < 3; i++) expectStatus(await dan.http.put('/api/blocks/eli'), 204, `block again ${i}:`);
    await W.eli.expectNo('friends_changed', 500);
    await W.dan.expectNo('friends_changed', 10);
    expectStatus(await dan.http.del('/api/blocks/eli'), 204);
    await W.dan.next('friends_changed', (e) => e.reason === 'unblocked' && idOf(e.user) === eli.id);
    await W.eli.expectNo('friends_changed', 300);
  });

});

describe('26 usernames: the lookup limit (issue 14 item 8)', { timeout: 120000 }, () => {
  let srv;
  const U = {};
  before(async () => {
    // A small lookup burst so the limit is reached quickly (the default is
    // 30 at once, 120 an hour).
    srv = await startServer({ args: ['--lookup-burst', '12', '--lookup-rate', '60'] });
    for (const u of await User.all(srv, ['amy', 'eli'])) U[u.username] = u;
  });
  after(async () => {
    await srv?.stop();
  });

  it('requests naming users are rate-limited per user: 429 rate_limited with Retry-After', async () => {
    const { eli, amy } = U;
    await befriend(eli, amy); // 1 lookup for eli
    let limited = null;
    let n = 1;
    for (; n < 40 && !limited; n++) {
      const r = await eli.http.del(`/api/friends/probe${n}`);
      if (r.status === 429) limited = r;
      else expectError(r, 404, 'not_found', `probe ${n}:`);
    }
    assert.ok(limited, 'probing 40 names was never limited');
    console.log(`# 26: lookups allowed before 429: ${n - 1} (burst 12)`);
    assert.ok(n - 1 <= 14, `the limit came after ${n - 1} lookups, burst 12`);
    expectError(limited, 429, 'rate_limited');
    assert.ok(Number(limited.headers['retry-after']) >= 1, 'Retry-After is set');
    // Every endpoint that names a user shares the bucket; other users are not affected.
    expectError(await eli.http.put('/api/blocks/amy'), 429, 'rate_limited', 'block while limited:');
    expectError(await eli.http.post('/api/friends/requests', { username: 'ben' }), 429, 'rate_limited', 'request while limited:');
    expectError(await amy.http.del('/api/friends/probe1'), 404, 'not_found', 'another user is not limited:');
  });
});
