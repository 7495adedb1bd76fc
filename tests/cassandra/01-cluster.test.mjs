// 01 - duetd on a 3-node Cassandra cluster (RF 3, QUORUM) under failures.
//
// One cluster for the file (127.0.1.1-3, scripts/cassandra.sh; starting one
// takes about a minute) and one duetd on it:
//  - kill -9 of a node, then of the seed, under steady traffic between
//    several friend pairs: messages keep flowing; the node comes back;
//    every message a sender got `sent` for is in the history exactly once
//    and in order, and reached the recipient exactly once, in order;
//  - two of three replicas frozen (SIGSTOP): QUORUM cannot be reached, so
//    no send may be acknowledged until they thaw; the sender's retries with
//    the same client ids then store each message exactly once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SLOW, startServer, waitFor } from '../integration/lib/server.mjs';
import { User, befriend, fullHistory } from '../integration/lib/client.mjs';
import { Chatter } from '../cluster/lib/chatter.mjs';
import { Nodes } from './lib/nodes.mjs';

const RF3 = "{'class':'SimpleStrategy','replication_factor':3}";
// Errors a send may get while the store cannot reach enough replicas; a
// client retries them with the same id (as the web client does).
const RETRYABLE = new Set(['store_failed', 'busy', 'unavailable', 'timeout']);
// Each client keeps at most this many sends unanswered, as a person does:
// an open-loop stream would outrun a 3-node cluster on a loaded 2-core
// machine and only measure the queue's growth.
const MAX_OUTSTANDING = 2;
// Liveness, not speed: every send must be answered (sent or an error)
// within this, whatever the nodes do. duetd's own bound is a few request
// timeouts (12 s each, docs/cassandra.md), and a send may wait behind the
// other sends of its chat (at most 3 here); this leaves a margin.
const ANSWER_BOUND_MS = 300000 * SLOW;

// A Chatter that resends a send refused with a retryable store error after a
// short pause, with the same id, and counts such refusals; anything else is
// still a violation.
class RetryingChatter extends Chatter {
  constructor(...a) {
    super(...a);
    this.refusals = [];
    this.asked = new Map(); // id -> when its oldest unanswered frame went out
  }

  sendFrame(obj) {
    if (obj.type === 'send' && !this.asked.has(obj.id)) this.asked.set(obj.id, Date.now());
    super.sendFrame(obj);
  }

  // Records a violation for every send unanswered for longer than the bound.
  checkLiveness() {
    const now = Date.now();
    for (const [id, t] of this.asked) {
      if (now - t > ANSWER_BOUND_MS) {
        this.violation(`send ${id} unanswered for ${now - t} ms`);
        this.asked.delete(id);
      }
    }
  }

  onEvent(conn, ev) {
    if (ev.type === 'sent') this.asked.delete(ev.id);
    if (ev.type === 'error' && ev.request === 'send') this.asked.delete(ev.ref);
    if (ev.type === 'error' && ev.request === 'send' && RETRYABLE.has(ev.code)) {
      this.refusals.push(ev);
      const s = this.sends.get(ev.ref);
      if (s && s.seq == null) setTimeout(() => this.sendFrame({ type: 'send', ref: s.id, chat_id: s.chat, id: s.id, text: s.text }), 200);
      this.events.push(ev);
      this.notify();
      return;
    }
    super.onEvent(conn, ev);
  }
}

function totalAcked(pairs) {
  let n = 0;
  for (const p of pairs) for (const c of [p.a, p.b]) for (const s of c.sends.values()) if (s.seq != null) n++;
  return n;
}

// Every acknowledged send is in the history once, at the seq it was
// acknowledged with; the history is 1..N with no gap; each sender's messages
// are stored in its sending order.
async function checkHistory(p) {
  const h = await fullHistory(p.a.user, p.chat);
  h.forEach((m, i) => assert.equal(m.seq, i + 1, `${p.chat}: gap or disorder at position ${i} (seq ${m.seq})`));
  const byId = new Map();
  for (const m of h) {
    assert.ok(!byId.has(m.id), `${p.chat}: message id ${m.id} is stored twice`);
    byId.set(m.id, m);
  }
  for (const c of [p.a, p.b]) {
    let last = 0;
    for (const s of c.sends.values()) {
      if (s.seq == null) continue;
      const m = byId.get(s.id);
      assert.ok(m, `${c.label}: acknowledged ${s.id} (seq ${s.seq}) is not in the history`);
      assert.equal(m.seq, s.seq, `${c.label}: ${s.id} acknowledged with seq ${s.seq}, stored at ${m.seq}`);
      assert.equal(m.text, s.text);
      assert.equal(m.from, c.id);
      assert.ok(m.seq > last, `${c.label}: ${s.id} stored before an earlier send`);
      last = m.seq;
    }
  }
  return h;
}

