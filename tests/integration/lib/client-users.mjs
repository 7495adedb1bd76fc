// client-users.mjs - test users (an HTTP client and their WebSockets) and
// the chat steps tests take with them.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { HttpClient, UUID_RE, expectStatus, nextAddr } from './client-http.mjs';
import { WsClient } from './client-ws.mjs';

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

// Sends every frame at once (pipelined on the socket; on Cassandra sends
// of one chat form groups) and collects each answer by ref: a `sent` or an
// `error`, in the frames' order.
export async function burst(ws, frames) {
  for (const f of frames) ws.send(f);
  const out = [];
  for (const f of frames) out.push(await ws.next(null, (e) => e.ref === f.ref && (e.type === 'sent' || e.type === 'error')));
  return out;
}

export function idOf(u) {
  return typeof u === 'string' ? u : u && u.id;
}
