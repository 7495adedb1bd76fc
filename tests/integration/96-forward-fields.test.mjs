// 96 - a forward carries nothing of its own (audit 9): `text` and
// `reply_to` beside `forward` were refused, but a `media` object was
// silently dropped and the forward sent as if it were not there. Now it is
// `bad_request` naming the request, and nothing is sent.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { User, befriend, history, sendMsg } from './lib/client.mjs';
import { Tus, mediaFor, sample } from './lib/tus.mjs';

describe('96 forward fields', { timeout: 60000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('a forward with media is refused and sends nothing', async () => {
    const [amy, ben, cal] = await User.all(srv, ['ff_amy', 'ff_ben', 'ff_cal']);
    const ab = await befriend(amy, ben);
    const ac = await befriend(amy, cal);
    const A = await amy.connect();
    const s = await sendMsg(A, ab, 'pass it on');
    const buf = sample('pdf', 100);
    const id = await new Tus(amy).upload(buf, { filename: 'x.pdf', filetype: 'application/pdf' });

    const err = await A.expectError(
      { type: 'send', chat_id: ac, id: 'fw-1', forward: { chat_id: ab, seq: s.seq }, media: mediaFor(id, 4, buf) },
      'bad_request',
    );
    assert.equal(err.request, 'send');
    assert.deepEqual(await history(cal, ac), [], 'nothing was sent');

    // media: null is no media: the forward goes.
    const ok = await A.request({ type: 'send', chat_id: ac, id: 'fw-2', forward: { chat_id: ab, seq: s.seq }, media: null });
    assert.equal(ok.type, 'sent', JSON.stringify(ok));
    const h = await history(cal, ac);
    assert.equal(h.length, 1);
    assert.equal(h[0].text, 'pass it on');
    assert.equal(h[0].forwarded, true);
    await A.close();
  });
});
