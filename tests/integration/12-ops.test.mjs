// 12 - operations: health, metrics, command line, environment, log format,
// instance id, and static files (including path traversal attempts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCassandra, mkTempDir, rmDir, runDuetd, startServer } from './lib/server.mjs';
import { HttpClient, User, befriend, expectError, expectStatus, rawRequest, sendMsg } from './lib/client.mjs';

const OPTIONS = [
  'listen', 'data', 'web', 'instance', 'session-idle', 'max-message-chars', 'delete-window', 'secure-cookies',
  'login-max-failures', 'login-max-failures-addr', 'login-window', 'argon2-ops', 'argon2-mem', 'hash-concurrency',
  'sync', 'log-level', 'trust-proxy', 'help',
];

// Parses the Prometheus text exposition format strictly; returns {samples: Map, types: Map}.
function parseMetrics(text) {
  const samples = new Map();
  const types = new Map();
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sampleRe = new RegExp(`^(${NAME})(\\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*")*,?)?\\})? (-?[0-9.eE+-]+|[+-]Inf|NaN)( -?\\d+)?$`);
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = new RegExp(`^# (HELP|TYPE) (${NAME}) ?(.*)$`).exec(line);
      if (!m) continue; // a plain comment
      if (m[1] === 'TYPE') {
        assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]), `bad TYPE line: ${line}`);
        assert.ok(!types.has(m[2]), `TYPE given twice for ${m[2]}`);
        types.set(m[2], m[3]);
      }
      continue;
    }
    const m = sampleRe.exec(line);
    assert.ok(m, `not a valid Prometheus sample line: ${JSON.stringify(line)}`);
    const v = Number(m[3].replace('Inf', 'Infinity'));
    assert.ok(!Number.isNaN(v) || m[3] === 'NaN', `bad value in ${line}`);
    samples.set(m[1] + (m[2] || ''), v);
  }
  return { samples, types };
}

async function metrics(h) {
  const r = expectStatus(await h.get('/metrics'), 200);
  assert.match(r.headers['content-type'] || '', /^text\/plain/, `metrics Content-Type: ${r.headers['content-type']}`);
  return parseMetrics(r.text);
}

function increased(before, afterM, re, atLeast) {
  const hits = [];
  for (const [k, v] of afterM.samples) {
    if (!re.test(k)) continue;
    const b = before.samples.get(k) ?? 0;
    if (v - b >= atLeast) hits.push(`${k}: ${b} → ${v}`);
  }
  return hits;
}

