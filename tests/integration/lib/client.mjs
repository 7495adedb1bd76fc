// client.mjs - HTTP client with a cookie jar, WebSocket client with an event
// queue, raw-socket helpers, and users that combine them.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import WebSocket from 'ws';
import { SLOW, within } from './server.mjs';

export const EVENT_TIMEOUT_MS = 5000 * SLOW;
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---------------------------------------------------------------------------
// Loopback source addresses: every test user gets its own 127.x.y.z.

let addrCounter = 0;
const addrBase = 1 + (process.pid % 200);
export function nextAddr() {
  const n = addrCounter++;
  return `127.${addrBase}.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`;
}

// ---------------------------------------------------------------------------
// HTTP

export function parseSetCookie(line) {
  const parts = line.split(';').map((s) => s.trim());
  const [nv, ...attrs] = parts;
  const eq = nv.indexOf('=');
  const c = { name: nv.slice(0, eq), value: nv.slice(eq + 1), attrs: {}, raw: line };
  for (const a of attrs) {
    const i = a.indexOf('=');
    const k = (i < 0 ? a : a.slice(0, i)).toLowerCase();
    c.attrs[k] = i < 0 ? true : a.slice(i + 1);
  }
  return c;
}

function cookieIsRemoval(c) {
  if (c.value === '' || c.value === '""') return true;
  if (c.attrs['max-age'] !== undefined && Number(c.attrs['max-age']) <= 0) return true;
  if (typeof c.attrs.expires === 'string' && Date.parse(c.attrs.expires) <= Date.now()) return true;
  return false;
}

export class HttpClient {
  constructor(server, { localAddress = nextAddr(), cookie = null } = {}) {
    this.server = server;
    this.localAddress = localAddress;
    this.jar = new Map();
    if (cookie) this.jar.set('duet_session', cookie);
    this.lastSetCookies = [];
  }

  // With --secure-cookies the cookie is __Host-duet_session.
  get sessionCookieName() {
    return this.jar.has('__Host-duet_session') ? '__Host-duet_session' : 'duet_session';
  }

  get session() {
    return this.jar.get(this.sessionCookieName) || null;
  }

  set session(v) {
    if (v) this.jar.set('duet_session', v);
    else this.jar.delete('duet_session');
  }

