// 32 - smaller HTTP hardening (issue 14 item 12): the Origin check compares
// the scheme; with --secure-cookies the session cookie is __Host-duet_session;
// two different session cookies open no session; a header name with a space
// is a clear 400; obs-fold and Transfer-Encoding on HTTP/1.0 are refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { HttpClient, User, expectError, expectStatus, rawRequest } from './lib/client.mjs';

function raw(srv, text) {
  return rawRequest(srv, text);
}

describe('32 strict HTTP parsing', { timeout: 60000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('a header name with a space is 400 naming the header name, not the HTTP version', async () => {
    const r = await raw(srv, 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n');
    assert.equal(r.status, 400);
    assert.equal(r.json?.error, 'bad_request');
    assert.match(r.json.message, /header name/, r.json.message);
  });

  it('obs-fold (a header line starting with a space or tab) is refused', async () => {
    for (const fold of [' ', '\t']) {
      const r = await raw(srv, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: y\r\n${fold}folded\r\n\r\n`);
      assert.equal(r.status, 400, JSON.stringify(fold));
      assert.equal(r.json?.error, 'bad_request');
      assert.match(r.json.message, /folding/);
    }
  });

  it('Transfer-Encoding on an HTTP/1.0 request is refused before the body is read', async () => {
    const r = await raw(srv, 'POST /api/login HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n2\r\n{}\r\n0\r\n\r\n');
    assert.equal(r.status, 400);
    assert.equal(r.json?.error, 'bad_request');
    assert.match(r.json.message, /HTTP\/1\.0/);
  });

  it('ordinary requests still pass: HTTP/1.0, chunked HTTP/1.1, pipelined', async () => {
    const r = await raw(srv, 'GET /healthz HTTP/1.0\r\n\r\n');
    assert.equal(r.status, 200);
    const u = await User.signup(srv, 'strict_ok');
    expectStatus(await u.http.patch('/api/me', { display_name: 'Chunked' }, { chunked: true }), 200);
  });
});

describe('32 Origin scheme and session cookie', { timeout: 60000 }, () => {
  let plain, secure;
  before(async () => {
    plain = await startServer();
    secure = await startServer({ args: ['--secure-cookies'] });
  });
  after(async () => {
    await plain?.stop();
    await secure?.stop();
  });

  it('plain HTTP: Origin https://<host> (another scheme, another origin) is refused; http://<host> passes', async () => {
    const u = await User.signup(plain, 'origin_plain');
    const host = `${plain.host}:${plain.port}`;
    const patch = (origin) => u.http.patch('/api/me', { display_name: 'X' }, { headers: { Origin: origin } });
    expectError(await patch(`https://${host}`), 403, 'bad_origin', 'https origin on a plain server:');
    expectError(await patch(`ftp://${host}`), 403, 'bad_origin');
    expectStatus(await patch(`http://${host}`), 200);
  });

  it('--secure-cookies: the cookie is __Host-duet_session (Secure, Path=/, no Domain); Origin must be https://<host>', async () => {
    const h = new HttpClient(secure);
    const res = expectStatus(await h.post('/api/signup', { username: 'origin_secure', password: 'password123' }), 201);
    const c = res.setCookies.find((x) => x.name === '__Host-duet_session');
    assert.ok(c && c.value, `a __Host- cookie: ${res.setCookies.map((x) => x.raw).join(' | ')}`);
    assert.equal(c.attrs.secure, true);
    assert.equal(c.attrs.path, '/');
    assert.equal(c.attrs.domain, undefined);
    assert.equal(res.setCookies.find((x) => x.name === 'duet_session'), undefined, 'no unprefixed cookie');
    expectStatus(await h.get('/api/me'), 200, 'the __Host- cookie opens the session:');
    // A cookie planted under the old name opens nothing.
    expectError(await new HttpClient(secure, { cookie: c.value }).get('/api/me', { headers: {} }), 401, 'unauthorized');
    const host = `${secure.host}:${secure.port}`;
    const patch = (origin) => h.patch('/api/me', { display_name: 'Y' }, { headers: { Origin: origin } });
    expectError(await patch(`http://${host}`), 403, 'bad_origin', 'http origin on a TLS site:');
    expectStatus(await patch(`https://${host}`), 200);
  });

  it('two different duet_session cookies (one planted by a sibling domain) open no session', async () => {
    const victim = await User.signup(plain, 'cookie_victim');
    const attacker = await User.signup(plain, 'cookie_attacker');
    for (const order of [[attacker.session, victim.session], [victim.session, attacker.session]]) {
      const cookie = `duet_session=${order[0]}; duet_session=${order[1]}`;
      expectError(await new HttpClient(plain).get('/api/me', { headers: { Cookie: cookie } }), 401, 'unauthorized', cookie);
    }
    // The same value twice is no conflict.
    const same = `duet_session=${victim.session}; duet_session=${victim.session}`;
    expectStatus(await new HttpClient(plain).get('/api/me', { headers: { Cookie: same } }), 200);
  });
});
