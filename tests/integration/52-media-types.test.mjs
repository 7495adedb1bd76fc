// 52 - media types (issue 15): the server never decodes media; it sniffs
// the first bytes against an allowlist. A declared image, video or audio
// must match its bytes (a lie is refused with type_mismatch); anything
// else is a file, served as an attachment with a safe type; HTML and SVG
// are never served inline, whatever they were declared as.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { User, befriend, expectStatus } from './lib/client.mjs';
import { Tus, mediaFor, sample, sendMedia } from './lib/tus.mjs';

describe('52 media types', { timeout: 180000 }, () => {
  let srv, alice, bob, chat, A, tus;
  before(async () => {
    srv = await startServer();
    [alice, bob] = await User.all(srv, ['alice', 'bob']);
    chat = await befriend(alice, bob);
    A = await alice.connect();
    tus = new Tus(alice);
  });
  after(async () => {
    await srv?.stop();
  });

  async function sendAndGet(kind, type, filetype = 'x/y') {
    const body = sample(kind, 3000);
    const id = await tus.upload(body, { filename: `f.${kind}`, filetype });
    const ev = await sendMedia(A, chat, mediaFor(id, type, body));
    return { id, ev, body };
  }

  const accepted = [
    ['jpeg', 1, 'image/jpeg'], ['png', 1, 'image/png'], ['gif', 1, 'image/gif'], ['webp', 1, 'image/webp'],
    ['mp4', 2, 'video/mp4'], ['webm', 2, 'video/webm'],
    ['ogg', 3, 'audio/ogg'], ['mp3', 3, 'audio/mpeg'], ['m4a', 3, 'audio/mp4'],
    ['webm', 3, 'audio/webm'], // a voice note from MediaRecorder (audio/webm;codecs=opus)
  ];
  for (const [kind, type, mime] of accepted) {
    it(`accepts ${kind} as type ${type}, served inline as ${mime}`, async () => {
      const { id, ev, body } = await sendAndGet(kind, type);
      assert.equal(ev.type, 'sent', JSON.stringify(ev));
      const d = await bob.http.get(`/api/media/${id}`);
      expectStatus(d, 200);
      assert.equal(d.headers['content-type'], mime);
      assert.match(d.headers['content-disposition'], /^inline/);
      assert.ok(d.buffer.equals(body));
    });
  }

  const lies = [['pdf', 1], ['html', 1], ['svg', 1], ['jpeg', 2], ['png', 3], ['mp3', 2], ['pdf', 3], ['ogg', 1]];
  for (const [kind, type] of lies) {
    it(`refuses ${kind} bytes declared as type ${type} (type_mismatch)`, async () => {
      const body = sample(kind, 3000);
      const id = await tus.upload(body, { filename: `f.${kind}`, filetype: type === 1 ? 'image/jpeg' : 'video/mp4' });
      await A.expectError({ type: 'send', chat_id: chat, id: `lie-${kind}-${type}`, text: '', media: mediaFor(id, type, body) }, 'type_mismatch');
    });
  }

  const files = [
    ['pdf', 'application/pdf'], ['html', 'application/octet-stream'], ['svg', 'application/octet-stream'],
    ['jpeg', 'application/octet-stream'], // a photo sent as a file keeps its bytes and is a download
  ];
  for (const [kind, mime] of files) {
    it(`serves ${kind} sent as a file as an attachment of type ${mime}`, async () => {
      const { id, ev } = await sendAndGet(kind, 4, kind === 'html' ? 'text/html' : 'image/svg+xml');
      assert.equal(ev.type, 'sent', JSON.stringify(ev));
      const d = await bob.http.get(`/api/media/${id}`);
      expectStatus(d, 200);
      assert.equal(d.headers['content-type'], mime);
      assert.match(d.headers['content-disposition'], /^attachment; filename\*=UTF-8''f\./);
      assert.equal(d.headers['x-content-type-options'], 'nosniff');
      assert.equal(d.headers['content-security-policy'], "sandbox; default-src 'none'");
    });
  }

  it('serves an upload of unknown bytes to its uploader as an attachment before sending', async () => {
    const id = await tus.upload(sample('html', 500), { filename: 'page.html', filetype: 'text/html' });
    const d = await alice.http.get(`/api/media/${id}`);
    expectStatus(d, 200);
    assert.equal(d.headers['content-type'], 'application/octet-stream');
    assert.match(d.headers['content-disposition'], /^attachment/);
  });
});
