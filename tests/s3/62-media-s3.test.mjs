// 62 - duetd with --media s3 against S3Proxy, end to end: a tus upload is
// stored as media/<id> in the bucket (the staged file removed); sent; the
// peer's GET /api/media/<id> answers 302 to a presigned URL (Cache-Control:
// private, no-store) that a plain HTTP client follows to the bytes, with
// the app's Content-Disposition; a stranger gets 404 and no URL; a large
// upload goes up in parts; delete for everyone removes the object from the
// bucket; the page's CSP allows the S3 origin; SIGTERM while a 40 MiB upload
// goes to S3 exits cleanly and never leaves a partial object; the start-up
// probe logs whether S3 accepts the keys; bad S3 settings stop duetd.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { User, befriend, uniqueName } from '../integration/lib/client.mjs';
import { FAST_HASH, NO_RATE_LIMIT, mkTempDir, rmDir, runDuetd, startServer, waitFor } from '../integration/lib/server.mjs';
import { httpGet, objectPath, s3Args, s3Env, sendFile, upload } from './lib.mjs';

const MiB = 1024 * 1024;
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

describe('62 media on S3', { timeout: 300000 }, () => {
  let env;
  let server;
  let alice;
  let bob;
  let carol;
  let chatId;

  before(async () => {
    env = s3Env();
    server = await startServer({ args: [...FAST_HASH, ...NO_RATE_LIMIT, ...s3Args(env, ['--s3-part-size', '5', '--s3-multipart-min', '5'])] });
    [alice, bob, carol] = await User.all(server, [uniqueName('a'), uniqueName('b'), uniqueName('c')]);
    chatId = await befriend(alice, bob);
  });
  after(async () => {
    if (server) await server.stop();
  });

  it('uploads to the bucket, sends, and the peer downloads through a presigned redirect', async () => {
    const bytes = crypto.randomBytes(70000);
    const id = await upload(alice, bytes, 'report 1.bin');
    const obj = objectPath(env, `media/${id}`);
    assert.deepEqual(fs.readFileSync(obj), bytes, 'the object is in the bucket');
    assert.ok(!fs.existsSync(path.join(server.dataDir, 'uploads', id)), 'the staged file is gone');
    assert.ok(!fs.existsSync(path.join(server.dataDir, 'media')) ||
      fs.readdirSync(path.join(server.dataDir, 'media')).length === 0, 'nothing on local disk');

    const wa = await alice.connect();
    const wb = await bob.connect();
    const sent = await sendFile(wa, chatId, id, bytes.length, 'report 1.bin');
    const ev = await wb.next('message', (e) => e.id === sent.id);
    assert.equal(ev.media.id, id);
    assert.equal(JSON.stringify(ev).includes('X-Amz-'), false, 'no URL in the event');

    const res = await bob.http.get(`/api/media/${id}`);
    assert.equal(res.status, 302);
    assert.equal(res.headers['cache-control'], 'private, no-store');
    const loc = res.headers.location;
    assert.ok(loc.startsWith(`${env.endpoint}/${env.bucket}/media/${id}?`), loc);
    assert.match(loc, /X-Amz-Expires=300&/);
    assert.match(loc, /X-Amz-Signature=[0-9a-f]{64}$/);
    const got = await httpGet(loc);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, bytes);
    assert.equal(got.headers['content-disposition'], "attachment; filename*=UTF-8''report%201.bin");
    assert.equal(got.headers['content-type'], 'application/octet-stream');
    assert.equal(got.headers['cache-control'], 'private, no-store');
    // Range goes to S3 directly (seeking a video does not pass duetd).
    const part = await httpGet(loc, { Range: 'bytes=100-199' });
    assert.equal(part.status, 206);
    assert.deepEqual(part.body, bytes.subarray(100, 200));

    // A stranger: 404, and never a URL.
    const c = await carol.http.get(`/api/media/${id}`);
    assert.equal(c.status, 404);
    assert.equal(c.headers.location, undefined);

    // Delete for everyone removes the object from the bucket.
    const del = await wa.request({ type: 'delete', chat_id: chatId, seq: sent.seq });
    assert.equal(del.type, 'deleted', JSON.stringify(del));
    await waitFor(() => !fs.existsSync(obj), 'the object leaves the bucket', 20000);
    const after = await bob.http.get(`/api/media/${id}`);
    assert.equal(after.status, 404);
    await alice.closeAll();
    await bob.closeAll();
  });

  it('keeps a long escaped file name in the presigned download', async () => {
    const bytes = crypto.randomBytes(5000);
    const name = 'é'.repeat(127); // 254 bytes: ~700 of filename*
    const id = await upload(alice, bytes, name);
    const res = await alice.http.get(`/api/media/${id}`);
    assert.equal(res.status, 302);
    const got = await httpGet(res.headers.location);
    assert.equal(got.status, 200);
    assert.match(got.headers['content-disposition'] ?? '', /^attachment; filename\*=UTF-8''(%C3%A9)+$/);
  });

  it('uploads a large file in parts', async () => {
    const bytes = crypto.randomBytes(11 * MiB + 3);
    const id = await upload(alice, bytes);
    const obj = objectPath(env, `media/${id}`);
    assert.equal(sha(fs.readFileSync(obj)), sha(bytes));
    // The uploader may fetch it before sending.
    const res = await alice.http.get(`/api/media/${id}`);
    assert.equal(res.status, 302);
    const got = await httpGet(res.headers.location);
    assert.equal(sha(got.body), sha(bytes));
  });

  it("the page's CSP allows the S3 origin for images, media and fetches", async () => {
    const res = await alice.http.get('/');
    const csp = res.headers['content-security-policy'];
    assert.ok(csp, 'a CSP');
    for (const d of ['img-src', 'media-src', 'connect-src']) {
      const dir = csp.split(';').map((s) => s.trim()).find((s) => s.startsWith(`${d} `));
      assert.ok(dir && dir.split(' ').includes(env.endpoint), `${d} names ${env.endpoint}: ${csp}`);
    }
  });
});