describe('12 ops: instance, health, metrics, logs', { timeout: 120000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ['--instance', 'ops-7'] });
  });
  after(async () => {
    await srv?.stop();
  });

  it('--instance shows in /healthz, X-Duet-Instance and hello', async () => {
    const h = new HttpClient(srv);
    const r = expectStatus(await h.get('/healthz'), 200);
    assert.equal(r.json.instance, 'ops-7');
    assert.equal(r.headers['x-duet-instance'], 'ops-7');
    const u = await User.signup(srv, 'opsuser');
    const ws = await u.connect();
    assert.equal(ws.hello.instance, 'ops-7');
    await ws.close();
  });

  it('the WebSocket upgrade response carries X-Duet-Instance too', async () => {
    const u = await User.signup(srv, 'upgrader');
    const req = `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: duet_session=${u.session}\r\n\r\n`;
    const res = await rawRequest(srv, req, { untilResponse: true, timeoutMs: 3000 });
    assert.equal(res.status, 101, res.text.slice(0, 300));
    assert.equal(res.headers['x-duet-instance'], 'ops-7');
  });

  it('/metrics is valid Prometheus text and its counters move', async () => {
    const h = new HttpClient(srv);
    const m0 = await metrics(h);
    assert.ok(m0.samples.size > 0, 'some samples');
    assert.ok([...m0.types.values()].includes('counter'), 'at least one counter');
    for (const [name, type] of m0.types) {
      if (type !== 'counter') continue;
      const present = [...m0.samples.keys()].some((k) => k === name || k.startsWith(name + '{') || k.startsWith(name + '_total'));
      assert.ok(present, `counter ${name} has a TYPE but no sample`);
    }
    for (let i = 0; i < 10; i++) expectStatus(await h.get('/healthz'), 200);
    const [a, b] = await User.all(srv, ['metric_a', 'metric_b']);
    const chat = await befriend(a, b);
    const wa = await a.connect();
    const wb = await b.connect();
    for (let i = 0; i < 5; i++) await sendMsg(wa, chat, `counted ${i}`);
    const m1 = await metrics(h);
    const http = increased(m0, m1, /http|request/i, 10);
    assert.ok(http.length > 0, 'no HTTP request counter grew by 10 after 10 requests');
    const msgs = increased(m0, m1, /message|msg|sent/i, 5);
    assert.ok(msgs.length > 0, 'no message counter grew by 5 after 5 messages');
    const wsM = [...m1.samples].filter(([k, v]) => /ws|websocket|connection/i.test(k) && v !== (m0.samples.get(k) ?? 0));
    assert.ok(wsM.length > 0, 'no WebSocket/connection metric changed with 2 sockets open');
    for (const [k, v] of m1.samples) {
      const t = m1.types.get(k.replace(/\{.*$/, '')) || m1.types.get(k.replace(/\{.*$/, '').replace(/_total$/, ''));
      if (t === 'counter') assert.ok(v >= (m0.samples.get(k) ?? 0), `counter ${k} went down`);
    }
    await Promise.all([wa.close(), wb.close()]);
  });

  it('log lines on stderr are "<ISO time> <LEVEL> <text>"', async () => {
    const lines = srv.stderr.split('\n').filter((l) => l.length);
    assert.ok(lines.length > 0);
    const listen = lines.find((l) => l.includes('listening on'));
    assert.match(listen, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO listening on http:\/\/127\.0\.0\.1:\d+\b/);
    for (const l of lines) {
      if (/AddressSanitizer|LeakSanitizer|runtime error/.test(l)) continue; // reported by stop()
      assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARN|ERROR) \S/, `log line: ${l}`);
    }
  });
});

