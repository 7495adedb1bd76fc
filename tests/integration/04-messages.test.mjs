// 04 - messages: send/sent/message, seq order, idempotent ids, limits,
// history paging, access rules, typing, ping, delete for everyone.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sleep, startServer } from './lib/server.mjs';
import { User, befriend, chatWith, expectError, expectStatus, fullHistory, history, sendMsg } from './lib/client.mjs';

function assertLiveMessage(ev, { chat, seq, id, from, to, text }) {
  assert.equal(ev.type, 'message');
  assert.equal(ev.chat_id, chat);
  assert.equal(ev.seq, seq);
  assert.equal(ev.id, id);
  assert.equal(ev.from, from.id);
  assert.equal(ev.to, to.id);
  assert.equal(ev.msg_type, 0, `msg_type: ${JSON.stringify(ev)}`);
  assert.equal(ev.text, text);
  assert.ok(Number.isInteger(ev.sent_at), `sent_at: ${ev.sent_at}`);
  assert.equal(ev.received_at, null);
  assert.equal(ev.seen_at, null);
  assert.equal(ev.deleted_at, null);
  assert.ok(ev.pending === undefined || ev.pending === false, `a live message is not pending: ${JSON.stringify(ev)}`);
}

describe('04 messages', { timeout: 180000 }, () => {
  let srv;
  let alice, bob, carol, dave;
  let A1, A2, B1, C1, D1;
  let chatAB, chatAC;
  before(async () => {
    srv = await startServer();
    [alice, bob, carol, dave] = await User.all(srv, ['alice', 'bob', 'carol', 'dave']);
    chatAB = await befriend(alice, bob);
    chatAC = await befriend(alice, carol);
    A1 = await alice.connect({ label: 'alice#1' });
    A2 = await alice.connect({ label: 'alice#2' });
    B1 = await bob.connect();
    C1 = await carol.connect();
    D1 = await dave.connect();
  });
  after(async () => {
    await srv?.stop();
  });

  it('send → sent after storing; the recipient and the sender\'s other tabs get message', async () => {
    const t0 = Date.now();
    const ev = await A1.request({ type: 'send', ref: 'r1', chat_id: chatAB, id: 'c-1', text: 'hello' });
    assert.equal(ev.type, 'sent', JSON.stringify(ev));
    assert.equal(ev.ref, 'r1');
    assert.equal(ev.chat_id, chatAB);
    assert.equal(ev.id, 'c-1');
    assert.equal(ev.seq, 1, 'the first message of a chat has seq 1');
    assert.equal(ev.duplicate, false);
    assert.ok(ev.sent_at >= t0 - 2000 && ev.sent_at <= Date.now() + 2000, `sent_at ${ev.sent_at} is not now`);
    const m = await B1.next('message');
    assertLiveMessage(m, { chat: chatAB, seq: 1, id: 'c-1', from: alice, to: bob, text: 'hello' });
    assert.equal(m.sent_at, ev.sent_at);
    const m2 = await A2.next('message');
    assertLiveMessage(m2, { chat: chatAB, seq: 1, id: 'c-1', from: alice, to: bob, text: 'hello' });
    await A1.expectNo('message', 300, (e) => e.id === 'c-1');
    await C1.expectNo('message', 50);
    await D1.expectNo('message', 50);
  });

  it('numeric refs are echoed as numbers', async () => {
    const ev = await A1.request({ type: 'send', ref: 17, chat_id: chatAB, id: 'c-num', text: 'numeric ref' });
    assert.equal(ev.type, 'sent');
    assert.equal(ev.ref, 17);
    await B1.next('message', (e) => e.id === 'c-num');
    await A2.next('message', (e) => e.id === 'c-num');
  });

  it('seq counts per chat from 1 with no gaps, across both senders', async () => {
    const before = await history(alice, chatAB);
    let expected = before[before.length - 1].seq + 1;
    for (let i = 0; i < 6; i++) {
      const ws = i % 2 ? B1 : A1;
      const s = await sendMsg(ws, chatAB, `turn ${i}`);
      assert.equal(s.seq, expected++, 'seq is the next number');
    }
    const c = await sendMsg(A1, chatAC, 'first in another chat');
    assert.equal(c.seq, 1, 'each chat has its own sequence');
    const h = await history(bob, chatAB);
    h.forEach((m, i) => assert.equal(m.seq, i + 1, 'history seqs are 1..n'));
    // Drain the live events of those sends.
    for (let i = 0; i < 6; i++) {
      await (i % 2 ? A1 : B1).next('message', (e) => e.text === `turn ${i}`);
    }
  });

  it('pipelined sends on one connection get seqs in sending order', async () => {
    const n = 40;
    const base = (await history(alice, chatAB)).at(-1).seq;
    const ids = Array.from({ length: n }, (_, i) => `pipe-${i}`);
    ids.forEach((id, i) => A1.send({ type: 'send', ref: `p${i}`, chat_id: chatAB, id, text: `pipelined ${i}` }));
    const sents = [];
    for (let i = 0; i < n; i++) sents.push(await A1.next('sent', (e) => e.ref === `p${i}`));
    sents.forEach((s, i) => assert.equal(s.seq, base + 1 + i, `pipe-${i} got seq ${s.seq}`));
    const got = [];
    for (let i = 0; i < n; i++) got.push(await B1.next('message', (e) => e.id.startsWith('pipe-')));
    assert.deepEqual(got.map((m) => m.id), ids, 'the recipient gets them in seq order');
    assert.deepEqual(got.map((m) => m.seq), sents.map((s) => s.seq));
    for (let i = 0; i < n; i++) await A2.next('message', (e) => e.id === ids[i]);
  });

  it('the same id again → same sent with duplicate: true, no second message', async () => {
    const first = await sendMsg(A1, chatAB, 'only once', 'dup-1');
    await B1.next('message', (e) => e.id === 'dup-1');
    await A2.next('message', (e) => e.id === 'dup-1');
    const again = await A1.request({ type: 'send', chat_id: chatAB, id: 'dup-1', text: 'only once' });
    assert.equal(again.type, 'sent', JSON.stringify(again));
    assert.equal(again.duplicate, true);
    assert.equal(again.seq, first.seq);
    assert.equal(again.sent_at, first.sent_at);
    // From another connection and with another text: still the first message.
    const other = await A2.request({ type: 'send', chat_id: chatAB, id: 'dup-1', text: 'changed text' });
    assert.equal(other.type, 'sent');
    assert.equal(other.duplicate, true);
    assert.equal(other.seq, first.seq);
    await B1.expectNo('message', 300, (e) => e.id === 'dup-1');
    const h = await fullHistory(alice, chatAB);
    const copies = h.filter((m) => m.id === 'dup-1');
    assert.equal(copies.length, 1);
    assert.equal(copies[0].text, 'only once');
    assert.equal(h.at(-1).seq, first.seq, 'no new seq was used');
  });

  it("an id used by the other participant → id_conflict; ids are per chat", async () => {
    await sendMsg(A1, chatAB, 'mine', 'shared-id');
    await B1.next('message', (e) => e.id === 'shared-id');
    const before = await fullHistory(bob, chatAB);
    const e = await B1.expectError({ type: 'send', ref: 'rc', chat_id: chatAB, id: 'shared-id', text: 'bob tries' }, 'id_conflict');
    assert.equal(e.ref, 'rc');
    assert.deepEqual(await fullHistory(bob, chatAB), before, 'nothing changed');
    const s = await sendMsg(A1, chatAC, 'same id, other chat', 'shared-id');
    assert.equal(s.duplicate, false);
    await C1.next('message', (e) => e.id === 'shared-id');
  });

  it('client message ids: 1–64 of A-Z a-z 0-9 _ -', async () => {
    const before = await fullHistory(alice, chatAB);
    for (const id of ['', 'x'.repeat(65), 'a b', 'é', 'a.b', 'a/b', 'a:b']) {
      await A1.expectError({ type: 'send', chat_id: chatAB, id, text: 'bad id' }, 'bad_request');
    }
    await A1.expectError({ type: 'send', chat_id: chatAB, id: 42, text: 'numeric id' }, 'bad_request');
    assert.deepEqual(await fullHistory(alice, chatAB), before, 'nothing was stored');
    await sendMsg(A1, chatAB, 'long id', 'Z'.repeat(64));
    await sendMsg(A1, chatAB, 'odd id', 'a_-Z9');
    await B1.next('message', (e) => e.id === 'a_-Z9');
  });

  it('text: 1–4000 code points; empty → empty; over → too_long', async () => {
    const before = await fullHistory(alice, chatAB);
    const ref = await A1.expectError({ type: 'send', ref: 'tl', chat_id: chatAB, id: 'too-long', text: 'x'.repeat(4001) }, 'too_long');
    assert.equal(ref.ref, 'tl');
    await A1.expectError({ type: 'send', chat_id: chatAB, id: 'too-long-2', text: '😀'.repeat(4001) }, 'too_long');
    await A1.expectError({ type: 'send', chat_id: chatAB, id: 'empty', text: '' }, 'empty');
    await A1.expectError({ type: 'send', chat_id: chatAB, id: 'notext' }, 'missing_field');
    await A1.expectError({ type: 'send', chat_id: chatAB, id: 'numtext', text: 5 }, 'bad_request');
    await A1.expectError({ type: 'send', chat_id: chatAB, text: 'no id' }, 'missing_field');
    await A1.expectError({ type: 'send', id: 'no-chat', text: 'no chat' }, 'missing_field');
    assert.deepEqual(await fullHistory(alice, chatAB), before, 'nothing was stored');
    // 4000 astral code points: 8000 UTF-16 units, 16000 bytes. Still fine.
    const big = '😀'.repeat(4000);
    await sendMsg(A1, chatAB, big, 'max-emoji');
    const m = await B1.next('message', (e) => e.id === 'max-emoji');
    assert.equal(m.text, big);
    await sendMsg(A1, chatAB, 'y'.repeat(4000), 'max-ascii');
    await B1.next('message', (e) => e.id === 'max-ascii');
  });

  it('text round-trips exactly: Unicode, quotes, backslashes, newlines', async () => {
    const texts = ['Zoë 😀 日本語 مرحبا', 'line 1\nline 2\r\n\ttab', 'quote " backslash \\ slash /', '<script>alert(1)</script>', 'e\u0301 combining', '\u{1F469}\u200D\u{1F4BB} zwj'];
    const ids = [];
    for (const [i, t] of texts.entries()) {
      ids.push(`uni-${i}`);
      await sendMsg(A1, chatAB, t, `uni-${i}`);
      const m = await B1.next('message', (e) => e.id === `uni-${i}`);
      assert.equal(m.text, t, 'live event text');
    }
    const h = await fullHistory(bob, chatAB);
    for (const [i, t] of texts.entries()) assert.equal(h.find((m) => m.id === ids[i]).text, t, 'stored text');
  });

  it('HTTP history: default newest 50, before/after/limit paging, ascending', async () => {
    const all = await fullHistory(alice, chatAB);
    const n = all.length;
    assert.ok(n >= 55, `need a long history, have ${n}`);
    all.forEach((m, i) => assert.equal(m.seq, i + 1));
    const m0 = all[0];
    for (const k of ['chat_id', 'seq', 'id', 'from', 'to', 'type', 'text', 'sent_at', 'received_at', 'seen_at', 'deleted_at']) {
      assert.ok(k in m0, `history message has no ${k}: ${JSON.stringify(m0)}`);
    }
    assert.equal(m0.type, 0);
    assert.equal(m0.from, alice.id);
    assert.equal(m0.to, bob.id);
    const def = await history(alice, chatAB);
    assert.deepEqual(def.map((m) => m.seq), all.slice(-50).map((m) => m.seq), 'default: the newest 50, ascending');
    const page = await history(alice, chatAB, `before=${n - 9}&limit=5`);
    assert.deepEqual(page.map((m) => m.seq), [n - 14, n - 13, n - 12, n - 11, n - 10]);
    const first = await history(alice, chatAB, 'after=0&limit=3');
    assert.deepEqual(first.map((m) => m.seq), [1, 2, 3], 'after=0 starts at the beginning');
    const aft = await history(alice, chatAB, 'after=3&limit=4');
    assert.deepEqual(aft.map((m) => m.seq), [4, 5, 6, 7]);
    const tailPage = await history(alice, chatAB, `after=${n - 2}`);
    assert.deepEqual(tailPage.map((m) => m.seq), [n - 1, n]);
    assert.deepEqual(await history(alice, chatAB, `after=${n}`), []);
    assert.deepEqual(await history(alice, chatAB, 'before=1'), []);
    assert.deepEqual(await history(alice, chatAB, 'before=0'), [], 'nothing has a seq below 0');
    assert.equal((await history(alice, chatAB, 'limit=100')).length, Math.min(100, n));
    assert.deepEqual((await history(alice, chatAB, 'limit=1')).map((m) => m.seq), [n]);
    assert.deepEqual((await history(bob, chatAB, 'before=3')).map((m) => m.seq), [1, 2], 'before without limit');
  });

  it('HTTP history: bad parameters → 400 bad_request', async () => {
    for (const q of ['limit=0', 'limit=101', 'limit=abc', 'before=abc', 'limit=1.5', 'after=1e3x', 'limit=01', 'before=007', 'after=00', 'limit=+5']) {
      expectError(await alice.http.get(`/api/chats/${chatAB}/messages?${q}`), 400, 'bad_request', q);
    }
    expectError(await alice.http.get('/api/chats/not-a-uuid/messages'), 400, 'bad_request');
  });

  it("someone else's chat → forbidden over HTTP and WebSocket; nothing leaks", async () => {
    expectError(await dave.http.get(`/api/chats/${chatAB}/messages`), 403, 'forbidden');
    await D1.expectError({ type: 'history', chat_id: chatAB }, 'forbidden');
    const before = await fullHistory(alice, chatAB);
    await D1.expectError({ type: 'send', chat_id: chatAB, id: 'intruder', text: 'hi' }, 'forbidden');
    await D1.expectError({ type: 'delete', chat_id: chatAB, seq: 1 }, 'forbidden');
    await D1.expectError({ type: 'typing', chat_id: chatAB }, 'forbidden');
    await D1.expectError({ type: 'seen', chat_id: chatAB, seq: 1 }, 'forbidden');
    await D1.expectError({ type: 'ack', chat_id: chatAB, kind: 'message', seq: 1 }, 'forbidden');
    // carol is alice's friend but not in alice–bob.
    await C1.expectError({ type: 'send', chat_id: chatAB, id: 'carol-in', text: 'hi' }, 'forbidden');
    expectError(await carol.http.get(`/api/chats/${chatAB}/messages`), 403, 'forbidden');
    assert.deepEqual(await fullHistory(alice, chatAB), before);
    await B1.expectNo('message', 200, (e) => e.id === 'intruder' || e.id === 'carol-in');
    await B1.expectNo('typing', 50);
    const nobody = crypto.randomUUID();
    const r = await dave.http.get(`/api/chats/${nobody}/messages`);
    assert.ok([403, 404].includes(r.status), `a chat that does not exist: ${r.status} ${r.text}`);
  });

  it('WebSocket history: same parameters and result as HTTP', async () => {
    const ev = await B1.request({ type: 'history', ref: 'h1', chat_id: chatAB, after: 2, limit: 3 });
    assert.equal(ev.type, 'history', JSON.stringify(ev).slice(0, 300));
    assert.equal(ev.ref, 'h1');
    assert.equal(ev.chat_id, chatAB);
    assert.deepEqual(ev.messages, await history(bob, chatAB, 'after=2&limit=3'));
    const def = await B1.request({ type: 'history', chat_id: chatAB });
    assert.deepEqual(def.messages, await history(bob, chatAB));
    const bef = await B1.request({ type: 'history', chat_id: chatAB, before: 5 });
    assert.deepEqual(bef.messages.map((m) => m.seq), [1, 2, 3, 4]);
    await B1.expectError({ type: 'history', chat_id: chatAB, limit: 0 }, 'bad_request');
    await B1.expectError({ type: 'history', chat_id: chatAB, limit: 101 }, 'bad_request');
    await B1.expectError({ type: 'history', chat_id: chatAB, after: 'x' }, 'bad_request');
    await B1.expectError({ type: 'history', chat_id: 'nope' }, 'bad_request');
    await B1.expectError({ type: 'history' }, 'missing_field');
  });

  it('the chat list shows last_message and unread counts', async () => {
    const s = await sendMsg(B1, chatAB, 'bob was here', 'bob-last');
    await A1.next('message', (e) => e.id === 'bob-last');
    await A2.next('message', (e) => e.id === 'bob-last');
    const c = await chatWith(alice, chatAB);
    assert.equal(c.last_message.id, 'bob-last');
    assert.equal(c.last_message.seq, s.seq);
    assert.equal(c.last_message.type, 0);
    assert.equal(c.last_message.text, 'bob was here');
    const h = await fullHistory(alice, chatAB);
    // Nobody sent seen: read_seq may still have moved past one's own messages
    // (docs/protocol.md does not say whether sending moves it), but never
    // past a message of the peer.
    const cb = await chatWith(bob, chatAB);
    for (const [view, me, peer] of [[c, alice, bob], [cb, bob, alice]]) {
      assert.ok(!h.some((m) => m.from === peer.id && m.seq <= view.read_seq), `${me.username}'s read_seq ${view.read_seq} covers a message of ${peer.username} that was never seen`);
      const expected = h.filter((m) => m.from === peer.id && m.seq > view.read_seq).length;
      assert.equal(view.unread, expected, `${me.username}: unread counts the peer's messages after read_seq`);
    }
    assert.ok(c.last_activity >= s.sent_at, 'last_activity is at least the last message time');
  });

  it('typing is forwarded to the peer, at most once per second per chat', async () => {
    A1.send({ type: 'typing', chat_id: chatAB });
    const t = await B1.next('typing');
    assert.equal(t.chat_id, chatAB);
    assert.equal(t.from, alice.id);
    A1.send({ type: 'typing', chat_id: chatAB });
    A2.send({ type: 'typing', chat_id: chatAB });
    await B1.expectNo('typing', 400);
    await C1.expectNo('typing', 10);
    // After the second has passed, the next one goes through.
    await sleep(1100);
    A1.send({ type: 'typing', chat_id: chatAB });
    await B1.next('typing');
    // Typing in another chat is not throttled by this one.
    A1.send({ type: 'typing', chat_id: chatAC });
    const tc = await C1.next('typing');
    assert.equal(tc.chat_id, chatAC);
    await A1.expectError({ type: 'typing' }, 'missing_field');
  });

  it('ping → pong with the ref', async () => {
    const p = await A1.request({ type: 'ping', ref: 'pp' });
    assert.equal(p.type, 'pong');
    assert.equal(p.ref, 'pp');
    const p2 = await A1.request({ type: 'ping', ref: 99 });
    assert.equal(p2.ref, 99);
  });

  it('delete: own message, everyone\'s connections get deleted, text erased', async () => {
    const s = await sendMsg(A1, chatAB, 'regrettable', 'del-1');
    await B1.next('message', (e) => e.id === 'del-1');
    await A2.next('message', (e) => e.id === 'del-1');
    const t0 = Date.now();
    const d = await A1.request({ type: 'delete', ref: 'd1', chat_id: chatAB, seq: s.seq });
    assert.equal(d.type, 'deleted', JSON.stringify(d));
    assert.equal(d.ref, 'd1');
    assert.equal(d.chat_id, chatAB);
    assert.equal(d.seq, s.seq);
    assert.equal(d.id, 'del-1');
    assert.equal(d.from, alice.id);
    assert.ok(d.deleted_at >= t0 - 2000 && d.deleted_at <= Date.now() + 2000, `deleted_at ${d.deleted_at}`);
    for (const ws of [B1, A2]) {
      const e = await ws.next('deleted', (x) => x.seq === s.seq);
      assert.equal(e.chat_id, chatAB);
      assert.equal(e.id, 'del-1');
      assert.equal(e.from, alice.id);
      assert.equal(e.deleted_at, d.deleted_at);
    }
    await C1.expectNo('deleted', 100);
    const m = (await fullHistory(bob, chatAB)).find((x) => x.seq === s.seq);
    assert.equal(m.text, '', 'a deleted message has empty text');
    assert.equal(m.deleted_at, d.deleted_at);
    assert.equal(m.id, 'del-1');
    // The chat list does not leak it either.
    const c = await chatWith(bob, chatAB);
    if (c.last_message && c.last_message.seq === s.seq) assert.equal(c.last_message.text, '');
  });

  it('delete errors: forbidden, not_found, already_deleted, missing_field', async () => {
    const s = await sendMsg(A1, chatAB, 'bob cannot delete this', 'del-2');
    await B1.next('message', (e) => e.id === 'del-2');
    const before = await fullHistory(alice, chatAB);
    const e = await B1.expectError({ type: 'delete', ref: 'x', chat_id: chatAB, seq: s.seq }, 'forbidden');
    assert.equal(e.ref, 'x');
    await A1.expectError({ type: 'delete', chat_id: chatAB, seq: 99999 }, 'not_found');
    await A1.expectError({ type: 'delete', chat_id: chatAB }, 'missing_field');
    await A1.expectError({ type: 'delete', chat_id: chatAB, seq: 'one' }, 'bad_request');
    assert.deepEqual(await fullHistory(alice, chatAB), before);
    const first = (await fullHistory(alice, chatAB)).find((m) => m.id === 'del-1');
    await A1.expectError({ type: 'delete', chat_id: chatAB, seq: first.seq }, 'already_deleted');
    await B1.expectNo('deleted', 200, (x) => x.seq === s.seq);
  });

  it('a removed friend cannot send; a block stops messages and typing both ways until unblocked', async () => {
    expectStatus(await alice.http.put('/api/blocks/bob'), 204);
    const before = await fullHistory(alice, chatAB);
    // The blocked one's send looks sent and is withheld from alice (34
    // tests it in full); the blocker's own send is refused.
    const w = await sendMsg(B1, chatAB, 'hi', 'blocked-1');
    await A1.expectError({ type: 'send', chat_id: chatAB, id: 'blocked-2', text: 'hi' }, 'blocked');
    B1.send({ type: 'typing', chat_id: chatAB });
    await A1.expectNo('typing', 300);
    await A1.expectNo('message', 0);
    const during = await fullHistory(alice, chatAB);
    assert.deepEqual(during.slice(0, -1), before);
    assert.equal(during[during.length - 1].seq, w.seq);
    assert.equal(during[during.length - 1].withheld, true);
    assert.equal((await history(bob, chatAB)).length > 0, true, 'history stays readable during a block');
    expectStatus(await alice.http.del('/api/blocks/bob'), 204);
    await sendMsg(B1, chatAB, 'back again', 'unblocked-1');
    await A1.next('message', (e) => e.id === 'unblocked-1');
  });
});

