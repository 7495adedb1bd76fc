// 26 - a peer's longest display name on a phone (audit 9): 64 characters
// with no space to break at. Everything that shows it (the header, the
// list, the Block dialog's title, a quote, a toast) stays on the screen.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { User, befriend, sendMsg } from '../integration/lib/client.mjs';
import { newPerson, online, openChat, signupInto, startSuite, stopSuite, until } from './lib/browser.mjs';

const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

async function sticksOut(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('body *')]
      .filter((e) => e.offsetParent && e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.messages .content'))
      .map((e) => `${e.tagName}.${e.className}`)
      .slice(0, 5),
  );
}

describe('26 long names', { timeout: 120000 }, () => {
  let srv, browser;
  before(async () => ({ srv, browser } = await startSuite()));
  after(() => stopSuite(srv, browser));

  it('a 64-character name without spaces stays on a 360 px screen', async () => {
    const p = await newPerson(browser, srv, PHONE);
    const me = await signupInto(p.context, srv, 'lnme', { displayName: 'Me' });
    const long = 'W'.repeat(64);
    const peer = await User.signup(srv, 'lnpeer', { displayName: long });
    const chat = await befriend(me, peer);
    const ws = await peer.connect();
    const first = await sendMsg(ws, chat, 'hello');
    await ws.request({ type: 'send', chat_id: chat, id: 'q1', text: 'quoting myself', reply_to: first.seq });
    const page = p.page;
    await page.goto('/');
    await online(page);
    assert.deepEqual(await sticksOut(page), [], 'the list');
    await openChat(page, 'lnpeer');
    await page.locator('.quote').first().waitFor();
    assert.deepEqual(await sticksOut(page), [], 'the chat');
    await page.getByRole('button', { name: 'Conversation options' }).click();
    await page.getByRole('menuitem', { name: 'Block' }).click();
    await page.locator('.dialog-title').waitFor();
    await until(async () => (await page.locator('.dialog-title').boundingBox())?.width > 0, 'the dialog');
    assert.deepEqual(await sticksOut(page), [], 'the Block dialog');
    await ws.close();
    await p.context.close();
  });
});
