// 22 - the composer and the message view (issue 17): the emoji picker by
// keyboard (search, arrows, Enter, Esc, recent first); light formatting
// rendered as elements with text nodes, never HTML (the tokenizer's cases
// too, run as a pure module in the page); the floating date while
// scrolling; "jump to first unread" and "jump to bottom" with the count of
// new messages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertClean, openChat, rowsWithText, send, shot, startSuite, stopSuite, until, withFriends } from './lib/browser.mjs';
import { sendMsg } from '../integration/lib/client.mjs';

describe('22 composer and message view', { timeout: 300000 }, () => {
  let srv, browser;
  before(async () => ({ srv, browser } = await startSuite({ args: ['--msg-rate', '100000', '--msg-burst', '100000'] })));
  after(() => stopSuite(srv, browser));

  it('the tokenizer: marks, code, blocks, and what stays text', async () => {
    const f = await withFriends(browser, srv, { browsers: ['tok'], peers: ['tokpeer'] });
    const page = f.people.tok.page;
    const cases = await page.evaluate(async () => {
      const { parse, plain } = await import('/js/markup.js');
      const inputs = [
        '*bold* _it_ ~gone~',
        'a `x*y*` b',
        '```\nline *1*\nline 2```',
        'snake_case_name and 2*3*4',
        '*not closed',
        '* spaced *',
        '*_nested_*',
        '<b>html</b>',
      ];
      return inputs.map((s) => [s, JSON.stringify(parse(s)), plain(s)]);
    });
    const got = Object.fromEntries(cases.map(([s, p]) => [s, JSON.parse(p)]));
    assert.deepEqual(got['*bold* _it_ ~gone~'], [
      { t: 'b', c: [{ t: 'text', v: 'bold' }] },
      { t: 'text', v: ' ' },
      { t: 'i', c: [{ t: 'text', v: 'it' }] },
      { t: 'text', v: ' ' },
      { t: 's', c: [{ t: 'text', v: 'gone' }] },
    ]);
    assert.deepEqual(got['a `x*y*` b'], [
      { t: 'text', v: 'a ' },
      { t: 'code', v: 'x*y*' },
      { t: 'text', v: ' b' },
    ]);
    assert.deepEqual(got['```\nline *1*\nline 2```'], [{ t: 'pre', v: 'line *1*\nline 2' }]);
    assert.deepEqual(got['snake_case_name and 2*3*4'], [{ t: 'text', v: 'snake_case_name and 2*3*4' }]);
    assert.deepEqual(got['*not closed'], [{ t: 'text', v: '*not closed' }]);
    assert.deepEqual(got['* spaced *'], [{ t: 'text', v: '* spaced *' }]);
    assert.deepEqual(got['*_nested_*'], [{ t: 'b', c: [{ t: 'i', c: [{ t: 'text', v: 'nested' }] }] }]);
    assert.deepEqual(got['<b>html</b>'], [{ t: 'text', v: '<b>html</b>' }]);
    assert.equal(cases.find((c) => c[0] === '*bold* _it_ ~gone~')[2], 'bold it gone');
    await f.close();
  });

  it('formatting renders as elements, safely; the emoji picker works by keyboard', async () => {
    const f = await withFriends(browser, srv, { browsers: ['ann'], peers: ['ben'] });
    const page = f.people.ann.page;
    await openChat(page, 'ben');
    await send(page, '*Bold* _soft_ ~old~ `a<b>` <img src=x onerror=alert(1)>');
    const bubble = page.locator('.row.mine .text').last();
    await until(async () => (await bubble.locator('strong').count()) === 1, 'formatted');
    assert.equal(await bubble.locator('strong').textContent(), 'Bold');
    assert.equal(await bubble.locator('em').textContent(), 'soft');
    assert.equal(await bubble.locator('s').textContent(), 'old');
    assert.equal(await bubble.locator('code').textContent(), 'a<b>');
    assert.equal(await bubble.locator('img').count(), 0, 'no HTML from the text');
    assert.ok((await bubble.textContent()).includes('<img src=x onerror=alert(1)>'));
    await send(page, '```\nconst x = 1;\n```');
    await page.locator('.row.mine pre code', { hasText: 'const x = 1;' }).waitFor();

    // The picker by keyboard: open, type, arrows, Enter inserts at the caret.
    const input = page.getByRole('textbox', { name: 'Message' });
    await input.fill('hi ');
    await page.getByRole('button', { name: 'Emoji' }).focus();
    await page.keyboard.press('Enter');
    const search = page.getByRole('searchbox', { name: 'Search emoji' });
    await until(() => search.evaluate((e) => e === document.activeElement), 'the search has focus');
    await page.keyboard.type('thumbs');
    await until(async () => (await page.locator('.emoji-opt').count()) === 2, 'thumbs up and down');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    assert.equal(await input.inputValue(), 'hi 👎');
    assert.equal(await page.locator('.emoji-picker').count(), 0, 'the picker closed');
    await until(() => input.evaluate((e) => e === document.activeElement), 'back in the composer');
    // Recent first; Esc closes without inserting.
    await page.getByRole('button', { name: 'Emoji' }).click();
    assert.equal(await page.locator('.emoji-opt').first().textContent(), '👎', 'the recent emoji comes first');
    await page.keyboard.type('heart eyes');
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('.emoji-picker').count(), 0);
    assert.equal(await input.inputValue(), 'hi 👎');
    await page.getByRole('button', { name: 'Emoji' }).click();
    await page.keyboard.type('zzznothing');
    await page.getByText('No emoji found').waitFor();
    await page.keyboard.press('Escape');
    await shot(page, 'composer-formatting');
    assertClean(page);
    await f.close();
  });

  it('floating date while scrolling; jump to first unread; jump to bottom with a count', async () => {
    const f = await withFriends(browser, srv, { browsers: ['cleo'], peers: ['dan'], open: false });
    const D = await f.people.dan.user.connect();
    const chat = f.chats.dan;
    for (let i = 0; i < 150; i++) await sendMsg(D, chat, `unread ${i}`);
    const page = f.people.cleo.page;
    await page.goto('/');
    await page.locator('.chat-list').waitFor();
    await openChat(page, 'dan');
    // 150 unread: the view opens at the newest page; the first unread is
    // above it, and a button jumps there.
    const jumpUnread = page.getByRole('button', { name: /Jump to the first unread message/ });
    await jumpUnread.waitFor();
    await jumpUnread.click();
    await rowsWithText(page, 'unread 0').waitFor();
    await until(() => rowsWithText(page, 'unread 0').evaluate((el) => el.classList.contains('flash')), 'the first unread flashes');
    await until(async () => await jumpUnread.isHidden(), 'the button goes once used');

    // The floating date shows the day of the rows at the top while scrolling.
    const scroller = page.locator('.messages');
    await scroller.evaluate((el) => {
      el.scrollTop = 200;
      el.dispatchEvent(new Event('scroll'));
    });
    const fd = page.locator('.float-date');
    await until(async () => (await fd.isVisible()) && (await fd.textContent()) === 'Today', 'the floating date says Today');

    // Jump to bottom: new messages while scrolled up are counted.
    await D.request({ type: 'send', chat_id: chat, id: 'late-1', text: 'late one' });
    await D.request({ type: 'send', chat_id: chat, id: 'late-2', text: 'late two' });
    const jump = page.getByRole('button', { name: 'Jump to the latest message' });
    await jump.waitFor();
    await until(async () => (await page.locator('.jump-badge').textContent()) === '2', 'two new messages counted');
    await shot(page, 'unread-jump');
    await jump.click();
    await rowsWithText(page, 'late two').waitFor();
    await until(async () => await jump.isHidden(), 'at the bottom, the button goes');
    assertClean(page);
    await D.close();
    await f.close();
  });
});
