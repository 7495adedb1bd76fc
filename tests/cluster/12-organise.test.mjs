// 12 - issue 17's chat organisation across instances: a pin/archive/mute
// made through instance 1 reaches the user's device on instance 2 live
// (chat_state over the Redis hub), an offline device on instance 2 gets it
// as a pending item, and a message from the peer through instance 2 ends
// an archive made through instance 1 (one SQLite file under the cluster).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { User, befriend, chatWith, expectStatus, sendMsg } from '../integration/lib/client.mjs';
import { startCluster } from './lib/cluster.mjs';

describe('12 organise across instances', { timeout: 300000 }, () => {
  let cl, amy, amy2, ben, chat;
  before(async () => {
    cl = await startCluster({ instances: 2 });
    amy = await User.signup(cl.endpoint, 'amy12', { localAddress: cl.addrFor(1) });
    ben = await User.signup(cl.endpoint, 'ben12', { localAddress: cl.addrFor(2) });
    amy2 = await amy.device(cl.addrFor(2)); // amy's phone, served by instance 2
    chat = await befriend(amy, ben);
  });
  after(async () => {
    await cl?.stop();
  });

  it('chat_state crosses instances live and reaches an offline device pending', async () => {
    const A1 = await amy.connect();
    const A2 = await amy2.connect();
    assert.equal(A1.hello.instance, 'duet-1');
    assert.equal(A2.hello.instance, 'duet-2');
    expectStatus(await amy.http.put(`/api/chats/${chat}/state`, { pinned: true }), 200);
    for (const ws of [A1, A2]) {
      const ev = await ws.next('chat_state', (e) => e.chat_id === chat);
      assert.deepEqual([ev.pinned, ev.archived, ev.muted_until], [true, false, null]);
      ws.send({ type: 'ack', chat_id: chat, kind: 'chat_state', seq: 0 });
    }
    await A2.ping();
    await A2.close();
    // The phone is offline; two changes through instance 1, the latest wins.
    expectStatus(await amy.http.put(`/api/chats/${chat}/state`, { mute: 'always' }), 200);
    expectStatus(await amy.http.put(`/api/chats/${chat}/state`, { archived: true }), 200);
    const P = await amy2.connect();
    assert.equal(P.hello.instance, 'duet-2');
    const st = P.pending.filter((e) => e.type === 'chat_state' && e.chat_id === chat);
    assert.equal(st.length, 1, JSON.stringify(P.pending));
    assert.deepEqual([st[0].pinned, st[0].archived, st[0].muted_until], [true, true, 253402300799999]);
    await P.close();
    await A1.close();
  });

  it('a message from the peer through instance 2 ends the archive made through instance 1', async () => {
    assert.equal((await chatWith(amy, chat)).archived, true);
    const B = await ben.connect();
    assert.equal(B.hello.instance, 'duet-2');
    await sendMsg(B, chat, 'unarchive me');
    assert.equal((await chatWith(amy, chat)).archived, false);
    assert.equal((await chatWith(amy2, chat)).archived, false);
    await B.close();
  });
});
