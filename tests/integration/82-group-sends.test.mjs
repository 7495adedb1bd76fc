// 82 - many sends of one chat in flight at once (issue 19): on Cassandra
// the store claims their sequence numbers as a group (one LWT for up to 32
// sends, docs/cassandra.md "Group claims"); on SQLite they go through its
// writer's batch. The contract is the same: every send is stored exactly
// once, in the order its socket sent it, without gaps; a retry inside the
// burst answers the first one's seq with duplicate: true; a refused send
// (blocked, id_conflict, the backlog ceiling) takes no sequence number; a
// withheld one takes one and stays withheld.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NO_RATE_LIMIT, startServer } from './lib/server.mjs';
import { User, befriend, burst, expectStatus, fullHistory } from './lib/client.mjs';

const send = (ref, chat, id, text) => ({ type: 'send', ref, chat_id: chat, id, text });

// The stored history has seqs 1..n, each id once (a withheld placeholder
// shows no id).
function assertGapFree(hist) {
  assert.deepEqual(hist.map((m) => m.seq), hist.map((_, i) => i + 1), 'seqs 1..n, no gap');
  const ids = hist.filter((m) => !m.withheld).map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length, 'every id stored once');
}

// Within one socket, the sent seqs increase in request order.
function assertIncreasing(answers, what) {
  const seqs = answers.filter((a) => a.type === 'sent' && !a.duplicate).map((a) => a.seq);
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], `${what}: ${seqs}`);
}

describe('82 group sends: bursts of one chat from both members', { timeout: 300000 }, () => {
  let srv, amy, ben, cal, dee;
  before(async () => {
    srv = await startServer({ args: [...NO_RATE_LIMIT] });
    [amy, ben, cal, dee] = await User.all(srv, ['amy', 'ben', 'cal', 'dee']);
  });
  after(async () => {
    await srv?.stop();
  });

  it('two tabs and the peer at once, retries and a conflict inside: exactly once, in order, no gap', async () => {
    const chat = await befriend(amy, ben);
    const A1 = await amy.connect({ label: 'A1' });
    const A2 = await amy.connect({ label: 'A2' });
    const B = await ben.connect({ label: 'B' });
    const N = 60;
    const a1 = [], a2 = [], b = [];
    for (let i = 0; i < N; i++) {
      a1.push(send(`a1-${i}`, chat, `a-${i}`, `amy ${i}`));
      // The same tab retries some of its ids right away, inside the burst.
      if (i % 10 === 3) a1.push(send(`a1-${i}-again`, chat, `a-${i}`, `amy ${i}`));
      b.push(send(`b-${i}`, chat, `b-${i}`, `ben ${i}`));
      // Ben reuses one of Amy's ids: refused (id_conflict), no seq taken.
      if (i === N / 2) b.push(send(`b-steal`, chat, 'a-5', 'mine now'));
    }
    // The other tab: its own sends and retries of the first tab's ids.
    for (let i = 0; i < 20; i++) a2.push(send(`a2-${i}`, chat, i % 4 === 0 ? `a-${i * 2}` : `a2-${i}`, i % 4 === 0 ? `amy ${i * 2}` : `amy2 ${i}`));
    const [ra1, ra2, rb] = await Promise.all([burst(A1, a1), burst(A2, a2), burst(B, b)]);

    const byRef = new Map();
    for (const [frames, answers] of [[a1, ra1], [a2, ra2], [b, rb]]) frames.forEach((f, i) => byRef.set(f.ref, { f, a: answers[i] }));
    const steal = byRef.get('b-steal').a;
    assert.equal(steal.type, 'error', JSON.stringify(steal));
    assert.equal(steal.code, 'id_conflict');
    // Every other send is sent; one message per id, whoever answered first.
    const seqOf = new Map();
    for (const { f, a } of byRef.values()) {
      if (f.ref === 'b-steal') continue;
      assert.equal(a.type, 'sent', `${f.ref}: ${JSON.stringify(a)}`);
      assert.equal(a.id, f.id);
      if (seqOf.has(f.id)) assert.equal(a.seq, seqOf.get(f.id), `${f.id}: the same seq for every answer`);
      else seqOf.set(f.id, a.seq);
    }
    // Each id has exactly one answer with duplicate: false.
    const fresh = new Map();
    for (const { f, a } of byRef.values()) {
      if (a.type !== 'sent' || a.duplicate) continue;
      assert.ok(!fresh.has(f.id), `${f.id} answered as new twice`);
      fresh.set(f.id, a.seq);
    }
    assert.equal(fresh.size, seqOf.size, 'every id was new once');
    assert.equal(seqOf.size, 2 * N + 15, 'distinct ids');
    assertIncreasing(ra1, 'A1');
    assertIncreasing(ra2, 'A2');
    assertIncreasing(rb, 'B');

    const hist = await fullHistory(ben, chat);
    assert.equal(hist.length, seqOf.size);
    assertGapFree(hist);
    for (const m of hist) {
      assert.equal(seqOf.get(m.id), m.seq, `${m.id} stored at its answered seq`);
      assert.equal(m.text, m.id.startsWith('b-') ? `ben ${m.id.slice(2)}` : m.id.startsWith('a2-') ? `amy2 ${m.id.slice(3)}` : `amy ${m.id.slice(2)}`);
    }
    // Ben got Amy's messages live, once each, in seq order.
    const amyIds = [...seqOf.keys()].filter((id) => id.startsWith('a'));
    const live = [];
    const fromAmy = (e) => e.chat_id === chat && e.from === amy.id;
    while (live.length < amyIds.length) live.push(await B.next('message', fromAmy));
    assert.deepEqual(live.map((e) => e.seq), [...live.map((e) => e.seq)].sort((x, y) => x - y), 'live in seq order');
    assert.equal(new Set(live.map((e) => e.seq)).size, live.length, 'each once');
    await B.expectNo('message', 300, fromAmy);
    await Promise.all([A1.close(), A2.close(), B.close()]);
  });

  it('a block in the middle: the blocker\'s sends are refused and take no seq; the other\'s are withheld, gap-free', async () => {
    const chat = await befriend(cal, dee);
    const C = await cal.connect({ label: 'C' });
    const D = await dee.connect({ label: 'D' });
    const first = await C.request(send('c-0', chat, 'c-0', 'before'));
    assert.equal(first.seq, 1);
    expectStatus(await cal.http.put(`/api/blocks/${dee.username}`), 204);
    const c = [], d = [];
    for (let i = 1; i <= 30; i++) {
      c.push(send(`c-${i}`, chat, `c-${i}`, `cal ${i}`));
      d.push(send(`d-${i}`, chat, `d-${i}`, `dee ${i}`));
    }
    const [rc, rd] = await Promise.all([burst(C, c), burst(D, d)]);
    for (const a of rc) assert.equal(a.code, 'blocked', JSON.stringify(a));
    rd.forEach((a, i) => {
      assert.equal(a.type, 'sent', JSON.stringify(a));
      assert.equal(a.duplicate, false);
      assert.equal(a.seq, i + 2, 'dee\'s sends take 2..31: cal\'s refused ones took none');
    });
    const hd = await fullHistory(dee, chat);
    assertGapFree(hd);
    assert.equal(hd.length, 31);
    assert.ok(hd.every((m) => !('withheld' in m)), 'the sender is never told');
    const hc = await fullHistory(cal, chat);
    assertGapFree(hc);
    assert.ok(hc.slice(1).every((m) => m.withheld === true && m.text === ''), 'withheld from the blocker');
    await C.expectNo('message', 300, (e) => e.chat_id === chat);
    await Promise.all([C.close(), D.close()]);
  });
});

