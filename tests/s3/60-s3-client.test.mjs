// 60 - src/s3 against a real S3 server (S3Proxy with signatures checked):
// a small PUT, HEAD, a presigned GET fetched with Node's plain HTTP client
// (its response overrides, a tampered signature refused, an expired URL
// refused), a multipart upload of 20 MiB+ in 8 MiB parts, DELETE (twice:
// idempotent), a wrong secret refused with 403, the bound on operations at
// once, cancelling at close, and a multipart upload that fails mid-way.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileExists, httpGet, objectPath, runSelftest, s3Env, selftest } from './lib.mjs';

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const MiB = 1024 * 1024;

describe('60 s3 client', { timeout: 300000 }, () => {
  let env;
  let tmp;
  let small;
  let big;
  const run = (...args) => runSelftest(args);
  // A key of its own per run, so reruns on a kept bucket do not collide.
  const k = (name) => `media/t60-${process.pid}-${name}`;

  before(() => {
    env = s3Env();
    assert.ok(fs.existsSync(selftest), `${selftest} is built by make`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-s3-'));
    small = path.join(tmp, 'small');
    fs.writeFileSync(small, crypto.randomBytes(1000));
    big = path.join(tmp, 'big');
    fs.writeFileSync(big, crypto.randomBytes(20 * MiB + 12345));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('puts a small object, heads it and serves it through a presigned GET', async () => {
    const put = await run('put', k('small'), small, 'image/png');
    assert.equal(put.code, 0, put.stderr);
    assert.deepEqual([put.lines[0].err, put.lines[0].status], [0, 200]);
    const want = fs.readFileSync(small);
    assert.deepEqual(fs.readFileSync(objectPath(env, k('small'))), want, 'the bytes are in the bucket');
    const head = await run('head', k('small'));
    assert.equal(head.lines[0].err, 0);
    assert.equal(head.lines[0].size, 1000);
    assert.equal(head.lines[0].etag, put.lines[0].etag);

    const p = await run('presign', k('small'), '300', 'image/png', 'attachment; filename="a b.png"');
    const url = p.lines[0];
    assert.match(url, /^http:\/\/.*X-Amz-Expires=300&.*X-Amz-Signature=[0-9a-f]{64}$/);
    const got = await httpGet(url);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, want);
    assert.equal(got.headers['cache-control'], 'private, no-store');
    assert.equal(got.headers['content-type'], 'image/png');
    assert.equal(got.headers['content-disposition'], 'attachment; filename="a b.png"');
    // Range works through the presigned URL (video seeking goes to S3).
    const part = await httpGet(url, { Range: 'bytes=10-19' });
    assert.equal(part.status, 206);
    assert.deepEqual(part.body, want.subarray(10, 20));

    // One hex digit of the signature changed: refused.
    const last = url.at(-1) === '0' ? '1' : '0';
    const bad = await httpGet(url.slice(0, -1) + last);
    assert.equal(bad.status, 403);
    // A changed override (not what was signed): refused.
    const swapped = await httpGet(url.replace('image%2Fpng', 'text%2Fhtml'));
    assert.equal(swapped.status, 403);
  });

  it('refuses an expired presigned URL', async () => {
    const p = await run('presign', k('small'), '1');
    await new Promise((r) => setTimeout(r, 2500));
    const got = await httpGet(p.lines[0]);
    assert.equal(got.status, 403);
  });

  it('refuses requests signed with a wrong secret (403), and stores nothing', async () => {
    const r = await runSelftest(['put', k('wrong'), small], { DUET_S3_SECRET_KEY: 'not-the-secret' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.lines[0].err, -os.constants.errno.EACCES);
    assert.equal(r.lines[0].status, 403);
    assert.equal(r.lines[0].code, 'SignatureDoesNotMatch');
    assert.ok(!fileExists(objectPath(env, k('wrong'))));
  });

  it('uploads 20 MiB+ in 8 MiB parts (multipart) and serves it whole', async () => {
    const r = await runSelftest(['put', k('big'), big, 'video/mp4'],
      { DUET_S3_PART_SIZE: String(8 * MiB), DUET_S3_MULTIPART_MIN: String(16 * MiB) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.lines[0].err, 0, JSON.stringify(r.lines));
    // A multipart object's ETag ends in "-<number of parts>".
    assert.match(r.lines[0].etag, /-3$/);
    const want = fs.readFileSync(big);
    assert.equal(sha256(fs.readFileSync(objectPath(env, k('big')))), sha256(want));
    const head = await run('head', k('big'));
    assert.equal(head.lines[0].size, want.length);
    const p = await run('presign', k('big'), '300');
    const got = await httpGet(p.lines[0]);
    assert.equal(got.status, 200);
    assert.equal(got.headers['content-type'], 'video/mp4', 'the type given at Create');
    assert.equal(sha256(got.body), sha256(want));
  });

  it('a multipart upload that fails mid-way reports it and leaves no object', async () => {
    // The file is shorter than the size given: part 3 cannot be read.
    const r = await runSelftest(['put', k('short'), big, 'video/mp4', String(24 * MiB)],
      { DUET_S3_PART_SIZE: String(8 * MiB), DUET_S3_MULTIPART_MIN: String(16 * MiB) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.lines[0].err, -os.constants.errno.EINVAL, JSON.stringify(r.lines));
    const head = await run('head', k('short'));
    assert.equal(head.lines[0].err, -os.constants.errno.ENOENT);
  });

  it('deletes (idempotent): the object is gone from the bucket', async () => {
    assert.ok(fileExists(objectPath(env, k('small'))));
    for (let i = 0; i < 2; i++) {
      const d = await run('delete', k('small'));
      assert.equal(d.lines[0].err, 0);
      assert.equal(d.lines[0].status, 204);
    }
    assert.ok(!fileExists(objectPath(env, k('small'))));
    const head = await run('head', k('small'));
    assert.equal(head.lines[0].err, -os.constants.errno.ENOENT);
    assert.equal(head.lines[0].status, 404);
    const big1 = await run('delete', k('big'));
    assert.equal(big1.lines[0].err, 0);
  });

  it('runs at most max_ops operations at once; the rest wait and all complete', async () => {
    const r = await run('many', '6', small);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.lines[0].pending, 6);
    assert.ok(r.lines[0].most_running >= 1 && r.lines[0].most_running <= 2, JSON.stringify(r.lines[0]));
    assert.equal(r.lines.length, 7);
    for (const l of r.lines.slice(1)) assert.deepEqual([l.calls, l.err, l.status], [1, 0, 200]);
    for (let i = 0; i < 6; i++) await run('delete', `many/${i}`);
  });

  it('closing cancels an operation: its callback runs once with ECANCELED', async () => {
    const r = await run('cancel', k('cancel'), big);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([r.lines[0].calls, r.lines[0].err], [1, -os.constants.errno.ECANCELED]);
  });
});
