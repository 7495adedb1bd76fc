// 87 - a tus PATCH whose Content-Length, added to the upload's offset,
// passes 2^64: refused at once as running past Upload-Length (413
// too_large), before a byte of the body is read, as any body too long.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { User, expectStatus, rawRequest } from './lib/client.mjs';
import { Tus, rawPatchHead, uploadIdOf } from './lib/tus.mjs';

describe('87 upload length wrap', { timeout: 60000 }, () => {
  let srv, alice;
  before(async () => {
    srv = await startServer();
    [alice] = await User.all(srv, ['alice']);
  });
  after(async () => {
    await srv?.stop();
  });

  it('refuses a body whose length wraps past 2^64 with the offset', async () => {
    const tus = new Tus(alice);
    const c = await tus.create(20);
    expectStatus(c, 201);
    const id = uploadIdOf(c);
    expectStatus(await tus.patch(id, 0, Buffer.alloc(10, 1)), 204);
    // 10 + (2^64 - 7) wraps to 3, which looked within the 20 bytes.
    const r = await rawRequest(srv, rawPatchHead(alice, id, 10, 'Content-Length: 18446744073709551609'), {
      timeoutMs: 3000,
    });
    assert.equal(r.end, 'response', `answered without the body (${r.end})`);
    assert.equal(r.status, 413, r.text);
    assert.equal(r.json?.error, 'too_large');
    const h = await tus.head(id);
    assert.equal(h.headers['upload-offset'], '10', 'nothing was written');
  });
});
