// 25 - the size of a photo or video is the peer's word (audit 9): the
// server takes 0..20000 each way and never decodes media, so a "1 x 20000"
// photo made a box 2.4 million pixels tall (the chat one endless bubble)
// and a "20000 x 1" one a line too thin to see or tap. The box now stays
// within 120..300 x 60..340 px whatever the peer says, and an honest 4:3
// photo keeps its shape (14-media checks the real thing).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openChat, startSuite, stopSuite, until, withFriends } from './lib/browser.mjs';
import { Tus, mediaFor, sample, sendMedia } from '../integration/lib/tus.mjs';

describe('25 peer media sizes', { timeout: 120000 }, () => {
  let srv, browser;
  before(async () => ({ srv, browser } = await startSuite()));
  after(() => stopSuite(srv, browser));

  it('photos and videos of absurd dimensions get a bounded box', async () => {
    const f = await withFriends(browser, srv, { browsers: ['msa'], peers: ['msb'] });
    const page = f.people.msa.page;
    const peer = f.people.msb.user;
    const chat = f.chats.msb;
    const ws = await peer.connect();
    const sizes = [
      [1, 1, 20000],
      [1, 20000, 1],
      [2, 1, 20000],
      [2, 20000, 1],
      [1, 640, 480],
    ];
    for (const [type, width, height] of sizes) {
      const buf = sample(type === 1 ? 'jpeg' : 'mp4', 2048);
      const mime = type === 1 ? 'image/jpeg' : 'video/mp4';
      const id = await new Tus(peer).upload(buf, { filename: `x.${type === 1 ? 'jpg' : 'mp4'}`, filetype: mime });
      const ans = await sendMedia(ws, chat, mediaFor(id, type, buf, { width, height, mime }), { text: `${width}x${height}` });
      assert.equal(ans.type, 'sent', JSON.stringify(ans));
    }
    await openChat(page, 'msb');
    const boxes = page.locator('.row.theirs').locator('.media-photo, .media-video');
    await until(async () => (await boxes.count()) === sizes.length, 'every media bubble is shown');
    for (let i = 0; i < sizes.length; i++) {
      const b = await boxes.nth(i).boundingBox();
      const [, width, height] = sizes[i];
      assert.ok(b.height <= 341 && b.height >= 59, `${width}x${height}: the box is ${b.width}x${b.height}`);
      assert.ok(b.width <= 301 && b.width >= 119, `${width}x${height}: the box is ${b.width}x${b.height}`);
    }
    const honest = await boxes.nth(sizes.length - 1).boundingBox();
    assert.ok(Math.abs(honest.width / honest.height - 4 / 3) < 0.03, `4:3 kept (${honest.width}x${honest.height})`);
    const tall = await page.evaluate(() => document.querySelector('.messages').scrollHeight);
    assert.ok(tall < 20000, `the chat is ${tall} px tall`);
    await ws.close();
    await f.close();
  });
});
