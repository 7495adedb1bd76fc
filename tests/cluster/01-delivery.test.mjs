// 01 - the server's delivery scenarios with the two users on different
// instances behind nginx: send/sent/message/ack, delivered and seen
// receipts, delete, typing, presence, pending replay, several tabs on
// several instances, concurrent sends, session ends, blocks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { User, befriend, chatWith, expectStatus } from '../integration/lib/client.mjs';
import { sleep } from '../integration/lib/server.mjs';
import { startCluster } from './lib/cluster.mjs';
import { Chatter, checkDelivery, checkGapless } from './lib/chatter.mjs';

describe('01 delivery across instances', { timeout: 300000 }, () => {
  let cl;
  let n = 0;
  // A user whose HTTP and WebSocket traffic reaches instance i.
  async function userOn(i, name) {
    const u = await User.signup(cl.endpoint, `${name}${++n}`, { localAddress: cl.addrFor(i) });
    return u;
  }
  async function chatterOn(user, label) {
    const c = new Chatter(cl, user, label);
    await c.connect();
    return c;
  }
  before(async () => {
    cl = await startCluster();
  });
  after(async () => {
    await cl?.stop();
  });

  it('clients land where ip_hash sends them, and hello names the instance', async () => {
    for (let i = 1; i <= 4; i++) {
      const u = await userOn(i, 'land');
      const c = await chatterOn(u);
      assert.equal(c.instance, `duet-${i}`);
      const h = await u.http.get('/healthz');
      assert.equal(h.json.instance, `duet-${i}`);
      assert.equal(h.headers['x-duet-instance'], `duet-${i}`);
      await c.close();
    }
  });

  it('send, sent, message, ack → delivered, seen → seen, delete, typing across instances', async () => {
    const alice = await userOn(1, 'alice');
    const bob = await userOn(2, 'bob');
    const chat = await befriend(alice, bob);
    const A = await chatterOn(alice);
    const B = await chatterOn(bob);
    assert.equal(A.instance, 'duet-1');
    assert.equal(B.instance, 'duet-2');

    const id = A.send(chat, 'hello across');
    const s = await A.sent(id);
    assert.equal(s.seq, 1);
    const m = await B.seen('message', (e) => e.id === id);
    assert.equal(m.text, 'hello across');
    assert.equal(m.from, alice.id);
    assert.equal(m.pending, undefined, 'live, not replayed');
    // B acks every message: alice hears it was delivered.
    const d = await A.seen('receipt', (e) => e.status === 'delivered' && e.seq === s.seq);
    assert.equal(d.chat_id, chat);
    // seen → seen receipt to alice (on another instance).
    B.sendFrame({ type: 'seen', chat_id: chat, seq: s.seq });
    await A.seen('receipt', (e) => e.status === 'seen' && e.seq === s.seq);
    // typing reaches the peer's instance.
    B.sendFrame({ type: 'typing', chat_id: chat });
    const t = await A.seen('typing', (e) => e.from === bob.id);
    assert.equal(t.chat_id, chat);
    // delete for everyone: bob's connection on duet-2 gets deleted.
    A.sendFrame({ type: 'delete', ref: 'del1', chat_id: chat, seq: s.seq });
    await A.seen('deleted', (e) => e.ref === 'del1');
    const del = await B.seen('deleted', (e) => e.seq === s.seq);
    assert.equal(del.id, id);
    await checkDelivery(A, B, chat);
    await A.close();
    await B.close();
  });

  it('presence: online and offline with last seen reach a friend on another instance', async () => {
    const alice = await userOn(1, 'pa');
    const bob = await userOn(3, 'pb');
    const chat = await befriend(alice, bob);
    const A = await chatterOn(alice);
    let c = await chatWith(alice, chat);
    assert.equal(c.peer.online, false);
    const B = await chatterOn(bob);
    await A.seen('presence', (e) => e.user === bob.id && e.online === true);
    c = await chatWith(alice, chat);
    assert.equal(c.peer.online, true, 'the chat list (served by duet-1) sees bob online on duet-3');
    const t0 = Date.now();
    await B.close();
    const off = await A.seen('presence', (e) => e.user === bob.id && e.online === false);
    assert.ok(off.last_seen >= t0 - 2000 && off.last_seen <= Date.now() + 2000, `last_seen ${off.last_seen} near ${t0}`);
    c = await chatWith(alice, chat);
    assert.equal(c.peer.online, false);
    assert.equal(c.peer.last_seen, off.last_seen, 'the stored last seen is the pushed one');
    await A.close();
  });

  it('messages to an offline user are replayed on connect, in order, then live', async () => {
    const alice = await userOn(2, 'oa');
    const bob = await userOn(4, 'ob');
    const chat = await befriend(alice, bob);
    const A = await chatterOn(alice);
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push(A.send(chat, `offline ${i}`));
    for (const id of ids) await A.sent(id);
    const B = await chatterOn(bob);
    assert.equal(B.instance, 'duet-4');
    const pend = B.events.filter((e) => e.type === 'message' && e.pending);
    assert.deepEqual(pend.map((e) => e.id), ids, 'the backlog, in order');
    const live = A.send(chat, 'now live');
    await A.sent(live);
    const ev = await B.seen('message', (e) => e.id === live);
    assert.equal(ev.pending, undefined);
    await checkDelivery(A, B, chat);
    await A.close();
    await B.close();
  });

  it('one user with two tabs on two instances: both get everything, in order', async () => {
    const alice = await userOn(1, 'ta');
    const bob = await userOn(2, 'tb');
    const chat = await befriend(alice, bob);
    const phone = await alice.device(cl.addrFor(3));
    const A1 = await chatterOn(alice, 'alice-tab1');
    const A2 = await chatterOn(phone, 'alice-tab2');
    const B = await chatterOn(bob);
    assert.equal(A1.instance, 'duet-1');
    assert.equal(A2.instance, 'duet-3');
    for (let i = 0; i < 30; i++) B.send(chat, `to both tabs ${i}`);
    for (let i = 0; i < 10; i++) A1.send(chat, `from tab1 ${i}`);
    await Promise.all([...B.sends.keys()].map((id) => B.sent(id)));
    await Promise.all([...A1.sends.keys()].map((id) => A1.sent(id)));
    await checkDelivery(B, A1, chat);
    await checkDelivery(B, A2, chat);
    await checkDelivery(A1, B, chat);
    // tab2 sees tab1's messages (its own user's) as message events too.
    for (const s of A1.sends.values()) await A2.seen('message', (e) => e.id === s.id && e.from === alice.id);
    // seen on tab1 → read on tab2 (another instance).
    const last = Math.max(...[...B.sends.values()].map((s) => s.seq));
    A1.sendFrame({ type: 'seen', chat_id: chat, seq: last });
    const r = await A2.seen('read', (e) => e.chat_id === chat);
    assert.equal(r.seq, last);
    await Promise.all([A1.close(), A2.close(), B.close()]);
  });

  it('concurrent sends from both sides on two instances: one agreed, gap-free order', async () => {
    const alice = await userOn(3, 'ca');
    const bob = await userOn(4, 'cb');
    const chat = await befriend(alice, bob);
    const A = await chatterOn(alice);
    const B = await chatterOn(bob);
    for (let i = 0; i < 60; i++) {
      A.send(chat, `a${i}`);
      B.send(chat, `b${i}`);
    }
    await Promise.all([...A.sends.keys()].map((id) => A.sent(id)));
    await Promise.all([...B.sends.keys()].map((id) => B.sent(id)));
    checkGapless(A, B, chat);
    await checkDelivery(A, B, chat);
    await checkDelivery(B, A, chat);
    await A.close();
    await B.close();
  });

  it('logout and password change end sessions on other instances', async () => {
    const alice = await userOn(1, 'la');
    const other = await alice.device(cl.addrFor(2));
    const third = await alice.device(cl.addrFor(3));
    const A1 = new Chatter(cl, alice, 'a1');
    const A2 = new Chatter(cl, other, 'a2');
    const A3 = new Chatter(cl, third, 'a3');
    for (const c of [A1, A2, A3]) {
      c.auto = false;
      await c.connect();
    }
    assert.deepEqual([A1.instance, A2.instance, A3.instance], ['duet-1', 'duet-2', 'duet-3']);
    // Logging out the duet-2 session from duet-2 itself closes only it.
    expectStatus(await other.http.post('/api/logout'), 204);
    await A2.until(() => A2.cur.closed, 'the logged-out socket to close');
    assert.equal(A2.cur.closed.code, 1008);
    // A password change from duet-1 ends the duet-3 session, keeps its own.
    const r = await alice.http.post('/api/me/password', { old_password: alice.password, new_password: 'a brand new password' });
    expectStatus(r, 204);
    await A3.until(() => A3.cur.closed, 'the other session to close');
    assert.equal(A3.cur.closed.code, 1008);
    assert.equal(A1.cur.closed, null, "the changing session's socket stays open");
    await A1.close();
  });

  it('a block on one instance stops typing and messages to the peer on another at once, unseen by the blocked one', async () => {
    const alice = await userOn(1, 'ba');
    const bob = await userOn(2, 'bb');
    const chat = await befriend(alice, bob);
    const A = await chatterOn(alice);
    const B = await chatterOn(bob);
    // Warm any cache of the typing check.
    B.sendFrame({ type: 'typing', chat_id: chat });
    await A.seen('typing', (e) => e.from === bob.id);
    const id0 = B.send(chat, 'before');
    await A.seen('message', (e) => e.id === id0);
    const mk = B.mark();
    expectStatus(await alice.http.put(`/api/blocks/${bob.username}`), 204);
    await A.seen('friends_changed', (e) => e.reason === 'blocked' && e.user.id === bob.id);
    // Bob is not told: he sees alice go offline with no last seen.
    const off = await B.after(mk, 'presence', (e) => e.user === alice.id);
    assert.equal(off.online, false);
    assert.equal(off.last_seen, null);
    const before = A.events.filter((e) => e.type === 'typing').length;
    // Past the typing throttle (1 s), bob types again: dropped silently.
    await new Promise((r) => setTimeout(r, 1100));
    B.sendFrame({ type: 'typing', ref: 'tb', chat_id: chat });
    // His messages look sent and are withheld from alice.
    const w1 = await B.sent(B.send(chat, 'withheld 1'));
    const w2 = await B.sent(B.send(chat, 'withheld 2'));
    assert.equal(w2.seq, w1.seq + 1);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(A.events.filter((e) => e.type === 'typing').length, before, 'no typing after the block');
    assert.equal(A.events.filter((e) => e.type === 'message' && e.seq >= w1.seq).length, 0, 'nothing reaches alice');
    const told = B.events.filter((e) => e.type === 'error' || (e.type === 'friends_changed' && e.user.id === alice.id));
    assert.equal(told.length, 0, 'bob hears of no block');
    // Unblocked: the next message crosses the gap of the withheld ones
    // (alice's instance fills it with placeholders) and arrives in order.
    expectStatus(await alice.http.del(`/api/blocks/${bob.username}`), 204);
    const id3 = B.send(chat, 'after');
    const m3 = await A.seen('message', (e) => e.id === id3);
    assert.equal(m3.seq, w2.seq + 1);
    const holes = A.events.filter((e) => e.type === 'message' && e.seq >= w1.seq && e.seq <= w2.seq);
    assert.ok(holes.every((e) => e.withheld === true && e.text === ''), `placeholders only: ${JSON.stringify(holes)}`);
    assert.deepEqual(A.violations, [], 'alice: in order, once');
    assert.deepEqual(B.violations, []);
    await A.close();
    await B.close();
  });

  it('cached friendship checks are forgotten at once: settings and unfriending take effect', async () => {
    const alice = await userOn(1, 'xa');
    const bob = await userOn(2, 'xb');
    const carol = await userOn(3, 'xc');
    await befriend(alice, bob);
    await befriend(carol, bob);
    const A = await chatterOn(alice);
    const C = await chatterOn(carol);
    let B = await chatterOn(bob);
    await A.seen('presence', (e) => e.user === bob.id && e.online);
    await B.close();
    let off = await A.seen('presence', (e) => e.user === bob.id && !e.online);
    assert.equal(typeof off.last_seen, 'number');
    const hex = bob.id.replace(/-/g, '');
    assert.match(cl.redis.cli('--scan', '--pattern', `duet:c:*:peers:${hex}`), /peers/, "bob's fan-out list is cached");
    // alice hides her last seen: she no longer sees bob's presence at all
    // (reciprocal; issue 14 item 4). The setting change itself tells her
    // "nothing"; then bob's fan-outs, from instance 2 with a list cached
    // before the change, must skip her: the cache was forgotten at once.
    let mark = A.mark();
    expectStatus(await alice.http.patch('/api/me', { last_seen: 'nobody' }), 200);
    off = await A.after(mark, 'presence', (e) => e.user === bob.id);
    assert.deepEqual([off.online, off.last_seen], [false, null], 'the setting change pushes what alice now sees');
    mark = A.mark();
    B = await chatterOn(bob);
    await B.close();
    await sleep(1000);
    assert.deepEqual(A.events.slice(mark).filter((e) => e.type === 'presence' && e.user === bob.id), [],
      'no presence of bob reaches alice right after the setting changed');
    // alice unfriends bob: his presence no longer reaches her.
    expectStatus(await alice.http.del(`/api/friends/${bob.username}`), 204);
    const seenBefore = A.events.filter((e) => e.type === 'presence' && e.user === bob.id).length;
    mark = C.mark();
    B = await chatterOn(bob);
    await C.after(mark, 'presence', (e) => e.user === bob.id && e.online);
    A.sendFrame({ type: 'ping', ref: 'sync' });
    await A.seen('pong', (e) => e.ref === 'sync');
    assert.equal(A.events.filter((e) => e.type === 'presence' && e.user === bob.id).length, seenBefore, 'no presence after unfriending');
    await Promise.all([A.close(), B.close(), C.close()]);
  });
});