describe('82 group sends: the backlog ceiling inside a burst (--max-pending 5)', { timeout: 300000 }, () => {
  let srv, eve, fay;
  before(async () => {
    srv = await startServer({ args: [...NO_RATE_LIMIT, '--max-pending', '5'] });
    [eve, fay] = await User.all(srv, ['eve', 'fay']);
  });
  after(async () => {
    await srv?.stop();
  });

  it('the 6th to an offline receiver is refused and takes no seq; the other way still flows', async () => {
    const chat = await befriend(eve, fay);
    const E = await eve.connect({ label: 'E' });
    // Fay is online and acks nothing: her pending rows stay.
    const F2 = await fay.connect({ label: 'F2' });
    const e = [];
    for (let i = 1; i <= 9; i++) e.push(send(`e-${i}`, chat, `e-${i}`, `eve ${i}`));
    // Fay's own tab sends while eve's burst runs: eve is online but does not ack.
    const f = [];
    for (let i = 1; i <= 3; i++) f.push(send(`f-${i}`, chat, `f-${i}`, `fay ${i}`));
    const [re, rf] = await Promise.all([burst(E, e), burst(F2, f)]);
    // Eve's first 5 go, the rest are refused.
    const sent = re.filter((a) => a.type === 'sent');
    assert.equal(sent.length, 5, JSON.stringify(re));
    re.slice(0, 5).forEach((a) => assert.equal(a.type, 'sent'));
    re.slice(5).forEach((a) => assert.equal(a.code, 'recipient_backlog_full', JSON.stringify(a)));
    for (const a of rf) assert.equal(a.type, 'sent', JSON.stringify(a));
    const h = await fullHistory(eve, chat);
    assertGapFree(h);
    assert.equal(h.length, 8, 'refused sends took no seq');
    assert.deepEqual(h.filter((m) => m.id.startsWith('e-')).map((m) => m.id), ['e-1', 'e-2', 'e-3', 'e-4', 'e-5']);
    assertIncreasing(re, 'E');
    await Promise.all([E.close(), F2.close()]);
  });
});
