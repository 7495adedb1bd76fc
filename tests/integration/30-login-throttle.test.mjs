// 30 - login throttling under concurrency (issue 14 item 3): attempts still
// being hashed count against the per-username and per-address limits, and
// the hash queue takes turns between client addresses, so one address
// flooding it cannot make another address's login wait behind all of it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { HttpClient, User, expectStatus, nextAddr } from './lib/client.mjs';

function login(srv, addr, username, password) {
  return new HttpClient(srv, { localAddress: addr }).post('/api/login', { username, password });
}

function tally(responses) {
  const t = {};
  for (const r of responses) {
    const k = `${r.status} ${r.json?.error}`;
    t[k] = (t[k] || 0) + 1;
  }
  return t;
}

describe('30 login throttle: attempts in flight count', { timeout: 180000 }, () => {
  let srv;
  before(async () => {
    // The default limits (5 per username, 20 per address), a cheap hash so
    // that the test is quick; a queue big enough to hold every attempt.
    srv = await startServer({ args: ['--hash-queue', '1000'] });
  });
  after(async () => {
    await srv?.stop();
  });

  it('40 concurrent wrong passwords for one username (from 40 addresses): at most 5 are checked, the rest 429', async () => {
    await User.signup(srv, 'target1', { password: 'the right password' });
    const res = await Promise.all(Array.from({ length: 40 }, (_, i) => login(srv, nextAddr(), 'target1', `wrong ${i}`)));
    const t = tally(res);
    assert.ok((t['401 bad_credentials'] || 0) <= 5, `at most 5 hashed and answered 401: ${JSON.stringify(t)}`);
    assert.ok((t['401 bad_credentials'] || 0) >= 1, `some were checked: ${JSON.stringify(t)}`);
    assert.equal((t['401 bad_credentials'] || 0) + (t['429 rate_limited'] || 0), 40, `the others are 429: ${JSON.stringify(t)}`);
    // Counted: the right password is refused now as well.
    assert.equal((await login(srv, nextAddr(), 'target1', 'the right password')).status, 429);
  });

  it('60 concurrent attempts from one address: at most 20 are checked; another address logs in', async () => {
    const u = await User.signup(srv, 'bystander1', { password: 'bystander password' });
    const addr = nextAddr();
    const res = await Promise.all(Array.from({ length: 60 }, (_, i) => login(srv, addr, `ghost_${i}`, 'some password')));
    const t = tally(res);
    const checked = t['401 bad_credentials'] || 0;
    assert.ok(checked <= 20, `at most 20 checked from one address: ${JSON.stringify(t)}`);
    assert.ok(checked >= 1, `some were checked: ${JSON.stringify(t)}`);
    // Beyond the address's share of the hash queue an attempt is busy (503);
    // beyond the address's limit, rate limited (429).
    assert.equal(checked + (t['429 rate_limited'] || 0) + (t['503 busy'] || 0), 60, JSON.stringify(t));
    assert.equal((await login(srv, addr, 'bystander1', u.password)).status, 429, 'the address is throttled');
    expectStatus(await login(srv, nextAddr(), 'bystander1', u.password), 200, 'another address:');
  });

  it('successful logins refund their attempt: 25 right passwords in a row from one address all succeed', async () => {
    const u = await User.signup(srv, 'regular1', { password: 'regular password' });
    const addr = nextAddr();
    for (let i = 0; i < 25; i++) expectStatus(await login(srv, addr, 'regular1', u.password), 200, `login ${i + 1}:`);
  });
});

describe('30 login throttle: the hash queue takes turns between addresses', { timeout: 180000 }, () => {
  let srv;
  before(async () => {
    // A costly hash (64 MiB, 4 passes), one hash at a time: a queue
    // that a flood from one address fills for seconds.
    srv = await startServer({ fastHash: false, args: ['--hash-concurrency', '1', '--argon2-ops', '4'] });
  });
  after(async () => {
    await srv?.stop();
  });

  it('a login from another address is answered before the flood from one address has been worked off', async () => {
    const u = await User.signup(srv, 'legit1', { password: 'legit password' });
    const attacker = nextAddr();
    let attackerDone = 0;
    const flood = Array.from({ length: 20 }, (_, i) =>
      login(srv, attacker, `victim_${i}`, 'guess').then((r) => {
        if (r.status === 401) attackerDone++;
        return r;
      }));
    // Let the flood reach the queue first.
    await new Promise((r) => setTimeout(r, 50));
    const legit = await login(srv, nextAddr(), 'legit1', u.password);
    const doneBefore = attackerDone;
    const res = await Promise.all(flood);
    expectStatus(legit, 200, 'the legitimate login:');
    const hashed = res.filter((r) => r.status === 401).length;
    assert.ok(hashed >= 3, `the flood was hashed (${JSON.stringify(tally(res))})`);
    // FIFO would answer every hashed flood attempt first; taking turns
    // answers the other address after at most the one or two running.
    assert.ok(doneBefore < hashed, `the legitimate login waited for ${doneBefore} of ${hashed} hashed flood attempts`);
  });
});
