// 02 - accounts: sign-up, login, logout, me, settings, password change,
// input validation, and how passwords and sessions are stored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { HttpClient, UUID_RE, User, expectError, expectStatus } from './lib/client.mjs';

function assertMe(me, username, displayName) {
  assert.match(me.id, UUID_RE, `user id is not a UUID: ${JSON.stringify(me)}`);
  assert.equal(me.username, username);
  assert.equal(me.display_name, displayName);
  assert.ok(me.settings && typeof me.settings === 'object', `me has no settings: ${JSON.stringify(me)}`);
}

describe('02 accounts', { timeout: 180000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('sign-up → 201 {user: me} with default settings and a session cookie', async () => {
    const http = new HttpClient(srv);
    const res = expectStatus(await http.post('/api/signup', { username: 'alice', password: 'correct horse', display_name: 'Alice A.' }), 201);
    assertMe(res.json.user, 'alice', 'Alice A.');
    assert.deepEqual(res.json.user.settings, { last_seen: 'friends', read_receipts: true }, 'default settings');
    const c = res.setCookies.find((x) => x.name === 'duet_session');
    assert.ok(c, `no duet_session cookie: ${JSON.stringify(res.headers['set-cookie'])}`);
    assert.match(c.value, /^[A-Za-z0-9_-]{43}=?$/, 'the session is 256 bits of base64url');
    assert.equal(c.attrs.httponly, true, 'HttpOnly');
    assert.equal(String(c.attrs.samesite).toLowerCase(), 'lax', 'SameSite=Lax');
    assert.equal(c.attrs.path, '/', 'Path=/');
    assert.equal(c.attrs.secure, undefined, 'no Secure without --secure-cookies');
    const me = expectStatus(await http.get('/api/me'), 200);
    assert.deepEqual(me.json.user, res.json.user, 'GET /api/me returns the same me');
  });

  it('usernames are folded to lowercase; display_name defaults to the username', async () => {
    const http = new HttpClient(srv);
    const res = expectStatus(await http.post('/api/signup', { username: 'BoB.Smith_9', password: 'password123' }), 201);
    assert.equal(res.json.user.username, 'bob.smith_9');
    assert.ok(['bob.smith_9', 'BoB.Smith_9'].includes(res.json.user.display_name), `display_name ${res.json.user.display_name}`);
    const plain = expectStatus(await new HttpClient(srv).post('/api/signup', { username: 'plain_user', password: 'password123' }), 201);
    assert.equal(plain.json.user.display_name, 'plain_user');
  });

  it('username_taken (409) for an existing username in any case', async () => {
    await User.signup(srv, 'carol');
    for (const name of ['carol', 'CAROL', 'Carol']) {
      expectError(await new HttpClient(srv).post('/api/signup', { username: name, password: 'password123' }), 409, 'username_taken', name);
    }
  });

  it('bad_username for anything but 3–32 of a-z 0-9 _ .', async () => {
    const bad = ['ab', 'a'.repeat(33), 'al ice', 'al-ice', 'alice!', 'ålice', 'al@ice', '', 'a/b', 'ali\nce'];
    for (const username of bad) {
      expectError(await new HttpClient(srv).post('/api/signup', { username, password: 'password123' }), 400, 'bad_username', JSON.stringify(username));
    }
    expectStatus(await new HttpClient(srv).post('/api/signup', { username: 'abc', password: 'password123' }), 201, '3 chars:');
    expectStatus(await new HttpClient(srv).post('/api/signup', { username: 'z'.repeat(32), password: 'password123' }), 201, '32 chars:');
    expectStatus(await new HttpClient(srv).post('/api/signup', { username: '_.0_.9', password: 'password123' }), 201, '_ . digits:');
  });

  it('weak_password under 8 characters or over 1024 bytes', async () => {
    const http = () => new HttpClient(srv);
    expectError(await http().post('/api/signup', { username: 'weak1', password: '1234567' }), 400, 'weak_password', '7 chars:');
    expectError(await http().post('/api/signup', { username: 'weak1', password: '' }), 400, 'weak_password', 'empty:');
    // 7 characters in 14 bytes is still under 8 characters.
    expectError(await http().post('/api/signup', { username: 'weak1', password: 'ééééééé' }), 400, 'weak_password', '7 two-byte chars:');
    expectError(await http().post('/api/signup', { username: 'weak1', password: 'x'.repeat(1025) }), 400, 'weak_password', '1025 bytes:');
    expectError(await http().post('/api/signup', { username: 'weak1', password: 'é'.repeat(513) }), 400, 'weak_password', '1026 bytes in 513 chars:');
    expectStatus(await http().post('/api/signup', { username: 'weak1', password: '12345678' }), 201, '8 chars:');
    const longPw = 'y'.repeat(1024);
    expectStatus(await http().post('/api/signup', { username: 'weak2', password: longPw }), 201, '1024 bytes:');
    expectStatus(await http().post('/api/login', { username: 'weak2', password: longPw }), 200, 'login with 1024-byte password:');
  });

  it('bad_display_name: empty, over 64 characters, control characters', async () => {
    const http = () => new HttpClient(srv);
    for (const dn of ['', 'x'.repeat(65), 'tab\there', 'bell\u0007', 'nl\nx', 'del\u007f', 'c1\u0085']) {
      expectError(await http().post('/api/signup', { username: 'dn_user', password: 'password123', display_name: dn }), 400, 'bad_display_name', JSON.stringify(dn));
    }
    const ok64 = 'é'.repeat(64); // 64 characters, 128 bytes
    const res = expectStatus(await http().post('/api/signup', { username: 'dn_user', password: 'password123', display_name: ok64 }), 201);
    assert.equal(res.json.user.display_name, ok64);
    const emoji = expectStatus(await http().post('/api/signup', { username: 'dn_user2', password: 'password123', display_name: 'Zoë 😀 日本' }), 201);
    assert.equal(emoji.json.user.display_name, 'Zoë 😀 日本');
  });

  it('missing_field names the missing field; wrong types → bad_request', async () => {
    const http = () => new HttpClient(srv);
    let e = expectError(await http().post('/api/signup', { password: 'password123' }), 400, 'missing_field');
    assert.match(e.message, /username/, `message should name username: ${e.message}`);
    e = expectError(await http().post('/api/signup', { username: 'mf_user' }), 400, 'missing_field');
    assert.match(e.message, /password/, `message should name password: ${e.message}`);
    e = expectError(await http().post('/api/login', { username: 'alice' }), 400, 'missing_field');
    assert.match(e.message, /password/);
    for (const body of [
      { username: 123, password: 'password123' },
      { username: ['x'], password: 'password123' },
      { username: 'mf_user', password: 12345678 },
      { username: 'mf_user', password: 'password123', display_name: 5 },
      { username: 'mf_user', password: 'password123', display_name: { a: 1 } },
    ]) {
      expectError(await http().post('/api/signup', body), 400, 'bad_request', JSON.stringify(body));
    }
    // None of these created mf_user.
    expectStatus(await http().post('/api/signup', { username: 'mf_user', password: 'password123' }), 201);
  });

  it('login → 200 {user: me} and a new session; case-insensitive username', async () => {
    const u = await User.signup(srv, 'dave', { password: 'dave password', displayName: 'Dave' });
    const h = new HttpClient(srv);
    const res = expectStatus(await h.post('/api/login', { username: 'DAVE', password: 'dave password' }), 200);
    assertMe(res.json.user, 'dave', 'Dave');
    assert.equal(res.json.user.id, u.id);
    const c = res.setCookies.find((x) => x.name === 'duet_session');
    assert.ok(c, 'login sets duet_session');
    assert.notEqual(c.value, u.session, 'a new session token per login');
    assert.equal(c.attrs.httponly, true);
    assert.equal(String(c.attrs.samesite).toLowerCase(), 'lax');
    // Both sessions work.
    expectStatus(await h.get('/api/me'), 200);
    expectStatus(await u.http.get('/api/me'), 200);
  });

  it('bad_credentials is the same for an unknown user and a wrong password', async () => {
    await User.signup(srv, 'erin', { password: 'erin password' });
    const wrong = expectError(await new HttpClient(srv).post('/api/login', { username: 'erin', password: 'not erin pw' }), 401, 'bad_credentials');
    const unknown = expectError(await new HttpClient(srv).post('/api/login', { username: 'nobody_here', password: 'not erin pw' }), 401, 'bad_credentials');
    assert.equal(wrong.message, unknown.message, 'the message must not tell unknown users from wrong passwords');
    const r = await new HttpClient(srv).post('/api/login', { username: 'erin', password: 'not erin pw' });
    assert.equal(r.setCookies.find((x) => x.name === 'duet_session' && x.value), undefined, 'no session cookie on failure');
  });

  it('logout → 204, clears the cookie, and ends the session on the server', async () => {
    const u = await User.signup(srv, 'frank');
    const token = u.session;
    const res = await u.http.post('/api/logout');
    expectStatus(res, 204);
    const c = res.setCookies.find((x) => x.name === 'duet_session');
    assert.ok(c, 'logout sends a Set-Cookie that clears duet_session');
    assert.ok(c.value === '' || Number(c.attrs['max-age']) <= 0 || Date.parse(c.attrs.expires) < Date.now(), `cookie not cleared: ${c.raw}`);
    // Replaying the old token does not work.
    expectError(await new HttpClient(srv, { cookie: token }).get('/api/me'), 401, 'unauthorized');
  });

  it('PATCH /api/me changes display name and both privacy settings', async () => {
    const u = await User.signup(srv, 'gina');
    let res = expectStatus(await u.http.patch('/api/me', { display_name: 'Gina G' }), 200);
    assert.equal(res.json.user.display_name, 'Gina G');
    assert.deepEqual(res.json.user.settings, { last_seen: 'friends', read_receipts: true });
    res = expectStatus(await u.http.patch('/api/me', { last_seen: 'nobody', read_receipts: false }), 200);
    assert.deepEqual(res.json.user.settings, { last_seen: 'nobody', read_receipts: false });
    assert.equal(res.json.user.display_name, 'Gina G', 'fields not in the PATCH are kept');
    const me = expectStatus(await u.http.get('/api/me'), 200);
    assert.deepEqual(me.json.user, res.json.user);
    res = expectStatus(await u.http.patch('/api/me', { last_seen: 'friends' }), 200);
    assert.deepEqual(res.json.user.settings, { last_seen: 'friends', read_receipts: false });
  });

  it('PATCH /api/me rejects bad values and changes nothing', async () => {
    const u = await User.signup(srv, 'hank');
    const before = expectStatus(await u.http.get('/api/me'), 200).json.user;
    expectError(await u.http.patch('/api/me', { display_name: '' }), 400, 'bad_display_name');
    expectError(await u.http.patch('/api/me', { display_name: 'x'.repeat(65) }), 400, 'bad_display_name');
    expectError(await u.http.patch('/api/me', { last_seen: 'everyone' }), 400, 'bad_request');
    expectError(await u.http.patch('/api/me', { read_receipts: 'yes' }), 400, 'bad_request');
    expectError(await u.http.patch('/api/me', { display_name: 7 }), 400, 'bad_request');
    // A bad field next to a good one: the whole request is refused.
    expectError(await u.http.patch('/api/me', { display_name: 'Changed', last_seen: 'sometimes' }), 400, 'bad_request');
    expectError(await u.http.patch('/api/me', undefined, { body: 'nope', contentType: 'application/json' }), 400, 'bad_json');
    expectError(await new HttpClient(srv).patch('/api/me', { display_name: 'x' }), 401, 'unauthorized');
    const afterMe = expectStatus(await u.http.get('/api/me'), 200).json.user;
    assert.deepEqual(afterMe, before);
  });

  it('POST /api/me/password: bad_credentials, weak_password, then success', async () => {
    const u = await User.signup(srv, 'ivy', { password: 'old password' });
    expectError(await u.http.post('/api/me/password', { old_password: 'wrong password', new_password: 'new password' }), 401, 'bad_credentials');
    expectError(await u.http.post('/api/me/password', { old_password: 'old password', new_password: 'short' }), 400, 'weak_password');
    expectError(await u.http.post('/api/me/password', { old_password: 'old password' }), 400, 'missing_field');
    // The failed attempts did not end the session.
    expectStatus(await u.http.get('/api/me'), 200);
    expectStatus(await u.http.post('/api/me/password', { old_password: 'old password', new_password: 'new password' }), 204);
    expectStatus(await u.http.get('/api/me'), 200, 'the session that changed the password stays:');
    expectError(await new HttpClient(srv).post('/api/login', { username: 'ivy', password: 'old password' }), 401, 'bad_credentials');
    expectStatus(await new HttpClient(srv).post('/api/login', { username: 'ivy', password: 'new password' }), 200);
  });

  it('many concurrent sign-ups all succeed with distinct ids', async () => {
    const users = await User.all(srv, Array.from({ length: 12 }, (_, i) => `crowd${i}`));
    assert.equal(new Set(users.map((u) => u.id)).size, 12);
    const again = await Promise.all(users.map((u) => u.http.get('/api/me')));
    again.forEach((r, i) => assert.equal(r.json.user.username, `crowd${i}`));
  });

  it('neither passwords nor session tokens are stored in clear; password hashes are Argon2id', async () => {
    const secretPw = 'Plaintext-Marker-7f3a9c';
    const u = await User.signup(srv, 'jack', { password: secretPw });
    const token = u.session;
    const bytes = await srv.storeBytes();
    assert.equal(bytes.indexOf(secretPw), -1, 'the password is in the store in clear');
    assert.equal(bytes.indexOf(token), -1, 'the session token is in the store in clear');
    assert.notEqual(bytes.indexOf('$argon2id$'), -1, 'no Argon2id hash string in the store');
    assert.notEqual(bytes.indexOf('m=8192,t=1'), -1, 'the hash does not use --argon2-mem 8192 --argon2-ops 1');
  });
});

