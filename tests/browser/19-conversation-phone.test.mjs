// 19 - issue 17 on a phone-sized touch screen: a long press on a bubble
// opens its actions (no hover buttons there); reply and react from it; the
// reactions' "who" is in the chip's label; screenshots of a reply and of
// reactions (published to docs/screenshots with DUET_UPDATE_SCREENSHOTS=1).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertClean,
  launch,
  openChat,
  publishShot,
  rowsWithText,
  send,
  shot,
  startWebServer,
  until,
  withFriends,
} from './lib/browser.mjs';
import { sendMsg } from '../integration/lib/client.mjs';

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

describe('19 reply and reactions on a phone', { timeout: 300000 }, () => {
  let srv;
  let browser;
  before(async () => {
    srv = await startWebServer();
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await srv?.stop();
  });

  it('long press opens the actions; reply and react; screenshots', async () => {
    const { people, chats, close } = await withFriends(browser, srv, { browsers: ['mia'], peers: ['noah'], ...PHONE });
    const page = people.mia.page;
    const N = await people.noah.user.connect();
    await sendMsg(N, chats.noah, 'Are we still on for the hike on Saturday?');
    await sendMsg(N, chats.noah, 'The forecast says sun all day ☀️');
    await openChat(page, 'noah');
    const row = rowsWithText(page, 'Are we still on for the hike on Saturday?');
    await row.waitFor();
    // Hover buttons are not there on a touch screen.
    assert.equal(await row.locator('.msg-act').isVisible(), false);

    // Long press (the browser's contextmenu) → actions → Reply.
    await row.locator('.bubble').click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'Reply' }).click();
    await page.locator('.composer-bar', { hasText: 'Replying to Noah' }).waitFor();
    await send(page, 'Yes! Meet at the trailhead at 8?');
    const mine = rowsWithText(page, 'Yes! Meet at the trailhead at 8?');
    await mine.locator('.quote', { hasText: 'Are we still on for the hike' }).waitFor();
    const got = await N.next('message', (e) => e.text === 'Yes! Meet at the trailhead at 8?');
    assert.equal(got.reply_to.snippet, 'Are we still on for the hike on Saturday?');
    await shot(page, 'reply-phone');
    publishShot('reply-phone', 'reply');

    // Noah reacts to the reply; Mia reacts to the forecast from the picker.
    await N.request({ type: 'react', chat_id: chats.noah, seq: got.seq, emoji: '👍' });
    await mine.locator('.reaction', { hasText: '👍' }).waitFor();
    assert.match(await mine.locator('.reaction').getAttribute('aria-label'), /👍 1: Noah/);
    // Long press on the chip: who reacted.
    await mine.locator('.reaction').click({ button: 'right' });
    await page.locator('.toast', { hasText: '👍 Noah' }).waitFor();
    const sun = rowsWithText(page, 'The forecast says sun all day ☀️');
    await sun.locator('.bubble').click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'React' }).click();
    await page.getByRole('menuitem', { name: 'React 😂' }).click();
    await sun.locator('.reaction.mine', { hasText: '😂' }).waitFor();
    const ev = await N.next('reaction', (e) => e.emoji === '😂');
    assert.equal(ev.user, people.mia.user.id);
    await N.request({ type: 'react', chat_id: chats.noah, seq: ev.seq, emoji: '😂' });
    await until(async () => (await sun.locator('.reaction-count').innerText()) === '2', 'two 😂');

    await shot(page, 'reactions-phone');
    publishShot('reactions-phone', 'reactions');
    assertClean(page);
    await close();
  });
});
