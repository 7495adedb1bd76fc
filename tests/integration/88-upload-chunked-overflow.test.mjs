// 88 - a chunked tus PATCH that runs past Upload-Length is answered 413
// too_large as soon as it does: the rest of the body is not read (it was
// taken a byte per step, as long as the client went on sending), and the
// bytes up to the upload's length are kept.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { User, rawRequest } from './lib/client.mjs';
import { Tus, rawPatchHead, uploadIdOf } from './lib/tus.mjs';

describe('88 chunked upload overflow', { timeout: 60000 }, () => {
  let srv, alice;
  before(async () => {
    srv = await startServer();
    [alice] = await User.all(srv, ['alice']);
  });
  after(async () => {
    await srv?.stop();
  });

  it('answers an overflowing chunked body at once, without its end', async () => {
    const tus = new Tus(alice);
    const c = await tus.create(1000, { filename: 'x.bin' });
    const id = uploadIdOf(c);
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const head = rawPatchHead(alice, id, 0, 'Transfer-Encoding: chunked');
    // One chunk of 64 KiB and no last chunk: the body never ends.
    const r = await rawRequest(srv, null, {
      timeoutMs: 3000,
      chunks: [Buffer.from(head), Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])],
    });
    assert.equal(r.end, 'response', `answered before the body's end (${r.end})`);
    assert.equal(r.status, 413, r.text);
    assert.equal(r.json?.error, 'too_large');
    const h = await tus.head(id);
    assert.equal(h.headers['upload-offset'], '1000', 'the bytes up to the length are kept');
  });
});
