// 85 - the chat list's unread count looks at the newest messages past the
// read position, 1,000 at most (STORE_UNREAD_MAX), on every backend: a friend who wrote
// thousands of messages must not make each of the reader's connections
// scan them all (on SQLite that scan ran on the one writer thread).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NO_RATE_LIMIT, startServer } from './lib/server.mjs';
import { User, befriend, chatWith } from './lib/client.mjs';

const MAX = 1000;
const N = MAX + 25;
const WINDOW = 32;

// Sends count messages from ws, WINDOW in flight; returns the last seq.
async function sendMany(ws, chat, from, count) {
  let last = 0;
  for (let i = 0; i < count; i += WINDOW) {
    const refs = [];
    for (let j = i; j < Math.min(count, i + WINDOW); j++) {
      const ref = `s${from + j}`;
      refs.push(ref);
      ws.send({ type: 'send', ref, chat_id: chat, id: `m${from + j}`, text: `message ${from + j}` });
    }
    for (const ref of refs) {
      const ev = await ws.next(null, (e) => e.ref === ref && (e.type === 'sent' || e.type === 'error'));
      assert.equal(ev.type, 'sent', JSON.stringify(ev));
      last = ev.seq;
    }
  }
  return last;
}

describe('85 unread counts stop at 1,000', { timeout: 300000 }, () => {
  let srv, alice, bob, chat, A, last;
  before(async () => {
    srv = await startServer({ args: NO_RATE_LIMIT });
    [alice, bob] = await User.all(srv, ['alice', 'bob']);
    chat = await befriend(alice, bob);
    A = await alice.connect();
    last = await sendMany(A, chat, 0, N);
  });
  after(async () => {
    await srv?.stop();
  });

  it('more than 1,000 unread: the count stops at 1,000', async () => {
    assert.equal(last, N);
    const c = await chatWith(bob, chat);
    assert.equal(c.read_seq, 0);
    assert.equal(c.unread, MAX);
    assert.equal(c.last_message.seq, N, 'the preview is still the newest message');
  });

  it('under the bound the count is exact, and the bound moves with the read position', async () => {
    const B = await bob.connect();
    B.send({ type: 'seen', chat_id: chat, seq: N - MAX + 10 });
    await A.next('receipt', (r) => r.status === 'seen' && r.seq === N - MAX + 10);
    assert.equal((await chatWith(bob, chat)).unread, MAX - 10);
    // bob's own messages past his read position are looked at, not counted:
    // 990 of alice's and his 5 are past it (exact), then alice's 20 more:
    // the newest 1,000 are those 20, his 5 and 975 of the 990.
    assert.equal(await sendMany(B, chat, N, 5), N + 5);
    assert.equal((await chatWith(alice, chat)).unread, 5, 'alice never read: bob\'s 5 among her own');
    assert.equal((await chatWith(bob, chat)).unread, MAX - 10, 'still exact');
    assert.equal(await sendMany(A, chat, N + 5, 20), N + 25);
    assert.equal((await chatWith(bob, chat)).unread, MAX - 5);
    assert.equal((await chatWith(alice, chat)).unread, 5);
    await B.close();
  });
});
