// 61 - the S3 backend of the blob store (src/blob/blob_s3.c) as duetd
// runs it, through build/s3-selftest: blob_put_file stores the staged file
// as media/<key> and removes the staged file; a multipart-sized one too;
// a failed put (wrong secret) leaves the staged file for a retry;
// blob_remove deletes the object and is idempotent; bad keys are refused.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { objectPath, runSelftest, s3Env, selftest } from './lib.mjs';

const MiB = 1024 * 1024;

describe('61 blob_s3', { timeout: 300000 }, () => {
  let env;
  let tmp;
  const key = () => crypto.randomBytes(16).toString('hex');
  const staged = (name, bytes) => {
    const p = path.join(tmp, name);
    fs.writeFileSync(p, bytes);
    return p;
  };

  before(() => {
    env = s3Env();
    assert.ok(fs.existsSync(selftest), `${selftest} is built by make`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-blob-s3-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('puts the staged file as media/<key>, then removes the staged file', async () => {
    const k = key();
    const bytes = crypto.randomBytes(5000);
    const p = staged('a', bytes);
    const r = await runSelftest(['blob-put', k, p]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([r.lines[0].calls, r.lines[0].err], [1, 0]);
    assert.ok(!fs.existsSync(p), 'the staged file is gone');
    assert.deepEqual(fs.readFileSync(objectPath(env, `media/${k}`)), bytes);

    for (let i = 0; i < 2; i++) {
      const d = await runSelftest(['blob-remove', k]);
      assert.equal(d.code, 0, d.stderr);
      assert.deepEqual([d.lines[0].calls, d.lines[0].err], [1, 0]);
    }
    assert.ok(!fs.existsSync(objectPath(env, `media/${k}`)), 'the object is gone');
  });

  it('puts a large staged file in parts', async () => {
    const k = key();
    const bytes = crypto.randomBytes(11 * MiB + 7);
    const p = staged('b', bytes);
    const r = await runSelftest(['blob-put', k, p],
      { DUET_S3_PART_SIZE: String(5 * MiB), DUET_S3_MULTIPART_MIN: String(5 * MiB) });
    assert.equal(r.lines[0].err, 0, JSON.stringify(r.lines));
    assert.ok(!fs.existsSync(p));
    const got = fs.readFileSync(objectPath(env, `media/${k}`));
    assert.equal(crypto.createHash('sha256').update(got).digest('hex'),
      crypto.createHash('sha256').update(bytes).digest('hex'));
    await runSelftest(['blob-remove', k]);
  });

  it('a refused put leaves the staged file where it was', async () => {
    const k = key();
    const p = staged('c', crypto.randomBytes(100));
    const r = await runSelftest(['blob-put', k, p], { DUET_S3_SECRET_KEY: 'wrong' });
    assert.equal(r.lines[0].err, -os.constants.errno.EACCES);
    assert.ok(fs.existsSync(p), 'kept for a retry');
    assert.ok(!fs.existsSync(objectPath(env, `media/${k}`)));
  });

  it('refuses keys that are not 32 lowercase hex digits', async () => {
    const p = staged('d', 'x');
    for (const bad of ['ABCDEF0123456789abcdef0123456789', '../../etc/passwd', 'abc']) {
      const r = await runSelftest(['blob-put', bad, p]);
      assert.equal(r.lines[0].start, -os.constants.errno.EINVAL, bad);
    }
    assert.ok(fs.existsSync(p));
  });
});
