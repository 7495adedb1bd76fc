// 03 - a permanent hole does not stall cross-instance delivery (the Redis
// hub's gap fill, src/app/hub_order.c; docs/cassandra.md "Holes").
//
// Two duetd instances behind nginx with Redis (tests/cluster/lib), on one
// Cassandra node of the test's own (127.0.3.1), a short request timeout so
// that the void bound (10 timeouts) is 20 s. Bob is connected and up to date
// at seq 1 when a crashed sender's claim of seq 2 appears (applied over CQL,
// no rows). Alice's next message is seq 3: bob's connection holds it behind
// the gap and fills the gap from the store; the store declares seq 2 void
// once the claim is old enough, and seq 3 must then reach bob live, on the
// same connection, exactly once.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cluster, Redis, freePort } from '../cluster/lib/cluster.mjs';
import { User, befriend, fullHistory } from '../integration/lib/client.mjs';
import { withCql } from '../integration/lib/cql.mjs';
import { DuetServer, SLOW, waitFor } from '../integration/lib/server.mjs';
import { Nodes } from './lib/nodes.mjs';

const TIMEOUT_MS = 2000;

// The cluster suite's Cluster, on the Cassandra store of the given hosts.
class CassCluster extends Cluster {
  constructor(hosts, opts) {
    super(opts);
    this.cassHosts = hosts;
  }

  serverArgs(i) {
    const a = super.serverArgs(i);
    const k = a.indexOf('--sync'); // SQLite's
    if (k >= 0) a.splice(k, 2);
    return [...a, '--cassandra-timeout', String(TIMEOUT_MS)];
  }

  // Cluster.start, with DuetServer's Cassandra store options.
  async start() {
    fs.mkdirSync(path.join(this.dir, 'redis'));
    this.redis = await new Redis(await freePort(), path.join(this.dir, 'redis')).start();
    for (let i = 0; i < this.n; i++) {
      this.servers.push(
        new DuetServer({ dataDir: this.dataDir, args: this.serverArgs(i), cassandra: { hosts: this.cassHosts }, startTimeoutMs: 300000 * SLOW }),
      );
    }
    // One at a time: the first creates the keyspace.
    for (const s of this.servers) await s.start();
    for (const s of this.servers) {
      await waitFor(() => /redis: connected/.test(s.stderr), 'an instance to connect to redis', 10000 * SLOW);
    }
    this.port = await freePort();
    await this.startNginx();
    await this.probe();
    return this;
  }
}

describe('cassandra 03: a permanent hole and the Redis hub', { timeout: 900000 }, () => {
  const nodes = new Nodes({ net: '127.0.3', count: 1 });
  let cl;

  before(async () => {
    await nodes.fresh();
    cl = new CassCluster(nodes.hosts, { instances: 2 });
    await cl.start();
  });
  after(async () => {
    try {
      await cl?.stop();
    } finally {
      await nodes.remove();
    }
  });

  it('a claimed sequence that is never written is voided after the bound and the held message is delivered', async (t) => {
    const srv = cl.endpoint;
    const alice = await User.signup(srv, 'hh_alice', { localAddress: cl.addrFor(1) });
    const bob = await User.signup(srv, 'hh_bob', { localAddress: cl.addrFor(2) });
    const chat = await befriend(alice, bob);
    const A = await alice.connect({ localAddress: cl.addrFor(1) });
    const B = await bob.connect({ localAddress: cl.addrFor(2) });
    assert.notEqual(A.hello.instance, B.hello.instance, 'alice and bob are on different instances');

    const s1 = await A.request({ type: 'send', chat_id: chat, id: 'hh1', text: 'one' });
    assert.equal(s1.seq, 1);
    assert.equal((await B.next('message', (e) => e.id === 'hh1')).seq, 1);

    const ks = cl.servers[0].keyspace;
    const claim = await withCql(nodes.hosts, (c) =>
      c.query(
        `BEGIN BATCH UPDATE "${ks}".chats SET last_seq = 2, last_activity = toTimestamp(now()) WHERE chat_id = ${chat} IF last_seq = 1;` +
          ` INSERT INTO "${ks}".chats (chat_id, message_id, sequence, sender, receiver, message, sent_at)` +
          ` VALUES (${chat}, 'hh2', 2, ${alice.id}, ${bob.id}, 'two', toTimestamp(now())) IF NOT EXISTS USING TTL 2592000; APPLY BATCH`,
      ),
    );
    assert.equal(claim.rows[0][0][0], 1, 'the simulated claim applied');

    const s3 = await A.request({ type: 'send', chat_id: chat, id: 'hh3', text: 'three' });
    assert.equal(s3.seq, 3);
    // Held behind the hole until the store gives seq 2 up (10 timeouts =
    // 20 s after the claim), then delivered on the same connection.
    const m3 = await B.next('message', (e) => e.id === 'hh3', 120000 * SLOW);
    assert.equal(m3.seq, 3);
    await B.expectNo('message', 1000, (e) => e.id === 'hh3');
    assert.deepEqual((await fullHistory(bob, chat)).map((m) => m.seq), [1, 3]);
    const log = cl.servers.map((s) => s.stderr).join('');
    assert.match(log, /sequence 2 was claimed but never written; voided/);
    t.diagnostic('seq 3 reached bob after seq 2 was voided');
    await A.close();
    await B.close();
  });
});
