// 50 - media (issue 15): tus uploads (create, HEAD, PATCH, resume after a
// cut connection, termination), a media message sent and received (live
// event, history, replay, chat list), and the download (Range, 416, ETag,
// the headers that keep an upload from ever running as a page).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, waitFor } from './lib/server.mjs';
import { User, befriend, chatWith, expectError, expectStatus, fullHistory } from './lib/client.mjs';
import { THUMB, Tus, mediaFor, sample, sendMedia, uploadIdOf } from './lib/tus.mjs';

describe('50 media upload, send, download', { timeout: 180000 }, () => {
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

  it('answers OPTIONS with the tus capabilities and refuses requests without Tus-Resumable (412)', async () => {
    const o = await alice.http.request('OPTIONS', '/api/uploads');
    expectStatus(o, 204);
    assert.equal(o.headers['tus-resumable'], '1.0.0');
    assert.equal(o.headers['tus-version'], '1.0.0');
    assert.equal(o.headers['tus-extension'], 'creation,termination,expiration');
    assert.equal(o.headers['tus-max-size'], String(100 * 1024 * 1024));
    const r = await alice.http.request('POST', '/api/uploads', { headers: { 'Upload-Length': '10' } });
    expectError(r, 412, 'tus_version');
    assert.equal(r.headers['tus-version'], '1.0.0');
    const anon = await new Tus({ http: new (alice.http.constructor)(srv) }).create(10);
    expectError(anon, 401, 'unauthorized');
  });

  it('creates an upload: 201, Location with a 32-hex id, Upload-Expires 24 h ahead', async () => {
    const before = Date.now();
    const c = await tus.create(1000, { filename: 'été.jpg', filetype: 'image/jpeg' });
    expectStatus(c, 201);
    assert.match(c.headers.location, /^\/api\/uploads\/[0-9a-f]{32}$/);
    const exp = Date.parse(c.headers['upload-expires']);
    assert.ok(Math.abs(exp - (before + 24 * 3600 * 1000)) < 60000, `Upload-Expires ${c.headers['upload-expires']}`);
    const h = await tus.head(uploadIdOf(c));
    expectStatus(h, 200);
    assert.equal(h.headers['upload-offset'], '0');
    assert.equal(h.headers['upload-length'], '1000');
    assert.equal(h.headers['cache-control'], 'no-store');
    // bad lengths and metadata
    expectError(await tus.create(0), 413, 'too_large');
    expectError(await tus.create(100 * 1024 * 1024 + 1), 413, 'too_large');
    const bad = await alice.http.request('POST', '/api/uploads', { headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '12x' } });
    expectError(bad, 400, 'bad_request');
    const badMeta = await alice.http.request('POST', '/api/uploads', {
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '12', 'Upload-Metadata': 'filename !!notbase64' },
    });
    expectError(badMeta, 400, 'bad_metadata');
    expectStatus(await tus.del(uploadIdOf(c)), 204);
  });

  it('takes PATCHes in order (409 on a wrong offset, 415 without the tus type) and resumes after a cut connection', async () => {
    const body = sample('jpeg', 600 * 1024);
    const c = await tus.create(body.length, { filename: 'big.jpg', filetype: 'image/jpeg' });
    const id = uploadIdOf(c);
    expectError(await tus.patch(id, 5, body.subarray(0, 10)), 409, 'bad_offset');
    const wrongType = await alice.http.request('PATCH', `/api/uploads/${id}`, {
      body: body.subarray(0, 10), contentType: 'application/octet-stream', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0' },
    });
    expectError(wrongType, 415, 'unsupported_media_type');
    let p = await tus.patch(id, 0, body.subarray(0, 100000));
    expectStatus(p, 204);
    assert.equal(p.headers['upload-offset'], '100000');
    // A PATCH cut after 300 KB of its 500 KB: what arrived is kept.
    await tus.cutPatch(srv, id, 100000, body.subarray(100000), 300000);
    let off = 0;
    await waitFor(async () => {
      const h = await tus.head(id);
      off = Number(h.headers['upload-offset']);
      return h.status === 200 && off > 100000;
    }, 'the cut PATCH stored its bytes');
    assert.ok(off <= 400000, `offset ${off} is at most what was sent`);
    // A body running past Upload-Length is refused before it is read.
    expectError(await tus.patch(id, off, Buffer.alloc(body.length - off + 1)), 413, 'too_large');
    p = await tus.patch(id, off, body.subarray(off));
    expectStatus(p, 204);
    assert.equal(p.headers['upload-offset'], String(body.length));
    expectError(await tus.patch(id, body.length, Buffer.alloc(1)), 409, 'upload_complete');
    const d = await alice.http.get(`/api/media/${id}`);
    expectStatus(d, 200);
    assert.ok(d.buffer.equals(body), 'the downloaded bytes are the uploaded bytes');
  });

  it('takes a chunked PATCH body', async () => {
    const body = sample('png', 5000);
    const c = await tus.create(body.length, { filename: 'c.png' });
    const id = uploadIdOf(c);
    const p = await tus.patch(id, 0, body, { chunked: true });
    expectStatus(p, 204);
    assert.equal(p.headers['upload-offset'], '5000');
    const d = await alice.http.get(`/api/media/${id}`);
    assert.ok(d.buffer.equals(body));
  });

  it('terminates an unattached upload (DELETE 204, then 404), not another user\'s (404)', async () => {
    const id = await tus.upload(sample('gif', 3000), { filename: 'x.gif' });
    const bobTus = new Tus(bob);
    expectError(await bobTus.del(id), 404, 'not_found');
    expectStatus(await bobTus.head(id), 404);
    expectStatus(await tus.del(id), 204);
    expectStatus(await tus.head(id), 404);
    expectError(await alice.http.get(`/api/media/${id}`), 404, 'not_found');
  });

  it('sends a photo: sent, the live message with media, history, the chat list, replay, then the download', async () => {
    const body = sample('jpeg', 200 * 1024);
    const id = await tus.upload(body, { filename: 'cat.jpg', filetype: 'image/jpeg' }, { chunk: 64 * 1024 });
    const media = mediaFor(id, 1, body, { name: 'cat.jpg', mime: 'image/jpeg' });
    const sent = await sendMedia(A, chat, media, { text: 'a cat', id: 'photo-1' });
    assert.equal(sent.type, 'sent', JSON.stringify(sent));
    // Bob is offline: the replay carries it.
    const B = await bob.connect();
    const ev = B.pending.find((e) => e.type === 'message' && e.id === 'photo-1');
    assert.ok(ev, `replay has the photo: ${JSON.stringify(B.pending)}`);
    assert.equal(ev.msg_type, 1);
    assert.equal(ev.text, 'a cat');
    assert.deepEqual(
      { ...ev.media },
      { id, mime: 'image/jpeg', size: body.length, name: 'cat.jpg', width: 640, height: 480, duration_ms: 0, waveform: null, thumb: THUMB },
    );
    const hist = await fullHistory(bob, chat);
    const h = hist.find((m) => m.id === 'photo-1');
    assert.equal(h.type, 1);
    assert.equal(h.media.id, id);
    assert.equal(h.media.thumb, THUMB);
    const c = await chatWith(bob, chat);
    assert.equal(c.last_message?.type ?? c.last?.type, 1, `chat list's last message: ${JSON.stringify(c)}`);
    // live: a voice note while Bob is connected
    const voice = sample('ogg', 3000);
    const vid = await tus.upload(voice, { filename: 'voice.ogg' });
    const s2 = await sendMedia(A, chat, mediaFor(vid, 3, voice), { id: 'voice-1' });
    assert.equal(s2.type, 'sent', JSON.stringify(s2));
    const live = await B.next('message', (e) => e.id === 'voice-1');
    assert.equal(live.msg_type, 3);
    assert.equal(live.text, '');
    assert.deepEqual(live.media.waveform, [0, 10, 255, 128]);
    assert.equal(live.media.mime, 'audio/ogg');
    assert.equal(live.media.thumb, null);
    // A retry with the same id is the usual duplicate.
    const dup = await sendMedia(A, chat, media, { text: 'a cat', id: 'photo-1' });
    assert.equal(dup.type, 'sent');
    assert.equal(dup.duplicate, true);
    assert.equal(dup.seq, sent.seq);
    // The upload now belongs to the message: not sendable again, not deletable.
    await A.expectError({ type: 'send', chat_id: chat, id: 'photo-2', text: '', media }, 'upload_not_found');
    expectError(await tus.del(id), 409, 'attached');

    // download: both participants
    const d = await bob.http.get(`/api/media/${id}`);
    expectStatus(d, 200);
    assert.ok(d.buffer.equals(body));
    assert.equal(d.headers['content-type'], 'image/jpeg');
    assert.equal(d.headers['x-content-type-options'], 'nosniff');
    assert.equal(d.headers['content-security-policy'], "sandbox; default-src 'none'");
    assert.equal(d.headers['cache-control'], 'private, immutable, max-age=31536000');
    assert.equal(d.headers.etag, `"${id}"`);
    assert.match(d.headers['content-disposition'], /^inline; filename\*=UTF-8''cat\.jpg$/);
    const r = await bob.http.get(`/api/media/${id}`, { headers: { Range: 'bytes=100-199' } });
    expectStatus(r, 206);
    assert.equal(r.headers['content-range'], `bytes 100-199/${body.length}`);
    assert.ok(r.buffer.equals(body.subarray(100, 200)));
    const suffix = await bob.http.get(`/api/media/${id}`, { headers: { Range: 'bytes=-10' } });
    expectStatus(suffix, 206);
    assert.ok(suffix.buffer.equals(body.subarray(body.length - 10)));
    const bad = await bob.http.get(`/api/media/${id}`, { headers: { Range: `bytes=${body.length}-` } });
    expectStatus(bad, 416);
    assert.equal(bad.headers['content-range'], `bytes */${body.length}`);
    const nm = await bob.http.get(`/api/media/${id}`, { headers: { 'If-None-Match': `"${id}"` } });
    expectStatus(nm, 304);
    const head = await bob.http.request('HEAD', `/api/media/${id}`);
    expectStatus(head, 200);
    assert.equal(head.headers['content-length'], String(body.length));
    assert.equal(head.buffer.length, 0);
  });

  it('refuses bad media objects and uploads that are not complete or not the declared size', async () => {
    const body = sample('jpeg', 2000);
    const c = await tus.create(body.length);
    const id = uploadIdOf(c);
    expectStatus(await tus.patch(id, 0, body.subarray(0, 1000)), 204);
    await A.expectError({ type: 'send', chat_id: chat, id: 'inc-1', text: '', media: mediaFor(id, 1, body) }, 'upload_incomplete');
    expectStatus(await tus.patch(id, 1000, body.subarray(1000)), 204);
    await A.expectError({ type: 'send', chat_id: chat, id: 'inc-2', text: '', media: mediaFor(id, 1, body, { size: 1999 }) }, 'size_mismatch');
    const bads = [
      { ...mediaFor(id, 1, body), upload: 'nothex' },
      { ...mediaFor(id, 1, body), type: 5 },
      { ...mediaFor(id, 1, body), width: 20001 },
      { ...mediaFor(id, 1, body), thumb: undefined },
      { ...mediaFor(id, 1, body), thumb: 'data:image/svg+xml;base64,PHN2Zz4=' },
      { ...mediaFor(id, 1, body), thumb: `data:image/jpeg;base64,${'A'.repeat(17000)}` },
      { ...mediaFor(id, 3, body), waveform: new Array(65).fill(1) },
      { ...mediaFor(id, 3, body), waveform: [256] },
      { ...mediaFor(id, 2, body), duration_ms: 24 * 3600 * 1000 + 1 },
      { ...mediaFor(id, 1, body), name: 'x'.repeat(256) },
      'not an object',
    ];
    for (const m of bads) await A.expectError({ type: 'send', chat_id: chat, id: 'bad-1', text: '', media: m }, 'bad_media');
    await A.expectError({ type: 'send', chat_id: chat, id: 'bad-2', text: '', media: mediaFor('0'.repeat(32), 1, body) }, 'upload_not_found');
    // an empty text without media stays an error
    await A.expectError({ type: 'send', chat_id: chat, id: 'bad-3', text: '' }, 'empty');
  });
});
