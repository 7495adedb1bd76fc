// 20 - session security: fixation (a token chosen by the client is never
// adopted), fresh random tokens, the cookie's attributes and their expiry,
// and what login reveals about usernames. Logout and password change ending
// sessions and sockets, idle expiry and login throttling are in 11; invalid
// and expired sessions on every endpoint in 16.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { HttpClient, User, WsClient, expectError, expectStatus, nextAddr } from './lib/client.mjs';

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/; // 32 random bytes, unpadded base64url
const IDLE_S = 1234;

// A token of the right shape that the server never issued.
const forged = () => crypto.randomBytes(32).toString('base64url');

async function expectWsRefused(srv, cookie) {
  await assert.rejects(WsClient.connect(srv, { cookie }), (e) => {
    assert.equal(e.status, 401, e.message);
    return true;
  });
}

function sessionCookie(res) {
  const c = res.setCookies.find((x) => x.name === 'duet_session');
  assert.ok(c, `no duet_session Set-Cookie in ${JSON.stringify(res.headers['set-cookie'])}`);
  return c;
}

describe('20 session security: fixation and fresh tokens', { timeout: 120000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ['--session-idle', String(IDLE_S)] });
  });
  after(async () => {
    await srv?.stop();
  });

  it('sign-up with a cookie chosen by the client: a new token is issued, the chosen one stays invalid', async () => {
    const chosen = forged();
    const h = new HttpClient(srv, { cookie: chosen });
    const res = expectStatus(await h.post('/api/signup', { username: 'fix_signup', password: 'fixation pw 1' }), 201);
    const c = sessionCookie(res);
    assert.match(c.value, TOKEN_RE);
    assert.notEqual(c.value, chosen, 'the server adopted the client\'s token');
    expectStatus(await new HttpClient(srv, { cookie: c.value }).get('/api/me'), 200);
    expectError(await new HttpClient(srv, { cookie: chosen }).get('/api/me'), 401, 'unauthorized');
    await expectWsRefused(srv, chosen);
  });

  it('login with a cookie chosen by an attacker: a new token is issued, the chosen one opens nothing', async () => {
    const u = await User.signup(srv, 'fix_login', { password: 'fixation pw 2' });
    const chosen = forged();
    const victim = new HttpClient(srv, { cookie: chosen });
    const res = expectStatus(await victim.post('/api/login', { username: 'fix_login', password: 'fixation pw 2' }), 200);
    const c = sessionCookie(res);
    assert.notEqual(c.value, chosen);
    assert.notEqual(c.value, u.session);
    expectError(await new HttpClient(srv, { cookie: chosen }).get('/api/me'), 401, 'unauthorized', 'the attacker\'s preset token:');
    await expectWsRefused(srv, chosen);
    const ws = await WsClient.connect(srv, { cookie: c.value });
    assert.equal((await ws.next('hello')).type, 'hello');
    await ws.close();
  });

  it('login while holding a valid session issues another token; it never re-issues the one presented', async () => {
    const u = await User.signup(srv, 'fix_relog', { password: 'fixation pw 3' });
    const before = u.session;
    const res = expectStatus(await u.http.post('/api/login', { username: 'fix_relog', password: 'fixation pw 3' }), 200);
    const after_ = sessionCookie(res).value;
    assert.notEqual(after_, before);
    // Two sessions now: logging one out leaves the other.
    expectStatus(await new HttpClient(srv, { cookie: after_ }).post('/api/logout'), 204);
    expectError(await new HttpClient(srv, { cookie: after_ }).get('/api/me'), 401, 'unauthorized');
    expectStatus(await new HttpClient(srv, { cookie: before }).get('/api/me'), 200);
  });

  it('tokens are 43 characters of base64url and all different', async () => {
    await User.signup(srv, 'many_logins', { password: 'many logins pw' });
    const seen = new Set();
    for (let i = 0; i < 20; i++) {
      const res = expectStatus(await new HttpClient(srv).post('/api/login', { username: 'many_logins', password: 'many logins pw' }), 200);
      const t = sessionCookie(res).value;
      assert.match(t, TOKEN_RE);
      assert.ok(!seen.has(t), 'a token was issued twice');
      seen.add(t);
    }
    // 20 x 256 bits: no two share even a 12-character prefix.
    assert.equal(new Set([...seen].map((t) => t.slice(0, 12))).size, 20);
  });

  it('a cookie that differs from a real token in one character is refused', async () => {
    const u = await User.signup(srv, 'one_off', { password: 'one off password' });
    const t = u.session;
    const flipped = t.slice(0, -1) + (t.endsWith('A') ? 'B' : 'A');
    expectError(await new HttpClient(srv, { cookie: flipped }).get('/api/me'), 401, 'unauthorized');
    expectError(await new HttpClient(srv, { cookie: t + 'A' }).get('/api/me'), 401, 'unauthorized', '44 characters:');
    expectError(await new HttpClient(srv, { cookie: t + '=' }).get('/api/me'), 401, 'unauthorized', 'padded:');
    expectStatus(await new HttpClient(srv, { cookie: t }).get('/api/me'), 200);
  });
});

