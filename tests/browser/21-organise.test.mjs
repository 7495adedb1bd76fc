// 21 - pin, archive and mute in the browser (issue 17): from the
// conversation menu, by keyboard; pinned chats on top; an archived chat
// leaves the list for "Archived" and comes back with the peer's message;
// a muted chat's badge is grey; a change made on another device shows
// live (chat_state); phone viewport.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertClean, chatItem, openChat, shot, startSuite, stopSuite, until, withFriends } from './lib/browser.mjs';
import { sendMsg } from '../integration/lib/client.mjs';

async function order(page) {
  return page.locator('.chat-list .chat-item').evaluateAll((els) => els.map((e) => e.dataset.username));
}

async function menu(page, item) {
  await page.getByRole('button', { name: 'Conversation options' }).click();
  await page.getByRole('menuitem', { name: item }).click();
}

describe('21 organise chats in the browser', { timeout: 300000 }, () => {
  let srv, browser;
  before(async () => ({ srv, browser } = await startSuite()));
  after(() => stopSuite(srv, browser));

  for (const phone of [false, true]) {
    it(`pins, archives and mutes${phone ? ' on a phone' : ''}`, async () => {
      const sfx = phone ? 'p' : 'd';
      const opts = phone ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } : {};
      const f = await withFriends(browser, srv, { browsers: [`alice${sfx}`], peers: [`bob${sfx}`, `carol${sfx}`, `dave${sfx}`], ...opts });
      const page = f.people[`alice${sfx}`].page;
      const [bob, carol, dave] = ['bob', 'carol', 'dave'].map((n) => f.people[`${n}${sfx}`]);
      // Activity order: dave newest.
      for (const p of [bob, carol, dave]) {
        const ws = await p.user.connect();
        await sendMsg(ws, f.chats[p.user.username], `hi from ${p.user.username}`);
        await ws.close();
      }
      await until(async () => (await order(page))[0] === `dave${sfx}`, 'dave first');

      // Pin bob: he goes on top.
      await openChat(page, `bob${sfx}`);
      await menu(page, 'Pin');
      await until(async () => (await order(page))[0] === `bob${sfx}`, 'bob pinned first');
      assert.equal(await chatItem(page, `bob${sfx}`).locator('.ci-pin').count(), 1);

      // Mute carol always: her badge is grey.
      if (phone) await page.getByRole('button', { name: 'Back to conversations' }).click();
      await openChat(page, `carol${sfx}`);
      await menu(page, 'Mute…');
      await page.getByRole('menuitem', { name: 'Always' }).click();
      if (phone) await page.getByRole('button', { name: 'Back to conversations' }).click();
      const C = await carol.user.connect();
      await sendMsg(C, f.chats[carol.user.username], 'are you there?');
      // Open another chat so that carol's message counts as unread.
      await openChat(page, `dave${sfx}`);
      if (phone) await page.getByRole('button', { name: 'Back to conversations' }).click();
      await sendMsg(C, f.chats[carol.user.username], 'hello?');
      const badge = chatItem(page, `carol${sfx}`).locator('.badge');
      await badge.waitFor();
      assert.ok(await badge.evaluate((e) => e.classList.contains('badge-muted')), 'the badge of a muted chat is grey');
      const colors = await page.evaluate(() =>
        [...document.querySelectorAll('.chat-item .badge')].map((b) => getComputedStyle(b).backgroundColor),
      );
      assert.equal(new Set(colors).size, colors.length, `the muted badge has its own colour: ${colors}`);

      // Archive dave (by keyboard in the menu): he leaves the list.
      await openChat(page, `dave${sfx}`);
      await page.getByRole('button', { name: 'Conversation options' }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('menuitem', { name: 'Archive' }).focus();
      await page.keyboard.press('Enter');
      if (phone) await page.getByRole('button', { name: 'Back to conversations' }).click();
      await until(async () => !(await order(page)).includes(`dave${sfx}`), 'dave archived');
      const arch = page.locator('.archived-row');
      assert.equal(await arch.textContent(), 'Archived (1)');
      await arch.click();
      await until(async () => (await order(page)).join() === `dave${sfx}`, 'the archived view lists dave');
      await shot(page, `organise-archived-${sfx}`);
      await arch.click();
      // Back in the main list (rendered on the next frame), dave is still archived.
      await until(async () => !(await order(page)).includes(`dave${sfx}`), 'back from the archived view');
      // dave writes: the archive ends.
      const D = await dave.user.connect();
      await sendMsg(D, f.chats[dave.user.username], 'back again');
      await until(async () => (await order(page)).includes(`dave${sfx}`), 'dave back in the list');
      await until(async () => await arch.isHidden(), 'no archived row once nothing is archived');

      // Another device unpins bob: the list follows live.
      const res = await f.people[`alice${sfx}`].user.http.put(`/api/chats/${f.chats[bob.user.username]}/state`, { pinned: false });
      assert.equal(res.status, 200);
      await until(async () => (await chatItem(page, `bob${sfx}`).locator('.ci-pin').count()) === 0, 'unpinned live');
      await shot(page, `organise-${sfx}`);
      assertClean(page);
      await C.close();
      await D.close();
      await f.close();
    });
  }
});