  cookieHeader() {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  // Returns {status, headers, text, json}. json is undefined unless the body parses.
  // opts: json (object to send), body (raw string/Buffer), contentType, headers, timeoutMs, noCookie
  request(method, path, opts = {}) {
    const headers = { ...(opts.headers || {}) };
    let body = null;
    if (opts.json !== undefined) {
      body = Buffer.from(JSON.stringify(opts.json));
      headers['Content-Type'] = opts.contentType || 'application/json';
    } else if (opts.body !== undefined) {
      body = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
      if (opts.contentType) headers['Content-Type'] = opts.contentType;
    }
    if (body && !opts.chunked) headers['Content-Length'] = String(body.length);
    if (!opts.noCookie && this.jar.size && !('Cookie' in headers)) headers.Cookie = this.cookieHeader();
    const timeoutMs = opts.timeoutMs || 10000 * SLOW;
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.server.host,
          port: this.server.port,
          localAddress: this.localAddress,
          method,
          path,
          headers,
          agent: false,
        },
        (res) => {
          const chunks = [];
          res.on('data', (d) => chunks.push(d));
          res.on('error', reject);
          res.on('end', () => {
            const buf = Buffer.concat(chunks);
            const text = buf.toString('utf8');
            let json;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            const sc = res.headers['set-cookie'] || [];
            this.lastSetCookies = sc.map(parseSetCookie);
            for (const c of this.lastSetCookies) {
              if (cookieIsRemoval(c)) this.jar.delete(c.name);
              else this.jar.set(c.name, c.value);
            }
            resolve({ status: res.statusCode, headers: res.headers, text, json, buffer: buf, setCookies: this.lastSetCookies });
          });
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`HTTP ${method} ${path} timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      if (body) {
        if (opts.chunked) {
          // Two chunks, to exercise chunked transfer decoding.
          const mid = Math.floor(body.length / 2);
          req.write(body.subarray(0, mid));
          req.write(body.subarray(mid));
        } else req.write(body);
      }
      req.end();
    });
  }

  get(path, opts) {
    return this.request('GET', path, opts);
  }
  post(path, json, opts = {}) {
    return this.request('POST', path, json === undefined ? opts : { ...opts, json });
  }
  patch(path, json, opts = {}) {
    return this.request('PATCH', path, json === undefined ? opts : { ...opts, json });
  }
  put(path, json, opts = {}) {
    return this.request('PUT', path, json === undefined ? opts : { ...opts, json });
  }
  del(path, opts) {
    return this.request('DELETE', path, opts);
  }
}

// Asserts an HTTP response's status, and for errors the JSON error body.
export function expectStatus(res, status, what = '') {
  assert.equal(res.status, status, `${what} expected HTTP ${status}, got ${res.status}: ${res.text.slice(0, 500)}`);
  return res;
}

export function expectError(res, status, code, what = '') {
  assert.equal(res.status, status, `${what} expected HTTP ${status} ${code}, got ${res.status}: ${res.text.slice(0, 500)}`);
  assert.ok(res.json && typeof res.json === 'object', `${what} error body is not JSON: ${res.text.slice(0, 300)}`);
  assert.equal(res.json.error, code, `${what} expected error code ${code}, got ${JSON.stringify(res.json)}`);
  assert.equal(typeof res.json.message, 'string', `${what} error body has no string message: ${JSON.stringify(res.json)}`);
  const ct = res.headers['content-type'] || '';
  assert.match(ct, /^application\/json/, `${what} error Content-Type is ${ct}`);
  return res.json;
}

// The headers every API (JSON) answer carries, errors included
// (NET_JSON_HEADERS in src/net/net.h). headers: lower-case names, as node's
// http module and parseRawResponse give them.
export const API_SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

export function expectApiHeaders(headers, what = '') {
  for (const [k, v] of Object.entries(API_SECURITY_HEADERS)) {
    assert.equal(headers[k], v, `${what} header ${k}: ${JSON.stringify(headers[k])}`);
  }
}

// ---------------------------------------------------------------------------
// WebSocket client with an event queue

export class WsClient {
  constructor(ws, label) {
    this.ws = ws;
    this.label = label || 'ws';
    this.events = []; // every event, in arrival order
    this.queue = []; // not yet consumed by next()/shift()
    this.waiters = [];
    this.refCounter = 0;
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        this.notify();
        resolve(this.closeInfo);
      });
    });
    ws.on('message', (data, isBinary) => {
      let ev;
      try {
        ev = JSON.parse(data.toString('utf8'));
      } catch {
        ev = { type: '__unparsable__', raw: data.toString('utf8'), binary: isBinary };
      }
      if (isBinary) ev = { type: '__binary__', raw: data };
      this.events.push(ev);
      this.queue.push(ev);
      this.notify();
    });
    ws.on('error', (e) => {
      this.error = e;
      this.notify();
    });
  }

  static connect(server, opts = {}) {
    const headers = { ...(opts.headers || {}) };
    if (opts.cookie) headers.Cookie = `${opts.cookieName || 'duet_session'}=${opts.cookie}`;
    const wsOpts = { headers, localAddress: opts.localAddress || nextAddr(), handshakeTimeout: 10000 * SLOW };
    if (opts.origin) wsOpts.origin = opts.origin;
    const url = opts.url || server.wsUrl;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, wsOpts);
      const client = new WsClient(ws, opts.label);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (req, res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = JSON.parse(text);
          } catch {}
          const e = new Error(`WebSocket upgrade refused: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
          e.status = res.statusCode;
          e.json = json;
          e.headers = res.headers;
          reject(e);
          ws.terminate();
        });
      });
      ws.once('error', (e) => reject(e));
    });
  }

  notify() {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  wait(ms) {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.waiters.push(done);
    });
  }

  describeQueue() {
    const q = this.queue.map((e) => JSON.stringify(e).slice(0, 200));
    return q.length ? q.join('\n  ') : '(nothing)';
  }

  // Removes and returns the first queued event of `type` (any type if null)
  // for which pred(ev) holds; waits up to timeoutMs for it.
  async next(type, pred = () => true, timeoutMs = EVENT_TIMEOUT_MS) {
    if (typeof pred === 'number') {
      timeoutMs = pred;
      pred = () => true;
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.queue.findIndex((e) => (type === null || e.type === type) && pred(e));
      if (i >= 0) return this.queue.splice(i, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0 || this.closeInfo) {
        const why = this.closeInfo ? `the socket closed (${this.closeInfo.code} ${this.closeInfo.reason})` : `timed out after ${timeoutMs} ms`;
        throw new Error(`${this.label}: no "${type}" event${pred.name && pred.name !== 'pred' ? ` matching ${pred.name}` : ''}: ${why}. Unconsumed events:\n  ${this.describeQueue()}`);
      }
      await this.wait(left);
    }
  }

  // The next event whatever its type, in arrival order.
  shift(timeoutMs = EVENT_TIMEOUT_MS) {
    return this.next(null, () => true, timeoutMs);
  }

  // Asserts that no event of `type` (matching pred) arrives within ms, nor is queued.
  async expectNo(type, ms = 300 * SLOW, pred = () => true) {
    const match = (e) => (type === null || e.type === type) && pred(e);
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.queue.find(match);
      if (found) assert.fail(`${this.label}: unexpected "${type}" event: ${JSON.stringify(found)}`);
      const left = deadline - Date.now();
      if (left <= 0 || this.closeInfo) return;
      await this.wait(left);
    }
  }

  send(obj) {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  newRef() {
    return `${this.label}-r${++this.refCounter}`;
  }

  // Sends obj with a fresh ref (unless it has one) and waits for the answer
  // carrying that ref: the expected type or an error.
  async request(obj, timeoutMs = EVENT_TIMEOUT_MS) {
    const o = { ...obj };
    if (o.ref === undefined) o.ref = this.newRef();
    this.send(o);
    return this.next(null, (e) => e.ref === o.ref && ['sent', 'history', 'pong', 'deleted', 'error', 'reaction', 'edited', 'hidden'].includes(e.type), timeoutMs);
  }

  // Like request, but the answer must be an `error` with the given code.
  async expectError(obj, code, timeoutMs) {
    const ev = await this.request(obj, timeoutMs);
    assert.equal(ev.type, 'error', `${this.label}: expected error ${code} for ${JSON.stringify(obj).slice(0, 200)}, got ${JSON.stringify(ev).slice(0, 300)}`);
    assert.equal(ev.code, code, `${this.label}: expected error code ${code}, got ${JSON.stringify(ev)}`);
    assert.equal(ev.request, obj.type, `error.request should be ${obj.type}: ${JSON.stringify(ev)}`);
    assert.equal(typeof ev.message, 'string', `error event without message: ${JSON.stringify(ev)}`);
    return ev;
  }

  async ping() {
    const ev = await this.request({ type: 'ping' });
    assert.equal(ev.type, 'pong', `${this.label}: ping answered with ${JSON.stringify(ev)}`);
    return ev;
  }

  async waitClosed(timeoutMs = EVENT_TIMEOUT_MS) {
    const r = await within(this.closed, timeoutMs);
    if (!r) throw new Error(`${this.label}: socket not closed within ${timeoutMs} ms`);
    return r;
  }

  async close() {
    if (this.closeInfo) return this.closeInfo;
    try {
      this.ws.close(1000);
    } catch {}
    const r = await within(this.closed, 3000 * SLOW);
    if (!r) {
      this.ws.terminate();
      return this.closed;
    }
    return r;
  }

  terminate() {
    this.ws.terminate();
    return this.closed;
  }
}