describe('12 ops: command line and environment', { timeout: 120000 }, () => {
  it('--help prints every option and exits 0', async () => {
    const r = await runDuetd(['--help']);
    assert.equal(r.code, 0, `--help exit code ${r.code}; stderr ${r.stderr}`);
    for (const o of OPTIONS) assert.ok(r.stdout.includes(`--${o}`), `--help does not list --${o}:\n${r.stdout}`);
    assert.match(r.stdout, /DUET_/, '--help mentions the environment variables');
  });

  // Options that would let duetd run if it accepted the bad one: then
  // runDuetd times out and the test fails.
  let tmp;
  before(() => {
    tmp = mkTempDir('duet-cli-');
  });
  after(() => rmDir(tmp));
  const runnable = () => ['--listen', '127.0.0.1:0', '--data', tmp, '--web', tmp];
  const quick = { timeoutMs: 4000 };

  it('an unknown option prints an error and exits 2', async () => {
    const r = await runDuetd([...runnable(), '--no-such-option'], quick);
    assert.equal(r.code, 2, `exit code ${r.code}`);
    assert.match(r.stderr, /no-such-option/, `stderr names the option: ${r.stderr}`);
    const r2 = await runDuetd([...runnable(), 'stray-argument'], quick);
    assert.notEqual(r2.code, 0, `a stray argument: exit code ${r2.code}`);
  });

  it('bad Cassandra options are refused by the store, before it connects', async () => {
    // No node needs to answer: the backend checks its options when it opens.
    for (const [args, re] of [[['--cassandra-keyspace', '1bad'], /cassandra-keyspace/], [['--cassandra-keyspace', 'a;DROP'], /cassandra-keyspace/], [['--cassandra-consistency', 'BOGUS'], /cassandra-consistency.*BOGUS/], [['--cassandra', ''], /at least one host/]]) {
      const r = await runDuetd([...runnable(), '--store', 'cassandra', '--cassandra', '127.0.0.1:1', ...args], quick);
      assert.notEqual(r.code, 0, `${args.join(' ')} was accepted`);
      assert.match(r.stderr, re, `${args.join(' ')}: ${r.stderr}`);
    }
  });

  it('bad option values are refused with a non-zero exit', async () => {
    for (const args of [['--max-message-chars', 'lots'], ['--max-message-chars', '0'], ['--sync', 'sometimes'], ['--log-level', 'loud'], ['--max-message-chars']]) {
      const r = await runDuetd([...runnable(), ...args], quick);
      assert.notEqual(r.code, 0, `${args.join(' ')} was accepted`);
      assert.ok(r.stderr.length > 0, `${args.join(' ')}: no error message`);
    }
    const r = await runDuetd(['--listen', 'nonsense', '--data', tmp, '--web', tmp], quick);
    assert.notEqual(r.code, 0, '--listen nonsense was accepted');
    const r2 = await runDuetd(runnable(), { ...quick, env: { DUET_MAX_MESSAGE_CHARS: 'lots' } });
    assert.notEqual(r2.code, 0, 'a bad env value is refused too');
  });

  it('every option can come from DUET_* environment variables', async () => {
    const data = mkTempDir('duet-envdata-');
    const web = mkTempDir('duet-envweb-');
    fs.writeFileSync(path.join(web, 'index.html'), 'env web root\n');
    const srv = await startServer({
      noListen: true,
      noData: true,
      noWeb: true,
      env: {
        DUET_LISTEN: '127.0.0.1:0',
        DUET_DATA: data,
        DUET_WEB: web,
        DUET_INSTANCE: 'from-env',
        DUET_MAX_MESSAGE_CHARS: '10',
        DUET_SECURE_COOKIES: '1',
        DUET_LOGIN_MAX_FAILURES: '1',
      },
    });
    try {
      const h = new HttpClient(srv);
      const r = expectStatus(await h.get('/healthz'), 200);
      assert.equal(r.json.instance, 'from-env');
      assert.equal(r.headers['x-duet-instance'], 'from-env');
      assert.equal((await h.get('/')).text, 'env web root\n', 'DUET_WEB');
      // With the Cassandra store (make test-cassandra) no SQLite file may appear.
      assert.equal(fs.existsSync(path.join(data, 'duet.db')), !isCassandra, `DUET_DATA: duet.db ${isCassandra ? 'must not be' : 'is'} in the env data dir`);
      const [a, b] = await User.all(srv, ['env_a', 'env_b']);
      const signup = a.http.lastSetCookies.find((c) => c.name === '__Host-duet_session');
      assert.equal(signup.attrs.secure, true, 'DUET_SECURE_COOKIES=1');
      const chat = await befriend(a, b);
      const ws = await a.connect();
      await sendMsg(ws, chat, '0123456789');
      await ws.expectError({ type: 'send', chat_id: chat, id: 'eleven', text: '01234567890' }, 'too_long');
      await ws.close();
      expectError(await new HttpClient(srv).post('/api/login', { username: 'env_a', password: 'wrong wrong' }), 401, 'bad_credentials');
      expectError(await new HttpClient(srv).post('/api/login', { username: 'env_a', password: a.password }), 429, 'rate_limited', 'DUET_LOGIN_MAX_FAILURES=1:');
    } finally {
      await srv.stop();
      rmDir(data);
      rmDir(web);
    }
  });

  it('--max-message-chars on the command line', async () => {
    const srv = await startServer({ args: ['--max-message-chars', '5'] });
    try {
      const [a, b] = await User.all(srv, ['mm_a', 'mm_b']);
      const chat = await befriend(a, b);
      const ws = await a.connect();
      await sendMsg(ws, chat, '😀😀😀😀😀');
      const e = await ws.expectError({ type: 'send', chat_id: chat, id: 'six', text: 'abcdef' }, 'too_long');
      assert.match(e.message, /5/, `the message names the limit: ${e.message}`);
      await ws.close();
    } finally {
      await srv.stop();
    }
  });
});

