// 04 - a node with PasswordAuthenticator: duetd logs in with SASL PLAIN when
// given credentials (--cassandra-user, DUET_CASSANDRA_PASSWORD) and works;
// with a wrong password or none it says clearly that authentication failed,
// keeps retrying instead of exiting, and stops cleanly on SIGTERM.
//
// The node is a fresh one of its own on 127.0.5.1 (scripts/cassandra.sh with
// CASSANDRA_AUTH=password), whose only role is the default superuser
// cassandra/cassandra.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DuetServer, SLOW, waitFor } from '../integration/lib/server.mjs';
import { User, befriend, sendMsg } from '../integration/lib/client.mjs';
import { Nodes } from './lib/nodes.mjs';

// The store says once that it cannot connect and retries; the driver then
// logs each further attempt (with backoff).
const STORE_RE = /store: cassandra: cannot connect to 127\.0\.5\.1: .*authentication failed.*retrying/i;
const ATTEMPT_RE = /cql: cannot connect to 127\.0\.5\.1:9042: .*authentication failed/gi;

describe('cassandra 04: PasswordAuthenticator', { timeout: 900000 }, () => {
  const nodes = new Nodes({ net: '127.0.5', count: 1 });
  before(async () => {
    process.env.CASSANDRA_AUTH = 'password'; // read by scripts/cassandra.sh
    await nodes.fresh();
  });
  after(async () => {
    await nodes.remove();
  });

  it('logs in with the configured user and password, and serves', async () => {
    const srv = new DuetServer({
      cassandra: { hosts: nodes.hosts },
      args: ['--cassandra-user', 'cassandra'],
      env: { DUET_CASSANDRA_PASSWORD: 'cassandra' },
      startTimeoutMs: 300000 * SLOW,
    });
    try {
      await srv.start();
      const [a, b] = await User.all(srv, ['auth_a', 'auth_b']);
      const chat = await befriend(a, b);
      const wa = await a.connect();
      const wb = await b.connect();
      const s = await sendMsg(wa, chat, 'over an authenticated session');
      assert.equal(s.type, 'sent');
      const m = await wb.next('message', (e) => e.seq === s.seq);
      assert.equal(m.text, 'over an authenticated session');
      await wa.close();
      await wb.close();
      assert.doesNotMatch(srv.stderr, /authentication failed/i);
    } finally {
      await srv.stop();
    }
  });

  for (const [name, extra, why] of [
    ['a wrong password', { args: ['--cassandra-user', 'cassandra', '--cassandra-password', 'not-the-password'] },
      /BAD_CREDENTIALS: Provided username cassandra and\/or password are incorrect/],
    ['no credentials', { args: [] }, /requires authentication but no credentials are configured/],
  ]) {
    it(`with ${name}: a clear error, retries, no crash, a clean stop`, async () => {
      const srv = new DuetServer({ cassandra: { hosts: nodes.hosts }, ...extra, startTimeoutMs: 120000 * SLOW });
      const started = srv.start().then(
        () => null,
        (e) => e,
      );
      try {
        await waitFor(() => STORE_RE.test(srv.stderr) && (srv.stderr.match(ATTEMPT_RE) || []).length >= 3,
          'duetd to log that Cassandra authentication failed, that it retries, and two more attempts', 90000 * SLOW, 100);
        assert.equal(srv.exit, null, `duetd exited: ${srv.stderr}`);
        assert.match(srv.stderr, why, 'the log says why');
        assert.doesNotMatch(srv.stderr, /not-the-password/, 'the password is never logged');
      } finally {
        srv.proc.kill('SIGTERM');
        const exit = await waitFor(() => srv.exit, 'duetd to exit on SIGTERM', 30000 * SLOW, 50);
        assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}: ${srv.stderr}`);
        srv.cleanup();
        await started;
      }
    });
  }
});
