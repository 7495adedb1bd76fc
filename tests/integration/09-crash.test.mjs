// 09 - crash safety: kill -9 under traffic, restart on the same data dir.
// Every acknowledged (sent) message must be in the history exactly once, with
// the seq it was acknowledged with, in order, and delivered on resume.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { SLOW, isCassandra, startServer } from './lib/server.mjs';
import { User, befriend, expectStatus, fullHistory } from './lib/client.mjs';

const WINDOW = 32; // sends in flight per connection
const ROUNDS = 20; // kill -9 and restart this many times
// Each round kills after a random number of acknowledged sends, so the kill
// lands at a different point of the write/commit/acknowledge cycle.
const killAfter = () => 20 + Math.floor(Math.random() * 180);

function hasSqlite3() {
  try {
    execFileSync('sqlite3', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// Keeps up to WINDOW sends in flight on ws until stop.stop; returns the list of
// attempted sends. Acknowledgements are read from ws.events afterwards.
async function traffic(ws, label, chatIds, stop) {
  const attempted = [];
  let answered = 0;
  let scanned = 0;
  let i = 0;
  while (!stop.stop && !ws.closeInfo) {
    for (; scanned < ws.events.length; scanned++) {
      const t = ws.events[scanned].type;
      if (t === 'sent' || t === 'error') answered++;
    }
    if (attempted.length - answered < WINDOW) {
      const chat = chatIds[i % chatIds.length];
      const id = `${label}-${i}`;
      const text = `${label} message ${i}`;
      try {
        ws.send({ type: 'send', ref: id, chat_id: chat, id, text });
      } catch {
        break;
      }
      attempted.push({ chat, id, i, text });
      i++;
      if (i % 8 === 0) await new Promise((r) => setImmediate(r));
    } else {
      await ws.wait(1000);
    }
  }
  return attempted;
}

function acksOf(ws) {
  const m = new Map();
  for (const e of ws.events) if (e.type === 'sent') m.set(e.id, e);
  return m;
}

describe('09 crash: kill -9 under traffic', { timeout: 300000 * SLOW }, () => {
  let srv;
  let alice, bob, carol;
  let chatAB, chatAC;
  const attemptedAll = []; // {chat, id, sender}
  const ackedAll = new Map(); // id → sent event

  before(async () => {
    // --sync is SQLite's; on Cassandra every acknowledged write is in the
    // commit log of a quorum of replicas, whatever duetd does.
    srv = await startServer({ args: isCassandra ? [] : ['--sync', 'full'] });
    [alice, bob, carol] = await User.all(srv, ['alice', 'bob', 'carol']);
    chatAB = await befriend(alice, bob);
    chatAC = await befriend(alice, carol);
  });
  after(async () => {
    await srv?.stop();
  });

  // Checks the stored histories against everything acknowledged so far.
  async function verifyHistories(round) {
    const byChat = { [chatAB]: await fullHistory(alice, chatAB), [chatAC]: await fullHistory(alice, chatAC) };
    for (const [chat, h] of Object.entries(byChat)) {
      h.forEach((m, i) => assert.equal(m.seq, i + 1, `round ${round}: chat ${chat} has a gap or disorder at position ${i}: seq ${m.seq}`));
      const ids = h.map((m) => m.id);
      assert.equal(new Set(ids).size, ids.length, `round ${round}: a message id appears twice in ${chat}`);
    }
    const where = new Map();
    for (const [chat, h] of Object.entries(byChat)) for (const m of h) where.set(m.id, { ...m, chat });
    for (const [id, sent] of ackedAll) {
      const m = where.get(id);
      assert.ok(m, `round ${round}: acknowledged message ${id} (seq ${sent.seq}) is missing after the crash`);
      assert.equal(m.seq, sent.seq, `round ${round}: ${id} was acknowledged with seq ${sent.seq} but is stored at ${m.seq}`);
      assert.equal(m.chat, sent.chat_id);
    }
    const texts = new Map(attemptedAll.map((a) => [a.id, a.text]));
    for (const m of where.values()) {
      if (texts.has(m.id)) assert.equal(m.text, texts.get(m.id), `round ${round}: ${m.id} is stored with another text`);
    }
    // Per sender, the stored order is the sending order.
    for (const sender of ['alice', 'bob']) {
      for (const [chat, h] of Object.entries(byChat)) {
        const idx = h.filter((m) => m.id.startsWith(`${sender}-`)).map((m) => m.id);
        const order = idx.map((id) => attemptedAll.findIndex((a) => a.id === id));
        for (let k = 1; k < order.length; k++) {
          assert.ok(order[k] > order[k - 1], `round ${round}: ${sender}'s messages in ${chat} are stored out of sending order: ${idx[k - 1]} before ${idx[k]}`);
        }
      }
    }
    return byChat;
  }

  async function round(n) {
    const A = await alice.connect({ label: `alice-r${n}` });
    const B = await bob.connect({ label: `bob-r${n}` });
    const C = await carol.connect({ label: `carol-r${n}` });
    // carol acknowledges everything she gets, live or pending.
    let carolAck = 0;
    const ackCarol = (e) => {
      if (e.type === 'message' && e.chat_id === chatAC) {
        C.send({ type: 'ack', chat_id: chatAC, kind: 'message', seq: e.seq });
        carolAck = Math.max(carolAck, e.seq);
      }
    };
    C.pending.forEach(ackCarol);
    C.ws.on('message', (d) => {
      try {
        ackCarol(JSON.parse(d.toString()));
      } catch {}
    });
    const stop = { stop: false };
    const ta = traffic(A, `alice-r${n}`, [chatAB, chatAC], stop);
    const tb = traffic(B, `bob-r${n}`, [chatAB], stop);
    const deadline = Date.now() + 60000 * SLOW;
    const target = killAfter();
    await new Promise((resolve, reject) => {
      const check = () => {
        const acked = acksOf(A).size + acksOf(B).size;
        if (acked >= target) return resolve();
        if (Date.now() > deadline) return reject(new Error(`only ${acked} sends acknowledged within the deadline`));
        setTimeout(check, 2);
      };
      check();
    });
    await srv.crash();
    stop.stop = true;
    const [attA, attB] = await Promise.all([ta, tb]);
    await Promise.all([A.waitClosed(), B.waitClosed(), C.waitClosed()]);
    for (const a of attA) attemptedAll.push({ ...a, sender: 'alice' });
    for (const b of attB) attemptedAll.push({ ...b, sender: 'bob' });
    for (const ws of [A, B]) {
      const errs = ws.events.filter((e) => e.type === 'error');
      assert.deepEqual(errs, [], `${ws.label}: sends failed before the crash`);
      for (const [id, e] of acksOf(ws)) {
        assert.equal(e.duplicate, false, `${id}: a first send reported duplicate`);
        ackedAll.set(id, e);
      }
    }
    const unacked = attemptedAll.filter((a) => !ackedAll.has(a.id));
    return { carolAck, unacked, aliceSession: alice.session };
  }

  async function restartAndVerify(n, info) {
    srv = await srv.restart();
    // Sessions survive the crash.
    expectStatus(await alice.http.get('/api/me'), 200, 'alice\'s session after the crash:');
    const byChat = await verifyHistories(n);
    // bob never acknowledges: every message of alice in AB is pending, once, in order.
    const B = await bob.connect({ label: `bob-resume-${n}` });
    const fromAlice = byChat[chatAB].filter((m) => m.from === alice.id);
    const pend = B.pending.filter((e) => e.type === 'message');
    assert.deepEqual(pend.map((e) => e.seq), fromAlice.map((m) => m.seq), `round ${n}: bob's replay after the crash`);
    assert.ok(pend.every((e) => e.chat_id === chatAB && e.pending === true));
    assert.deepEqual(pend.map((e) => e.text), fromAlice.map((m) => m.text));
    await B.close();
    // carol acknowledged up to some point; the replay is the rest, in order.
    const C = await carol.connect({ label: `carol-resume-${n}` });
    const cp = C.pending.filter((e) => e.type === 'message').map((e) => e.seq);
    const last = byChat[chatAC].length;
    const firstPending = cp.length ? cp[0] : last + 1;
    assert.deepEqual(cp, Array.from({ length: last - firstPending + 1 }, (_, k) => firstPending + k), `round ${n}: carol's replay must be a contiguous tail`);
    assert.ok(firstPending - 1 <= info.carolAck, `round ${n}: messages carol never acknowledged are missing from her replay`);
    if (cp.length) C.send({ type: 'ack', chat_id: chatAC, kind: 'message', seq: cp.at(-1) });
    await C.ping();
    await C.close();
    // Resending every unacknowledged id: stored ones are duplicates with their
    // seq, the others are stored now. Afterwards every attempted id exists once.
    const A = await alice.connect({ label: `alice-resend-${n}` });
    const Bs = await bob.connect({ label: `bob-resend-${n}` });
    const stored = new Map();
    for (const h of Object.values(byChat)) for (const m of h) stored.set(m.id, m);
    for (const u of info.unacked) {
      const ws = u.sender === 'alice' ? A : Bs;
      const ev = await ws.request({ type: 'send', chat_id: u.chat, id: u.id, text: u.text });
      assert.equal(ev.type, 'sent', `resend of ${u.id}: ${JSON.stringify(ev)}`);
      if (stored.has(u.id)) {
        assert.equal(ev.duplicate, true, `${u.id} was stored before the crash; resending it must be a duplicate`);
        assert.equal(ev.seq, stored.get(u.id).seq);
      } else {
        assert.equal(ev.duplicate, false, `${u.id} was not stored; resending stores it`);
      }
      ackedAll.set(u.id, ev);
    }
    await Promise.all([A.close(), Bs.close()]);
    const final = await verifyHistories(`${n} after resends`);
    const allIds = new Set([...final[chatAB], ...final[chatAC]].map((m) => m.id));
    for (const a of attemptedAll) assert.ok(allIds.has(a.id), `${a.id} missing after resend`);
  }

  for (let n = 1; n <= ROUNDS; n++) {
    it(`round ${n} of ${ROUNDS}: kill -9 under traffic at a random moment, restart, verify`, async (t) => {
      const before = ackedAll.size;
      const info = await round(n);
      assert.ok(ackedAll.size > before, 'the round acknowledged sends before the kill');
      t.diagnostic(`attempted ${attemptedAll.length}, acknowledged ${ackedAll.size}, unacked ${info.unacked.length}, carol acked up to ${info.carolAck}`);
      await restartAndVerify(n, info);
    });
  }

  const sqliteOnly = isCassandra && 'SQLite only: PRAGMA integrity_check of duet.db (the rounds above run on Cassandra too)';
  it('the database passes integrity_check after a clean stop', { skip: sqliteOnly }, async () => {
    assert.ok(hasSqlite3(), 'the sqlite3 CLI is needed (scripts/install-test-deps.sh installs it)');
    const dir = srv.dataDir;
    const s = srv;
    srv = null;
    await s.stop({ keepData: true });
    try {
      const out = execFileSync('sqlite3', [`${dir}/duet.db`, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim();
      assert.equal(out, 'ok');
    } finally {
      s.cleanup();
    }
  });
});
