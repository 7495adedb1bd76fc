// 11 - sessions: logout, password change ending other sessions, idle expiry,
// cookie flags, and login throttling per username and per address.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep, startServer } from './lib/server.mjs';
import { HttpClient, User, WsClient, expectError, expectStatus, nextAddr } from './lib/client.mjs';

async function expectWsRefused(srv, cookie, status = 401) {
  await assert.rejects(WsClient.connect(srv, { cookie }), (e) => {
    assert.equal(e.status, status, e.message);
    return true;
  });
}

describe('11 sessions: logout and password change', { timeout: 120000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('logout closes that session\'s WebSockets with 1008 "session ended"; other sessions stay', async () => {
    const alice = await User.signup(srv, 'alice');
    const other = await alice.device();
    const W1 = await alice.connect({ label: 'session1-a' });
    const W2 = await alice.connect({ label: 'session1-b' });
    const W3 = await other.connect({ label: 'session2' });
    const token = alice.session;
    expectStatus(await alice.http.post('/api/logout'), 204);
    for (const ws of [W1, W2]) {
      const c = await ws.waitClosed();
      assert.equal(c.code, 1008, `${ws.label} closed with ${c.code}`);
      assert.equal(c.reason, 'session ended');
    }
    await W3.ping();
    assert.equal(W3.closeInfo, null);
    expectError(await new HttpClient(srv, { cookie: token }).get('/api/me'), 401, 'unauthorized');
    await expectWsRefused(srv, token);
    expectStatus(await other.http.get('/api/me'), 200);
    await W3.close();
  });

  it('a logged-out session cannot log out again or do anything', async () => {
    const u = await User.signup(srv, 'bob');
    const token = u.session;
    expectStatus(await u.http.post('/api/logout'), 204);
    const stale = new HttpClient(srv, { cookie: token });
    expectError(await stale.patch('/api/me', { display_name: 'Hacked' }), 401, 'unauthorized');
    expectError(await stale.post('/api/me/password', { old_password: u.password, new_password: 'new password 1' }), 401, 'unauthorized');
    expectError(await stale.post('/api/friends/requests', { username: 'alice' }), 401, 'unauthorized');
    const login = expectStatus(await new HttpClient(srv).post('/api/login', { username: 'bob', password: u.password }), 200);
    assert.equal(login.json.user.display_name, 'bob', 'the stale session changed nothing');
  });

  it('a password change ends every other session (their sockets close with 1008); this one stays', async () => {
    const carol = await User.signup(srv, 'carol', { password: 'first password' });
    const d2 = await carol.device();
    const d3 = await carol.device();
    const W1 = await carol.connect({ label: 'changer' });
    const W2 = await d2.connect({ label: 'other-1' });
    const W3 = await d3.connect({ label: 'other-2' });
    expectStatus(await carol.http.post('/api/me/password', { old_password: 'first password', new_password: 'second password' }), 204);
    for (const ws of [W2, W3]) {
      const c = await ws.waitClosed();
      assert.equal(c.code, 1008, `${ws.label} closed with ${c.code} ${c.reason}`);
    }
    await W1.ping();
    assert.equal(W1.closeInfo, null, 'the changing session\'s socket stays open');
    expectStatus(await carol.http.get('/api/me'), 200);
    expectError(await d2.http.get('/api/me'), 401, 'unauthorized');
    expectError(await d3.http.get('/api/me'), 401, 'unauthorized');
    await expectWsRefused(srv, d2.session);
    await W1.close();
  });
});

describe('11 sessions: cookies with --secure-cookies', { timeout: 60000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ['--secure-cookies'] });
  });
  after(async () => {
    await srv?.stop();
  });

  it('signup and login cookies are HttpOnly; SameSite=Lax; Path=/; Secure', async () => {
    const h = new HttpClient(srv);
    const r = expectStatus(await h.post('/api/signup', { username: 'secure_user', password: 'password123' }), 201);
    const r2 = expectStatus(await new HttpClient(srv).post('/api/login', { username: 'secure_user', password: 'password123' }), 200);
    for (const res of [r, r2]) {
      // Behind TLS the cookie has the __Host- prefix (32-http-strict).
      const c = res.setCookies.find((x) => x.name === '__Host-duet_session');
      assert.ok(c, 'a session cookie');
      assert.equal(c.attrs.secure, true, `Secure missing: ${c.raw}`);
      assert.equal(c.attrs.httponly, true, `HttpOnly missing: ${c.raw}`);
      assert.equal(String(c.attrs.samesite).toLowerCase(), 'lax', c.raw);
      assert.equal(c.attrs.path, '/', c.raw);
    }
  });
});

