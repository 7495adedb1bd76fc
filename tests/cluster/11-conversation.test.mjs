// 11 - issue 17 across instances: a reply, a reaction, an edit, a forward
// and a hide made on one instance reach the other users' (and the same
// user's) connections on another instance through the Redis hub, and an
// offline device still gets them from the shared pending table.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { User, befriend, sendMsg } from '../integration/lib/client.mjs';
import { startCluster } from './lib/cluster.mjs';

describe('11 conversation features across instances', { timeout: 300000 }, () => {
  let cl, amy, ben, chat;
  before(async () => {
    cl = await startCluster({ instances: 2 });
    amy = await User.signup(cl.endpoint, 'amy11', { localAddress: cl.addrFor(1) });
    ben = await User.signup(cl.endpoint, 'ben11', { localAddress: cl.addrFor(2) });
    chat = await befriend(amy, ben);
  });
  after(async () => {
    await cl?.stop();
  });

  it('reply, react, edit and forward made on instance 1 reach instance 2 live', async () => {
    const A = await amy.connect();
    assert.equal(A.hello.instance, 'duet-1');
    const B = await ben.connect();
    assert.equal(B.hello.instance, 'duet-2');
    const s = await sendMsg(B, chat, 'from instance 2');
    await A.next('message', (e) => e.seq === s.seq);
    const r = await A.request({ type: 'send', chat_id: chat, id: 'c11-r', text: 'a reply', reply_to: s.seq });
    const live = await B.next('message', (e) => e.seq === r.seq);
    assert.equal(live.reply_to.seq, s.seq);
    assert.equal(live.reply_to.snippet, 'from instance 2');
    await A.request({ type: 'react', chat_id: chat, seq: s.seq, emoji: '👍' });
    const re = await B.next('reaction', (e) => e.seq === s.seq);
    assert.deepEqual([re.user, re.emoji], [amy.id, '👍']);
    await A.request({ type: 'edit', chat_id: chat, seq: r.seq, text: 'a reply, edited' });
    const ed = await B.next('edited', (e) => e.seq === r.seq);
    assert.equal(ed.text, 'a reply, edited');
    const f = await A.request({ type: 'send', chat_id: chat, id: 'c11-f', forward: { chat_id: chat, seq: s.seq } });
    assert.equal((await B.next('message', (e) => e.seq === f.seq)).forwarded, true);
    await Promise.all([A.close(), B.close()]);
  });

  it("hide reaches the same user's connection on the other instance; offline devices replay", async () => {
    const A1 = await amy.connect();
    const A2 = await amy.connect({ localAddress: cl.addrFor(2) });
    assert.equal(A2.hello.instance, 'duet-2');
    const B = await ben.connect();
    const s = await sendMsg(B, chat, 'hide me everywhere');
    await A1.next('message', (e) => e.seq === s.seq);
    await A1.request({ type: 'hide', chat_id: chat, seq: s.seq });
    await A2.next('hidden', (e) => e.seq === s.seq);
    await B.close();
    // Ben offline: a reaction and an edit from instance 1 wait in the pending table.
    const mine = await sendMsg(A1, chat, 'typo');
    await A1.request({ type: 'react', chat_id: chat, seq: s.seq, emoji: '🎉' });
    await A1.request({ type: 'edit', chat_id: chat, seq: mine.seq, text: 'fixed' });
    const B2 = await ben.connect();
    assert.equal(B2.pending.find((e) => e.type === 'reaction' && e.seq === s.seq)?.emoji, '🎉', JSON.stringify(B2.pending));
    assert.equal(B2.pending.find((e) => e.type === 'message' && e.seq === mine.seq)?.text, 'fixed');
    await Promise.all([A1.close(), A2.close(), B2.close()]);
  });
});
