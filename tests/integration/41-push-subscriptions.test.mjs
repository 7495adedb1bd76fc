// 41 - Web Push subscriptions over HTTP: the VAPID key, subscribe with the
// browser's {endpoint, keys}, list, delete, the per-user bound, logout
// removes the session's subscriptions, the preview setting, and the codes
// of bad input.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startPushEnv } from './lib/push-env.mjs';
import { UUID_RE, User, expectError, expectStatus, uniqueName } from './lib/client.mjs';

describe('41 push subscriptions', { timeout: 120000 }, () => {
  let server;
  let svc;
  let key;
  before(async () => {
    ({ server, svc, key } = await startPushEnv(['--push-max-subs', '3']));
  });
  after(async () => {
    await svc?.close();
    await server?.stop();
  });

  const body = (s, device) => ({ endpoint: s.endpoint, keys: { p256dh: s.p256dh, auth: s.auth }, ...(device ? { device } : {}) });

  it('the key is the 65-byte uncompressed P-256 point in base64url, the same every time', async () => {
    const raw = Buffer.from(key, 'base64url');
    assert.equal(raw.length, 65);
    assert.equal(raw[0], 4);
    assert.equal(key, Buffer.from(key, 'base64url').toString('base64url'), 'unpadded base64url');
    const u = await User.signup(server, uniqueName('k'));
    assert.equal((await u.http.get('/api/push/key')).json.key, key);
  });

  it('subscribe, list, delete', async () => {
    const u = await User.signup(server, uniqueName('s'));
    const s = svc.subscribe({ applicationServerKey: key });
    const r = await u.http.post('/api/push/subscriptions', body(s, 'Firefox on a laptop'));
    expectStatus(r, 201, 'subscribe:');
    const sub = r.json.subscription;
    assert.match(sub.id, UUID_RE);
    assert.equal(sub.device, 'Firefox on a laptop');
    assert.equal(sub.service, svc.origin);
    assert.equal(sub.last_success, 0);
    assert.ok(sub.created_at > Date.now() - 60000);
    const l = await u.http.get('/api/push/subscriptions');
    expectStatus(l, 200, 'list:');
    assert.deepEqual(l.json.subscriptions.map((x) => x.id), [sub.id]);
    assert.ok(!('endpoint' in l.json.subscriptions[0]), 'the endpoint (a capability) is not echoed');
    // someone else cannot see or delete it
    const other = await User.signup(server, uniqueName('o'));
    assert.deepEqual((await other.http.get('/api/push/subscriptions')).json.subscriptions, []);
    expectError(await other.http.del(`/api/push/subscriptions/${sub.id}`), 404, 'not_found');
    expectStatus(await u.http.del(`/api/push/subscriptions/${sub.id}`), 204, 'delete:');
    assert.deepEqual((await u.http.get('/api/push/subscriptions')).json.subscriptions, []);
    expectError(await u.http.del(`/api/push/subscriptions/${sub.id}`), 404, 'not_found');
    expectError(await u.http.del('/api/push/subscriptions/not-an-id'), 404, 'not_found');
  });

  it('the same endpoint again replaces its subscription; the oldest go past the bound', async () => {
    const u = await User.signup(server, uniqueName('b'));
    const s1 = svc.subscribe({ applicationServerKey: key });
    const a = (await u.http.post('/api/push/subscriptions', body(s1, 'one'))).json.subscription;
    const again = await u.http.post('/api/push/subscriptions', body(s1, 'one again'));
    expectStatus(again, 201);
    let list = (await u.http.get('/api/push/subscriptions')).json.subscriptions;
    assert.equal(list.length, 1, 'one endpoint, one subscription');
    assert.equal(list[0].device, 'one again');
    assert.notEqual(list[0].id, a.id);
    const ids = [list[0].id];
    for (let i = 0; i < 3; i++) {
      const s = svc.subscribe({ applicationServerKey: key });
      const r = await u.http.post('/api/push/subscriptions', body(s, `d${i}`));
      expectStatus(r, 201);
      ids.push(r.json.subscription.id);
    }
    list = (await u.http.get('/api/push/subscriptions')).json.subscriptions;
    assert.deepEqual(list.map((x) => x.id), ids.slice(1), '--push-max-subs 3: the oldest went');
  });

  it('bad input is refused with stable codes', async () => {
    const u = await User.signup(server, uniqueName('x'));
    const s = svc.subscribe({ applicationServerKey: key });
    const post = (b) => u.http.post('/api/push/subscriptions', b);
    expectError(await post({ keys: { p256dh: s.p256dh, auth: s.auth } }), 400, 'missing_field');
    expectError(await post({ endpoint: 5, keys: { p256dh: s.p256dh, auth: s.auth } }), 400, 'bad_request');
    expectError(await post({ endpoint: s.endpoint }), 400, 'missing_field');
    expectError(await post({ endpoint: s.endpoint, keys: 'x' }), 400, 'bad_request');
    expectError(await post({ ...body(s), endpoint: 'ftp://example.com/push' }), 400, 'bad_endpoint');
    expectError(await post({ ...body(s), endpoint: 'https://' }), 400, 'bad_endpoint');
    expectError(await post({ ...body(s), endpoint: `https://example.com/${'a'.repeat(1100)}` }), 400, 'bad_endpoint');
    expectError(await post({ ...body(s), endpoint: 'https://example.com/a b' }), 400, 'bad_endpoint');
    // p256dh: not base64url, wrong length, not on the curve
    expectError(await post({ endpoint: s.endpoint, keys: { p256dh: '!!!', auth: s.auth } }), 400, 'bad_keys');
    expectError(await post({ endpoint: s.endpoint, keys: { p256dh: s.p256dh.slice(0, 40), auth: s.auth } }), 400, 'bad_keys');
    const off = Buffer.from(s.p256dh, 'base64url');
    off[64] ^= 1;
    expectError(await post({ endpoint: s.endpoint, keys: { p256dh: off.toString('base64url'), auth: s.auth } }), 400, 'bad_keys');
    expectError(await post({ endpoint: s.endpoint, keys: { p256dh: s.p256dh, auth: Buffer.alloc(15).toString('base64url') } }), 400, 'bad_keys');
    expectError(await post({ ...body(s), device: 'x'.repeat(65) }), 400, 'bad_device');
    expectError(await post({ ...body(s), device: 7 }), 400, 'bad_device');
    assert.deepEqual((await u.http.get('/api/push/subscriptions')).json.subscriptions, [], 'nothing stored');
    // no session; another site
    const anon = new User(server, 'nobody', 'x');
    expectError(await anon.http.post('/api/push/subscriptions', body(s)), 401, 'unauthorized');
    expectError(await u.http.post('/api/push/subscriptions', body(s), { headers: { Origin: 'https://evil.example' } }), 403, 'bad_origin');
  });

  it('logout removes the subscriptions of that session only', async () => {
    const u = await User.signup(server, uniqueName('l'));
    const phone = await u.device();
    const s1 = svc.subscribe({ applicationServerKey: key });
    const s2 = svc.subscribe({ applicationServerKey: key });
    expectStatus(await u.http.post('/api/push/subscriptions', body(s1, 'laptop')), 201);
    expectStatus(await phone.http.post('/api/push/subscriptions', body(s2, 'phone')), 201);
    assert.equal((await u.http.get('/api/push/subscriptions')).json.subscriptions.length, 2);
    expectStatus(await phone.http.post('/api/logout'), 204, 'logout:');
    const list = (await u.http.get('/api/push/subscriptions')).json.subscriptions;
    assert.deepEqual(list.map((x) => x.device), ['laptop']);
  });

  it('a password change removes the subscriptions of the sessions it ends', async () => {
    const u = await User.signup(server, uniqueName('pw'));
    const phone = await u.device();
    const s1 = svc.subscribe({ applicationServerKey: key });
    const s2 = svc.subscribe({ applicationServerKey: key });
    expectStatus(await u.http.post('/api/push/subscriptions', body(s1, 'laptop')), 201);
    expectStatus(await phone.http.post('/api/push/subscriptions', body(s2, 'phone')), 201);
    const r = await u.http.post('/api/me/password', { old_password: u.password, new_password: 'a brand new password' });
    expectStatus(r, 204, 'password change:');
    const list = (await u.http.get('/api/push/subscriptions')).json.subscriptions;
    assert.deepEqual(list.map((x) => x.device), ['laptop'], 'the phone was logged out, and its subscription went');
  });

  it('the preview setting is off by default and can be turned on and off', async () => {
    const u = await User.signup(server, uniqueName('p'));
    assert.deepEqual((await u.http.get('/api/push/settings')).json, { push_preview: false });
    assert.deepEqual((await u.http.patch('/api/push/settings', { push_preview: true })).json, { push_preview: true });
    assert.deepEqual((await u.http.get('/api/push/settings')).json, { push_preview: true });
    assert.deepEqual((await u.http.patch('/api/push/settings', { push_preview: false })).json, { push_preview: false });
    expectError(await u.http.patch('/api/push/settings', { push_preview: 'yes' }), 400, 'bad_request');
    expectError(await u.http.patch('/api/push/settings', {}), 400, 'missing_field');
  });
});