// ---------------------------------------------------------------------------
// Users

let userCounter = 0;
export function uniqueName(prefix = 'u') {
  return `${prefix}${process.pid % 1000}_${++userCounter}`;
}

export class User {
  constructor(server, username, password, localAddress) {
    this.server = server;
    this.username = username;
    this.password = password;
    this.addr = localAddress || nextAddr();
    this.http = new HttpClient(server, { localAddress: this.addr });
    this.sockets = [];
  }

  static async signup(server, username, { password = `pw-${username}-secret`, displayName, localAddress } = {}) {
    const u = new User(server, username, password, localAddress);
    const body = { username, password };
    if (displayName !== undefined) body.display_name = displayName;
    const res = await u.http.post('/api/signup', body);
    expectStatus(res, 201, `signup ${username}:`);
    u.me = res.json.user;
    u.id = res.json.user.id;
    assert.ok(u.http.session, `signup ${username}: no duet_session cookie was set`);
    return u;
  }

  static all(server, names, opts) {
    return Promise.all(names.map((n) => User.signup(server, n, opts)));
  }

  get session() {
    return this.http.session;
  }

  // Another session (device) of the same user, via login.
  async device(localAddress) {
    const d = new User(this.server, this.username, this.password, localAddress || nextAddr());
    const res = await d.http.post('/api/login', { username: this.username, password: this.password });
    expectStatus(res, 200, `login ${this.username}:`);
    d.id = res.json.user.id;
    d.me = res.json.user;
    return d;
  }

