// 21 - HTTP hardening: the security headers of every API answer, errors
// included, whichever layer gives them (the API, or the network layer's
// 400/413/431/503), and the configurable header size limit
// (--max-header-bytes). The static files' own headers are in 14; the
// sign-up rate in 15.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SLOW, mkTempDir, rmDir, runDuetd, startServer } from './lib/server.mjs';
import { HttpClient, User, expectApiHeaders, expectError, expectStatus, nextAddr, rawRequest } from './lib/client.mjs';

describe('21 http hardening: security headers on every API answer', { timeout: 120000 }, () => {
  let srv, user;
  before(async () => {
    srv = await startServer({ args: ['--login-max-failures', '1', '--max-conns', '40'] });
    user = await User.signup(srv, 'headers_user');
  });
  after(async () => {
    await srv?.stop();
  });

  it('2xx answers: 200 (healthz, me, metrics), 201 (sign-up), 204 (logout)', async () => {
    const h = new HttpClient(srv);
    expectApiHeaders(expectStatus(await h.get('/healthz'), 200).headers, 'GET /healthz:');
    expectApiHeaders(expectStatus(await user.http.get('/api/me'), 200).headers, 'GET /api/me:');
    expectApiHeaders(expectStatus(await h.get('/metrics'), 200).headers, 'GET /metrics:');
    const u = new HttpClient(srv);
    expectApiHeaders(expectStatus(await u.post('/api/signup', { username: 'headers_new', password: 'headers pw 1' }), 201).headers, 'sign-up:');
    const out = expectStatus(await u.post('/api/logout'), 204);
    expectApiHeaders(out.headers, 'logout:');
    assert.ok(out.headers['set-cookie'], 'the extra headers (Set-Cookie) are still there');
  });

  it('API errors: 400, 401, 403, 404, 405, 409, 415, 426, 429', async () => {
    const h = new HttpClient(srv);
    const cases = [
      [await h.post('/api/login', undefined, { body: '{', contentType: 'application/json' }), 400, 'bad_json'],
      [await h.get('/api/me'), 401, 'unauthorized'],
      [await user.http.post('/api/friends/requests', { username: 'x' }, { headers: { Origin: 'http://evil.example' } }), 403, 'bad_origin'],
      [await h.get('/api/nothing-here'), 404, 'not_found'],
      [await h.request('PUT', '/api/login', { json: {} }), 405, 'method_not_allowed'],
      [await h.post('/api/signup', { username: 'headers_user', password: 'headers pw 2' }), 409, 'username_taken'],
      [await h.post('/api/login', undefined, { body: 'a=b', contentType: 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type'],
      [await user.http.get('/ws'), 426, 'upgrade_required'],
    ];
    const addr = nextAddr();
    await new HttpClient(srv, { localAddress: addr }).post('/api/login', { username: 'headers_user', password: 'wrong pw' });
    cases.push([await new HttpClient(srv, { localAddress: addr }).post('/api/login', { username: 'headers_user', password: 'wrong pw' }), 429, 'rate_limited']);
    for (const [res, status, code] of cases) {
      expectError(res, status, code);
      expectApiHeaders(res.headers, `${status} ${code}:`);
    }
  });

  it('the network layer\'s answers: 400 (bad request line, bad WebSocket handshake), 413, 431', async () => {
    const cases = [
      [await rawRequest(srv, 'NOT HTTP AT ALL\r\n\r\n', { untilResponse: false }), 400],
      [await rawRequest(srv, `GET /ws HTTP/1.1\r\nHost: x\r\nCookie: duet_session=${user.session}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n`, { untilResponse: false }), 400],
      [await rawRequest(srv, 'POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999\r\n\r\n{', { untilResponse: false }), 413],
      [await rawRequest(srv, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`, { untilResponse: false }), 431],
    ];
    for (const [res, status] of cases) {
      assert.equal(res.status, status, res.text.slice(0, 200));
      assert.equal(typeof res.json?.error, 'string', `JSON error body: ${res.text.slice(0, 200)}`);
      expectApiHeaders(res.headers, `raw ${status}:`);
      assert.equal(res.headers.connection, 'close');
    }
  });

  it('503 too_many_connections (over --max-conns) carries them too', async () => {
    const held = [];
    try {
      // Opened together: idle ones would get 408 after the header timeout.
      const answers = await Promise.all(Array.from({ length: 50 }, () => new Promise((resolve) => {
        const s = net.connect({ host: srv.host, port: srv.port, localAddress: nextAddr() });
        held.push(s);
        let buf = '';
        const t = setTimeout(() => resolve(null), 3000 * SLOW);
        s.on('error', () => {});
        s.on('data', (d) => {
          buf += d.toString('latin1');
          if (buf.includes('\r\n\r\n')) {
            clearTimeout(t);
            resolve(buf);
          }
        });
      })));
      const res = answers.find((a) => a && a.startsWith('HTTP/1.1 503'));
      assert.ok(res, `no 503 among 50 connections with --max-conns 40: ${answers.filter(Boolean).map((a) => a.slice(0, 12))}`);
      const head = res.slice(0, res.indexOf('\r\n\r\n')).split('\r\n');
      const headers = Object.fromEntries(head.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      expectApiHeaders(headers, '503:');
    } finally {
      for (const s of held) s.destroy();
    }
  });

  it('static files keep their own policy, not the API\'s', async () => {
    const res = expectStatus(await new HttpClient(srv).get('/'), 200);
    const csp = res.headers['content-security-policy'];
    assert.match(csp, /default-src 'self'/);
    assert.doesNotMatch(csp, /default-src 'none'/, `one CSP, the page's: ${csp}`);
  });
});

describe('21 http hardening: --max-header-bytes', { timeout: 60000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ['--max-header-bytes', '2048'] });
  });
  after(async () => {
    await srv?.stop();
  });

  // A request whose request line and headers are exactly n bytes.
  function headOf(n) {
    const base = 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: \r\n\r\n';
    return base.replace('X-Pad: ', `X-Pad: ${'p'.repeat(n - base.length)}`);
  }

  it('a head of exactly 2048 bytes is served; 2049 bytes → 431 headers_too_large, JSON, and the connection closes', async () => {
    const ok = await rawRequest(srv, headOf(2048), { untilResponse: false });
    assert.equal(ok.status, 200, ok.text.slice(0, 200));
    const big = await rawRequest(srv, headOf(2049), { untilResponse: false });
    assert.equal(big.status, 431, big.text.slice(0, 200));
    assert.equal(big.json?.error, 'headers_too_large');
    assert.match(big.headers['content-type'], /^application\/json/);
    assert.equal(big.headers.connection, 'close');
    assert.equal(big.end, 'close', 'the server closed the connection');
    expectApiHeaders(big.headers, '431:');
  });

  it('a keep-alive connection gets 431 for an oversized second request, after a good first one', async () => {
    const first = headOf(300).replace('Connection: close\r\n', 'Connection: keep-alive\r\n');
    const res = await rawRequest(srv, first + headOf(3000), { untilResponse: false });
    const statuses = [...res.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [200, 431], res.text.slice(0, 400));
  });

  it('out-of-range values are refused at start-up', async () => {
    for (const v of ['512', '70000', 'lots']) {
      const r = await runDuetd(['--max-header-bytes', v]);
      assert.equal(r.code, 2, `--max-header-bytes ${v}: exit ${r.code}`);
      assert.match(r.stderr, /max-header-bytes/);
    }
  });
});

describe('21 http hardening: start-up failure', { timeout: 60000 }, () => {
  it('a port already in use: duetd says so and exits 1, without crashing in its clean-up', async () => {
    const busy = net.createServer();
    await new Promise((r) => busy.listen(0, '127.0.0.1', r));
    const { port } = busy.address();
    const data = mkTempDir('duet-data-');
    try {
      const r = await runDuetd(['--listen', `127.0.0.1:${port}`, '--data', data, '--web', data]);
      assert.match(r.stderr, /cannot listen on 127\.0\.0\.1:\d+: address already in use/);
      assert.equal(r.signal, null, `duetd died of ${r.signal}: ${r.stderr.slice(-500)}`);
      assert.equal(r.code, 1, r.stderr.slice(-500));
      assert.doesNotMatch(r.stderr, /Assertion|AddressSanitizer|runtime error/);
    } finally {
      busy.close();
      rmDir(data);
    }
  });
});
