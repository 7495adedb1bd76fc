// 20 - message search in the browser (issue 17): the chat list's search box
// finds messages across chats with the match marked (a <mark> around text,
// never HTML), a click opens the chat at that message (loading the history
// around it, far back in a long chat) and flashes it; the header's search
// looks in one conversation; keyboard and phone viewport. Takes the
// screenshot of search for the README.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { T, assertClean, publishShot, shot, startSuite, stopSuite, until, withFriends } from './lib/browser.mjs';
import { sendMsg } from '../integration/lib/client.mjs';

describe('20 search in the browser', { timeout: 300000 }, () => {
  let srv, browser;
  before(async () => ({ srv, browser } = await startSuite({ args: ['--msg-rate', '100000', '--msg-burst', '100000'] })));
  after(() => stopSuite(srv, browser));

  it('finds a message far back across chats, highlights it, and jumps to it', async () => {
    const f = await withFriends(browser, srv, { browsers: ['alice'], peers: ['bob', 'carol'], open: false });
    const { alice, bob, carol } = f.people;
    const B = await bob.user.connect();
    await sendMsg(B, f.chats.bob, 'the <b>needle</b> is in the haystack');
    for (let i = 0; i < 300; i++) await sendMsg(B, f.chats.bob, `hay ${i}`);
    const C = await carol.user.connect();
    await sendMsg(C, f.chats.carol, 'Needles and pins');
    await alice.page.goto('/');
    const page = alice.page;
    await page.locator('.chat-list').waitFor();

    await page.getByRole('searchbox', { name: 'Search conversations' }).fill('needle');
    const hits = page.getByRole('list', { name: 'Messages found' }).locator('.search-hit');
    await until(async () => (await hits.count()) === 2, 'two results');
    // Newest first: carol's, then bob's; the match marked, the text as text.
    const marks = await hits.evaluateAll((els) => els.map((e) => [...e.querySelectorAll('mark')].map((m) => m.textContent)));
    assert.deepEqual(marks, [['Needle'], ['needle']]);
    const snippet = await hits.nth(1).locator('.sh-snippet').textContent();
    assert.equal(snippet, 'the <b>needle</b> is in the haystack', 'the snippet is text, not HTML');
    assert.equal(await hits.nth(1).locator('b').count(), 0);
    await shot(page, 'search');
    publishShot('search');

    // Keyboard: Tab reaches the results; Enter opens the chat at the message.
    await hits.nth(1).focus();
    await page.keyboard.press('Enter');
    const row = page.locator('.row', { hasText: 'is in the haystack' });
    await row.waitFor({ timeout: T });
    await until(() => row.evaluate((el) => el.classList.contains('flash')), 'the message flashes');
    const inView = await row.evaluate((el) => {
      const r = el.getBoundingClientRect();
      const s = el.closest('.messages').getBoundingClientRect();
      return r.top >= s.top && r.bottom <= s.bottom;
    });
    assert.ok(inView, 'the found message is in view');
    // The jump button offers the way back to the newest.
    await page.getByRole('button', { name: 'Jump to the latest message' }).click();
    await page.locator('.row', { hasText: 'hay 299' }).waitFor();

    // Search within the conversation from its header.
    await page.getByRole('button', { name: 'Search in this conversation' }).click();
    await page.getByRole('searchbox', { name: 'Search this conversation' }).fill('hay 15');
    const inChat = page.locator('.chat-search .search-hit');
    await until(async () => (await inChat.count()) >= 1, 'results in the chat');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page
      .locator('.row.flash', { hasText: /^hay 15/ })
      .first()
      .waitFor();
    assertClean(page);
    await B.close();
    await C.close();
    await f.close();
  });

  it('works on a phone', async () => {
    const f = await withFriends(browser, srv, {
      browsers: ['dora'],
      peers: ['eddie'],
      open: false,
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    const E = await f.people.eddie.user.connect();
    await sendMsg(E, f.chats.eddie, 'a pocket-sized haystack');
    const page = f.people.dora.page;
    await page.goto('/');
    await page.locator('.chat-list').waitFor();
    await page.getByRole('searchbox', { name: 'Search conversations' }).fill('pocket');
    const hit = page.locator('.search-hit').first();
    await hit.waitFor();
    await hit.tap();
    await page.locator('.row.flash', { hasText: 'pocket-sized' }).waitFor();
    assert.ok(await page.locator('.chat-head').isVisible());
    await shot(page, 'search-phone');
    assertClean(page);
    await E.close();
    await f.close();
  });
});