  // Opens a WebSocket with this user's session. Unless raw, waits for hello
  // and synced and stores them (ws.hello, ws.pending, ws.synced).
  async connect({ raw = false, label, localAddress, ...rest } = {}) {
    const ws = await WsClient.connect(this.server, {
      cookie: this.session,
      cookieName: this.http.sessionCookieName,
      localAddress: localAddress || this.addr,
      label: label || `${this.username}#${this.sockets.length + 1}`,
      ...rest,
    });
    this.sockets.push(ws);
    if (!raw) {
      ws.hello = await ws.next('hello');
      ws.pending = [];
      ws.presence = []; // the snapshot of friends' presence, before the backlog
      for (;;) {
        const ev = await ws.shift();
        if (ev.type === 'synced') {
          ws.synced = ev;
          break;
        }
        if (ev.type === 'presence' && ws.pending.length === 0) ws.presence.push(ev);
        else ws.pending.push(ev);
      }
    }
    return ws;
  }

  async closeAll() {
    await Promise.all(this.sockets.map((s) => s.close()));
  }
}

// alice asks, bob accepts; returns the chat id.
export async function befriend(a, b) {
  const r1 = await a.http.post('/api/friends/requests', { username: b.username });
  expectStatus(r1, 201, `${a.username} → ${b.username} friend request:`);
  const r2 = await b.http.post(`/api/friends/requests/${a.username}/accept`);
  expectStatus(r2, 200, `${b.username} accepts ${a.username}:`);
  assert.match(r2.json.chat_id, UUID_RE);
  return r2.json.chat_id;
}

export async function history(user, chatId, query = '') {
  const res = await user.http.get(`/api/chats/${chatId}/messages${query ? '?' + query : ''}`);
  expectStatus(res, 200, `history of ${chatId} for ${user.username}:`);
  assert.ok(Array.isArray(res.json.messages), `history has no messages array: ${res.text.slice(0, 300)}`);
  return res.json.messages;
}

// The whole history of a chat, paging backwards from the newest with before
// (04 tests after= paging on its own).
export async function fullHistory(user, chatId) {
  let all = await history(user, chatId, 'limit=100');
  while (all.length && all[0].seq > 1) {
    const page = await history(user, chatId, `before=${all[0].seq}&limit=100`);
    if (!page.length) break;
    all = [...page, ...all];
  }
  return all;
}

export async function chats(user) {
  const res = await user.http.get('/api/chats');
  expectStatus(res, 200, `GET /api/chats for ${user.username}:`);
  assert.ok(Array.isArray(res.json.chats), `no chats array: ${res.text.slice(0, 300)}`);
  return res.json.chats;
}

export async function chatWith(user, chatId) {
  const c = (await chats(user)).find((x) => x.chat_id === chatId);
  assert.ok(c, `${user.username}'s chat list has no chat ${chatId}`);
  return c;
}

