// 44 - the VAPID key: made once under --data (0600) and kept across
// restarts; --vapid-key shares one key between instances (docs/deploy.md);
// a key file others may read is refused, and then push is off
// (push_unavailable) while the rest of duet runs; http:// endpoints are
// refused without the test flag.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { mkTempDir, rmDir, startServer } from './lib/server.mjs';
import { User, expectError, expectStatus, uniqueName } from './lib/client.mjs';

describe('44 push keys', { timeout: 120000 }, () => {
  const tmp = mkTempDir('duet-vapid-');
  after(() => rmDir(tmp));
  const keyOf = async (server) => (await new User(server, 'k', 'k').http.get('/api/push/key')).json?.key;

  it('made once, 0600, kept across a restart, shared with --vapid-key', async () => {
    const a = await startServer();
    const key = await keyOf(a);
    assert.match(key, /^[A-Za-z0-9_-]{87}$/);
    const file = path.join(a.dataDir, 'vapid.pem');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    await a.stop({ keepData: true });
    await a.start();
    assert.equal(await keyOf(a), key, 'the same key after a restart');
    const shared = path.join(tmp, 'shared.pem');
    fs.copyFileSync(file, shared);
    fs.chmodSync(shared, 0o600);
    const b = await startServer({ args: ['--vapid-key', shared] });
    assert.equal(await keyOf(b), key, 'a second instance with --vapid-key has the same key');
    assert.ok(!fs.existsSync(path.join(b.dataDir, 'vapid.pem')), 'no key of its own was made');
    await b.stop();
    await a.stop();
  });

  it('a key file others may read is refused: push is off, duet runs', async () => {
    const loose = path.join(tmp, 'loose.pem');
    const a = await startServer();
    fs.copyFileSync(path.join(a.dataDir, 'vapid.pem'), loose);
    await a.stop();
    fs.chmodSync(loose, 0o644);
    const s = await startServer({ args: ['--vapid-key', loose] });
    assert.match(s.stderr, /push: off/);
    const u = await User.signup(s, uniqueName('np'));
    expectError(await u.http.get('/api/push/key'), 503, 'push_unavailable');
    expectError(await u.http.get('/api/push/subscriptions'), 503, 'push_unavailable');
    expectStatus(await u.http.get('/api/me'), 200);
    expectStatus(await u.http.post('/api/logout'), 204, 'logout works without push');
    await s.stop();
  });

  it('http:// endpoints are refused unless --push-test-loopback', async () => {
    const s = await startServer();
    const u = await User.signup(s, uniqueName('h'));
    const p256dh = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url');
    const r = await u.http.post('/api/push/subscriptions', { endpoint: 'http://push.example/x', keys: { p256dh, auth: 'AAAAAAAAAAAAAAAAAAAAAA' } });
    expectError(r, 400, 'bad_endpoint');
    await s.stop();
  });
});
