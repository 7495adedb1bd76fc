// client-http.mjs - HTTP for the tests: loopback source addresses, a client
// with a cookie jar, status and header checks, raw requests.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { SLOW } from './server.mjs';

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