// Sends a message and asserts it was acknowledged; returns the `sent` event.
export async function sendMsg(ws, chatId, text, id = `m-${crypto.randomUUID()}`) {
  const ev = await ws.request({ type: 'send', chat_id: chatId, id, text });
  assert.equal(ev.type, 'sent', `${ws.label}: send ${id} answered with ${JSON.stringify(ev)}`);
  assert.equal(ev.id, id);
  assert.equal(ev.chat_id, chatId);
  return ev;
}

export function idOf(u) {
  return typeof u === 'string' ? u : u && u.id;
}

// ---------------------------------------------------------------------------
// Raw sockets

// Sends raw bytes; collects the response. Resolves when the socket closes, or
// once one complete response (by Content-Length) has arrived if untilResponse.
export function rawRequest(server, data, { localAddress = nextAddr(), timeoutMs = 5000 * SLOW, untilResponse = true, chunks } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: server.host, port: server.port, localAddress });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (why) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ ...parseRawResponse(buf), buffer: buf, text: buf.toString('latin1'), end: why });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    sock.on('connect', async () => {
      if (chunks) {
        for (const c of chunks) {
          if (done) return;
          sock.write(c);
          await new Promise((r) => setTimeout(r, 5));
        }
      } else sock.write(data);
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (untilResponse) {
        const p = parseRawResponse(buf);
        if (p.complete) finish('response');
      }
    });
    sock.on('end', () => finish('close'));
    sock.on('close', () => finish('close'));
    sock.on('error', () => finish('error'));
  });
}

