// 40 - the push crypto end to end: build/push-selftest encrypts (RFC 8291)
// and signs (VAPID, RFC 8292) with src/push and posts with src/outbound;
// the loopback push service (lib/push-service.mjs) verifies the JWT,
// decrypts the body with the subscription's private key and records the
// plaintext. Wrong keys fail; the service's answers come back; HTTPS checks
// the certificate. No duetd here: the app does not send pushes yet.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { b64u, startPushService } from './lib/push-service.mjs';
import { duetdPath } from './lib/server.mjs';

const selftest = path.join(path.dirname(duetdPath), 'push-selftest');

function run(args) {
  return new Promise((resolve) => {
    execFile(selftest, args, { timeout: 30000 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

describe('40 push crypto', { timeout: 120000 }, () => {
  let svc;
  let tmp;
  let dir;
  let key;
  before(async () => {
    assert.ok(fs.existsSync(selftest), `${selftest} is built by make (next to duetd)`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-push-'));
    dir = path.join(tmp, 'vapid');
    fs.mkdirSync(dir);
    const k = await run(['key', dir]);
    assert.equal(k.code, 0, k.stderr);
    key = k.stdout.trim();
    svc = await startPushService();
  });
  after(async () => {
    await svc?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const send = (sub, message, extra = [], vapidDir = dir) =>
    run(['send', ...extra, vapidDir, sub.endpoint, sub.p256dh, sub.auth, message]);

  it('the VAPID key is made once, kept 0600, and is a P-256 point', async () => {
    const again = await run(['key', dir]);
    assert.equal(again.stdout.trim(), key, 'the second start loads the same key');
    const raw = Buffer.from(key, 'base64url');
    assert.equal(raw.length, 65);
    assert.equal(raw[0], 4);
    assert.equal(fs.statSync(path.join(dir, 'vapid.pem')).mode & 0o777, 0o600);
  });

  it('a push encrypted and signed in C is verified and decrypted by the service', async () => {
    const sub = svc.subscribe({ applicationServerKey: key });
    const message = JSON.stringify({ chat: 'c-1', from: 'alice', text: 'hé ✓ 💬' });
    const r = await send(sub, message, ['--topic', 'chat-c1', '--ttl', '120', '--sub', 'mailto:ops@example.org']);
    assert.equal(r.code, 0, `stdout ${r.stdout} stderr ${r.stderr}`);
    assert.match(r.stdout, /^status 201\n/);
    const got = svc.forSubscription(sub);
    assert.equal(got.length, 1);
    assert.equal(got[0].status, 201, got[0].detail);
    assert.equal(got[0].plaintext, message);
    assert.equal(got[0].claims.aud, svc.origin);
    assert.equal(got[0].claims.sub, 'mailto:ops@example.org');
    const now = Date.now() / 1000;
    assert.ok(got[0].claims.exp > now && got[0].claims.exp <= now + 24 * 3600, `exp ${got[0].claims.exp}`);
    assert.equal(got[0].headers.ttl, '120');
    assert.equal(got[0].headers.topic, 'chat-c1');
    assert.equal(got[0].headers.urgency, 'normal');
    assert.equal(got[0].headers['content-encoding'], 'aes128gcm');
  });

  it('padding hides the length and is removed by the receiver', async () => {
    const sub = svc.subscribe({ applicationServerKey: key });
    const r = await send(sub, 'short', ['--pad', '200']);
    assert.equal(r.code, 0, r.stderr);
    const [got] = svc.forSubscription(sub);
    assert.equal(got.plaintext, 'short');
    assert.equal(got.bodyLength, 86 + 5 + 1 + 200 + 16);
  });

  it('encrypted to the wrong key, or with the wrong auth secret, a push does not decrypt', async () => {
    const sub = svc.subscribe({ applicationServerKey: key });
    const other = svc.subscribe({ applicationServerKey: key });
    // sent to sub's endpoint, but with the other subscription's p256dh
    const r1 = await send({ ...sub, p256dh: other.p256dh }, 'secret');
    assert.equal(r1.code, 1);
    assert.match(r1.stdout, /^status 400\n.*"decrypt"/s);
    const r2 = await send({ ...sub, auth: other.auth }, 'secret');
    assert.equal(r2.code, 1);
    assert.match(r2.stdout, /^status 400\n/);
    const got = svc.forSubscription(sub);
    assert.deepEqual(got.map((g) => g.code), ['decrypt', 'decrypt']);
    assert.ok(got.every((g) => g.plaintext === undefined));
  });

  it('a subscription made for another VAPID key refuses the push (403)', async () => {
    const otherDir = path.join(tmp, 'other');
    fs.mkdirSync(otherDir);
    const otherKey = (await run(['key', otherDir])).stdout.trim();
    assert.notEqual(otherKey, key);
    const sub = svc.subscribe({ applicationServerKey: otherKey });
    const r = await send(sub, 'hi');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^status 403\n/);
    assert.equal(svc.forSubscription(sub)[0].code, 'wrong_key');
    const ok = await send(sub, 'hi', [], otherDir);
    assert.equal(ok.code, 0, ok.stdout);
  });

  it('the answers a push service gives (404, 410, 429) come back to the sender', async () => {
    for (const status of [404, 410, 429]) {
      const sub = svc.subscribe({ applicationServerKey: key });
      svc.answer(sub, status);
      const r = await send(sub, `for ${status}`);
      assert.equal(r.code, 1);
      assert.match(r.stdout, new RegExp(`^status ${status}\\n`));
      const [got] = svc.forSubscription(sub);
      assert.equal(got.plaintext, `for ${status}`, 'verified and decrypted before the answer');
    }
    const gone = svc.subscribe({ applicationServerKey: key });
    svc.unsubscribe(gone);
    const r = await send(gone, 'x');
    assert.match(r.stdout, /^status 404\n/);
  });

  it('bad subscription keys and oversized payloads are refused before sending', async () => {
    const sub = svc.subscribe({ applicationServerKey: key });
    const before = svc.received.length;
    assert.equal((await send({ ...sub, p256dh: sub.p256dh.slice(0, -2) }, 'x')).code, 2);
    assert.equal((await send({ ...sub, auth: `${sub.auth}==` }, 'x')).code, 2);
    assert.equal((await send(sub, 'x'.repeat(3994))).code, 2, 'over 3993 bytes does not fit one record');
    assert.equal((await send(sub, 'x', ['--exp-s', String(24 * 3600 + 1)])).code, 2, 'exp over 24 h is refused');
    assert.equal((await send(sub, 'x', ['--sub', 'ops@example.org'])).code, 2, 'sub must be mailto: or https:');
    assert.equal(svc.received.length, before, 'nothing reached the service');
    const max = await send(sub, 'y'.repeat(3993));
    assert.equal(max.code, 0, max.stdout);
    assert.equal(svc.forSubscription(sub)[0].bodyLength, 4096);
  });

  // The service's own checks must be able to fail, or the tests above
  // prove nothing: tokens made here, each wrong in one way.
  it('the service refuses a forged, expired, far-future or misaddressed JWT', async () => {
    const sub = svc.subscribe();
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const k = b64u(Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]));
    const now = Math.floor(Date.now() / 1000);
    const jwt = (claims, signKey = privateKey) => {
      const input = `${b64u(JSON.stringify({ typ: 'JWT', alg: 'ES256' }))}.${b64u(JSON.stringify(claims))}`;
      return `${input}.${b64u(crypto.sign('sha256', Buffer.from(input), { key: signKey, dsaEncoding: 'ieee-p1363' }))}`;
    };
    const good = { aud: svc.origin, exp: now + 3600, sub: 'mailto:a@b.example' };
    const post = async (t) => {
      const res = await fetch(sub.endpoint, {
        method: 'POST',
        headers: { authorization: `vapid t=${t}, k=${k}`, ttl: '60', 'content-encoding': 'aes128gcm' },
        body: Buffer.alloc(120),
      });
      return [res.status, (await res.json()).error];
    };
    const stranger = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    assert.deepEqual(await post(jwt(good, stranger)), [401, 'bad_signature']);
    assert.deepEqual(await post(jwt({ ...good, exp: now - 10 })), [401, 'bad_exp']);
    assert.deepEqual(await post(jwt({ ...good, exp: now + 25 * 3600 })), [401, 'bad_exp']);
    assert.deepEqual(await post(jwt({ ...good, aud: 'https://elsewhere.example' })), [401, 'bad_aud']);
    assert.deepEqual(await post(jwt({ ...good, sub: 'ops' })), [401, 'bad_sub']);
    // the good token passes the VAPID checks and fails only at decryption
    assert.deepEqual(await post(jwt(good)), [400, 'decrypt']);
  });

  it('HTTPS: the certificate is checked, and a CA file makes a test CA trusted', async () => {
    const certDir = path.join(tmp, 'tls');
    fs.mkdirSync(certDir);
    const keyFile = path.join(certDir, 'key.pem');
    const certFile = path.join(certDir, 'cert.pem');
    await new Promise((resolve, reject) => {
      execFile('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1'], (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve()));
    });
    const tlsSvc = await startPushService({ tls: { key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) } });
    try {
      assert.match(tlsSvc.origin, /^https:/);
      const sub = tlsSvc.subscribe({ applicationServerKey: key });
      const untrusted = await send(sub, 'over tls');
      assert.equal(untrusted.code, 2, 'a self-signed certificate is refused');
      assert.match(untrusted.stderr, /certificate|SSL/i);
      assert.equal(tlsSvc.received.length, 0);
      const trusted = await send(sub, 'over tls', ['--ca-file', certFile]);
      assert.equal(trusted.code, 0, trusted.stderr);
      assert.equal(tlsSvc.forSubscription(sub)[0].plaintext, 'over tls');
    } finally {
      await tlsSvc.close();
    }
  });
});