describe('20 session security: cookie attributes without --secure-cookies', { timeout: 60000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ['--session-idle', String(IDLE_S)] });
  });
  after(async () => {
    await srv?.stop();
  });

  it('the session cookie is HttpOnly, SameSite=Lax, Path=/, host-only, Max-Age = --session-idle, and not Secure over plain HTTP', async () => {
    const h = new HttpClient(srv);
    const r1 = expectStatus(await h.post('/api/signup', { username: 'attrs', password: 'attributes pw' }), 201);
    const r2 = expectStatus(await new HttpClient(srv).post('/api/login', { username: 'attrs', password: 'attributes pw' }), 200);
    for (const res of [r1, r2]) {
      const c = sessionCookie(res);
      assert.equal(c.attrs.httponly, true, c.raw);
      assert.equal(String(c.attrs.samesite).toLowerCase(), 'lax', c.raw);
      assert.equal(c.attrs.path, '/', c.raw);
      assert.equal(c.attrs.domain, undefined, `a Domain attribute widens the cookie to subdomains: ${c.raw}`);
      assert.equal(Number(c.attrs['max-age']), IDLE_S, c.raw);
      assert.equal(c.attrs.secure, undefined, `Secure over plain HTTP would lose the cookie: ${c.raw}`);
      assert.equal(res.headers['set-cookie'].length, 1, 'one Set-Cookie');
    }
  });

  it('logout clears the cookie with the same Path (so the browser really drops it)', async () => {
    const u = await User.signup(srv, 'attrs_out', { password: 'attributes pw' });
    const res = expectStatus(await u.http.post('/api/logout'), 204);
    const c = sessionCookie(res);
    assert.equal(c.value, '');
    assert.equal(Number(c.attrs['max-age']), 0, c.raw);
    assert.equal(c.attrs.path, '/', c.raw);
    assert.equal(c.attrs.httponly, true, c.raw);
  });

  it('failed logins and other answers set no cookie', async () => {
    await User.signup(srv, 'attrs_fail', { password: 'attributes pw' });
    const bad = await new HttpClient(srv).post('/api/login', { username: 'attrs_fail', password: 'wrong password' });
    expectError(bad, 401, 'bad_credentials');
    assert.equal(bad.headers['set-cookie'], undefined);
    const me = await new HttpClient(srv).get('/api/me');
    assert.equal(me.headers['set-cookie'], undefined);
  });
});

describe('20 session security: what login reveals about usernames', { timeout: 120000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ['--login-max-failures', '2', '--login-max-failures-addr', '1000', '--login-window', '60'] });
    await User.signup(srv, 'known_user', { password: 'the real password' });
  });
  after(async () => {
    await srv?.stop();
  });

  // Everything a client sees of an answer, minus nothing: status, headers, body.
  const shape = (res) => ({ status: res.status, headers: Object.keys(res.headers).sort(), ct: res.headers['content-type'], body: res.text });

  it('unknown user, wrong password and an impossible name: the same status, headers and body bytes', async () => {
    const post = (username, password) => new HttpClient(srv, { localAddress: nextAddr() }).post('/api/login', { username, password });
    const wrong = await post('known_user', 'not the password');
    const unknown = await post('nobody_at_all', 'not the password');
    const impossible = await post('No Such Name!', 'not the password');
    expectError(wrong, 401, 'bad_credentials');
    assert.deepEqual(shape(unknown), shape(wrong), 'unknown user vs wrong password');
    assert.deepEqual(shape(impossible), shape(wrong), 'impossible name vs wrong password');
  });

  it('throttling treats unknown and known names alike', async () => {
    const post = (username) => new HttpClient(srv, { localAddress: nextAddr() }).post('/api/login', { username, password: 'guess guess' });
    await User.signup(srv, 'known_two', { password: 'the real password' });
    const answers = {};
    for (const name of ['known_two', 'ghost_user']) {
      for (let i = 0; i < 2; i++) expectError(await post(name), 401, 'bad_credentials', `${name} failure ${i + 1}:`);
      const limited = await post(name);
      expectError(limited, 429, 'rate_limited', `${name} 3rd:`);
      answers[name] = { status: limited.status, keys: Object.keys(limited.json).sort(), headers: Object.keys(limited.headers).sort() };
    }
    assert.deepEqual(answers.ghost_user, answers.known_two);
  });

  it('sign-up reveals a taken name (it must), and only that', async () => {
    const res = await new HttpClient(srv).post('/api/signup', { username: 'KNOWN_USER', password: 'another password' });
    const body = expectError(res, 409, 'username_taken');
    assert.deepEqual(Object.keys(body).sort(), ['error', 'message']);
  });
});