export function parseRawResponse(buf) {
  const s = buf.toString('latin1');
  const he = s.indexOf('\r\n\r\n');
  if (he < 0) return { complete: false, status: null };
  const head = s.slice(0, he).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
  const headers = {};
  for (const l of head.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const len = headers['content-length'] !== undefined ? Number(headers['content-length']) : 0;
  const bodyBuf = buf.subarray(Buffer.byteLength(s.slice(0, he + 4), 'latin1'));
  const complete = bodyBuf.length >= len;
  let json;
  const body = bodyBuf.subarray(0, len).toString('utf8');
  try {
    json = JSON.parse(body);
  } catch {}
  return { complete, status: m ? Number(m[1]) : null, headers, body, json, rest: bodyBuf.subarray(len) };
}

// A WebSocket frame from the client (masked unless mask=false).
export function wsFrame(opcode, payload = Buffer.alloc(0), { fin = true, mask = true, rsv = 0 } = {}) {
  const p = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const len = p.length;
  let hdr;
  if (len < 126) {
    hdr = Buffer.alloc(2);
    hdr[1] = len;
  } else if (len < 65536) {
    hdr = Buffer.alloc(4);
    hdr[1] = 126;
    hdr.writeUInt16BE(len, 2);
  } else {
    hdr = Buffer.alloc(10);
    hdr[1] = 127;
    hdr.writeBigUInt64BE(BigInt(len), 2);
  }
  hdr[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f);
  if (!mask) return Buffer.concat([hdr, p]);
  hdr[1] |= 0x80;
  const key = crypto.randomBytes(4);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = p[i] ^ key[i & 3];
  return Buffer.concat([hdr, key, masked]);
}

// A WebSocket over a bare net.Socket: handshake by hand, frames by hand.
export class RawWs {
  static async connect(server, { cookie, localAddress = nextAddr(), extraHeaders = '' } = {}) {
    const r = new RawWs();
    await r.open(server, cookie, localAddress, extraHeaders);
    return r;
  }

  open(server, cookie, localAddress, extraHeaders) {
    this.frames = [];
    this.waiters = [];
    this.buf = Buffer.alloc(0);
    this.closedSocket = false;
    const key = crypto.randomBytes(16).toString('base64');
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: server.host, port: server.port, localAddress });
      this.sock = sock;
      let handshaken = false;
      const t = setTimeout(() => reject(new Error('raw ws handshake timed out')), 10000 * SLOW);
      sock.on('connect', () => {
        sock.write(
          `GET /ws HTTP/1.1\r\nHost: ${server.host}:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
            (cookie ? `Cookie: duet_session=${cookie}\r\n` : '') +
            extraHeaders +
            '\r\n',
        );
      });
      sock.on('data', (d) => {
        this.buf = Buffer.concat([this.buf, d]);
        if (!handshaken) {
          const s = this.buf.toString('latin1');
          const he = s.indexOf('\r\n\r\n');
          if (he < 0) return;
          const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(s)?.[1]);
          clearTimeout(t);
          if (status !== 101) {
            reject(new Error(`raw ws upgrade got HTTP ${status}: ${s.slice(0, 300)}`));
            sock.destroy();
            return;
          }
          const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
          if (!s.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) {
            reject(new Error(`bad Sec-WebSocket-Accept in ${s.slice(0, he)}`));
            sock.destroy();
            return;
          }
          handshaken = true;
          this.buf = this.buf.subarray(he + 4);
          resolve();
        }
        this.parse();
      });
      const onGone = () => {
        this.closedSocket = true;
        clearTimeout(t);
        this.notify();
        if (!handshaken) reject(new Error('socket closed during raw ws handshake'));
      };
      sock.on('close', onGone);
      sock.on('error', onGone);
    });
  }

  notify() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  parse() {
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      const fin = !!(b[0] & 0x80);
      const opcode = b[0] & 0x0f;
      const masked = !!(b[1] & 0x80);
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      if (masked) off += 4;
      if (b.length < off + len) return;
      const payload = Buffer.from(b.subarray(off, off + len));
      this.buf = b.subarray(off + len);
      const f = { fin, opcode, payload, masked, rsv: (b[0] >> 4) & 7 };
      if (opcode === 1) {
        try {
          f.json = JSON.parse(payload.toString('utf8'));
        } catch {}
      }
      if (opcode === 8) {
        f.code = payload.length >= 2 ? payload.readUInt16BE(0) : null;
        f.reason = payload.subarray(2).toString('utf8');
        // Answer the close handshake like a real client would.
        if (!this.sentClose && !this.closedSocket) {
          this.sentClose = true;
          try {
            this.sock.write(wsFrame(8, payload.subarray(0, 2)));
          } catch {}
        }
      }
      this.frames.push(f);
      this.notify();
    }
  }

  write(buf) {
    if (buf.length >= 1 && (buf[0] & 0x0f) === 8) this.sentClose = true;
    this.sock.write(buf);
  }

  sendText(str, opts) {
    this.write(wsFrame(1, Buffer.from(str), opts));
  }

  sendJson(obj) {
    this.sendText(JSON.stringify(obj));
  }

  async waitFrame(pred, timeoutMs = EVENT_TIMEOUT_MS, what = 'frame') {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex(pred);
      if (i >= 0) return this.frames.splice(i, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0 || this.closedSocket) {
        const seen = this.frames.map((f) => `op${f.opcode} ${f.opcode === 8 ? f.code : f.payload.toString('utf8').slice(0, 120)}`);
        throw new Error(`raw ws: no ${what} (${this.closedSocket ? 'socket closed' : 'timeout'}); frames: ${seen.join(' | ') || 'none'}`);
      }
      await new Promise((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  waitEvent(type, pred = () => true, timeoutMs) {
    return this.waitFrame((f) => f.opcode === 1 && f.json && f.json.type === type && pred(f.json), timeoutMs, `"${type}" event`).then((f) => f.json);
  }

  // Waits for the server's close frame; returns its code. Also checks that
  // the TCP connection ends afterwards.
  async waitClose(timeoutMs = EVENT_TIMEOUT_MS) {
    const f = await this.waitFrame((x) => x.opcode === 8, timeoutMs, 'close frame');
    return f.code;
  }

  async waitSocketClosed(timeoutMs = EVENT_TIMEOUT_MS) {
    const deadline = Date.now() + timeoutMs;
    while (!this.closedSocket) {
      if (Date.now() > deadline) throw new Error('raw ws: TCP connection still open');
      await new Promise((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  destroy() {
    this.sock.destroy();
  }
}
