// 24 - a backlog bigger than the WebSocket's output queue cap. duetd sends
// pending rows in slices, each once the previous one is in the kernel, so a
// user whose friend left megabytes of long messages can still reconnect and
// catch up (sent all at once, they overran --max-ws-queue and the
// connection was closed with 1008 at every attempt). A socket closed in the
// middle of a slice frees what the replay held and loses nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NO_RATE_LIMIT, startServer } from './lib/server.mjs';
import { User, befriend } from './lib/client.mjs';

const N = 60;
// 3,990 two-byte characters: about 8 KB per message event, so the backlog
// (about 480 KB) is over seven times the 64 KiB queue cap below.
const TEXT = 'é'.repeat(3990);

describe('24 backlog replay in slices (--max-ws-queue 64 KiB)', { timeout: 180000 }, () => {
  let srv, alice, bob, chat, A;
  before(async () => {
    srv = await startServer({ args: ['--max-ws-queue', '64', ...NO_RATE_LIMIT] });
    [alice, bob] = await User.all(srv, ['alice', 'bob']);
    chat = await befriend(alice, bob);
    A = await alice.connect();
    for (let i = 1; i <= N; i++) {
      const ev = await A.request({ type: 'send', chat_id: chat, id: `m${i}`, text: `${i} ${TEXT}` });
      assert.equal(ev.type, 'sent', JSON.stringify(ev).slice(0, 200));
    }
  });
  after(async () => {
    await srv?.stop();
  });

  it('a socket closed as the replay starts frees it; the server carries on', async () => {
    for (let round = 0; round < 5; round++) {
      const B = await bob.connect({ raw: true, label: `bob-cut#${round}` });
      await B.next('message'); // the replay has begun
      B.terminate();
      await B.closed;
    }
    const res = await alice.http.get('/api/me');
    assert.equal(res.status, 200, 'the server still answers');
  });

  it('bob reconnects and gets every message once, in order, then synced', async () => {
    const B = await bob.connect();
    assert.equal(B.closeInfo, null, `the connection stays open (${JSON.stringify(B.closeInfo)})`);
    const msgs = B.pending.filter((e) => e.type === 'message');
    assert.equal(msgs.length, N);
    assert.deepEqual(msgs.map((e) => e.id), Array.from({ length: N }, (_, i) => `m${i + 1}`));
    assert.deepEqual(msgs.map((e) => e.seq), Array.from({ length: N }, (_, i) => i + 1));
    assert.ok(msgs.every((e, i) => e.text === `${i + 1} ${TEXT}`), 'texts arrive whole');
    assert.equal(B.synced.pending, B.pending.length);
    // Live delivery works after a sliced replay, and acks reach the sender.
    B.send({ type: 'ack', chat_id: chat, kind: 'message', seq: N });
    const rc = await A.next('receipt', (e) => e.seq === N);
    assert.equal(rc.status, 'delivered');
    const ev = await A.request({ type: 'send', chat_id: chat, id: 'live', text: 'after the backlog' });
    assert.equal(ev.type, 'sent');
    const live = await B.next('message', (e) => e.id === 'live');
    assert.equal(live.seq, N + 1);
    await B.close();
  });

  it('what bob acknowledged is gone: the next session has only the unacknowledged live message', async () => {
    const B = await bob.connect();
    assert.deepEqual(B.pending.filter((e) => e.type === 'message').map((e) => e.id), ['live']);
    await B.close();
  });
});