describe('02 accounts with the default Argon2 cost', { timeout: 120000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ fastHash: false });
  });
  after(async () => {
    await srv?.stop();
  });

  it('sign-up and login work with --argon2-ops 2 --argon2-mem 65536 (the defaults)', async () => {
    const u = await User.signup(srv, 'slowhash', { password: 'default cost password' });
    const h = new HttpClient(srv);
    expectStatus(await h.post('/api/login', { username: 'slowhash', password: 'default cost password' }), 200);
    expectError(await new HttpClient(srv).post('/api/login', { username: 'slowhash', password: 'wrong password' }), 401, 'bad_credentials');
    assert.ok(u.id);
    const bytes = await srv.storeBytes();
    assert.notEqual(bytes.indexOf('m=65536,t=2'), -1, 'the stored hash does not use the default cost m=65536,t=2');
  });
});

describe('02 accounts: a full hashing queue answers busy', { timeout: 120000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ fastHash: false, args: ['--hash-concurrency', '1', '--hash-queue', '1'] });
  });
  after(async () => {
    await srv?.stop();
  });

  it('sign-ups over the queue get 503 busy and create nothing; the rest succeed', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `queued${i}`);
    const res = await Promise.all(names.map((n) => new HttpClient(srv).post('/api/signup', { username: n, password: 'queue password' })));
    const busy = res.filter((r) => r.status === 503);
    const ok = res.filter((r) => r.status === 201);
    assert.equal(busy.length + ok.length, names.length, `statuses: ${res.map((r) => r.status).join(' ')}`);
    assert.ok(busy.length > 0, 'with one hash at a time and a queue of one, 8 sign-ups at once overflow');
    assert.ok(ok.length > 0, 'some sign-ups go through');
    for (const b of busy) expectError(b, 503, 'busy');
    // A refused sign-up created nothing: the name is still free.
    const i = res.findIndex((r) => r.status === 503);
    expectStatus(await new HttpClient(srv).post('/api/signup', { username: names[i], password: 'queue password' }), 201);
  });
});
