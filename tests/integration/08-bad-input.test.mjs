// 08 - bad input over raw sockets: malformed HTTP, oversized headers and
// bodies, bad WebSocket frames, invalid JSON and requests. After each test the
// server must be alive and nothing visible may have changed.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import {
  HttpClient,
  RawWs,
  User,
  befriend,
  chats,
  expectError,
  expectStatus,
  fullHistory,
  rawRequest,
  sendMsg,
  wsFrame,
} from './lib/client.mjs';

const OP_CONT = 0,
  OP_TEXT = 1,
  OP_BIN = 2,
  OP_CLOSE = 8,
  OP_PING = 9;

describe('08 bad input', { timeout: 240000 }, () => {
  let srv;
  let alice, bob, dave, ex;
  let chatAB, chatAX;
  let B; // bob's WebSocket: must never see anything from the bad input
  let snap;

  async function snapshot() {
    const strip = (list) => list.map(({ peer, ...c }) => ({ ...c, peer: { id: peer.id, username: peer.username, display_name: peer.display_name } }));
    return {
      history: await fullHistory(alice, chatAB),
      historyX: await fullHistory(alice, chatAX),
      chatsA: strip(await chats(alice)),
      chatsB: strip(await chats(bob)),
      meA: expectStatus(await alice.http.get('/api/me'), 200).json,
      meB: expectStatus(await bob.http.get('/api/me'), 200).json,
      reqA: expectStatus(await alice.http.get('/api/friends/requests'), 200).json,
      blocksA: expectStatus(await alice.http.get('/api/blocks'), 200).json,
    };
  }

  before(async () => {
    srv = await startServer();
    [alice, bob, dave, ex] = await User.all(srv, ['alice', 'bob', 'dave', 'exfriend']);
    chatAB = await befriend(alice, bob);
    chatAX = await befriend(alice, ex);
    const A = await alice.connect();
    await sendMsg(A, chatAB, 'baseline message', 'base-1');
    await sendMsg(A, chatAX, 'to the ex', 'base-x');
    await A.close();
    expectStatus(await alice.http.del('/api/friends/exfriend'), 204);
    B = await bob.connect();
    B.send({ type: 'ack', chat_id: chatAB, kind: 'message', seq: 1 });
    await B.ping();
  });
  beforeEach(async () => {
    snap = await snapshot();
  });
  afterEach(async () => {
    srv.assertHealthy();
    const h = await new HttpClient(srv).get('/healthz');
    assert.equal(h.status, 200, 'the server is still alive');
    assert.deepEqual(await snapshot(), snap, 'nothing changed');
    await B.expectNo('message', 50);
    await B.expectNo('typing', 1);
    await B.expectNo('deleted', 1);
  });
  after(async () => {
    await srv?.stop();
  });

  // ---------------------------------------------------------------- HTTP

  it('a garbage request line → 400 and the connection closes', async () => {
    for (const line of ['GARBAGE\r\n\r\n', 'GET\r\n\r\n', '\x00\x01\x02\x03\r\n\r\n', 'GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n']) {
      const res = await rawRequest(srv, line, { untilResponse: false });
      assert.ok(res.status === 400 || (res.status === null && res.end === 'close'), `${JSON.stringify(line)} → ${res.text.slice(0, 200)}`);
      assert.equal(res.end, 'close', `the connection should close after ${JSON.stringify(line)}`);
    }
  });

  it('a malformed header or Content-Length → 400', async () => {
    for (const req of [
      'GET /healthz HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n',
      'POST /api/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}',
      'POST /api/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n{}',
      'POST /api/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
    ]) {
      const res = await rawRequest(srv, req, { untilResponse: false });
      assert.equal(res.status, 400, `${JSON.stringify(req.slice(0, 80))} → ${res.text.slice(0, 200)}`);
      if (res.json) assert.equal(res.json.error, 'bad_request');
    }
  });

  it('a header name with a space in it (not a token) → 400', async () => {
    const res = await rawRequest(srv, 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\nConnection: close\r\n\r\n', { untilResponse: false });
    assert.equal(res.status, 400, `RFC 9110 field names are tokens: ${res.text.slice(0, 200)}`);
  });

  it('headers over 16 KiB → 431 headers_too_large', async () => {
    const big = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: ${'a'.repeat(17 * 1024)}\r\n\r\n`;
    let res = await rawRequest(srv, big, { untilResponse: false });
    assert.equal(res.status, 431, res.text.slice(0, 200));
    assert.equal(res.json?.error, 'headers_too_large');
    const many = 'GET /healthz HTTP/1.1\r\nHost: x\r\n' + Array.from({ length: 800 }, (_, i) => `X-H${i}: ${'v'.repeat(20)}\r\n`).join('') + '\r\n';
    res = await rawRequest(srv, many, { untilResponse: false });
    assert.equal(res.status, 431, `800 headers: ${res.text.slice(0, 200)}`);
    const longUrl = `GET /${'p'.repeat(17 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`;
    res = await rawRequest(srv, longUrl, { untilResponse: false });
    assert.equal(res.status, 431, `a 17 KiB URL: ${res.text.slice(0, 200)}`);
    // Headers never end: still refused once over the limit.
    res = await rawRequest(srv, `GET / HTTP/1.1\r\nX-Endless: ${'z'.repeat(40 * 1024)}`, { untilResponse: false });
    assert.equal(res.status, 431, `unterminated 40 KiB header: ${res.text.slice(0, 200)}`);
  });

  it('headers just under the limit are fine', async () => {
    const req = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: ${'a'.repeat(15 * 1024)}\r\nConnection: close\r\n\r\n`;
    const res = await rawRequest(srv, req, { untilResponse: false });
    assert.equal(res.status, 200, res.text.slice(0, 200));
  });

  it('a body over 64 KiB → 413 body_too_large, also when only announced, and when chunked', async () => {
    let res = await rawRequest(srv, 'POST /api/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 70000\r\n\r\n{"username":', { untilResponse: true });
    assert.equal(res.status, 413, `announced 70000 bytes: ${res.text.slice(0, 200)}`);
    assert.equal(res.json?.error, 'body_too_large');
    const chunk = 'x'.repeat(16 * 1024);
    const chunked = 'POST /api/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n' +
      Array.from({ length: 5 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('') + '0\r\n\r\n';
    res = await rawRequest(srv, chunked, { untilResponse: true });
    assert.equal(res.status, 413, `80 KiB chunked: ${res.text.slice(0, 200)}`);
    assert.equal(res.json?.error, 'body_too_large');
  });

  it('a request sent one byte at a time is parsed', async () => {
    const body = JSON.stringify({ username: 'alice', password: 'wrong password' });
    const req = `POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    const res = await rawRequest(srv, null, { chunks: [...Buffer.from(req)].map((b) => Buffer.from([b])), untilResponse: false, timeoutMs: 20000 });
    assert.equal(res.status, 401, res.text.slice(0, 200));
    assert.equal(res.json?.error, 'bad_credentials');
  });

  it('odd paths and methods never crash: %zz, %00, dot segments, unknown methods', async () => {
    const cases = [
      'GET /api/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      'GET /api/me%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      'GET /%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      'GET /api/friends/requests/%2e%2e/accept HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      'FOO /api/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      'TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      'GET http://evil.example/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      'GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      `GET /api/chats/${'9'.repeat(36)}/messages HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      'POST /api/friends/requests/%F0%9F%98%80/accept HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    ];
    for (const req of cases) {
      const res = await rawRequest(srv, req, { untilResponse: false });
      assert.ok(res.status >= 200 && res.status < 500, `${JSON.stringify(req.split('\r\n')[0])} → ${res.status}: ${res.text.slice(0, 200)}`);
    }
  });

  it('invalid JSON bodies: deep nesting, bad UTF-8, NUL, lone surrogates, huge numbers', async () => {
    const h = new HttpClient(srv);
    const deep = '['.repeat(60000);
    expectError(await h.post('/api/signup', undefined, { body: deep, contentType: 'application/json' }), 400, 'bad_json', 'deeply nested:');
    const deepObj = '{"a":'.repeat(10000) + '1' + '}'.repeat(10000);
    expectError(await h.post('/api/signup', undefined, { body: deepObj, contentType: 'application/json' }), 400, 'bad_json', 'deeply nested object:');
    const badUtf8 = Buffer.concat([Buffer.from('{"username":"ab'), Buffer.from([0xff, 0xfe]), Buffer.from('c","password":"password123"}')]);
    let r = await h.post('/api/signup', undefined, { body: badUtf8, contentType: 'application/json' });
    assert.equal(r.status, 400, `invalid UTF-8 in JSON: ${r.text}`);
    assert.ok(['bad_json', 'bad_request', 'bad_username'].includes(r.json?.error), r.text);
    r = await h.post('/api/signup', undefined, { body: '{"username":"nul\\u0000user","password":"password123"}', contentType: 'application/json' });
    assert.equal(r.status, 400, `NUL in a username: ${r.text}`);
    r = await h.post('/api/signup', undefined, { body: '{"username":"surrogate","password":"password123","display_name":"\\ud800"}', contentType: 'application/json' });
    assert.equal(r.status, 400, `a lone surrogate in display_name: ${r.text}`);
    r = await h.post('/api/signup', undefined, { body: '{"username":1e999,"password":"password123"}', contentType: 'application/json' });
    assert.equal(r.status, 400, `1e999: ${r.text}`);
    r = await alice.http.patch('/api/me', undefined, { body: '{"display_name":"ok","display_name":"\\u0000"}', contentType: 'application/json' });
    assert.equal(r.status, 400, `duplicate key with a NUL: ${r.text}`);
    // None of those users exist.
    for (const u of ['surrogate']) {
      expectError(await h.post('/api/login', { username: u, password: 'password123' }), 401, 'bad_credentials', u);
    }
  });

  it('requests for other people\'s chats and for non-friends change nothing', async () => {
    expectError(await dave.http.get(`/api/chats/${chatAB}/messages`), 403, 'forbidden');
    expectError(await dave.http.del('/api/friends/alice'), 404, 'not_found');
    expectError(await dave.http.post('/api/friends/requests/alice/accept'), 404, 'not_found');
    expectError(await dave.http.del('/api/friends/requests/alice'), 404, 'not_found');
    expectError(await ex.http.del('/api/friends/alice'), 404, 'not_found');
  });

  // ----------------------------------------------------------- WebSocket

  async function rawWs() {
    const r = await RawWs.connect(srv, { cookie: alice.session });
    await r.waitEvent('synced');
    return r;
  }

  it('a binary frame closes with 1003', async () => {
    const r = await rawWs();
    r.write(wsFrame(OP_BIN, Buffer.from(JSON.stringify({ type: 'ping', ref: 'bin' }))));
    assert.equal(await r.waitClose(), 1003);
    await r.waitSocketClosed();
  });

  for (const [name, bytes] of [
    ['a lone 0xff', Buffer.from([0x7b, 0xff, 0x7d])],
    ['an overlong NUL (C0 80)', Buffer.concat([Buffer.from('{"type":"ping","ref":"'), Buffer.from([0xc0, 0x80]), Buffer.from('"}')])],
    ['a UTF-16 surrogate (ED A0 80)', Buffer.concat([Buffer.from('{"type":"ping","ref":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])],
    ['a code point over U+10FFFF (F4 90 80 80)', Buffer.concat([Buffer.from('{"type":"ping","ref":"'), Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from('"}')])],
    ['a truncated sequence at the end', Buffer.concat([Buffer.from('{"type":"ping"}'), Buffer.from([0xe2, 0x82])])],
  ]) {
    it(`invalid UTF-8 in a text frame (${name}) closes with 1007`, async () => {
      const r = await rawWs();
      r.write(wsFrame(OP_TEXT, bytes));
      assert.equal(await r.waitClose(), 1007);
      await r.waitSocketClosed();
    });
  }

  it('invalid UTF-8 split across fragments closes with 1007', async () => {
    const r = await rawWs();
    // The first fragment ends in a valid lead (E2 82); the next one breaks it.
    r.write(wsFrame(OP_TEXT, Buffer.concat([Buffer.from('{"type":"ping","ref":"'), Buffer.from([0xe2, 0x82])]), { fin: false }));
    r.write(wsFrame(OP_CONT, Buffer.concat([Buffer.from([0x28]), Buffer.from('"}')])));
    assert.equal(await r.waitClose(), 1007);
  });

  it('valid UTF-8 split inside a character across fragments is fine', async () => {
    const r = await rawWs();
    const msg = Buffer.from('{"type":"ping","ref":"é😀"}');
    const cut = msg.indexOf(0xc3) + 1; // inside the é
    const cut2 = msg.indexOf(0xf0) + 2; // inside the 😀
    r.write(wsFrame(OP_TEXT, msg.subarray(0, cut), { fin: false }));
    r.write(wsFrame(OP_PING, Buffer.from('mid'))); // a control frame between fragments
    r.write(wsFrame(OP_CONT, msg.subarray(cut, cut2), { fin: false }));
    r.write(wsFrame(OP_CONT, msg.subarray(cut2)));
    const pong = await r.waitFrame((f) => f.opcode === 10, undefined, 'pong frame');
    assert.equal(pong.payload.toString(), 'mid', 'a pong echoes the ping payload');
    const ev = await r.waitEvent('pong');
    assert.equal(ev.ref, 'é😀');
    r.destroy();
  });

  it('a message over 64 KiB closes with 1009, in one frame or in fragments', async () => {
    let r = await rawWs();
    r.write(wsFrame(OP_TEXT, Buffer.from(JSON.stringify({ type: 'ping', ref: 'x', pad: 'p'.repeat(70 * 1024) }))));
    assert.equal(await r.waitClose(), 1009);
    r.destroy();
    r = await rawWs();
    const part = Buffer.from('p'.repeat(20 * 1024));
    r.write(wsFrame(OP_TEXT, Buffer.from('{"type":"ping","pad":"'), { fin: false }));
    for (let i = 0; i < 4; i++) r.write(wsFrame(OP_CONT, part, { fin: false }));
    r.write(wsFrame(OP_CONT, Buffer.from('"}')));
    assert.equal(await r.waitClose(), 1009);
    r.destroy();
  });

  it('a message of almost 64 KiB is fine', async () => {
    const r = await rawWs();
    const frame = JSON.stringify({ type: 'ping', ref: 'big', pad: 'p'.repeat(60 * 1024) });
    r.write(wsFrame(OP_TEXT, Buffer.from(frame)));
    const ev = await r.waitEvent('pong');
    assert.equal(ev.ref, 'big');
    r.destroy();
  });

  it('protocol violations close with 1002: unmasked frame, RSV bits, unknown opcode, stray continuation, long control frame', async () => {
    const cases = [
      ['unmasked', wsFrame(OP_TEXT, Buffer.from('{"type":"ping"}'), { mask: false })],
      ['rsv1', wsFrame(OP_TEXT, Buffer.from('{"type":"ping"}'), { rsv: 4 })],
      ['opcode 3', wsFrame(3, Buffer.from('x'))],
      ['opcode 11', wsFrame(11, Buffer.from('x'))],
      ['continuation first', wsFrame(OP_CONT, Buffer.from('{"type":"ping"}'))],
      ['ping of 126 bytes', wsFrame(OP_PING, Buffer.alloc(126, 1))],
      ['fragmented ping', wsFrame(OP_PING, Buffer.from('x'), { fin: false })],
      ['text inside a fragmented text', Buffer.concat([wsFrame(OP_TEXT, Buffer.from('{"ty'), { fin: false }), wsFrame(OP_TEXT, Buffer.from('pe":"ping"}'))])],
    ];
    const wrong = [];
    for (const [name, bytes] of cases) {
      const r = await rawWs();
      r.write(bytes);
      const code = await r.waitClose().catch(() => 'no close frame');
      if (code !== 1002) wrong.push(`${name}: ${code}`);
      await r.waitSocketClosed().catch(() => wrong.push(`${name}: TCP connection left open`));
      r.destroy();
    }
    assert.deepEqual(wrong, [], 'each violation should close with a 1002 close frame (RFC 6455 7.1.7 SHOULD)');
  });

  it('a client close frame is answered with a close frame', async () => {
    const r = await rawWs();
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(1000);
    r.write(wsFrame(OP_CLOSE, payload));
    assert.equal(await r.waitClose(), 1000);
    await r.waitSocketClosed();
  });

  it('a frame length that lies (64-bit length with the top bit set) closes the connection', async () => {
    const r = await rawWs();
    const hdr = Buffer.from([0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]);
    r.write(hdr);
    await r.waitSocketClosed();
  });

  it('invalid JSON → error bad_json with request null; the connection stays usable', async () => {
    const r = await rawWs();
    for (const text of ['{', 'not json', '', '{"type":"ping",}', '[1,2]', '"ping"', '42', 'null', '['.repeat(30000)]) {
      r.sendText(text);
      const e = await r.waitEvent('error');
      assert.equal(e.code, 'bad_json', `${JSON.stringify(text.slice(0, 20))} → ${JSON.stringify(e)}`);
      assert.equal(e.request, null, `request must be null: ${JSON.stringify(e)}`);
      assert.equal(typeof e.message, 'string');
    }
    r.sendJson({ type: 'ping', ref: 'still-alive' });
    assert.equal((await r.waitEvent('pong')).ref, 'still-alive');
    r.destroy();
  });

  it('a missing or non-string type → error with request null', async () => {
    const r = await rawWs();
    r.sendJson({ ref: 'a1' });
    let e = await r.waitEvent('error');
    assert.equal(e.request, null);
    assert.equal(e.code, 'missing_field', JSON.stringify(e));
    assert.equal(e.ref, 'a1', 'the ref is copied');
    r.sendJson({ type: 5, ref: 'a2' });
    e = await r.waitEvent('error');
    assert.equal(e.request, null);
    assert.equal(e.code, 'bad_request', JSON.stringify(e));
    r.sendJson({ type: null });
    e = await r.waitEvent('error');
    assert.equal(e.request, null);
    r.sendJson({ type: ['send'] });
    e = await r.waitEvent('error');
    assert.equal(e.request, null);
    r.destroy();
  });

  it('an unknown type → unknown_type naming it, with the ref', async () => {
    const r = await rawWs();
    r.sendJson({ type: 'fly', ref: 'f1' });
    const e = await r.waitEvent('error');
    assert.deepEqual([e.request, e.ref, e.code], ['fly', 'f1', 'unknown_type']);
    for (const t of ['message', 'hello', 'sent', 'SEND', '', 'x'.repeat(1000)]) {
      r.sendJson({ type: t, ref: 'u' });
      const e2 = await r.waitEvent('error');
      assert.equal(e2.code, 'unknown_type', `type ${t.slice(0, 20)}: ${JSON.stringify(e2).slice(0, 200)}`);
    }
    r.destroy();
  });

  it('refs: strings and numbers of up to 64 characters are copied; others are refused', async () => {
    const r = await rawWs();
    const ref64 = 'r'.repeat(64);
    r.sendJson({ type: 'ping', ref: ref64 });
    assert.equal((await r.waitEvent('pong')).ref, ref64);
    r.sendJson({ type: 'ping', ref: 12345 });
    assert.equal((await r.waitEvent('pong')).ref, 12345);
    for (const ref of ['r'.repeat(65), { a: 1 }, [1], true]) {
      r.sendJson({ type: 'ping', ref });
      const e = await r.waitEvent('error');
      assert.equal(e.code, 'bad_request', `ref ${JSON.stringify(ref).slice(0, 30)}: ${JSON.stringify(e).slice(0, 200)}`);
      assert.equal(e.request, 'ping');
    }
    r.destroy();
  });

  it('bad fields in send, ack, seen, delete, history, typing change nothing', async () => {
    const r = await rawWs();
    const bad = [
      [{ type: 'send', chat_id: chatAB, id: 'x1' }, 'missing_field'],
      [{ type: 'send', chat_id: chatAB, text: 'hi' }, 'missing_field'],
      [{ type: 'send', id: 'x1', text: 'hi' }, 'missing_field'],
      [{ type: 'send', chat_id: 'zzz', id: 'x1', text: 'hi' }, 'bad_request'],
      [{ type: 'send', chat_id: chatAB.toUpperCase().replace(/-/g, ''), id: 'x1', text: 'hi' }, 'bad_request'],
      [{ type: 'send', chat_id: 7, id: 'x1', text: 'hi' }, 'bad_request'],
      [{ type: 'send', chat_id: chatAB, id: 'x1', text: ['hi'] }, 'bad_request'],
      [{ type: 'send', chat_id: chatAB, id: 'x1', text: 'x'.repeat(4001) }, 'too_long'],
      [{ type: 'send', chat_id: chatAB, id: 'x1', text: '' }, 'empty'],
      [{ type: 'ack', chat_id: chatAB, kind: 'message', seq: 1e300 }, 'bad_request'],
      [{ type: 'ack', chat_id: chatAB, kind: 'message', seq: -1 }, 'bad_request'],
      [{ type: 'ack', chat_id: chatAB, kind: 7, seq: 1 }, 'bad_request'],
      [{ type: 'seen', chat_id: chatAB, seq: 'all' }, 'bad_request'],
      [{ type: 'delete', chat_id: chatAB, seq: 999999 }, 'not_found'],
      [{ type: 'delete', chat_id: chatAB, seq: 2 ** 62 }, 'not_found'],
      [{ type: 'history', chat_id: chatAB, limit: -1 }, 'bad_request'],
      [{ type: 'history', chat_id: chatAB, before: {} }, 'bad_request'],
      [{ type: 'typing', chat_id: 'nope' }, 'bad_request'],
    ];
    for (const [i, [req, code]] of bad.entries()) {
      const ref = `bf${i}-${req.type}`;
      r.sendJson({ ...req, ref });
      const e = await r.waitEvent('error', (x) => x.ref === ref);
      assert.equal(e.code, code, `${JSON.stringify(req).slice(0, 120)} → ${JSON.stringify(e).slice(0, 200)}`);
      assert.equal(e.request, req.type);
    }
    r.destroy();
  });

  it("other people's chats and non-friends over the WebSocket change nothing", async () => {
    const d = await RawWs.connect(srv, { cookie: dave.session });
    await d.waitEvent('synced');
    for (const [req, code] of [
      [{ type: 'send', chat_id: chatAB, id: 'dave-1', text: 'hi' }, 'forbidden'],
      [{ type: 'delete', chat_id: chatAB, seq: 1 }, 'forbidden'],
      [{ type: 'history', chat_id: chatAB }, 'forbidden'],
      [{ type: 'seen', chat_id: chatAB, seq: 1 }, 'forbidden'],
      [{ type: 'ack', chat_id: chatAB, kind: 'message', seq: 1 }, 'forbidden'],
      [{ type: 'typing', chat_id: chatAB }, 'forbidden'],
    ]) {
      d.sendJson({ ...req, ref: `d-${req.type}` });
      const e = await d.waitEvent('error', (x) => x.ref === `d-${req.type}`);
      assert.equal(e.code, code, `${req.type}: ${JSON.stringify(e)}`);
    }
    d.destroy();
    const x = await RawWs.connect(srv, { cookie: ex.session });
    await x.waitEvent('synced');
    x.sendJson({ type: 'send', ref: 'x1', chat_id: chatAX, id: 'ex-1', text: 'miss you' });
    const e = await x.waitEvent('error', (ev) => ev.ref === 'x1');
    assert.equal(e.code, 'not_friends');
    x.destroy();
  });

  it('2000 pipelined pings are answered in order', async () => {
    const r = await rawWs();
    const n = 2000;
    const frames = [];
    for (let i = 0; i < n; i++) frames.push(wsFrame(OP_TEXT, Buffer.from(JSON.stringify({ type: 'ping', ref: i }))));
    r.write(Buffer.concat(frames));
    for (let i = 0; i < n; i++) {
      const ev = await r.waitEvent('pong');
      assert.equal(ev.ref, i);
    }
    r.destroy();
  });

  it('a WebSocket upgrade with a bad handshake → 4xx, no upgrade', async () => {
    for (const hdrs of [
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n', // no key
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n',
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n',
    ]) {
      const req = `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: duet_session=${alice.session}\r\n${hdrs}\r\n`;
      const res = await rawRequest(srv, req, { untilResponse: true });
      assert.ok(res.status >= 400 && res.status < 500, `${hdrs.split('\r\n').slice(2).join(' ')} → ${res.text.slice(0, 200)}`);
    }
    const plain = await alice.http.get('/ws');
    assert.ok(plain.status >= 400 && plain.status < 500, `GET /ws without upgrade: ${plain.status}`);
  });

  it('many connections opened and dropped abruptly leave the server healthy', async () => {
    const conns = await Promise.all(Array.from({ length: 50 }, () => RawWs.connect(srv, { cookie: alice.session })));
    for (const c of conns) c.destroy();
    const half = await Promise.all(Array.from({ length: 50 }, () => rawRequest(srv, 'GET /healthz HTTP/1.1\r\nHo', { untilResponse: false, timeoutMs: 50 })));
    assert.equal(half.length, 50);
  });
});
