// 95 - an edit changes the text only (audit 9): `text` is read as in
// `send`, where a message with media may have an empty caption, so an
// edit carrying a `media` object passed with an empty text and blanked the
// message (type 0, no media, no text: an empty bubble on both sides, the
// `empty` rule bypassed) while the media was ignored. Now such an edit is
// `bad_request` naming the request, and the message is unchanged.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { User, befriend, history, sendMsg } from './lib/client.mjs';
import { Tus, mediaFor, sample } from './lib/tus.mjs';

describe('95 edit fields', { timeout: 60000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('an edit with media is refused and changes nothing', async () => {
    const [amy, ben] = await User.all(srv, ['ef_amy', 'ef_ben']);
    const chat = await befriend(amy, ben);
    const A = await amy.connect();
    const B = await ben.connect();
    const s = await sendMsg(A, chat, 'original');
    await B.next('message', (e) => e.seq === s.seq);
    const buf = sample('pdf', 100);
    const id = await new Tus(amy).upload(buf, { filename: 'x.pdf', filetype: 'application/pdf' });

    for (const text of ['', 'with a file']) {
      const err = await A.expectError({ type: 'edit', chat_id: chat, seq: s.seq, text, media: mediaFor(id, 4, buf) }, 'bad_request');
      assert.equal(err.request, 'edit');
    }
    // The empty rule holds for an edit as for a send.
    const err = await A.expectError({ type: 'edit', chat_id: chat, seq: s.seq, text: '' }, 'empty');
    assert.equal(err.request, 'edit');
    await B.expectNo('edited', 300);
    const h = await history(ben, chat);
    const m = h.find((x) => x.seq === s.seq);
    assert.equal(m.text, 'original');
    assert.ok(!m.edited_at, 'not edited');

    // media: null is no media: a plain edit.
    const ok = await A.request({ type: 'edit', chat_id: chat, seq: s.seq, text: 'fixed', media: null });
    assert.equal(ok.type, 'edited', JSON.stringify(ok));
    assert.equal(ok.text, 'fixed');
    await A.close();
    await B.close();
  });
});
