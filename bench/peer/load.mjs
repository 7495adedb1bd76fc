// load.mjs - one load client for both servers of bench/compare.sh: duetd
// (its WebSocket protocol, docs/protocol.md) or the socket.io peer
// (server.mjs). The same work either way: PAIRS pairs of users, each pair's
// first user sends to the second with INFLIGHT messages between send and
// arrival; the receiver acknowledges every message (a delivered receipt for
// the sender, which the sender acknowledges in turn). Counts messages that
// arrived during the measured window and their send -> arrival latency.
//
//   node bench/peer/load.mjs --target duet|peer --port N [--pairs 50]
//        [--inflight 4] [--warmup 5] [--seconds 20] [--size 64] [--seen]
// With --seen (duet only; issue 18 round 7), the receiver also sends `seen`
// for every message after its ack, and the sender acknowledges the seen
// receipt as it does the delivered one.
// Prints one JSON line: {target, pairs, inflight, seconds, msgs, rate, p50_ms, p99_ms}.
import http from 'node:http';
import WebSocket from 'ws';
import { io as ioClient } from 'socket.io-client';

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

const target = arg('target', 'duet');
const port = Number(arg('port', '8080'));
const PAIRS = Number(arg('pairs', '50'));
const INFLIGHT = Number(arg('inflight', '4'));
const WARMUP = Number(arg('warmup', '5'));
const SECONDS = Number(arg('seconds', '20'));
const SIZE = Number(arg('size', '64'));
const SEEN = process.argv.includes('--seen');
const run = Date.now().toString(36);
const body = 'x'.repeat(SIZE);

// Each user comes from its own loopback address: duetd limits sign-ups and
// connections per client address, as it should.
const addrOf = (i) => `127.88.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;

let measuring = false;
let count = 0;
const lat = [];

function record(sentAt) {
  if (!measuring) return;
  count++;
  lat.push(performance.now() - sentAt);
}

function httpJson(method, path, json, { cookie, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const data = json === undefined ? null : Buffer.from(JSON.stringify(json));
    const req = http.request(
      {
        host: '127.0.0.1', port, path, method, localAddress,
        headers: {
          ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}),
          ...(cookie ? { cookie } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          if (res.statusCode >= 300) reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
          const set = res.headers['set-cookie'] || [];
          const c = set.map((l) => l.split(';')[0]).find((l) => l.startsWith('duet_session='));
          resolve({ json: text ? JSON.parse(text) : null, cookie: c });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

// ---- duetd ----------------------------------------------------------------

async function duetUser(i) {
  const localAddress = addrOf(i);
  const username = `p${run}_${i}`;
  const r = await httpJson('POST', '/api/signup', { username, password: 'bench-password-1' }, { localAddress });
  return { username, cookie: r.cookie, localAddress };
}

function duetSocket(u, onEvent) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
      headers: { cookie: u.cookie }, localAddress: u.localAddress, perMessageDeflate: false,
    });
    ws.on('message', (data) => {
      const ev = JSON.parse(data);
      if (ev.type === 'synced') resolve(ws);
      onEvent(ev);
    });
    ws.on('error', reject);
  });
}

async function duetPair(p) {
  const a = await duetUser(2 * p);
  const b = await duetUser(2 * p + 1);
  await httpJson('POST', '/api/friends/requests', { username: b.username }, a);
  const acc = await httpJson('POST', `/api/friends/requests/${a.username}/accept`, undefined, b);
  const chat = acc.json.chat_id;
  const sentAt = new Map();
  let n = 0;
  let wsA = null;
  const sendOne = () => {
    const id = `m${n++}`;
    sentAt.set(id, performance.now());
    wsA.send(JSON.stringify({ type: 'send', ref: id, chat_id: chat, id, text: body }));
  };
  const wsB = await duetSocket(b, (ev) => {
    if (ev.type !== 'message') return;
    wsB.send(JSON.stringify({ type: 'ack', chat_id: ev.chat_id, kind: 'message', seq: ev.seq }));
    if (SEEN) wsB.send(JSON.stringify({ type: 'seen', chat_id: ev.chat_id, seq: ev.seq }));
    const t = sentAt.get(ev.id);
    if (t === undefined) return;
    sentAt.delete(ev.id);
    record(t);
    sendOne();
  });
  wsA = await duetSocket(a, (ev) => {
    if (ev.type === 'receipt')
      wsA.send(JSON.stringify({ type: 'ack', chat_id: ev.chat_id, kind: ev.status, seq: ev.seq }));
    else if (ev.type === 'error') console.error('duet error', JSON.stringify(ev));
  });
  return { start: () => { for (let i = 0; i < INFLIGHT; i++) sendOne(); }, close: () => { wsA.close(); wsB.close(); } };
}

// ---- the socket.io peer ----------------------------------------------------

function peerSocket(user) {
  return new Promise((resolve, reject) => {
    const s = ioClient(`http://127.0.0.1:${port}`, { transports: ['websocket'], auth: { user } });
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

async function peerPair(p) {
  const a = `p${run}_${2 * p}`;
  const b = `p${run}_${2 * p + 1}`;
  const sa = await peerSocket(a);
  const sb = await peerSocket(b);
  const sentAt = new Map();
  let n = 0;
  const sendOne = () => {
    const id = `m${n++}`;
    sentAt.set(id, performance.now());
    sa.emit('send', { to: b, id, text: body }, (r) => {
      if (r?.error) console.error('peer error', r.error);
    });
  };
  sb.on('message', (m) => {
    sb.emit('ack', { peer: a, seq: m.seq, kind: 0 });
    const t = sentAt.get(m.id);
    if (t === undefined) return;
    sentAt.delete(m.id);
    record(t);
    sendOne();
  });
  sa.on('receipt', (r) => sa.emit('ack', { peer: b, seq: r.seq, kind: 1 }));
  return { start: () => { for (let i = 0; i < INFLIGHT; i++) sendOne(); }, close: () => { sa.close(); sb.close(); } };
}

// ---- the run -----------------------------------------------------------------

const pairs = [];
for (let p = 0; p < PAIRS; p++) pairs.push(await (target === 'duet' ? duetPair(p) : peerPair(p)));
for (const p of pairs) p.start();
await new Promise((r) => setTimeout(r, WARMUP * 1000));
measuring = true;
// With LOAD_MARKS set (bench/pair-load.sh), say when the window opens
// and closes, so the caller can sample the server's CPU there.
if (process.env.LOAD_MARKS) process.stderr.write('load: measuring\n');
await new Promise((r) => setTimeout(r, SECONDS * 1000));
measuring = false;
if (process.env.LOAD_MARKS) process.stderr.write('load: measured\n');
for (const p of pairs) p.close();
lat.sort((x, y) => x - y);
const pct = (q) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] : NaN);
console.log(
  JSON.stringify({
    target, pairs: PAIRS, inflight: INFLIGHT, seconds: SECONDS, msgs: count,
    rate: Math.round(count / SECONDS), p50_ms: +pct(0.5).toFixed(2), p99_ms: +pct(0.99).toFixed(2),
  }),
);
process.exit(0);
