// 72 - edit (issue 17 item 3): the sender edits a text within the window
// (--edit-window); `edited` reaches both sides' devices, offline ones
// through the pending table (latest wins), history carries edited_at and
// only the new text (also an undelivered copy is rewritten); errors:
// not_sender, edit_window_over, already_deleted, not_found, not_friends.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isCassandra, sleep, startServer } from './lib/server.mjs';
import { User, befriend, expectStatus, history, sendMsg } from './lib/client.mjs';


describe('72 edit', { timeout: 180000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('an edit reaches every device and history; the old text is gone', async () => {
    const [amy, ben] = await User.all(srv, ['e_amy', 'e_ben']);
    const chat = await befriend(amy, ben);
    const A1 = await amy.connect();
    const A2 = await amy.connect();
    const B = await ben.connect();
    const s = await sendMsg(A1, chat, 'helo');
    await B.next('message', (e) => e.seq === s.seq);
    await A2.next('message', (e) => e.seq === s.seq);
    const ans = await A1.request({ type: 'edit', chat_id: chat, seq: s.seq, text: 'hello' });
    assert.equal(ans.type, 'edited', JSON.stringify(ans));
    assert.equal(ans.text, 'hello');
    assert.equal(ans.from, amy.id);
    assert.ok(Number.isInteger(ans.edited_at));
    for (const ws of [A2, B]) {
      const ev = await ws.next('edited', (e) => e.seq === s.seq);
      assert.equal(ev.text, 'hello');
      assert.equal(ev.edited_at, ans.edited_at);
    }
    for (const u of [amy, ben]) {
      const m = (await history(u, chat)).find((x) => x.seq === s.seq);
      assert.equal(m.text, 'hello');
      assert.equal(m.edited_at, ans.edited_at);
    }
    // The chat list shows the new text.
    const c = (await ben.http.get('/api/chats')).json.chats.find((x) => x.chat_id === chat);
    assert.equal(c.last_message.text, 'hello');
    // Search (c-org's index) follows the edit: the old word is not found.
    if (!isCassandra) {
      const find = async (u, q) => (await u.http.get(`/api/search?q=${q}&chat_id=${chat}`)).json.results.map((r) => r.seq);
      assert.deepEqual(await find(ben, 'helo'), [], 'the old text is not in the index');
      assert.deepEqual(await find(ben, 'hello'), [s.seq]);
    }
  });

  it('offline: an undelivered message arrives edited; a delivered one gets one edited row', async () => {
    const [cal, dee] = await User.all(srv, ['e_cal', 'e_dee']);
    const chat = await befriend(cal, dee);
    const C = await cal.connect();
    let D = await dee.connect();
    const old = await sendMsg(C, chat, 'first');
    await D.next('message', (e) => e.seq === old.seq);
    D.send({ type: 'ack', chat_id: chat, kind: 'message', seq: old.seq });
    await D.ping();
    await D.close();
    const fresh = await sendMsg(C, chat, 'second');
    await C.request({ type: 'edit', chat_id: chat, seq: fresh.seq, text: 'second, edited' });
    await C.request({ type: 'edit', chat_id: chat, seq: old.seq, text: 'first v2' });
    await C.request({ type: 'edit', chat_id: chat, seq: old.seq, text: 'first v3' });
    D = await dee.connect();
    const msg = D.pending.find((e) => e.type === 'message' && e.seq === fresh.seq);
    assert.equal(msg.text, 'second, edited', 'the undelivered copy was rewritten');
    const eds = D.pending.filter((e) => e.type === 'edited' && e.seq === old.seq);
    assert.equal(eds.length, 1, `latest wins: ${JSON.stringify(D.pending)}`);
    assert.equal(eds[0].text, 'first v3');
    assert.equal(eds[0].pending, true);
    assert.ok(!JSON.stringify(D.pending).includes('"second"'), 'no old text anywhere in the replay');
    D.send({ type: 'ack', chat_id: chat, kind: 'edited', seq: old.seq });
    D.send({ type: 'ack', chat_id: chat, kind: 'edited', seq: fresh.seq });
    D.send({ type: 'ack', chat_id: chat, kind: 'message', seq: fresh.seq });
    await D.ping();
    await D.close();
    const D2 = await dee.connect();
    assert.deepEqual(D2.pending.filter((e) => e.type === 'edited' || e.type === 'message'), []);
  });

  it('errors: not_sender, not_found, already_deleted, bad text, not_friends, blocked', async () => {
    const [eve, fay, gus] = await User.all(srv, ['e_eve', 'e_fay', 'e_gus']);
    const chat = await befriend(eve, fay);
    const E = await eve.connect();
    const F = await fay.connect();
    const G = await gus.connect();
    const s = await sendMsg(E, chat, 'mine');
    await F.expectError({ type: 'edit', chat_id: chat, seq: s.seq, text: 'theirs' }, 'not_sender');
    await G.expectError({ type: 'edit', chat_id: chat, seq: s.seq, text: 'x' }, 'forbidden');
    await E.expectError({ type: 'edit', chat_id: chat, seq: 99, text: 'x' }, 'not_found');
    await E.expectError({ type: 'edit', chat_id: chat, seq: s.seq, text: '' }, 'empty');
    await E.expectError({ type: 'edit', chat_id: chat, seq: s.seq }, 'missing_field');
    await E.expectError({ type: 'edit', chat_id: chat, seq: s.seq, text: 'x'.repeat(4001) }, 'too_long');
    await E.expectError({ type: 'edit', chat_id: chat, text: 'x' }, 'missing_field');
    // Blocked by Fay: Eve's edit looks fine, Fay hears nothing.
    expectStatus(await fay.http.put(`/api/blocks/${eve.username}`), 204);
    const ok = await E.request({ type: 'edit', chat_id: chat, seq: s.seq, text: 'mine, edited' });
    assert.equal(ok.type, 'edited');
    await F.expectNo('edited', 300);
    // Eve blocks Fay too: her own block refuses.
    expectStatus(await eve.http.put(`/api/blocks/${fay.username}`), 204);
    await E.expectError({ type: 'edit', chat_id: chat, seq: s.seq, text: 'x' }, 'blocked');
    expectStatus(await eve.http.del(`/api/blocks/${fay.username}`), 204);
    expectStatus(await fay.http.del(`/api/blocks/${eve.username}`), 204);
    await E.request({ type: 'delete', chat_id: chat, seq: s.seq });
    await E.expectError({ type: 'edit', chat_id: chat, seq: s.seq, text: 'x' }, 'already_deleted');
    const s2 = await sendMsg(E, chat, 'again');
    expectStatus(await eve.http.del(`/api/friends/${fay.username}`), 204);
    await E.expectError({ type: 'edit', chat_id: chat, seq: s2.seq, text: 'x' }, 'not_friends');
  });

  it('--edit-window bounds edits; 0 disables them', async () => {
    const short = await startServer({ args: ['--edit-window', '1'] });
    const off = await startServer({ args: ['--edit-window', '0'] });
    try {
      for (const [server, wait] of [[short, 1300], [off, 0]]) {
        const [hal, ivy] = await User.all(server, ['e_hal', 'e_ivy']);
        const chat = await befriend(hal, ivy);
        const H = await hal.connect();
        const s = await sendMsg(H, chat, 'quick');
        if (server === short) assert.equal((await H.request({ type: 'edit', chat_id: chat, seq: s.seq, text: 'in time' })).type, 'edited');
        await sleep(wait);
        await H.expectError({ type: 'edit', chat_id: chat, seq: s.seq, text: 'late' }, 'edit_window_over');
      }
    } finally {
      await short.stop();
      await off.stop();
    }
  });
});