describe('cassandra 01: a 3-node cluster under failures', { timeout: 1800000 }, () => {
  const nodes = new Nodes({ net: '127.0.1', count: 3 });
  let srv;

  before(async () => {
    await nodes.fresh();
    srv = await startServer({ cassandra: { hosts: nodes.hosts, replication: RF3, consistency: 'QUORUM' } });
  });
  after(async () => {
    try {
      await srv?.stop();
    } finally {
      await nodes.remove();
    }
  });

  async function makePairs(n, prefix) {
    const pairs = [];
    for (let i = 0; i < n; i++) {
      const [ua, ub] = await User.all(srv, [`${prefix}a${i}`, `${prefix}b${i}`]);
      const chat = await befriend(ua, ub);
      const a = new RetryingChatter(srv, ua);
      const b = new RetryingChatter(srv, ub);
      await a.connect();
      await b.connect();
      pairs.push({ a, b, chat });
    }
    return pairs;
  }

  it('kill -9 of a node and then of the seed under traffic: messages keep flowing, nothing acknowledged is lost or doubled', async (t) => {
    const pairs = await makePairs(4, 'k');
    let k = 0;
    const timer = setInterval(() => {
      k++;
      for (const p of pairs) {
        for (const [c, who] of [[p.a, 'a'], [p.b, 'b']]) {
          c.checkLiveness();
          if (c.unacked() < MAX_OUTSTANDING) c.send(p.chat, `${who} says ${k}`);
        }
      }
    }, 50);
    try {
      await waitFor(() => totalAcked(pairs) >= 100, 'traffic before the first kill', 60000 * SLOW, 50);
      for (const victim of [3, 1]) {
        await nodes.kill(victim);
        assert.equal(nodes.pid(victim), null, `node ${victim} is gone`);
        const before = totalAcked(pairs);
        await waitFor(() => totalAcked(pairs) >= before + 200, `200 more acknowledged sends with node ${victim} down`, 120000 * SLOW, 50);
        await nodes.restart(victim);
        const back = totalAcked(pairs);
        await waitFor(() => totalAcked(pairs) >= back + 100, `100 more acknowledged sends after node ${victim} is back`, 120000 * SLOW, 50);
      }
    } finally {
      clearInterval(timer);
    }
    for (const p of pairs) {
      for (const c of [p.a, p.b]) await c.until(() => c.unacked() === 0, `${c.label}: every send acknowledged`, 120000 * SLOW);
    }
    const refusals = pairs.flatMap((p) => [...p.a.refusals, ...p.b.refusals]);
    t.diagnostic(`${totalAcked(pairs)} sends acknowledged; ${refusals.length} refused once and resent (${[...new Set(refusals.map((e) => e.code))].join(', ') || 'none'})`);
    for (const p of pairs) {
      const h = await checkHistory(p);
      assert.equal(h.length, p.a.sends.size + p.b.sends.size, `${p.chat}: the history holds exactly the acknowledged sends`);
      // Delivery: the recipient got each acknowledged message once, in order.
      for (const [from, to] of [[p.a, p.b], [p.b, p.a]]) {
        const want = [...from.sends.values()].map((s) => s.seq).sort((x, y) => x - y);
        await to.until(() => to.received(p.chat).length >= want.length, `${to.label}: ${want.length} messages from ${from.label}`, 60000 * SLOW);
        assert.deepEqual(to.received(p.chat), want, `${to.label} got ${from.label}'s messages exactly once, in order`);
        for (const s of from.sends.values()) assert.equal(to.chats.get(p.chat).msgs.get(s.seq).id, s.id);
      }
      assert.deepEqual([...p.a.violations, ...p.b.violations], []);
    }
    await Promise.all(pairs.flatMap((p) => [p.a.close(), p.b.close()]));
  });

  it('with two of three replicas frozen no send is acknowledged; retries with the same ids store each message once', async (t) => {
    const [alice, bob] = await User.all(srv, ['frozen_a', 'frozen_b']);
    const chat = await befriend(alice, bob);
    const A = await alice.connect();
    const B = await bob.connect();
    const first = await A.request({ type: 'send', chat_id: chat, id: 'before-freeze', text: 'before' });
    assert.equal(first.type, 'sent');

    const ids = Array.from({ length: 6 }, (_, i) => `frozen-${i}`);
    nodes.pause(2);
    nodes.pause(3);
    let thawed = false;
    try {
      const mark = A.events.length;
      const logMark = srv.stderr.length;
      for (const id of ids) A.send({ type: 'send', ref: id, chat_id: chat, id, text: `text of ${id}` });
      // duetd either refuses (a timeout or unavailable from Cassandra) or
      // holds the sends; either way none may be acknowledged. Wait for the
      // refusals, or for the store's timeout to show in the log.
      const answered = () => A.events.slice(mark).filter((e) => (e.type === 'error' || e.type === 'sent') && ids.includes(e.ref));
      await waitFor(
        () => answered().length === ids.length || /timeout|timed out|unavailable/i.test(srv.stderr.slice(logMark)),
        'duetd to notice that the writes do not reach a quorum',
        120000 * SLOW,
        100,
      );
      const acked = answered().filter((e) => e.type === 'sent');
      assert.deepEqual(acked, [], 'a send was acknowledged while only one of three replicas could store it');
      t.diagnostic(`while frozen: ${answered().length} of ${ids.length} sends answered, all with errors: ${[...new Set(answered().map((e) => e.code))].join(', ')}`);
      for (const e of answered()) assert.ok(RETRYABLE.has(e.code), `unexpected refusal ${JSON.stringify(e)}`);
      nodes.resume(2);
      nodes.resume(3);
      thawed = true;
      // The client retries every send that was refused or not answered, with
      // the same id. A write that timed out may have reached a replica after
      // all; then the retry is a duplicate of it, never a second copy.
      await nodes.waitRing();
      const results = new Map();
      for (const id of ids) {
        // The first answer to the original send (it may come only now)...
        let ev = await A.next(null, (e) => e.ref === id && (e.type === 'sent' || e.type === 'error'), 120000 * SLOW);
        if (ev.type === 'error') {
          assert.ok(RETRYABLE.has(ev.code), `unexpected refusal ${JSON.stringify(ev)}`);
          // ...and if it was a refusal, retries with the same id until stored.
          ev = await waitFor(async () => {
            const r = await A.request({ type: 'send', chat_id: chat, id, text: `text of ${id}` }, 60000 * SLOW);
            assert.ok(r.type === 'sent' || RETRYABLE.has(r.code), `unexpected answer to a retry: ${JSON.stringify(r)}`);
            return r.type === 'sent' ? r : null;
          }, `the retry of ${id} to be stored`, 120000 * SLOW, 500);
        }
        results.set(id, ev);
      }
      const h = await fullHistory(alice, chat);
      h.forEach((m, i) => assert.equal(m.seq, i + 1, `gap or disorder at position ${i}`));
      for (const id of ids) {
        const copies = h.filter((m) => m.id === id);
        assert.equal(copies.length, 1, `${id} is stored ${copies.length} times`);
        assert.equal(copies[0].seq, results.get(id).seq, `${id}: acknowledged seq and stored seq differ`);
      }
      // bob gets each one exactly once.
      const got = [];
      for (const id of ids) {
        const m = await B.next('message', (e) => e.id === id, 60000 * SLOW);
        got.push(m.id);
      }
      assert.deepEqual(got.sort(), [...ids].sort());
      await B.expectNo('message', 500, (e) => ids.includes(e.id));
      t.diagnostic(`after the thaw: ${[...results.values()].filter((e) => e.duplicate).length} of the retries were duplicates of a write that had landed`);
    } finally {
      if (!thawed) {
        nodes.resume(2);
        nodes.resume(3);
      }
      await A.close();
      await B.close();
    }
  });
});
