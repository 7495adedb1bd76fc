// 18 - holes on the Cassandra store (docs/cassandra.md "Holes").
//
// A hole is a sequence whose claim exists (last_seq moved past it) but whose
// message rows were never written: the sender's row write failed and the
// sender never retried. The test makes one the way a crashed sender leaves
// it: the claim batch is applied directly over CQL, and no rows follow.
// Then:
//  - later messages are stored and delivered in order around it;
//  - a young hole is left alone (its sender may still write it);
//  - once the claim is older than the bound, a forward history read
//    (as the Redis hub's gap fill does) writes a void marker there, and the
//    history still shows only real messages;
//  - the sender coming back and retrying with the same id still stores the
//    message at its sequence (the real write wins over the void marker),
//    announced as new, and the receiver gets it.
//
// SQLite has no holes (a send is one transaction): nothing to test there.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { withCql } from './lib/cql.mjs';
import { SLOW, isCassandra, startServer, waitFor } from './lib/server.mjs';
import { User, befriend, fullHistory, history } from './lib/client.mjs';

const skipOnSqlite = !isCassandra && 'Cassandra only: the SQLite store writes a message in one transaction, so it never has holes';
// duetd's request timeout here; the void bound is 10 of them (cs_void_age_us).
const TIMEOUT_MS = 2000;

describe('18 holes (Cassandra)', { timeout: 300000 * SLOW, skip: skipOnSqlite }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ['--cassandra-timeout', String(TIMEOUT_MS)] });
  });
  after(async () => {
    await srv?.stop();
  });

  const cql = (q) => withCql(srv.cassandraHosts, (c) => c.query(q));
  const rowAt = async (chat, seq) => {
    const r = await cql(`SELECT type, message_id FROM "${srv.keyspace}".private_chat WHERE chat_id = ${chat} AND bucket = ${Math.floor((seq - 1) / 10000)} AND sequence = ${seq}`);
    if (r.rows.length === 0) return null;
    const [type, mid] = r.rows[0];
    return { type: type ? type.readInt32BE(0) : null, messageId: mid ? mid.toString('utf8') : null };
  };

  it('a hole left by a sender that never wrote its rows is voided after the bound and does not block later messages; the late retry still wins', async (t) => {
    const [alice, bob] = await User.all(srv, ['hole_a', 'hole_b']);
    const chat = await befriend(alice, bob);
    const A = await alice.connect();
    const B = await bob.connect();

    const s1 = await A.request({ type: 'send', chat_id: chat, id: 'h1', text: 'one' });
    assert.equal(s1.type, 'sent');
    assert.equal(s1.seq, 1);
    assert.equal((await B.next('message', (e) => e.id === 'h1')).seq, 1);

    // The crashed sender: its claim of seq 2 applied (Paxos, as duetd does
    // it), then nothing.
    const claim = await cql(
      `BEGIN BATCH UPDATE "${srv.keyspace}".chats SET last_seq = 2, last_activity = toTimestamp(now()) WHERE chat_id = ${chat} IF last_seq = 1;` +
        ` INSERT INTO "${srv.keyspace}".chats (chat_id, message_id, sequence, sender, receiver, message, sent_at)` +
        ` VALUES (${chat}, 'h2', 2, ${alice.id}, ${bob.id}, 'two', toTimestamp(now())) IF NOT EXISTS USING TTL 2592000; APPLY BATCH`,
    );
    assert.equal(claim.rows[0][0][0], 1, 'the simulated claim applied');

    // Later sends go on at seq 3 and reach bob.
    const s3 = await A.request({ type: 'send', chat_id: chat, id: 'h3', text: 'three' });
    assert.equal(s3.type, 'sent');
    assert.equal(s3.seq, 3);
    assert.equal((await B.next('message', (e) => e.id === 'h3')).seq, 3);

    // Young: a forward read skips it but does not void it.
    assert.deepEqual((await history(bob, chat, 'after=1&limit=10')).map((m) => m.seq), [3]);
    assert.equal(await rowAt(chat, 2), null, 'a young hole was voided');

    // Old: the next forward read voids it (polled: the bound is counted from
    // the claim's write time on the nodes' clocks).
    await waitFor(
      async () => {
        const page = await history(bob, chat, 'after=1&limit=10');
        assert.deepEqual(page.map((m) => m.seq), [3], 'a void marker showed up as a message');
        return (await rowAt(chat, 2))?.type === -1;
      },
      'the hole to be voided',
      120000 * SLOW,
      1000,
    );
    assert.deepEqual((await fullHistory(bob, chat)).map((m) => m.seq), [1, 3]);
    assert.ok(/voided/.test(srv.stderr), 'duetd logs the voided sequence');

    // The sender comes back and retries with the same id: its rows win over
    // the void marker, at the claimed sequence, announced as new.
    const s2 = await A.request({ type: 'send', chat_id: chat, id: 'h2', text: 'two' });
    assert.equal(s2.type, 'sent', JSON.stringify(s2));
    assert.equal(s2.seq, 2);
    assert.equal(s2.duplicate, false);
    const m2 = await B.next('message', (e) => e.id === 'h2');
    assert.equal(m2.seq, 2);
    assert.equal(m2.text, 'two');
    assert.deepEqual(await rowAt(chat, 2), { type: 0, messageId: 'h2' });
    const h = await fullHistory(bob, chat);
    assert.deepEqual(h.map((m) => [m.seq, m.id, m.text]), [[1, 'h1', 'one'], [2, 'h2', 'two'], [3, 'h3', 'three']]);
    // A second retry is now a plain duplicate.
    const again = await A.request({ type: 'send', chat_id: chat, id: 'h2', text: 'two' });
    assert.equal(again.duplicate, true);
    t.diagnostic('hole voided after the bound, then filled by the sender\'s retry');
    await A.close();
    await B.close();
  });
});
