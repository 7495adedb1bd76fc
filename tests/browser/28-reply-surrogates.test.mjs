// 28 - text cut for a preview never splits an emoji (audit 10): the reply
// bar showed the quoted message's first line cut at 100 UTF-16 units, and a
// notification's body at 139, so a cut could fall between the two halves of
// a surrogate pair and leave a lone one (drawn as U+FFFD). Now the cut
// steps back before a pair it would split.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { User, befriend, sendMsg } from '../integration/lib/client.mjs';
import { assertClean, fakeNotifications, newPerson, openChat, rowsWithText, signupInto, startSuite, stopSuite, until } from './lib/browser.mjs';

// A high surrogate not followed by a low one, or a low one not after a high.
const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('28 reply surrogates', { timeout: 120000 }, () => {
  let srv, browser;
  before(async () => ({ srv, browser } = await startSuite()));
  after(() => stopSuite(srv, browser));

  it('the reply bar and a notification cut emoji whole', async () => {
    const { context, page } = await newPerson(browser, srv, { initScript: fakeNotifications });
    const me = await signupInto(context, srv, 'rs_amy', { displayName: 'Amy' });
    const peer = await User.signup(srv, 'rs_bill', { displayName: 'Bill' });
    const chat = await befriend(me, peer);
    const ws = await peer.connect();
    // One letter, then emoji: the 100th unit is a pair's first half.
    const text = 'a' + '😀'.repeat(80);
    await sendMsg(ws, chat, text);
    await page.goto('/');
    await openChat(page, 'rs_bill');
    const row = rowsWithText(page, text);
    await row.waitFor();
    await row.hover();
    await row.getByRole('button', { name: 'Message actions' }).click();
    await page.getByRole('menuitem', { name: 'Reply' }).click();
    const bar = page.locator('.composer-bar .cbar-text');
    await bar.waitFor();
    const shown = await bar.evaluate((el) => el.textContent);
    assert.ok(!LONE.test(shown), `a lone surrogate in the reply bar: ${JSON.stringify(shown.slice(-4))}`);
    assert.equal(shown, 'a' + '😀'.repeat(49), 'cut before the pair it would split');

    // A notification while the tab is hidden: emoji alone, so that the
    // 139th unit is a pair's first half.
    await page.evaluate(() => window.__setHidden(true));
    await sendMsg(ws, chat, '😀'.repeat(80));
    await until(async () => (await page.evaluate(() => window.__notes.length)) > 0, 'the notification');
    const [note] = await page.evaluate(() => window.__notes);
    assert.ok(!LONE.test(note.body), `a lone surrogate in the notification: ${JSON.stringify(note.body.slice(-4))}`);
    assert.equal(note.body, '\u2068' + '😀'.repeat(69) + '…\u2069');
    assertClean(page);
    await ws.close();
    await context.close();
  });
});
