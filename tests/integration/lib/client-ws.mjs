// client-ws.mjs - WebSockets for the tests: a client with an event queue,
// and raw frames over a bare socket.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import WebSocket from 'ws';
import { SLOW, within } from './server.mjs';
import { EVENT_TIMEOUT_MS, nextAddr } from './client-http.mjs';

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
// Raw WebSockets

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
