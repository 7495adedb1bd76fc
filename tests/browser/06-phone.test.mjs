// 06 - a 360 px phone: the list and the chat are separate screens, Back
// (the button or the browser's) returns to the list, nothing overflows
// sideways, and dialogs fit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  User,
  assertClean,
  chatItem,
  launch,
  newPerson,
  rowsWithText,
  send,
  shot,
  signupInto,
  startWebServer,
  until,
} from './lib/browser.mjs';
import { befriend, sendMsg } from '../integration/lib/client.mjs';

const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

async function noSideScroll(page, what) {
  const { sw, cw } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
  assert.ok(sw <= cw, `${what}: the page scrolls sideways (${sw} > ${cw})`);
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll('body *')]
      .filter((e) => e.offsetParent && e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.messages'))
      .map((e) => e.className || e.tagName)
      .slice(0, 5),
  );
  assert.deepEqual(wide, [], `${what}: elements stick out to the right`);
}

describe('06 phone-sized viewport', { timeout: 180000 }, () => {
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

  it('list and chat are separate views, with Back, at 360 px', async () => {
    const p = await newPerson(browser, srv, PHONE);
    const uq = await signupInto(p.context, srv, 'quinn', { displayName: 'Quinn' });
    const ur = await User.signup(srv, 'rosa', { displayName: 'Rosa Parks-Ramirez de la Cruz' });
    const us = await User.signup(srv, 'sam', { displayName: 'Sam' });
    const chatR = await befriend(uq, ur);
    await befriend(uq, us);
    const wr = await ur.connect();
    await sendMsg(wr, chatR, 'Are you coming to the meetup tonight? It starts at seven, and there will be pizza.');
    const page = p.page;
    await page.goto('/');
    await chatItem(page, 'rosa').waitFor();
    assert.equal(await page.locator('.main').isVisible(), false, 'only the list on a phone');
    await noSideScroll(page, 'list');
    await shot(page, 'phone-list');

    await chatItem(page, 'rosa').tap();
    await page.locator('.chat-head').waitFor();
    assert.equal(await page.locator('.sidebar').isVisible(), false, 'only the chat once open');
    assert.equal(await page.getByRole('button', { name: 'Back to conversations' }).isVisible(), true);
    await rowsWithText(page, 'Are you coming to the meetup tonight? It starts at seven, and there will be pizza.').waitFor();
    await send(page, 'Yes! Save me a slice 🍕');
    await page.locator('.row[data-status="sent"]').waitFor();
    await sendMsg(wr, chatR, 'Deal.');
    await rowsWithText(page, 'Deal.').waitFor();
    await noSideScroll(page, 'chat');
    // The composer is on screen, at the bottom.
    const box = await page.getByRole('textbox', { name: 'Message' }).boundingBox();
    assert.ok(box && box.y + box.height <= 740 && box.y > 600, `the composer is at the bottom (${JSON.stringify(box)})`);
    await shot(page, 'phone-chat');

    // The info dialog fits the screen.
    await rowsWithText(page, 'Deal.').locator('.bubble').tap();
    const dlg = page.getByRole('dialog', { name: 'Message info' });
    const db = await dlg.boundingBox();
    assert.ok(db.x >= 0 && db.x + db.width <= 360, `the dialog fits (${JSON.stringify(db)})`);
    await dlg.getByRole('button', { name: 'Close' }).tap();

    // The browser's Back returns to the list, and forward to the chat.
    await page.goBack();
    await page.locator('.sidebar').waitFor({ state: 'visible' });
    assert.equal(await page.locator('.main').isVisible(), false);
    await page.goForward();
    await page.locator('.chat-head').waitFor({ state: 'visible' });
    // And the header's Back button too.
    await page.getByRole('button', { name: 'Back to conversations' }).tap();
    await page.locator('.sidebar').waitFor({ state: 'visible' });
    await until(async () => !(await page.locator('.main').isVisible()), 'the chat to hide');
    assertClean(page);
    await wr.close();
    await p.context.close();
  });
});
