// 23 - a file name is the peer's text (audit 9): the server takes any
// UTF-8 of up to 255 bytes, bidi controls included, so "invoice\u202efdp.exe"
// would read "invoiceexe.pdf" on the file card, in its labels and in the
// chat list. The client shows the controls as code points, as it does in
// link text (dom.js showControls); the extension badge reads EXE.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertClean, chatItem, openChat, startSuite, stopSuite, until, withFriends } from './lib/browser.mjs';
import { Tus, mediaFor, sample, sendMedia } from '../integration/lib/tus.mjs';

describe('23 peer file names', { timeout: 120000 }, () => {
  let srv, browser;
  before(async () => ({ srv, browser } = await startSuite()));
  after(() => stopSuite(srv, browser));

  it('bidi controls in a file name are shown, never applied', async () => {
    const f = await withFriends(browser, srv, { browsers: ['fna'], peers: ['fnb'] });
    const page = f.people.fna.page;
    const peer = f.people.fnb.user;
    const chat = f.chats.fnb;
    const name = 'invoice\u202efdp.exe';
    const shown = 'invoice<U+202E>fdp.exe';
    const buf = sample('pdf', 2048);
    const id = await new Tus(peer).upload(buf, { filename: name, filetype: 'application/pdf' });
    const ws = await peer.connect();
    const ans = await sendMedia(ws, chat, mediaFor(id, 4, buf, { name, mime: 'application/pdf' }));
    assert.equal(ans.type, 'sent', JSON.stringify(ans));

    // The chat list's preview.
    const preview = chatItem(page, 'fnb');
    await until(async () => (await preview.textContent()).includes(shown), 'the list shows the name with its control visible');
    assert.ok(!(await preview.textContent()).includes('\u202e'), 'no live RLO in the list');

    await openChat(page, 'fnb');
    const card = page.locator('.row.theirs .file-card').last();
    await card.waitFor();
    assert.equal(await card.locator('.file-name').textContent(), shown);
    assert.equal(await card.locator('.file-name').getAttribute('title'), shown);
    assert.equal(await card.locator('.file-ext').textContent(), 'EXE');
    assert.equal(await card.locator('.file-dl').getAttribute('aria-label'), `Download ${shown}`);
    // Nowhere in the chat view is the override live.
    const live = await page.evaluate(() => {
      const main = document.querySelector('main') || document.body;
      const attrs = [...main.querySelectorAll('*')].flatMap((el) => [...el.attributes].map((a) => a.value));
      return [main.textContent, ...attrs].some((s) => s.includes('\u202e'));
    });
    assert.equal(live, false, 'an RLO from the file name is live in the page');
    assertClean(page);
    await ws.close();
    await f.close();
  });
});
