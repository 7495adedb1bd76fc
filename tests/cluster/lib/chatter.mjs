// chatter.mjs - a client that behaves like the web client: it keeps one
// WebSocket open through nginx, reconnects (with backoff) when it drops,
// acknowledges every event, resends its unacknowledged messages after a
// reconnect, and records everything so that a test can check that every
// acknowledged message arrived exactly once and in order.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import WebSocket from '../../integration/node_modules/ws/wrapper.mjs';
import { SLOW } from '../../integration/lib/server.mjs';

export const WAIT_MS = 15000 * SLOW;

let idCounter = 0;

export class Chatter {
  // user: an integration-lib User (http client, session, addr).
  constructor(cluster, user, label = user.username) {
    this.cluster = cluster;
    this.user = user;
    this.label = label;
    this.conns = []; // every connection, oldest first
    this.cur = null;
    this.chats = new Map(); // chat -> {order: [seq] first seen, msgs: Map seq -> event}
    this.sends = new Map(); // id -> {chat, text, seq, dup}
    this.events = [];
    this.violations = [];
    this.waiters = [];
    this.auto = true; // reconnect when dropped
    this.closing = false;
    this.reconnecting = null;
  }

  get instance() {
    return this.cur && this.cur.instance;
  }

  get id() {
    return this.user.id;
  }

  notify() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  // Waits until cond() is truthy (re-checked on every event).
  async until(cond, what, timeoutMs = WAIT_MS) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = cond();
      if (v) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  violation(msg) {
    this.violations.push(`${this.label}: ${msg}`);
  }

