// 86 - media whose file name is long and all escapes: the download's
// header lines (Content-Disposition's filename* takes three bytes per
// byte of a name up to 255 bytes) still fit, also with a Range (a video
// element always asks for one), so such media is never a 500; a name cut to
// fit is cut between characters, so filename* stays valid UTF-8.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { User, expectStatus } from './lib/client.mjs';
import { Tus, sample } from './lib/tus.mjs';

describe('86 media with long file names', { timeout: 60000 }, () => {
  let srv, alice;
  before(async () => {
    srv = await startServer();
    [alice] = await User.all(srv, ['alice']);
  });
  after(async () => {
    await srv?.stop();
  });

  for (const [kind, filetype] of [
    ['pdf', 'application/pdf'],
    ['mp4', 'video/mp4'],
  ]) {
    it(`serves a ${kind} named with 254 bytes to escape, whole and in ranges`, async () => {
      const body = sample(kind, 3000);
      const filename = 'é'.repeat(127);
      const id = await new Tus(alice).upload(body, { filename, filetype });
      const whole = await alice.http.get(`/api/media/${id}`);
      expectStatus(whole, 200);
      assert.ok(whole.buffer.equals(body));
      assert.match(whole.headers['content-disposition'], /filename\*=UTF-8''(%C3%A9)+/);
      const r = await alice.http.get(`/api/media/${id}`, { headers: { Range: 'bytes=1000-1999' } });
      expectStatus(r, 206);
      assert.equal(r.headers['content-range'], `bytes 1000-1999/${body.length}`);
      assert.ok(r.buffer.equals(body.subarray(1000, 2000)));
    });
  }

  it('cuts a name too long to escape whole between characters', async () => {
    const body = sample('pdf', 1000);
    const filename = '€'.repeat(85); // 255 bytes, 765 once escaped
    const id = await new Tus(alice).upload(body, { filename, filetype: 'application/pdf' });
    const r = await alice.http.get(`/api/media/${id}`);
    expectStatus(r, 200);
    const m = /filename\*=UTF-8''(\S+)/.exec(r.headers['content-disposition']);
    assert.ok(m, r.headers['content-disposition']);
    const shown = decodeURIComponent(m[1]); // throws on half a character
    assert.ok(shown.length > 0 && shown.length < 85, `${shown.length} characters`);
    assert.equal(shown, '€'.repeat(shown.length));
  });
});