describe('62 a clean stop while an upload goes to S3', { timeout: 300000 }, () => {
  it('SIGTERM mid-transfer: duetd exits cleanly, and the bucket never holds a partial object', async () => {
    const env = s3Env();
    const server = await startServer({ args: [...FAST_HASH, ...s3Args(env, ['--s3-part-size', '5', '--s3-multipart-min', '5'])] });
    let stopped = false;
    try {
      const [u] = await User.all(server, [uniqueName('t')]);
      const bytes = crypto.randomBytes(40 * MiB);
      const c = await u.http.request('POST', '/api/uploads', {
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(bytes.length) },
      });
      assert.equal(c.status, 201);
      const id = c.headers.location.split('/').pop();
      const staged = path.join(server.dataDir, 'uploads', id);
      // The PATCH's answer comes only after S3 has the object: do not wait.
      const patch = u.http.request('PATCH', c.headers.location, {
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0' },
        body: bytes, contentType: 'application/offset+octet-stream', timeoutMs: 120000,
      }).catch((e) => e);
      await waitFor(() => fs.existsSync(staged) && fs.statSync(staged).size === bytes.length,
        'the body staged', 60000);
      await server.stop(); // throws on a non-zero exit or a sanitizer report
      stopped = true;
      await patch;
      const obj = objectPath(env, `media/${id}`);
      if (fs.existsSync(obj)) {
        assert.equal(sha(fs.readFileSync(obj)), sha(bytes), 'whole, if there at all');
      }
      console.log(`# 62: stopped mid-transfer; object in the bucket: ${fs.existsSync(obj)}`);
    } finally {
      if (!stopped) await server.stop();
    }
  });
});

describe('62 the start-up probe', { timeout: 120000 }, () => {
  it('logs that S3 accepts the keys, or loudly that it refuses them', async () => {
    const env = s3Env();
    const ok = await startServer({ args: [...FAST_HASH, ...s3Args(env)] });
    try {
      await waitFor(() => /S3 bucket reachable, signatures accepted/.test(ok.stderr), 'the probe', 10000);
    } finally {
      await ok.stop();
    }
    const dir = mkTempDir('duet-s3-keys-');
    const wrong = path.join(dir, 'secret');
    fs.writeFileSync(wrong, 'not-the-secret\n', { mode: 0o600 });
    const bad = await startServer({ args: [...FAST_HASH, ...s3Args({ ...env, secretKeyFile: wrong })] });
    try {
      await waitFor(() => /S3 probe failed: 403 /.test(bad.stderr), 'the probe', 10000);
      assert.ok(!bad.stderr.includes('not-the-secret'), 'the key is never printed');
    } finally {
      await bad.stop();
      rmDir(dir);
    }
  });
});

describe('62 bad S3 settings stop duetd at start-up', { timeout: 120000 }, () => {
  it('refuses a missing bucket, a key file others can read, and a bad endpoint', async () => {
    const env = s3Env();
    const dir = mkTempDir('duet-s3-keys-');
    try {
      const loose = path.join(dir, 'secret');
      fs.writeFileSync(loose, 'x\n');
      fs.chmodSync(loose, 0o644);
      const data = path.join(dir, 'data');
      const base = ['--listen', '127.0.0.1:0', '--data', data];
      let r = await runDuetd([...base, '--media', 's3', '--s3-endpoint', env.endpoint,
        '--s3-access-key-file', env.accessKeyFile, '--s3-secret-key-file', env.secretKeyFile]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /--s3-bucket/);
      r = await runDuetd([...base, ...s3Args({ ...env, secretKeyFile: loose })]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /readable by others/);
      assert.ok(!r.stderr.includes('x\n'), 'the key is never printed');
      r = await runDuetd([...base, ...s3Args({ ...env, endpoint: `${env.endpoint}/path` })]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /--s3-endpoint wants/);
    } finally {
      rmDir(dir);
    }
  });
});
