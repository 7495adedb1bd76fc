// 92 - presence when the store is busy: a friend going offline while the
// store's queue is full is still pushed, with the time they left, and their
// last seen is stored, once the store catches up. Before, the change was
// dropped: the friend stayed "online" until something else moved.
//
// SQLite only: the queue is made full by holding the database's write lock
// from the sqlite3 CLI (the writer then waits, up to its 5 s busy timeout)
// with a queue of 4 requests (hidden option --store-max-inflight).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { isCassandra, sleep, startServer } from './lib/server.mjs';
import { HttpClient, User, befriend, chatWith, expectStatus } from './lib/client.mjs';

async function counter(srv, name) {
  const r = expectStatus(await new HttpClient(srv).get('/metrics'), 200);
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(r.text);
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
}

// Holds a write transaction on the database until release() is called.
async function holdWriteLock(dbPath) {
  const p = spawn('sqlite3', [dbPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((resolve) => p.on('close', resolve));
  p.stdin.write(".timeout 5000\nBEGIN IMMEDIATE;\nSELECT 'held';\n");
  const deadline = Date.now() + 5000;
  while (!out.includes('held')) {
    assert.ok(Date.now() < deadline && p.exitCode === null, `sqlite3 did not take the lock: ${err}`);
    await sleep(20);
  }
  return {
    async release() {
      p.stdin.end('COMMIT;\n');
      const code = await exited;
      assert.equal(code, 0, `sqlite3 exited ${code}: ${err}`);
    },
  };
}

describe('92 presence when the store is busy', { timeout: 120000, skip: isCassandra && 'SQLite only: the queue is filled by holding its write lock' }, () => {
  let srv;
  let alice, bob, carol, dave, chatAB, chatCD;
  before(async () => {
    srv = await startServer({ args: ['--store-max-inflight', '4'] });
    // One at a time: four sign-ups at once can fill a queue of 4 and be
    // answered busy, which is this test's subject, not its set-up's.
    const users = [];
    for (const n of ['alice', 'bob', 'carol', 'dave']) users.push(await User.signup(srv, n));
    [alice, bob, carol, dave] = users;
    chatAB = await befriend(alice, bob);
    chatCD = await befriend(carol, dave);
  });
  after(async () => {
    await srv?.stop();
  });

  // Bob watches Alice; the store's queue is made full (Carol's sends wait
  // for the lock held here, the rest are answered busy: one socket each,
  // since a socket's answers keep request order and a busy answer behind a
  // waiting send would wait too); then Alice leaves, and her offline change
  // is refused busy and queued. Returns what the case needs.
  async function aliceLeavesWhileBusy(tag) {
    const B = await bob.connect();
    const A = await alice.connect();
    await B.next('presence', (e) => e.user === alice.id && e.online === true);
    const Cs = [];
    for (let i = 0; i < 6; i++) Cs.push(await carol.connect());
    const retriedBefore = await counter(srv, 'duet_store_retried_total');
    const lock = await holdWriteLock(srv.dbPath);
    Cs.forEach((c, i) => c.send({ type: 'send', ref: `${tag}${i}`, chat_id: chatCD, id: `${tag}-${i}`, text: `${tag}${i}` }));
    const busy = await Promise.any(Cs.map((c) => c.next('error', (e) => e.code === 'busy')));
    assert.equal(busy.request, 'send');
    const t0 = Date.now();
    await A.close();
    const t1 = Date.now();
    const until = Date.now() + 3000;
    while ((await counter(srv, 'duet_store_retried_total')) === retriedBefore) {
      assert.ok(Date.now() < until, 'the last-seen write was refused busy and queued to be tried again');
      await sleep(50);
    }
    return { B, Cs, lock, t0, t1 };
  }

  it('going offline while the queue is full: pushed and stored once it drains', async () => {
    const { B, Cs, lock, t0, t1 } = await aliceLeavesWhileBusy('busy');
    let released = false;
    try {
      await B.expectNo('presence', 200, (e) => e.user === alice.id);
      await lock.release();
      released = true;
      const off = await B.next('presence', (e) => e.user === alice.id && e.online === false, 20000);
      assert.ok(off.last_seen >= t0 - 1000 && off.last_seen <= t1 + 1000, `last_seen ${off.last_seen} is when alice left (${t0}..${t1})`);
      const c = await chatWith(bob, chatAB);
      assert.equal(c.peer.online, false);
      assert.equal(c.peer.last_seen, off.last_seen, 'the stored last seen is the pushed one');
      assert.equal(await counter(srv, 'duet_store_retry_dropped_total'), 0);
    } finally {
      if (!released) await lock.release();
      await B.close();
      for (const c of Cs) await c.close();
    }
  });

  it('a shutdown while a change waits to be tried again exits cleanly', async () => {
    const { lock } = await aliceLeavesWhileBusy('stop');
    let released = false;
    try {
      // SIGTERM now; the lock goes a moment later so that the queued sends
      // can finish and the store can drain. stop() fails on an exit code
      // other than 0 and on any sanitizer report (a leaked change).
      const s = srv;
      srv = null;
      const stopping = s.stop();
      await sleep(300);
      await lock.release();
      released = true;
      await stopping;
    } finally {
      if (!released) await lock.release();
    }
  });
});