describe('12 ops: static files', { timeout: 60000 }, () => {
  let srv;
  let root;
  let web;
  const SECRET = 'TOP-SECRET-OUTSIDE-WEB-ROOT';
  before(async () => {
    root = mkTempDir('duet-static-');
    web = path.join(root, 'web');
    fs.mkdirSync(path.join(web, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>duet</title>index\n');
    fs.writeFileSync(path.join(web, 'app.js'), 'console.log("duet");\n');
    fs.writeFileSync(path.join(web, 'style.css'), 'body { color: red }\n');
    fs.writeFileSync(path.join(web, 'sub', 'file.txt'), 'nested file\n');
    fs.writeFileSync(path.join(root, 'secret.txt'), SECRET + '\n');
    fs.symlinkSync(path.join(root, 'secret.txt'), path.join(web, 'link-out.txt'));
    fs.symlinkSync(root, path.join(web, 'dir-out'));
    srv = await startServer({ webDir: web });
  });
  after(async () => {
    await srv?.stop();
    rmDir(root);
  });

  it('serves index.html at / and files with their content types', async () => {
    const h = new HttpClient(srv);
    let r = expectStatus(await h.get('/'), 200);
    assert.match(r.text, /index/);
    assert.match(r.headers['content-type'] || '', /^text\/html/);
    assert.equal(r.headers['x-duet-instance'], 'duet-1');
    r = expectStatus(await h.get('/index.html'), 200);
    assert.match(r.text, /index/);
    r = expectStatus(await h.get('/app.js'), 200);
    assert.match(r.headers['content-type'] || '', /^(application|text)\/javascript/);
    assert.equal(r.text, 'console.log("duet");\n');
    r = expectStatus(await h.get('/style.css'), 200);
    assert.match(r.headers['content-type'] || '', /^text\/css/);
    r = expectStatus(await h.get('/sub/file.txt'), 200);
    assert.equal(r.text, 'nested file\n');
    r = expectStatus(await h.get('/app.js?v=123'), 200, 'a query string:');
    assert.equal(r.text, 'console.log("duet");\n');
  });

  it('missing files → 404 not_found; other methods → 405; HEAD has no body', async () => {
    const h = new HttpClient(srv);
    expectError(await h.get('/nope.html'), 404, 'not_found');
    expectError(await h.get('/sub/nope'), 404, 'not_found');
    const d = await h.get('/sub');
    assert.ok([301, 302, 403, 404].includes(d.status), `a directory: ${d.status}`);
    assert.doesNotMatch(d.text, /file\.txt/, 'no directory listing');
    expectError(await h.post('/index.html', { a: 1 }), 405, 'method_not_allowed');
    const head = await h.request('HEAD', '/app.js');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
  });

  it('path traversal never leaves the web root', async () => {
    const paths = [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/sub/../../secret.txt',
      '/sub/%2e%2e/%2e%2e/secret.txt',
      '/./../secret.txt',
      '/..\\secret.txt',
      '/%252e%252e/secret.txt',
      '//secret.txt',
      '/sub/..%2f..%2fsecret.txt',
      '/link-out.txt',
      '/dir-out/secret.txt',
      '/.%2e/secret.txt',
      '/..%00/secret.txt',
      '/..%c0%afsecret.txt',
      `/${'../'.repeat(20)}etc/passwd`,
      '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    ];
    for (const p of paths) {
      const res = await rawRequest(srv, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, { untilResponse: false });
      assert.ok(res.status !== null, `${p}: no response (${res.end})`);
      assert.ok(!res.text.includes(SECRET), `${p} served the secret outside the web root`);
      assert.ok(!/root:.*:0:0:/.test(res.text), `${p} served /etc/passwd`);
      assert.ok(res.status >= 400 && res.status < 500, `${p}: status ${res.status}`);
    }
    expectStatus(await new HttpClient(srv).get('/healthz'), 200);
  });

  it('the API is not shadowed by files and /api paths never fall back to files', async () => {
    fs.mkdirSync(path.join(web, 'api'), { recursive: true });
    fs.writeFileSync(path.join(web, 'api', 'me'), 'a file named api/me');
    const r = await new HttpClient(srv).get('/api/me');
    expectError(r, 401, 'unauthorized');
  });
});