describe('04 messages: delete window and erasure from storage', { timeout: 120000 }, () => {
  let srv;
  after(async () => {
    await srv?.stop();
  });

  it('--delete-window: delete after the window → delete_window_over', async () => {
    srv = await startServer({ args: ['--delete-window', '1'] });
    const [a, b] = await User.all(srv, ['win_a', 'win_b']);
    const chat = await befriend(a, b);
    const ws = await a.connect();
    const s = await sendMsg(ws, chat, 'too late to delete', 'late-1');
    await sleep(1500);
    await ws.expectError({ type: 'delete', chat_id: chat, seq: s.seq }, 'delete_window_over');
    const m = (await fullHistory(a, chat))[0];
    assert.equal(m.text, 'too late to delete');
    assert.equal(m.deleted_at, null);
    const s2 = await sendMsg(ws, chat, 'quick delete', 'quick-1');
    const d = await ws.request({ type: 'delete', chat_id: chat, seq: s2.seq });
    assert.equal(d.type, 'deleted', JSON.stringify(d));
  });

  it('a deleted text is gone from the data dir after a clean stop', async () => {
    const s0 = srv;
    srv = null;
    await s0.stop();
    const s1 = await startServer();
    srv = s1;
    const [a, b] = await User.all(s1, ['erase_a', 'erase_b']);
    const chat = await befriend(a, b);
    const wa = await a.connect();
    const wb = await b.connect();
    const marker = `Erase-Me-${crypto.randomBytes(8).toString('hex')}`;
    const s = await sendMsg(wa, chat, marker, 'erase-1');
    const m = await wb.next('message', (e) => e.id === 'erase-1');
    wb.send({ type: 'ack', chat_id: chat, kind: 'message', seq: m.seq });
    await wa.next('receipt', (e) => e.status === 'delivered' && e.seq >= s.seq);
    const d = await wa.request({ type: 'delete', chat_id: chat, seq: s.seq });
    assert.equal(d.type, 'deleted');
    await wb.next('deleted');
    wb.send({ type: 'ack', chat_id: chat, kind: 'deleted', seq: s.seq });
    await wb.ping();
    // Keep the data for inspection: stop, read every file, then clean up.
    srv = null;
    await s1.stop({ keepData: true });
    try {
      // SQLite: every byte of the data dir. Cassandra: every cell a read can
      // see (a tombstoned cell leaves the SSTables at compaction, after
      // gc_grace_seconds; see storeBytes()).
      const bytes = await s1.storeBytes();
      assert.equal(bytes.indexOf(marker), -1, 'the deleted text is still in the store (secure_delete? WAL? a cell left behind?)');
    } finally {
      s1.cleanup();
    }
  });
});

