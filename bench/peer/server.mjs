// server.mjs - the reference peer for bench/compare.sh: the seed's design on
// the seed's stack, done right. Node + socket.io 4 + better-sqlite3 (WAL,
// synchronous=FULL), with the seed's two tables (messages partitioned by
// conversation, pending rows per user) and what duet promises per message:
// durable before the sender's ack, delivered receipts, the pending row
// removed on the receiver's ack.
//
// "Done right" means the fixes the seed lacked and a fair chance at speed:
// the server (not the client) names the sender, sequence numbers are
// assigned in one place, and every send of one event-loop turn commits in
// one transaction (group commit), the way duetd's writer does. It is a
// benchmark peer, not a product: no accounts (the socket names its user in
// the handshake), no friends, no presence.
//
//   node bench/peer/server.mjs --port 8090 --data DIR
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Server } from 'socket.io';

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

const port = Number(arg('port', '8090'));
const dataDir = arg('data', './run/peer');
fs.mkdirSync(dataDir, { recursive: true });

const db = new Database(path.join(dataDir, 'peer.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(`
  CREATE TABLE IF NOT EXISTS private_chat (
    chat_id TEXT NOT NULL, sequence INTEGER NOT NULL, message_id TEXT NOT NULL,
    sender TEXT NOT NULL, receiver TEXT NOT NULL, message TEXT NOT NULL,
    type INTEGER NOT NULL DEFAULT 0, preview TEXT NOT NULL DEFAULT '',
    sent_at INTEGER NOT NULL, received_at INTEGER NOT NULL DEFAULT 0,
    seen_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (chat_id, sequence)) WITHOUT ROWID;
  CREATE UNIQUE INDEX IF NOT EXISTS private_chat_mid ON private_chat (chat_id, message_id);
  CREATE TABLE IF NOT EXISTS pending (
    user_id TEXT NOT NULL, chat_id TEXT NOT NULL, sequence INTEGER NOT NULL,
    service_type INTEGER NOT NULL, at INTEGER NOT NULL,
    PRIMARY KEY (user_id, chat_id, sequence, service_type)) WITHOUT ROWID;
`);

const q = {
  last: db.prepare('SELECT max(sequence) AS s FROM private_chat WHERE chat_id = ?'),
  insert: db.prepare(
    'INSERT INTO private_chat (chat_id, sequence, message_id, sender, receiver, message, sent_at) ' +
      'VALUES (?, ?, ?, ?, ?, ?, ?)',
  ),
  pend: db.prepare('INSERT OR REPLACE INTO pending VALUES (?, ?, ?, ?, ?)'),
  received: db.prepare(
    'UPDATE private_chat SET received_at = ? WHERE chat_id = ? AND sequence <= ? AND receiver = ? ' +
      'AND received_at = 0',
  ),
  unpend: db.prepare(
    'DELETE FROM pending WHERE user_id = ? AND chat_id = ? AND service_type = ? AND sequence <= ?',
  ),
};

// The chat of two users is named by both, in order; its next sequence is
// kept here once read (one process owns the database).
const nextSeq = new Map();
function claimSeq(chat) {
  let s = nextSeq.get(chat);
  if (s === undefined) s = (q.last.get(chat).s || 0) + 1;
  nextSeq.set(chat, s + 1);
  return s;
}

// Work queued during one loop turn, committed together by flush().
let sends = [];
let acks = [];
let flushQueued = false;

const commit = db.transaction((batchSends, batchAcks, now) => {
  for (const m of batchSends) {
    q.insert.run(m.chat, m.seq, m.id, m.from, m.to, m.text, now);
    q.pend.run(m.to, m.chat, m.seq, 0, now);
  }
  for (const a of batchAcks) {
    if (a.kind === 0 && q.received.run(now, a.chat, a.seq, a.user).changes > 0) {
      a.changed = true;
      q.pend.run(a.peer, a.chat, a.seq, 1, now);
    }
    q.unpend.run(a.user, a.chat, a.kind, a.seq);
  }
});

function flush() {
  flushQueued = false;
  const batchSends = sends;
  const batchAcks = acks;
  sends = [];
  acks = [];
  const now = Date.now();
  try {
    commit(batchSends, batchAcks, now);
  } catch (err) {
    // Nothing of the batch was written: forget the claimed sequences.
    nextSeq.clear();
    for (const m of batchSends) m.reply({ error: String(err.message || err) });
    return;
  }
  // Durable: now answer the senders and deliver.
  for (const m of batchSends) {
    m.reply({ seq: m.seq, sent_at: now });
    io.to(`u:${m.to}`).emit('message', {
      chat_id: m.chat, seq: m.seq, id: m.id, from: m.from, text: m.text, sent_at: now,
    });
  }
  for (const a of batchAcks)
    if (a.changed)
      io.to(`u:${a.peer}`).emit('receipt', { chat_id: a.chat, from: a.user, status: 'delivered', seq: a.seq, at: now });
}

function queue() {
  if (!flushQueued) {
    flushQueued = true;
    setImmediate(flush);
  }
}

const chatOf = (a, b) => (a < b ? `${a}:${b}` : `${b}:${a}`);

const httpServer = http.createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'text/plain' });
  res.end(req.url === '/healthz' ? 'ok\n' : 'not found\n');
});
const io = new Server(httpServer, { transports: ['websocket'], serveClient: false });

io.on('connection', (socket) => {
  const me = String(socket.handshake.auth?.user || '');
  if (!/^[a-z0-9_]{1,32}$/.test(me)) {
    socket.disconnect(true);
    return;
  }
  socket.join(`u:${me}`);
  socket.on('send', (m, reply) => {
    if (typeof reply !== 'function') return;
    const to = String(m?.to || '');
    const text = String(m?.text ?? '');
    const id = String(m?.id || '');
    if (!/^[a-z0-9_]{1,32}$/.test(to) || !id || text.length > 4000) {
      reply({ error: 'bad_request' });
      return;
    }
    const chat = chatOf(me, to);
    sends.push({ chat, seq: claimSeq(chat), id, from: me, to, text, reply });
    queue();
  });
  // {peer, seq, kind}: kind 0 = the peer's messages up to seq arrived (a
  // delivered receipt for the peer), 1 = the peer's receipt up to seq.
  socket.on('ack', (a) => {
    const peer = String(a?.peer || '');
    const seq = Number(a?.seq);
    const kind = a?.kind === 1 ? 1 : 0;
    if (!/^[a-z0-9_]{1,32}$/.test(peer) || !Number.isInteger(seq)) return;
    acks.push({ chat: chatOf(me, peer), seq, kind, user: me, peer, changed: false });
    queue();
  });
});

httpServer.listen(port, '127.0.0.1', () => console.log(`peer listening on 127.0.0.1:${port}`));
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    io.close();
    db.close();
    process.exit(0);
  });
