// 02 - Cassandra unreachable at start-up: duetd says so clearly, keeps
// retrying instead of crashing, and serves once a node appears.
//
// duetd starts pointing at 127.0.2.1, where nothing listens yet; once its log
// shows it retrying, a node is started there (scripts/cassandra.sh, a
// directory of its own) and duetd must come up on it: sign-ups and messages
// work, with nothing restarted.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DuetServer, SLOW, waitFor } from '../integration/lib/server.mjs';
import { HttpClient, User, befriend, sendMsg } from '../integration/lib/client.mjs';
import { Nodes } from './lib/nodes.mjs';

const RETRY_RE = /cassandra.*(no node|cannot connect|unreachable|connection refused).*retrying/i;

describe('cassandra 02: no node at start-up', { timeout: 900000 }, () => {
  const nodes = new Nodes({ net: '127.0.2', count: 1 });
  let srv;
  after(async () => {
    try {
      await srv?.stop();
    } finally {
      await nodes.remove();
    }
  });

  it('logs a clear error, retries without exiting, and serves once the node is up', async (t) => {
    await nodes.cmd(['wipe']);
    srv = new DuetServer({
      cassandra: { hosts: nodes.hosts },
      // The node starts during start-up; allow for it.
      startTimeoutMs: 600000 * SLOW,
    });
    const started = srv.start().then(
      () => null,
      (e) => e,
    );
    // Two retry messages: it keeps trying, it did not just log once and die.
    await waitFor(() => (srv.stderr.match(new RegExp(RETRY_RE, 'gi')) || []).length >= 2, 'duetd to log that it cannot reach Cassandra and retries, twice', 60000 * SLOW, 100);
    assert.equal(srv.exit, null, `duetd exited: ${srv.stderr}`);
    assert.match(srv.stderr, /127\.0\.2\.1/, 'the error names the unreachable host');
    t.diagnostic(srv.stderr.split('\n').find((l) => RETRY_RE.test(l)));

    await nodes.cmd(['start']);
    const err = await started;
    assert.equal(err, null, `duetd did not start once the node was up: ${err?.message}`);
    assert.equal(srv.exit, null, 'duetd is still running');
    // Listening may come before the store is ready: sign-ups work at the latest
    // once duetd has created its keyspace.
    const a = await waitFor(async () => {
      const h = new HttpClient(srv);
      const r = await h.post('/api/signup', { username: 'late_a', password: 'late a password' });
      return r.status === 201 ? r : null;
    }, 'a sign-up to succeed once Cassandra is up', 120000 * SLOW, 500);
    assert.equal(a.status, 201);
    const [b, c] = await User.all(srv, ['late_b', 'late_c']);
    const chat = await befriend(b, c);
    const ws = await b.connect();
    const s = await sendMsg(ws, chat, 'hello after the outage');
    assert.equal(s.type, 'sent');
    await ws.close();
  });
});
