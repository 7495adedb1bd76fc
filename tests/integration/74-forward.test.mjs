// 74 - forward (issue 17 item 5): send with forward {chat_id, seq} copies a
// message the user can read into another friend's chat, marked forwarded;
// access to the source and the target's friendship and blocks are checked.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { User, befriend, expectStatus, history, sendMsg } from './lib/client.mjs';
import { Tus, mediaFor, sample, sendMedia } from './lib/tus.mjs';


describe('74 forward', { timeout: 180000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('copies a message into another chat, marked forwarded', async () => {
    const [amy, ben, cal] = await User.all(srv, ['f_amy', 'f_ben', 'f_cal']);
    const ab = await befriend(amy, ben);
    const ac = await befriend(amy, cal);
    const A = await amy.connect();
    let C = await cal.connect();
    const B = await ben.connect();
    const src = await sendMsg(B, ab, 'worth sharing');
    const f = await A.request({ type: 'send', chat_id: ac, id: 'fw-1', forward: { chat_id: ab, seq: src.seq } });
    assert.equal(f.type, 'sent', JSON.stringify(f));
    const live = await C.next('message', (e) => e.seq === f.seq);
    assert.equal(live.text, 'worth sharing');
    assert.equal(live.forwarded, true);
    assert.equal(live.from, amy.id);
    const h = (await history(cal, ac)).find((m) => m.seq === f.seq);
    assert.equal(h.forwarded, true);
    assert.equal(h.text, 'worth sharing');
    assert.equal((await history(ben, ab)).find((m) => m.seq === src.seq).forwarded, undefined);
    // A retry is deduped by id; offline replay carries forwarded.
    const again = await A.request({ type: 'send', chat_id: ac, id: 'fw-1', forward: { chat_id: ab, seq: src.seq } });
    assert.equal(again.duplicate, true);
    await C.close();
    const f2 = await A.request({ type: 'send', chat_id: ac, id: 'fw-2', forward: { chat_id: ab, seq: src.seq } });
    C = await cal.connect();
    assert.equal(C.pending.find((e) => e.type === 'message' && e.seq === f2.seq).forwarded, true);
  });

  it('refuses what the user cannot read, deleted sources and bad targets', async () => {
    const [dee, eve, fay, gus] = await User.all(srv, ['f_dee', 'f_eve', 'f_fay', 'f_gus']);
    const de = await befriend(dee, eve);
    const df = await befriend(dee, fay);
    const ef = await befriend(eve, fay);
    const D = await dee.connect();
    const E = await eve.connect();
    const s = await sendMsg(E, ef, 'between eve and fay');
    // Dee is not in that chat.
    await D.expectError({ type: 'send', chat_id: df, id: 'x-1', forward: { chat_id: ef, seq: s.seq } }, 'not_found');
    const mine = await sendMsg(D, de, 'to eve');
    await D.expectError({ type: 'send', chat_id: df, id: 'x-2', forward: { chat_id: de, seq: 99 } }, 'not_found');
    // Bad shapes.
    await D.expectError({ type: 'send', chat_id: df, id: 'x-3', forward: 'yes' }, 'bad_request');
    await D.expectError({ type: 'send', chat_id: df, id: 'x-4', text: 'hi', forward: { chat_id: de, seq: mine.seq } }, 'bad_request');
    await D.expectError({ type: 'send', chat_id: df, id: 'x-5', forward: { chat_id: de } }, 'missing_field');
    // Target: not a friend (gus), or blocked by me.
    const dg = await befriend(dee, gus);
    expectStatus(await dee.http.del(`/api/friends/${gus.username}`), 204);
    await D.expectError({ type: 'send', chat_id: dg, id: 'x-6', forward: { chat_id: de, seq: mine.seq } }, 'not_friends');
    expectStatus(await dee.http.put(`/api/blocks/${fay.username}`), 204);
    await D.expectError({ type: 'send', chat_id: df, id: 'x-7', forward: { chat_id: de, seq: mine.seq } }, 'blocked');
    expectStatus(await dee.http.del(`/api/blocks/${fay.username}`), 204);
    // Deleted source.
    await D.request({ type: 'delete', chat_id: de, seq: mine.seq });
    await D.expectError({ type: 'send', chat_id: df, id: 'x-8', forward: { chat_id: de, seq: mine.seq } }, 'already_deleted');
  });
  // A blob belongs to one message: delete for everyone of a forwarded copy
  // would take it from the original too, so media is not forwarded (yet).
  it('a media message is not forwarded: not_forwardable, nothing sent', async () => {
    const [amy, ben, cal] = await User.all(srv, ['f_amm', 'f_bem', 'f_cam']);
    const ab = await befriend(amy, ben);
    const ac = await befriend(amy, cal);
    const A = await amy.connect();
    const buf = sample('jpeg');
    const id = await new Tus(amy).upload(buf, { filename: 'p.jpg', filetype: 'image/jpeg' });
    const sent = await sendMedia(A, ab, mediaFor(id, 1, buf));
    assert.equal(sent.type, 'sent', JSON.stringify(sent));
    const f = await A.request({ type: 'send', chat_id: ac, id: 'fw-media', forward: { chat_id: ab, seq: sent.seq } });
    assert.equal(f.type, 'error', JSON.stringify(f));
    assert.equal(f.request, 'send');
    assert.equal(f.code, 'not_forwardable');
    assert.deepEqual(await history(cal, ac), [], 'nothing reached the target chat');
  });
});