describe('11 sessions: idle expiry with --session-idle', { timeout: 60000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ['--session-idle', '3'] });
  });
  after(async () => {
    await srv?.stop();
  });

  it('use keeps a session alive; 3 s without use ends it', async () => {
    const u = await User.signup(srv, 'idle_user');
    await sleep(1500);
    expectStatus(await u.http.get('/api/me'), 200, 'after 1.5 s:');
    await sleep(1500);
    expectStatus(await u.http.get('/api/me'), 200, '3 s after login but 1.5 s after the last use:');
    await sleep(1500);
    expectStatus(await u.http.get('/api/me'), 200, '4.5 s after login, sliding:');
    const token = u.session;
    await sleep(4000);
    expectError(await u.http.get('/api/me'), 401, 'unauthorized', 'after 4 s without use:');
    await expectWsRefused(srv, token);
    expectStatus(await new HttpClient(srv).post('/api/login', { username: 'idle_user', password: u.password }), 200);
  });
});

describe('11 sessions: login throttling', { timeout: 120000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ['--login-max-failures', '3', '--login-max-failures-addr', '5', '--login-window', '4'] });
  });
  after(async () => {
    await srv?.stop();
  });

  function login(addr, username, password, headers = {}) {
    return new HttpClient(srv, { localAddress: addr }).post('/api/login', { username, password }, { headers });
  }

  function expectLimited(res, windowS, what) {
    const body = expectError(res, 429, 'rate_limited', what);
    assert.ok(Number.isInteger(body.retry_after), `retry_after must be an integer number of seconds: ${JSON.stringify(body)}`);
    assert.ok(body.retry_after >= 1 && body.retry_after <= windowS, `retry_after ${body.retry_after} outside 1..${windowS}`);
    const h = res.headers['retry-after'];
    assert.match(String(h), /^\d+$/, `Retry-After header: ${h}`);
    assert.ok(Math.abs(Number(h) - body.retry_after) <= 1, `Retry-After ${h} vs retry_after ${body.retry_after}`);
    assert.equal(res.setCookies.find((c) => c.name === 'duet_session' && c.value), undefined, 'no session on a refused login');
    return body.retry_after;
  }

  it('per username: after 3 failures (from any addresses) even the right password is refused until the window passes', async () => {
    const victim = await User.signup(srv, 'victim', { password: 'the right password' });
    const other = await User.signup(srv, 'bystander', { password: 'bystander password' });
    for (let i = 0; i < 3; i++) {
      expectError(await login(nextAddr(), 'victim', `wrong ${i}`), 401, 'bad_credentials', `failure ${i + 1}:`);
    }
    const addr = nextAddr();
    const retry = expectLimited(await login(addr, 'victim', 'the right password'), 4, '4th attempt:');
    expectLimited(await login(nextAddr(), 'VICTIM', 'the right password'), 4, 'any case of the name:');
    expectStatus(await login(addr, 'bystander', other.password), 200, 'another user from the same address:');
    expectStatus(await victim.http.get('/api/me'), 200, 'existing sessions are not affected:');
    await sleep(retry * 1000 + 300);
    expectStatus(await login(nextAddr(), 'victim', 'the right password'), 200, 'after retry_after:');
  });

  it('per address: after 5 failures from one address every login from it is refused; other addresses work', async () => {
    const u = await User.signup(srv, 'addr_user', { password: 'addr password' });
    const addr = nextAddr();
    for (let i = 0; i < 5; i++) {
      expectError(await login(addr, `ghost${i}`, 'whatever pw'), 401, 'bad_credentials', `failure ${i + 1}:`);
    }
    const retry = expectLimited(await login(addr, 'addr_user', 'addr password'), 4, 'from the throttled address:');
    expectStatus(await login(nextAddr(), 'addr_user', 'addr password'), 200, 'from another address:');
    // Without --trust-proxy, X-Forwarded-For is ignored: it cannot dodge the limit.
    expectLimited(await login(addr, 'addr_user', 'addr password', { 'X-Forwarded-For': '10.9.8.7' }), 4, 'spoofed X-Forwarded-For:');
    await sleep(retry * 1000 + 300);
    expectStatus(await login(addr, 'addr_user', 'addr password'), 200, 'after retry_after:');
    assert.ok(u.id);
  });
});

describe('11 sessions: --trust-proxy uses X-Forwarded-For as the client address', { timeout: 60000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ['--trust-proxy', '--login-max-failures', '100', '--login-max-failures-addr', '2', '--login-window', '60'] });
  });
  after(async () => {
    await srv?.stop();
  });

  it('failures count per forwarded address, not per proxy address', async () => {
    const u = await User.signup(srv, 'proxied', { password: 'proxied password' });
    const proxy = nextAddr();
    const h = () => new HttpClient(srv, { localAddress: proxy });
    const post = (xff, password) => h().post('/api/login', { username: 'proxied', password }, { headers: { 'X-Forwarded-For': xff } });
    expectError(await post('203.0.113.7', 'bad one'), 401, 'bad_credentials');
    expectError(await post('203.0.113.7', 'bad two'), 401, 'bad_credentials');
    expectError(await post('203.0.113.7', 'proxied password'), 429, 'rate_limited', 'the forwarded address is throttled:');
    expectStatus(await post('203.0.113.8', 'proxied password'), 200, 'another forwarded address through the same proxy:');
    assert.ok(u.id);
  });
});