  // Opens a connection and waits for synced. Rejects if the upgrade fails.
  connect() {
    const conn = { n: this.conns.length + 1, instance: null, synced: false, last: new Map(), closed: null, events: [] };
    const ws = new WebSocket(this.cluster.wsUrl, {
      headers: { Cookie: `duet_session=${this.user.session}` },
      localAddress: this.user.addr,
      handshakeTimeout: 10000 * SLOW,
    });
    conn.ws = ws;
    return new Promise((resolve, reject) => {
      let opened = false;
      ws.on('message', (d) => {
        let ev;
        try {
          ev = JSON.parse(d.toString('utf8'));
        } catch {
          this.violation(`unparsable frame ${d.toString('utf8').slice(0, 100)}`);
          return;
        }
        this.onEvent(conn, ev);
      });
      ws.on('open', () => {
        opened = true;
        this.conns.push(conn);
        this.cur = conn;
      });
      ws.on('close', (code, reason) => {
        conn.closed = { code, reason: reason.toString() };
        this.notify();
        if (!opened) return;
        if (this.cur === conn && this.auto && !this.closing) this.reconnect();
      });
      ws.on('error', (e) => {
        if (!opened) reject(e);
      });
      ws.on('unexpected-response', (req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
      this.until(() => conn.synced || conn.closed, 'synced', 20000 * SLOW).then(() => {
        if (conn.synced) resolve(conn);
        else reject(new Error(`${this.label}: closed before synced (${JSON.stringify(conn.closed)})`));
      }, reject);
    }).then((c) => {
      this.resendUnacked();
      return c;
    });
  }

  // Reconnects with backoff until it works (the web client's behaviour).
  reconnect() {
    if (this.reconnecting) return this.reconnecting;
    this.reconnecting = (async () => {
      let delay = 100;
      const deadline = Date.now() + 60000 * SLOW;
      while (!this.closing) {
        try {
          await this.connect();
          break;
        } catch (e) {
          if (Date.now() > deadline) {
            this.violation(`could not reconnect: ${e.message}`);
            break;
          }
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 1000);
        }
      }
      this.reconnecting = null;
      this.notify();
    })();
    return this.reconnecting;
  }

  sendFrame(obj) {
    const c = this.cur;
    if (c && c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(obj));
  }

  onEvent(conn, ev) {
    ev._conn = conn.n;
    // The presence snapshot that opens every connection (docs/protocol.md)
    // is kept apart: the tests look for presence *changes* in events.
    if (ev.type === 'presence' && !conn.synced && !conn.events.some((e) => e.type !== 'hello' && e.type !== 'presence')) {
      (conn.snapshot ||= []).push(ev);
      return;
    }
    this.events.push(ev);
    conn.events.push(ev);
    switch (ev.type) {
      case 'hello':
        conn.instance = ev.instance;
        break;
      case 'synced':
        conn.synced = true;
        break;
      case 'message':
        this.onMessage(conn, ev);
        this.sendFrame({ type: 'ack', chat_id: ev.chat_id, kind: 'message', seq: ev.seq });
        break;
      case 'receipt':
        this.sendFrame({ type: 'ack', chat_id: ev.chat_id, kind: ev.status, seq: ev.seq });
        break;
      case 'deleted':
        this.sendFrame({ type: 'ack', chat_id: ev.chat_id, kind: 'deleted', seq: ev.seq });
        break;
      case 'sent': {
        const s = this.sends.get(ev.id);
        if (s && s.seq == null) {
          s.seq = ev.seq;
          s.dup = ev.duplicate;
        } else if (s && s.seq !== ev.seq) {
          this.violation(`send ${ev.id} acknowledged twice with different seqs ${s.seq}, ${ev.seq}`);
        }
        break;
      }
      case 'error':
        if (ev.request === 'send') this.violation(`send refused: ${JSON.stringify(ev)}`);
        break;
      default:
        break;
    }
    this.notify();
  }

  onMessage(conn, ev) {
    const chat = ev.chat_id;
    const last = conn.last.get(chat) || 0;
    if (ev.seq <= last) this.violation(`connection ${conn.n}: seq ${ev.seq} after ${last} in ${chat}`);
    conn.last.set(chat, Math.max(last, ev.seq));
    if (ev.from === this.user.id) return; // my own, from another tab
    let st = this.chats.get(chat);
    if (!st) this.chats.set(chat, (st = { order: [], msgs: new Map() }));
    if (st.msgs.has(ev.seq)) {
      // Replayed on a new connection because the ack had not landed: fine.
      // Live twice: a duplicate.
      if (!ev.pending) this.violation(`live duplicate of seq ${ev.seq} in ${chat} (connection ${conn.n})`);
      return;
    }
    st.msgs.set(ev.seq, ev);
    st.order.push(ev.seq);
  }

  // Sends a message (resent with the same id after a reconnect until it is
  // acknowledged). Returns the id.
  send(chat, text, id = `m${++idCounter}-${crypto.randomBytes(3).toString('hex')}`) {
    this.sends.set(id, { chat, text, id, seq: null });
    this.sendFrame({ type: 'send', ref: id, chat_id: chat, id, text });
    return id;
  }

  resendUnacked() {
    for (const s of this.sends.values()) {
      if (s.seq == null) this.sendFrame({ type: 'send', ref: s.id, chat_id: s.chat, id: s.id, text: s.text });
    }
  }

  async sent(id, timeoutMs = WAIT_MS) {
    await this.until(() => this.sends.get(id).seq != null, `sent ${id}`, timeoutMs);
    return this.sends.get(id);
  }

  unacked() {
    return [...this.sends.values()].filter((s) => s.seq == null).length;
  }

  // The peer messages received in chat, in first-seen order.
  received(chat) {
    return (this.chats.get(chat) || { order: [] }).order;
  }

  // A position in the event log, for after().
  mark() {
    return this.events.length;
  }

  // The first event of type matching pred received after mark (or waits).
  async after(mark, type, pred = () => true, timeoutMs = WAIT_MS) {
    let i = mark;
    return this.until(() => {
      for (; i < this.events.length; i++) {
        const e = this.events[i];
        if (e.type === type && pred(e)) return e;
      }
      return null;
    }, `a "${type}" event`, timeoutMs);
  }

  // Waits for the next event of type matching pred, from now on.
  async next(type, pred = () => true, timeoutMs = WAIT_MS) {
    const start = this.events.length;
    let i = start;
    return this.until(() => {
      for (; i < this.events.length; i++) {
        const e = this.events[i];
        if (e.type === type && pred(e)) return e;
      }
      return null;
    }, `a "${type}" event`, timeoutMs);
  }

  // Finds an event of type already received (or waits for one).
  async seen(type, pred = () => true, timeoutMs = WAIT_MS) {
    let i = 0;
    return this.until(() => {
      for (; i < this.events.length; i++) {
        const e = this.events[i];
        if (e.type === type && pred(e)) return e;
      }
      return null;
    }, `a "${type}" event`, timeoutMs);
  }

  async close() {
    this.closing = true;
    const c = this.cur;
    if (c && !c.closed) {
      c.ws.close(1000);
      await this.until(() => c.closed, 'close', 5000 * SLOW).catch(() => c.ws.terminate());
    }
  }
}

// Every message `sender` got `sent` for in chat reached `recipient` exactly
// once, in seq order, with its text; nothing else arrived; no violations.
export async function checkDelivery(sender, recipient, chat, timeoutMs = WAIT_MS) {
  const expected = () => [...sender.sends.values()].filter((s) => s.chat === chat && s.seq != null).map((s) => s.seq).sort((a, b) => a - b);
  await recipient
    .until(() => recipient.received(chat).length >= expected().length, `${expected().length} messages from ${sender.label}`, timeoutMs)
    .catch((e) => {
      throw new Error(`${e.message}; got ${recipient.received(chat).length}: missing ${expected().filter((s) => !recipient.received(chat).includes(s)).slice(0, 20)}`);
    });
  const exp = expected();
  assert.equal(new Set(exp).size, exp.length, `${sender.label}: two sends share a seq`);
  assert.deepEqual(recipient.received(chat), exp, `${recipient.label} got ${sender.label}'s messages exactly once, in order`);
  const bySeq = new Map([...sender.sends.values()].filter((s) => s.chat === chat).map((s) => [s.seq, s]));
  for (const [seq, ev] of recipient.chats.get(chat)?.msgs || []) {
    const s = bySeq.get(seq);
    assert.ok(s, `seq ${seq} was not sent by ${sender.label}`);
    assert.equal(ev.id, s.id, `seq ${seq} carries the wrong id`);
    assert.equal(ev.text, s.text, `seq ${seq} carries the wrong text`);
    assert.equal(ev.from, sender.id);
  }
  assert.deepEqual(sender.violations, [], 'sender violations');
  assert.deepEqual(recipient.violations, [], 'recipient violations');
}

// Both sides' seqs together are 1..N with no gap: one agreed order.
export function checkGapless(a, b, chat) {
  const seqs = [...a.sends.values(), ...b.sends.values()].filter((s) => s.chat === chat && s.seq != null).map((s) => s.seq).sort((x, y) => x - y);
  assert.equal(new Set(seqs).size, seqs.length, 'no seq is used twice');
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, `gap between ${seqs[i - 1]} and ${seqs[i]}`);
}
