// 73 - delete for me (issue 17 item 4): hide hides a message (either
// side's) for this user only, on all their devices: `hidden` to the other
// connections, a pending row for offline ones, history keeps the seq with
// hidden: true and no text; the chat list's last message and unread skip it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isCassandra, startServer } from './lib/server.mjs';
import { User, befriend, expectStatus, history, sendMsg } from './lib/client.mjs';


describe('73 delete for me', { timeout: 180000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('hides for me only, on all my devices; history stays gap-free', async () => {
    const [amy, ben] = await User.all(srv, ['h_amy', 'h_ben']);
    const chat = await befriend(amy, ben);
    const A1 = await amy.connect();
    const A2 = await amy.connect();
    const B = await ben.connect();
    const m1 = await sendMsg(B, chat, 'keep');
    const m2 = await sendMsg(B, chat, 'hide me');
    await A1.next('message', (e) => e.seq === m2.seq);
    const ans = await A1.request({ type: 'hide', chat_id: chat, seq: m2.seq });
    assert.deepEqual({ type: ans.type, chat_id: ans.chat_id, seq: ans.seq }, { type: 'hidden', chat_id: chat, seq: m2.seq });
    await A2.next('hidden', (e) => e.seq === m2.seq);
    await B.expectNo('hidden', 300);
    const ha = await history(amy, chat);
    assert.deepEqual(ha.map((m) => m.seq), [m1.seq, m2.seq], 'gap-free');
    const hid = ha.find((m) => m.seq === m2.seq);
    assert.equal(hid.hidden, true);
    assert.equal(hid.text, '');
    assert.equal((await history(ben, chat)).find((m) => m.seq === m2.seq).text, 'hide me', 'the peer still has it');
    // The chat list: last message and unread skip the hidden one.
    const c = (await amy.http.get('/api/chats')).json.chats.find((x) => x.chat_id === chat);
    assert.equal(c.last_message.seq, m1.seq);
    assert.equal(c.unread, 1);
    // Search does not find it for me (c-org's index), the peer still does.
    if (!isCassandra) {
      const find = async (u) => (await u.http.get(`/api/search?q=hide&chat_id=${chat}`)).json.results.map((r) => r.seq);
      assert.deepEqual(await find(amy), []);
      assert.deepEqual(await find(ben), [m2.seq]);
    }
    // Hiding again changes nothing and tells nobody.
    await A1.request({ type: 'hide', chat_id: chat, seq: m2.seq });
    await A2.expectNo('hidden', 300);
    // Hide my own message too.
    const mine = await sendMsg(A1, chat, 'my own');
    await A2.next('message', (e) => e.seq === mine.seq);
    await A1.request({ type: 'hide', chat_id: chat, seq: mine.seq });
    await A2.next('hidden', (e) => e.seq === mine.seq);
    assert.equal((await history(ben, chat)).find((m) => m.seq === mine.seq).text, 'my own');
  });

  it('an offline device of mine gets the hidden row; a withheld placeholder and former friends are fine', async () => {
    const [cal, dee] = await User.all(srv, ['h_cal', 'h_dee']);
    const chat = await befriend(cal, dee);
    const C1 = await cal.connect();
    const D = await dee.connect();
    const m = await sendMsg(D, chat, 'later hidden');
    await C1.next('message', (e) => e.seq === m.seq);
    await C1.request({ type: 'hide', chat_id: chat, seq: m.seq });
    const C2 = await (await cal.device()).connect();
    const rows = C2.pending.filter((e) => e.type === 'hidden');
    assert.equal(rows.length, 1, JSON.stringify(C2.pending));
    assert.equal(rows[0].seq, m.seq);
    assert.equal(rows[0].pending, true);
    // The message row comes before its hidden row (key order: seq, kind).
    const iMsg = C2.pending.findIndex((e) => e.type === 'message' && e.seq === m.seq);
    assert.ok(iMsg < 0 || iMsg < C2.pending.indexOf(rows[0]));
    C2.send({ type: 'ack', chat_id: chat, kind: 'hidden', seq: m.seq });
    await C2.ping();
    // Unfriended: hiding is still allowed (it is nobody else's business).
    expectStatus(await cal.http.del(`/api/friends/${dee.username}`), 204);
    const m2 = (await history(cal, chat)).at(-1);
    const ok = await C1.request({ type: 'hide', chat_id: chat, seq: m2.seq });
    assert.equal(ok.type, 'hidden');
  });

  it('bad input and foreign chats', async () => {
    const [eve, fay, gus] = await User.all(srv, ['h_eve', 'h_fay', 'h_gus']);
    const chat = await befriend(eve, fay);
    const E = await eve.connect();
    const G = await gus.connect();
    const s = await sendMsg(E, chat, 'x');
    await E.expectError({ type: 'hide', chat_id: chat }, 'missing_field');
    await E.expectError({ type: 'hide', chat_id: chat, seq: 0 }, 'bad_request');
    await E.expectError({ type: 'hide', chat_id: chat, seq: 77 }, 'not_found');
    await E.expectError({ type: 'hide', chat_id: 'nope', seq: 1 }, 'bad_request');
    await G.expectError({ type: 'hide', chat_id: chat, seq: s.seq }, 'forbidden');
  });
});
