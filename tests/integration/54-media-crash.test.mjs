// 54 - media uploads across crashes and a full disk (issue 15). kill -9 in
// the middle of a PATCH leaves no partial blob under media/, the upload
// resumes at HEAD's offset after the restart and completes with the right
// bytes, and nothing is left staged. With the data folder on a small tmpfs
// that fills up, a PATCH is refused with disk_full (507), duetd stays up,
// and the upload resumes once space returns. The tmpfs part needs root
// (mount), as 17-disk-full does.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { isCassandra, mkTempDir, rmDir, sleep, startServer, waitFor } from './lib/server.mjs';
import { User, expectStatus } from './lib/client.mjs';
import { Tus, sample, uploadIdOf } from './lib/tus.mjs';

function listFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true }).filter((f) => fs.statSync(path.join(dir, f)).isFile());
}

// Resumes an upload from HEAD's offset until it is complete.
async function resume(tus, id, body) {
  const h = await tus.head(id);
  expectStatus(h, 200, 'HEAD after the restart:');
  const off = Number(h.headers['upload-offset']);
  assert.ok(off >= 0 && off <= body.length, `offset ${off}`);
  const p = await tus.patch(id, off, body.subarray(off));
  expectStatus(p, 204, `resume at ${off}:`);
  assert.equal(p.headers['upload-offset'], String(body.length));
  return off;
}

describe('54 media crash and disk full', { timeout: 180000 }, () => {
  let srv, mnt;
  after(async () => {
    await srv?.stop({ keepData: !!mnt });
    if (mnt) {
      try {
        execFileSync('umount', [mnt]);
      } finally {
        rmDir(mnt);
      }
    }
  });

  it('kill -9 mid-upload: no partial blob, resume after the restart, nothing left staged', async () => {
    srv = await startServer();
    const [alice] = await User.all(srv, ['alice']);
    let tus = new Tus(alice);
    const body = sample('jpeg', 12 * 1024 * 1024);
    const id = uploadIdOf(await tus.create(body.length, { filename: 'big.jpg' }));
    // 10 MB of 12 MB arrive, more than one checkpoint (8 MiB), then the crash.
    const cut = tus.cutPatch(srv, id, 0, body, 10 * 1024 * 1024, { settleMs: 1500 });
    await sleep(1000);
    await srv.crash();
    await cut;
    assert.deepEqual(listFiles(path.join(srv.dataDir, 'media')), [], 'no blob, partial or whole, under media/');
    await srv.restart();
    tus = new Tus(alice);
    const off = await resume(tus, id, body);
    assert.ok(off % 1 === 0 && off <= 10 * 1024 * 1024, `resumed at ${off}`);
    const d = await alice.http.get(`/api/media/${id}`);
    expectStatus(d, 200);
    assert.ok(d.buffer.equals(body), 'the bytes after the resume are the uploaded bytes');
    assert.deepEqual(listFiles(path.join(srv.dataDir, 'uploads')), [], 'nothing left staged');
    assert.deepEqual(listFiles(path.join(srv.dataDir, 'media')), [path.join(id.slice(0, 2), id)]);
    await srv.stop();
    srv = null;
  });

  it('a full disk refuses with disk_full (507) and the upload resumes when space returns', { skip: isCassandra && 'SQLite: fills the tmpfs under the data folder' }, async () => {
    mnt = mkTempDir('duet-mfull-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]);
    fs.mkdirSync(path.join(mnt, 'data'));
    srv = await startServer({ dataDir: path.join(mnt, 'data') });
    const [alice] = await User.all(srv, ['alice']);
    const tus = new Tus(alice);
    const body = sample('png', 3 * 1024 * 1024);
    const id = uploadIdOf(await tus.create(body.length, { filename: 'p.png' }));
    // Leave about 1 MB free.
    const filler = path.join(mnt, 'filler');
    const free = () => Number(execFileSync('df', ['-B1', '--output=avail', mnt]).toString().split('\n')[1]);
    fs.writeFileSync(filler, Buffer.alloc(Math.max(0, free() - 1024 * 1024)));
    let res;
    try {
      res = await tus.patch(id, 0, body);
    } catch (e) {
      res = { status: 0, error: e }; // the server may close before reading the whole body
    }
    if (res.status !== 0) {
      assert.equal(res.status, 507, `full disk: ${res.status} ${res.text}`);
      assert.equal(res.json.error, 'disk_full');
    }
    const h = await tus.head(id);
    expectStatus(h, 200, 'duetd is up after ENOSPC:');
    assert.ok(Number(h.headers['upload-offset']) < body.length, 'the upload is not complete');
    fs.rmSync(filler);
    await waitFor(async () => (await tus.head(id)).status === 200, 'HEAD answers');
    await resume(tus, id, body);
    const d = await alice.http.get(`/api/media/${id}`);
    assert.ok(d.buffer.equals(body), 'the bytes after the resume are the uploaded bytes');
  });
});
