// 91 - a block, unblock or unfriend takes effect at the very next send,
// on either backend, also right after a run of sends in that chat (issue 19
// round 8). The Cassandra store caches a chat's blocks for a second so that
// most sends skip that read (docs/cassandra.md "Cached blocks"); a block or
// unblock done on the instance drops the chat's entry before it is
// answered. Without that, the sends below (all well within the second
// after the cache was filled) would still see the old blocks: the blocker's
// send would be stored, the blocked one's delivered, and after the unblock
// the blocker refused. Friendship is read with every send (never cached).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NO_RATE_LIMIT, startServer } from './lib/server.mjs';
import { User, befriend, burst, expectStatus, history, sendMsg } from './lib/client.mjs';

const frames = (tag, chat, n) => [...Array(n).keys()].map((i) => ({ type: 'send', ref: `${tag}-${i}`, chat_id: chat, id: `${tag}-${i}`, text: `${tag} ${i}` }));

describe('91 blocks and unfriending right after sends', { timeout: 180000 }, () => {
  let srv, amy, ben, cal, dee;
  before(async () => {
    srv = await startServer({ args: [...NO_RATE_LIMIT] });
    [amy, ben, cal, dee] = await User.all(srv, ['amy', 'ben', 'cal', 'dee']);
  });
  after(async () => {
    await srv?.stop();
  });

  it('block: the blocker is refused and the blocked withheld at once; unblock: both flow at once', async () => {
    const chat = await befriend(amy, ben);
    const A = await amy.connect({ label: 'A' });
    const B = await ben.connect({ label: 'B' });
    // Both ways, in bursts and alone: the chat's blocks are read (and cached).
    const warm = await Promise.all([burst(A, frames('wa', chat, 8)), burst(B, frames('wb', chat, 8))]);
    for (const a of warm.flat()) assert.equal(a.type, 'sent', JSON.stringify(a));
    await sendMsg(B, chat, 'ben, just before the block');
    const last = await sendMsg(A, chat, 'amy, just before the block');

    expectStatus(await amy.http.put(`/api/blocks/${ben.username}`), 204);
    // Amy's own send: refused, no sequence taken.
    await A.expectError({ type: 'send', chat_id: chat, id: 'a-after', text: 'x' }, 'blocked');
    // Ben's: answered as sent, stored withheld from Amy, alone and in a burst.
    const one = await sendMsg(B, chat, 'ben after the block');
    assert.equal(one.seq, last.seq + 1, 'the refused send took no seq');
    const many = await burst(B, frames('bb', chat, 6));
    for (const a of many) assert.equal(a.type, 'sent', JSON.stringify(a));
    await A.expectNo('message', 500, (e) => e.seq > last.seq);
    const h = await history(amy, chat, `after=${last.seq}`);
    assert.deepEqual(h.map((m) => m.seq), [...Array(7).keys()].map((i) => last.seq + 1 + i));
    for (const m of h) assert.equal(m.withheld, true, `seq ${m.seq} withheld from the blocker`);

    expectStatus(await amy.http.del(`/api/blocks/${ben.username}`), 204);
    // At once: Amy may send again, and Ben's messages reach her.
    const back = await sendMsg(A, chat, 'amy after the unblock');
    const b2 = await sendMsg(B, chat, 'ben after the unblock');
    assert.equal(b2.seq, back.seq + 1);
    const live = await A.next('message', (e) => e.seq === b2.seq);
    assert.equal(live.text, 'ben after the unblock');
    assert.equal('withheld' in live, false);
    await A.close();
    await B.close();
  });

  it('the blocked side blocks too, right after sends: refused at once, and lifted at once', async () => {
    const chat = await befriend(cal, dee);
    const C = await cal.connect({ label: 'C' });
    const D = await dee.connect({ label: 'D' });
    const warm = await burst(D, frames('wd', chat, 6));
    for (const a of warm) assert.equal(a.type, 'sent', JSON.stringify(a));
    expectStatus(await dee.http.put(`/api/blocks/${cal.username}`), 204);
    await D.expectError({ type: 'send', chat_id: chat, id: 'd-after', text: 'x' }, 'blocked');
    const refused = await burst(D, frames('dd', chat, 5));
    for (const a of refused) assert.equal(a.code, 'blocked', JSON.stringify(a));
    expectStatus(await dee.http.del(`/api/blocks/${cal.username}`), 204);
    const ok = await burst(D, frames('de', chat, 5));
    for (const a of ok) assert.equal(a.type, 'sent', JSON.stringify(a));
    await C.next('message', (e) => e.seq === ok[4].seq);
    // Unfriended: refused at once (the friendship is read with every send).
    expectStatus(await dee.http.del(`/api/friends/${cal.username}`), 204);
    await D.expectError({ type: 'send', chat_id: chat, id: 'd-unfriended', text: 'x' }, 'not_friends');
    await C.expectError({ type: 'send', chat_id: chat, id: 'c-unfriended', text: 'x' }, 'not_friends');
    await C.close();
    await D.close();
  });
});
