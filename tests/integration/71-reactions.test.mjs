// 71 - reactions (issue 17 item 2): one emoji per person per message,
// changeable and removable; the `reaction` event reaches every device of
// both sides, offline ones through the pending table (latest wins, no
// duplicate); history carries them; bad input, former friends and blocks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { User, befriend, expectStatus, history, sendMsg } from './lib/client.mjs';


describe('71 reactions', { timeout: 180000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('react, change, remove: both sides\' devices hear it; history carries it', async () => {
    const [amy, ben] = await User.all(srv, ['r_amy', 'r_ben']);
    const chat = await befriend(amy, ben);
    const A1 = await amy.connect();
    const A2 = await amy.connect();
    const B1 = await ben.connect();
    const s = await sendMsg(A1, chat, 'react to me');
    await B1.next('message', (e) => e.seq === s.seq);

    const ans = await B1.request({ type: 'react', chat_id: chat, seq: s.seq, emoji: '👍' });
    assert.equal(ans.type, 'reaction', JSON.stringify(ans));
    assert.equal(ans.chat_id, chat);
    assert.equal(ans.seq, s.seq);
    assert.equal(ans.user, ben.id);
    assert.equal(ans.emoji, '👍');
    assert.ok(Number.isInteger(ans.at));
    for (const ws of [A1, A2]) {
      const ev = await ws.next('reaction', (e) => e.seq === s.seq);
      assert.equal(ev.user, ben.id);
      assert.equal(ev.emoji, '👍');
    }
    let h = await history(amy, chat);
    assert.deepEqual(h.find((m) => m.seq === s.seq).reactions.map((r) => [r.user, r.emoji]), [[ben.id, '👍']]);

    // Amy reacts too; Ben changes his: one per person.
    await A1.request({ type: 'react', chat_id: chat, seq: s.seq, emoji: '😂' });
    await B1.next('reaction', (e) => e.user === amy.id && e.emoji === '😂');
    await B1.request({ type: 'react', chat_id: chat, seq: s.seq, emoji: '❤️' });
    await A2.next('reaction', (e) => e.user === ben.id && e.emoji === '❤️');
    await A1.next('reaction', (e) => e.user === ben.id && e.emoji === '❤️');
    h = await history(ben, chat);
    const rs = h.find((m) => m.seq === s.seq).reactions;
    assert.equal(rs.length, 2, JSON.stringify(rs));
    assert.deepEqual(rs.map((r) => r.emoji).sort(), ['❤️', '😂'].sort());

    // The same emoji again changes nothing and tells nobody else.
    await B1.request({ type: 'react', chat_id: chat, seq: s.seq, emoji: '❤️' });
    await A1.expectNo('reaction', 300);

    // null removes.
    const rm = await B1.request({ type: 'react', chat_id: chat, seq: s.seq, emoji: null });
    assert.equal(rm.emoji, null);
    const ev = await A1.next('reaction', (e) => e.user === ben.id);
    assert.equal(ev.emoji, null);
    h = await history(amy, chat);
    assert.deepEqual(h.find((m) => m.seq === s.seq).reactions.map((r) => r.user), [amy.id]);

    // A reaction neither bumps the chat nor counts as unread.
    const list = (await amy.http.get('/api/chats')).json.chats.find((c) => c.chat_id === chat);
    assert.equal(list.last_message.seq, s.seq);
    assert.equal(list.unread, 0);
  });

  it('an offline device gets the latest reaction once from the pending table', async () => {
    const [cal, dee] = await User.all(srv, ['r_cal', 'r_dee']);
    const chat = await befriend(cal, dee);
    const C = await cal.connect();
    let D = await dee.connect();
    const s = await sendMsg(D, chat, 'mine');
    await C.next('message', (e) => e.seq === s.seq);
    C.send({ type: 'ack', chat_id: chat, kind: 'message', seq: s.seq });
    await D.close();
    await C.request({ type: 'react', chat_id: chat, seq: s.seq, emoji: '🔥' });
    await C.request({ type: 'react', chat_id: chat, seq: s.seq, emoji: '🎉' });
    D = await dee.connect();
    const rows = D.pending.filter((e) => e.type === 'reaction');
    assert.equal(rows.length, 1, `latest wins, no duplicate: ${JSON.stringify(D.pending)}`);
    assert.equal(rows[0].emoji, '🎉');
    assert.equal(rows[0].user, cal.id);
    assert.equal(rows[0].pending, true);
    // Acked: not again.
    D.send({ type: 'ack', chat_id: chat, kind: 'reaction', seq: s.seq });
    await D.ping();
    await D.close();
    const D2 = await dee.connect();
    assert.deepEqual(D2.pending.filter((e) => e.type === 'reaction'), []);
  });

  it('bad input is answered with an error naming the request', async () => {
    const [eve, fay, gus] = await User.all(srv, ['r_eve', 'r_fay', 'r_gus']);
    const chat = await befriend(eve, fay);
    const E = await eve.connect();
    const G = await gus.connect();
    const s = await sendMsg(E, chat, 'x');
    for (const [frame, code] of [
      [{ type: 'react', chat_id: chat, seq: s.seq, emoji: 'abc' }, 'bad_emoji'],
      [{ type: 'react', chat_id: chat, seq: s.seq, emoji: '👍'.repeat(9) }, 'bad_emoji'],
      [{ type: 'react', chat_id: chat, seq: s.seq, emoji: 5 }, 'bad_emoji'],
      [{ type: 'react', chat_id: chat, seq: s.seq }, 'missing_field'],
      [{ type: 'react', chat_id: chat, seq: 0, emoji: '👍' }, 'bad_request'],
      [{ type: 'react', chat_id: chat, emoji: '👍' }, 'missing_field'],
      [{ type: 'react', chat_id: chat, seq: 999, emoji: '👍' }, 'not_found'],
    ]) {
      const err = await E.expectError(frame, code);
      assert.equal(err.request, 'react');
    }
    // Someone else's chat.
    const err = await G.expectError({ type: 'react', chat_id: chat, seq: s.seq, emoji: '👍' }, 'forbidden');
    assert.equal(err.request, 'react');
    // A deleted message takes no reaction.
    await E.request({ type: 'delete', chat_id: chat, seq: s.seq });
    await E.expectError({ type: 'react', chat_id: chat, seq: s.seq, emoji: '👍' }, 'already_deleted');
  });

  it('former friends cannot react; a blocked reactor is answered but the blocker never sees it', async () => {
    const [hal, ivy] = await User.all(srv, ['r_hal', 'r_ivy']);
    const chat = await befriend(hal, ivy);
    const H = await hal.connect();
    const I = await ivy.connect();
    const s = await sendMsg(H, chat, 'hi');
    await I.next('message', (e) => e.seq === s.seq);
    // Hal blocks Ivy: Ivy's reaction looks fine to her, Hal learns nothing.
    expectStatus(await hal.http.put(`/api/blocks/${ivy.username}`), 204);
    const ok = await I.request({ type: 'react', chat_id: chat, seq: s.seq, emoji: '👍' });
    assert.equal(ok.type, 'reaction');
    await H.expectNo('reaction', 400);
    assert.equal((await history(hal, chat)).find((m) => m.seq === s.seq).reactions, undefined);
    assert.equal((await history(ivy, chat)).find((m) => m.seq === s.seq).reactions[0].emoji, '👍');
    // The blocker's own reaction is refused: it is his block.
    await H.expectError({ type: 'react', chat_id: chat, seq: s.seq, emoji: '👍' }, 'blocked');
    expectStatus(await hal.http.del(`/api/blocks/${ivy.username}`), 204);
    const H2 = await hal.connect();
    assert.deepEqual(H2.pending.filter((e) => e.type === 'reaction'), [], 'nothing pending from the block');
    // Unfriended: read-only.
    expectStatus(await hal.http.del(`/api/friends/${ivy.username}`), 204);
    await I.expectError({ type: 'react', chat_id: chat, seq: s.seq, emoji: '😂' }, 'not_friends');
  });
});
