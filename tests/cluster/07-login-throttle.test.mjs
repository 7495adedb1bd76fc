// 07 - issue 14 item 3 (cluster half): the login throttle's counters are
// shared through Redis, so two instances allow 5 failed attempts per
// username (and 20 per client address) in all, not 5 each. A right
// password clears the username's count cluster-wide. While Redis is down,
// each instance's own counters still limit (fail to the per-instance
// limit, not open).
//
// Requests go to the instances directly (both run with --trust-proxy, so
// X-Forwarded-For names the client address), alternating between them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpClient, User, expectStatus } from '../integration/lib/client.mjs';
import { waitFor, SLOW } from '../integration/lib/server.mjs';
import { startCluster } from './lib/cluster.mjs';

let xff = 0;
function freshAddr() {
  xff++;
  return `198.51.${(xff >> 8) & 255}.${xff & 255}`;
}

describe('07 login throttle shared across instances', { timeout: 300000 }, () => {
  let cl;
  before(async () => {
    cl = await startCluster({ instances: 2 });
  });
  after(async () => {
    await cl?.stop();
  });

  // A login sent to instance i (0 or 1) as client address addr.
  function login(i, addr, username, password) {
    const h = new HttpClient(cl.servers[i]);
    return h.post('/api/login', { username, password }, { headers: { 'X-Forwarded-For': addr } });
  }

  it('5 wrong passwords per username in all: the 6th is 429 on either instance', async () => {
    const u = await User.signup(cl.endpoint, 'shared_user1', { password: 'the right password' });
    const codes = [];
    for (let k = 0; k < 8; k++) codes.push((await login(k % 2, freshAddr(), u.username, 'wrong password')).status);
    console.log(`# 07: wrong passwords alternating between 2 instances: ${codes.join(' ')}`);
    assert.deepEqual(codes.slice(0, 5), [401, 401, 401, 401, 401], codes.join(' '));
    assert.deepEqual(codes.slice(5), [429, 429, 429], `over the limit on either instance: ${codes.join(' ')}`);
    // Even the right password waits for the window.
    const r = await login(1, freshAddr(), u.username, u.password);
    assert.equal(r.status, 429, 'the username is throttled cluster-wide');
    assert.ok(Number(r.headers['retry-after']) >= 1);
  });

  it('20 attempts per client address in all, whatever the usernames', async () => {
    const addr = freshAddr();
    const codes = [];
    for (let k = 0; k < 24; k++) codes.push((await login(k % 2, addr, `nobody_${k}`, 'guess')).status);
    console.log(`# 07: one address, 24 usernames, 2 instances: ${codes.join(' ')}`);
    assert.equal(codes.filter((c) => c === 401).length, 20, codes.join(' '));
    assert.deepEqual(codes.slice(20), [429, 429, 429, 429]);
    // The refused names leave no counters in Redis (one per request would
    // grow Redis at the client's request rate).
    for (let k = 20; k < 24; k++) assert.equal(cl.redis.cli('EXISTS', `duet:lt:u:nobody_${k}`).trim(), '0', `nobody_${k}`);
    assert.equal(cl.redis.cli('EXISTS', 'duet:lt:u:nobody_19').trim(), '1', 'a counted attempt keeps its counter');
    // Another address is not affected.
    assert.equal((await login(0, freshAddr(), 'nobody_x', 'guess')).status, 401);
  });

  it('a right password on one instance clears the username\'s count on the other', async () => {
    const u = await User.signup(cl.endpoint, 'shared_user2', { password: 'the right password' });
    for (let k = 0; k < 4; k++) assert.equal((await login(0, freshAddr(), u.username, 'wrong')).status, 401);
    expectStatus(await login(1, freshAddr(), u.username, u.password), 200, 'the right password:');
    const codes = [];
    for (let k = 0; k < 6; k++) codes.push((await login(0, freshAddr(), u.username, 'wrong')).status);
    assert.deepEqual(codes, [401, 401, 401, 401, 401, 429], `a fresh window after the success: ${codes.join(' ')}`);
  });

  it('Redis down: each instance\'s own counters still limit (per instance), and right passwords still log in', async () => {
    const u = await User.signup(cl.endpoint, 'shared_user3', { password: 'the right password' });
    await cl.redis.kill();
    await waitFor(() => cl.servers.every((s) => /redis: lost /.test(s.stderr)), 'both instances to notice Redis is gone', 20000 * SLOW);
    expectStatus(await login(1, freshAddr(), u.username, u.password), 200, 'a login while Redis is down:');
    const codes = [];
    for (let k = 0; k < 7; k++) codes.push((await login(0, freshAddr(), u.username, 'wrong')).status);
    console.log(`# 07: Redis down, one instance: ${codes.join(' ')}`);
    assert.deepEqual(codes, [401, 401, 401, 401, 401, 429, 429], `the local limit holds: ${codes.join(' ')}`);
    await cl.redis.start();
  });
});
