// 17 - disk full: with the data folder on a small tmpfs that fills up,
// nothing is acknowledged that was not stored, the sender gets a clear
// error (store_failed), duetd stays up, and once space returns the same
// ids are stored exactly once. Needs root (mount), as the README's test
// command does.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCassandra, mkTempDir, rmDir, startServer } from './lib/server.mjs';
import { User, befriend, fullHistory } from './lib/client.mjs';

function fillDisk(dir) {
  const file = path.join(dir, 'filler');
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 7);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    assert.equal(e.code, 'ENOSPC', `filling the disk: ${e.message}`);
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

// SQLite only: the test fills the tmpfs under the SQLite file. A Cassandra
// node's full disk is the node's business (disk_failure_policy: stop, and
// the other replicas take the writes); duetd only sees failed writes, which
// tests/cassandra/01-cluster covers with frozen replicas.
const skipOnCassandra = isCassandra && 'SQLite only: fills the tmpfs that holds the SQLite file (Cassandra: see tests/cassandra)';

describe('17 disk full', { timeout: 180000, skip: skipOnCassandra }, () => {
  let mnt, srv, alice, bob, chat, A;
  before(async () => {
    mnt = mkTempDir('duet-full-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mnt]);
    fs.mkdirSync(path.join(mnt, 'data'));
    srv = await startServer({ dataDir: path.join(mnt, 'data') });
    [alice, bob] = await User.all(srv, ['alice', 'bob']);
    chat = await befriend(alice, bob);
    A = await alice.connect();
  });
  after(async () => {
    await srv?.stop({ keepData: true });
    try {
      execFileSync('umount', [mnt]);
    } finally {
      rmDir(mnt);
    }
  });

  it('refuses with store_failed while full, acknowledges only what it stored, and recovers when space returns', async () => {
    const text = 'x'.repeat(4000);
    const sent = [];
    for (let i = 0; i < 20; i++) {
      const ev = await A.request({ type: 'send', chat_id: chat, id: `before-${i}`, text });
      assert.equal(ev.type, 'sent', JSON.stringify(ev));
      sent.push(ev.id);
    }
    const filler = fillDisk(mnt);
    const failed = [];
    for (let i = 0; i < 400 && failed.length < 5; i++) {
      const ev = await A.request({ type: 'send', chat_id: chat, id: `full-${i}`, text });
      if (ev.type === 'sent') {
        sent.push(ev.id);
      } else {
        assert.equal(ev.code, 'store_failed', JSON.stringify(ev));
        assert.equal(ev.request, 'send');
        failed.push(`full-${i}`);
      }
    }
    assert.ok(failed.length > 0, 'some send must fail once the disk is full');
    // duetd is up and still answers reads.
    assert.equal((await alice.http.get('/healthz')).status, 200);
    let h = await fullHistory(alice, chat);
    const ids = new Set(h.map((m) => m.id));
    for (const id of sent) assert.ok(ids.has(id), `acknowledged ${id} is stored`);
    for (const id of failed) assert.ok(!ids.has(id), `refused ${id} must not be stored`);
    h.forEach((m, k) => assert.equal(m.seq, k + 1, 'no gap in the sequence'));

    fs.unlinkSync(filler);
    for (const id of failed) {
      const ev = await A.request({ type: 'send', chat_id: chat, id, text });
      assert.equal(ev.type, 'sent', `after space returns, ${id}: ${JSON.stringify(ev)}`);
      assert.equal(ev.duplicate, false);
      sent.push(id);
    }
    h = await fullHistory(alice, chat);
    assert.deepEqual(h.map((m) => m.id).sort(), [...sent].sort(), 'every acknowledged message exactly once');
    h.forEach((m, k) => assert.equal(m.seq, k + 1, 'no gap in the sequence'));
    // bob gets them all on connect, in order.
    const B = await bob.connect();
    assert.deepEqual(B.pending.filter((e) => e.type === 'message').map((e) => e.seq), h.map((m) => m.seq));
  });
});
