// 27 - stacked combining marks ("Zalgo", audit 9): a peer's message of a
// letter and 1,500 accents drew a column of marks from its bubble up over
// the whole chat, to the header, over other people's messages. Glyphs that
// leave their box are now clipped at the bubble's text, the search
// results' snippets, reaction chips, toasts and dialog titles.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertClean, openChat, startSuite, stopSuite, withFriends } from './lib/browser.mjs';
import { sendMsg } from '../integration/lib/client.mjs';

describe('27 stacked marks', { timeout: 120000 }, () => {
  let srv, browser;
  before(async () => ({ srv, browser } = await startSuite()));
  after(() => stopSuite(srv, browser));

  it('marks stacked above a bubble do not paint outside it', async () => {
    const f = await withFriends(browser, srv, { browsers: ['zma'], peers: ['zmb'] });
    const page = f.people.zma.page;
    const ws = await f.people.zmb.user.connect();
    await sendMsg(ws, f.chats.zmb, 'a' + '\u0301'.repeat(1500) + ' tower');
    await openChat(page, 'zmb');
    const bubble = page.locator('.row.theirs .bubble', { hasText: 'tower' });
    await bubble.waitFor();
    await page.waitForTimeout(300);
    const b = await bubble.boundingBox();
    const head = await page.locator('.chat-head').boundingBox();
    // The strip above the bubble's first letter, below the header: only the
    // light background (and its faint dots) may be there.
    const top = head.y + head.height + 4;
    const clip = { x: b.x + 8, y: top, width: 24, height: Math.max(1, b.y - 4 - top) };
    assert.ok(clip.height > 100, `room above the bubble to look at (${clip.height} px)`);
    const png = await page.screenshot({ clip });
    const dark = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (0.3 * d[i] + 0.59 * d[i + 1] + 0.11 * d[i + 2] < 110) n++;
      return n;
    }, png.toString('base64'));
    assert.equal(dark, 0, `${dark} dark pixels above the bubble: the marks paint over the chat`);

    // The other places that show a peer's text clip too.
    const clipped = await page.evaluate(() =>
      ['content', 'sh-snippet', 'reaction', 'toast', 'dialog-title'].filter((cls) => {
        const el = document.createElement('div');
        el.className = cls;
        document.body.append(el);
        const o = getComputedStyle(el).overflowY;
        el.remove();
        return o !== 'clip' && o !== 'hidden';
      }),
    );
    assert.deepEqual(clipped, [], 'these do not clip what leaves their box');
    assertClean(page);
    await ws.close();
    await f.close();
  });
});
