// 09 - accessibility and attention: the app works from the keyboard alone,
// every control has a name, text meets WCAG AA contrast in both themes, new
// messages are announced in a live region, and while the tab is hidden new
// messages raise a notification, the title counts them and nothing is
// marked seen.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  T,
  User,
  assertClean,
  chatItem,
  fakeNotifications,
  launch,
  newPerson,
  openChat,
  rowsWithText,
  send,
  signupInto,
  startWebServer,
  statusOf,
  until,
} from './lib/browser.mjs';
import { befriend, sendMsg } from '../integration/lib/client.mjs';

// Controls without an accessible name (a rough but strict check).
function unnamedControls(page) {
  return page.evaluate(() => {
    const bad = [];
    for (const el of document.querySelectorAll(
      'button, input, select, textarea, a[href], [role="button"], [role="switch"], [role="menuitem"]',
    )) {
      if (!el.getClientRects().length) continue;
      if (el.type === 'hidden') continue;
      const named =
        (el.getAttribute('aria-label') || '').trim() ||
        (el.getAttribute('aria-labelledby') || '')
          .split(/\s+/)
          .map((id) => document.getElementById(id)?.textContent || '')
          .join('')
          .trim() ||
        [...(el.labels || [])]
          .map((l) => l.textContent)
          .join('')
          .trim() ||
        (el.tagName !== 'INPUT' && el.tagName !== 'TEXTAREA' && el.tagName !== 'SELECT' && el.textContent.trim()) ||
        (el.getAttribute('title') || '').trim();
      if (!named) bad.push(el.outerHTML.slice(0, 120));
    }
    return bad;
  });
}

// Text elements whose contrast with what is behind them is under AA.
function lowContrast(page, selectors) {
  return page.evaluate((sels) => {
    const parse = (c) => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const p = m[1]
        .split(/[ ,/]+/)
        .filter(Boolean)
        .map(Number);
      return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
    };
    const over = (top, bottom) => ({
      r: top.r * top.a + bottom.r * (1 - top.a),
      g: top.g * top.a + bottom.g * (1 - top.a),
      b: top.b * top.a + bottom.b * (1 - top.a),
      a: 1,
    });
    const bgOf = (el) => {
      const layers = [];
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c && c.a > 0) {
          layers.push(c);
          if (c.a >= 1) break;
        }
      }
      let bg = { r: 255, g: 255, b: 255, a: 1 };
      if (layers.length && layers[layers.length - 1].a >= 1) bg = layers.pop();
      while (layers.length) bg = over(layers.pop(), bg);
      return bg;
    };
    const lum = (c) => {
      const f = (v) => {
        v /= 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
    };
    const out = [];
    for (const sel of sels) {
      const els = [...document.querySelectorAll(sel)].filter((e) => e.getClientRects().length && e.textContent.trim());
      if (!els.length) {
        out.push(`${sel}: not on screen`);
        continue;
      }
      for (const el of els.slice(0, 3)) {
        const cs = getComputedStyle(el);
        const bg = bgOf(el);
        const fg = over(parse(cs.color), bg);
        const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
        const ratio = (l1 + 0.05) / (l2 + 0.05);
        const large = parseFloat(cs.fontSize) >= 24 || (parseFloat(cs.fontSize) >= 18.66 && Number(cs.fontWeight) >= 700);
        const need = large ? 3 : 4.5;
        if (ratio < need) out.push(`${sel} "${el.textContent.trim().slice(0, 30)}": ${ratio.toFixed(2)} < ${need}`);
      }
    }
    return out;
  }, selectors);
}

const TEXTS = [
  '.me-name',
  '.me-user',
  '.ci-name',
  '.ci-time',
  '.pv-text',
  '.badge',
  '.ch-name',
  '.ch-sub',
  '.row.theirs .text',
  '.row.mine .text',
  '.row.theirs .meta time',
  '.row.mine .meta time',
  '.day-sep span',
  '.unread-sep span',
  '.tombstone span',
  '.chat-start p',
];
const AUTH_TEXTS = ['.brand-name', '.auth-title', '.auth-sub', '.field-label', '.btn-primary', '.auth-switch', '.link-btn', '.auth-foot'];

describe('09 accessibility, notifications and the title', { timeout: 300000 }, () => {
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

  it("keyboard only: log in, open a chat, send, read a message's info, back again", async () => {
    const uy = await User.signup(srv, 'yara', { password: 'keyboard only', displayName: 'Yara' });
    const uz = await User.signup(srv, 'zed', { displayName: 'Zed' });
    const chatId = await befriend(uy, uz);
    const wz = await uz.connect();
    await sendMsg(wz, chatId, 'ping from zed');

    const { context, page } = await newPerson(browser, srv);
    await page.goto('/');
    await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
    // The username field has focus on arrival.
    await page.keyboard.type('yara');
    await page.keyboard.press('Tab');
    await page.keyboard.type('keyboard only');
    await page.keyboard.press('Enter');
    await chatItem(page, 'zed').waitFor();
    // Focus starts in Search, not on the page body.
    await until(
      () => page.evaluate(() => document.activeElement.getAttribute('aria-label') === 'Search conversations'),
      'focus in Search after login',
    );

    // Down goes from Search into the list; Enter opens the chat and puts
    // the cursor in the composer.
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.username), 'zed');
    await page.keyboard.press('Enter');
    await page.locator('.ch-name', { hasText: 'Zed' }).waitFor();
    await until(() => page.evaluate(() => document.activeElement.id === 'composer-input'), 'focus in the composer');
    await page.keyboard.type('sent with the keyboard');
    await page.keyboard.press('Enter');
    await rowsWithText(page, 'sent with the keyboard').waitFor();
    // Wait on the state, not on time: the row has left the outbox (its
    // later updates keep focus where it is, see 11-client-fixes).
    await until(async () => (await statusOf(page, 'sent with the keyboard')) !== 'pending', 'the message sent');

    // Escape leaves the composer? No: Shift+Tab reaches the message list;
    // arrows move between messages; Enter opens the info panel.
    await page.keyboard.press('Shift+Tab');
    assert.equal(
      await page.evaluate(() => document.activeElement.classList.contains('messages')),
      true,
      'the message list is one tab stop',
    );
    await page.keyboard.press('ArrowUp');
    const focused = () => page.evaluate(() => document.activeElement.closest('.row')?.querySelector('.text')?.textContent);
    assert.equal(await focused(), 'sent with the keyboard');
    await page.keyboard.press('ArrowUp');
    assert.equal(await focused(), 'ping from zed');
    await page.keyboard.press('Enter');
    const dlg = page.getByRole('dialog', { name: 'Message info' });
    await dlg.waitFor();
    assert.equal(await dlg.locator('.info-from dd').textContent(), 'Zed (@zed)');
    await page.keyboard.press('Escape');
    await dlg.waitFor({ state: 'detached' });
    assert.equal(await focused(), 'ping from zed', 'focus returns to the message');
    // The header menu by keyboard.
    await page.getByRole('button', { name: 'Conversation options' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('menuitem', { name: 'Block' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('role')), 'menuitem');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Remove friend');
    await page.keyboard.press('Escape');
    await page.getByRole('menu').waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Conversation options');
    // "/" jumps to search from anywhere but a text field.
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Search conversations');
    assertClean(page);
    await wz.close();
    await context.close();
  });

  it('every control is labelled and text meets AA contrast, light and dark', async () => {
    for (const colorScheme of ['light', 'dark']) {
      const { context, page } = await newPerson(browser, srv, { colorScheme });
      await page.goto('/');
      await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
      assert.deepEqual(await unnamedControls(page), [], `${colorScheme}: unnamed controls on the login screen`);
      assert.deepEqual(await lowContrast(page, AUTH_TEXTS), [], `${colorScheme}: contrast on the login screen`);
      const ua = await signupInto(context, srv, `contrast_${colorScheme}`, { displayName: 'Contrast Check' });
      const ub = await User.signup(srv, `peer_${colorScheme}`, { displayName: 'Peer' });
      const chatId = await befriend(ua, ub);
      const wb = await ub.connect();
      await sendMsg(wb, chatId, 'older, then deleted');
      await sendMsg(wb, chatId, 'an incoming message');
      const hist = await wb.request({ type: 'history', chat_id: chatId });
      await wb.request({ type: 'delete', chat_id: chatId, seq: hist.messages[0].seq });
      await page.goto('/');
      await openChat(page, `peer_${colorScheme}`);
      await send(page, 'an outgoing message');
      await rowsWithText(page, 'an outgoing message').waitFor();
      await sendMsg(wb, chatId, 'unread in the list');
      // A second chat with an unread badge, for the list styles.
      const uc = await User.signup(srv, `third_${colorScheme}`, { displayName: 'Third' });
      const chat2 = await befriend(ua, uc);
      const wc = await uc.connect();
      await sendMsg(wc, chat2, 'hello there');
      await chatItem(page, `third_${colorScheme}`).locator('.badge').waitFor();
      await page.locator('.tombstone').waitFor();
      // The unread divider: reopen the chat with something unread.
      await openChat(page, `third_${colorScheme}`);
      await sendMsg(wb, chatId, 'one more');
      await chatItem(page, `peer_${colorScheme}`).locator('.badge').waitFor();
      await openChat(page, `peer_${colorScheme}`);
      await page.locator('.unread-sep').waitFor();
      await sendMsg(wc, chat2, 'and again');
      await chatItem(page, `third_${colorScheme}`).locator('.badge').waitFor();

      assert.deepEqual(await unnamedControls(page), [], `${colorScheme}: unnamed controls on the main screen`);
      assert.deepEqual(await lowContrast(page, TEXTS), [], `${colorScheme}: contrast`);
      for (const [button, name] of [
        ['Settings', 'Settings'],
        ['Friends and requests', 'Friends'],
      ]) {
        await page.getByRole('button', { name: button, exact: true }).click();
        await page.getByRole('dialog', { name }).waitFor();
        assert.deepEqual(await unnamedControls(page), [], `${colorScheme}: unnamed controls in ${name}`);
        const sels =
          name === 'Friends'
            ? ['.dialog-title', '.field-label', '.people-section h3', '.dialog .muted', '.dialog .btn-primary']
            : [
                '.dialog-title',
                '.field-label',
                '.settings-section h3',
                '.settings-line label',
                '.dialog .muted',
                '.dialog .btn-danger',
                '.dialog .btn-ghost',
              ];
        assert.deepEqual(await lowContrast(page, sels), [], `${colorScheme}: contrast in ${name}`);
        await page.keyboard.press('Escape');
      }
      assertClean(page);
      await wb.close();
      await wc.close();
      await context.close();
    }
  });

  it('hidden tab: a notification, the count in the title, no "seen"; visible again: seen', async () => {
    // Headless Chromium is never "hidden": the page is told it is, and
    // notifications are recorded instead of shown.
    const initScript = fakeNotifications;
    const { context, page } = await newPerson(browser, srv, { initScript });
    const ua = await signupInto(context, srv, 'hidden_tab', { displayName: 'Hidden' });
    const ub = await User.signup(srv, 'writer', { displayName: 'Writer' });
    const chatId = await befriend(ua, ub);
    const wb = await ub.connect();
    await page.goto('/');
    await openChat(page, 'writer');
    await sendMsg(wb, chatId, 'while you look');
    await rowsWithText(page, 'while you look').waitFor();
    // The live region announced it.
    await until(async () => (await page.locator('#announcer').textContent()) === 'Writer: while you look', 'the announcement');
    const seen1 = await wb.next('receipt', (e) => e.status === 'seen');
    assert.equal(seen1.seq, 1);
    assert.deepEqual(await page.evaluate(() => window.__notes), [], 'no notification while visible');

    await page.evaluate(() => window.__setHidden(true));
    await sendMsg(wb, chatId, 'while you are away');
    await rowsWithText(page, 'while you are away').waitFor();
    await until(async () => (await page.title()) === '(1) duet', 'the unread count in the title');
    const notes = await page.evaluate(() => window.__notes);
    assert.equal(notes.length, 1);
    assert.equal(notes[0].title, '\u2068Writer\u2069', 'the name is bidi-isolated');
    assert.equal(notes[0].body, '\u2068while you are away\u2069');
    await wb.expectNo('receipt', 800, (e) => e.status === 'seen');

    await page.evaluate(() => window.__setHidden(false));
    const seen2 = await wb.next('receipt', (e) => e.status === 'seen', T);
    assert.equal(seen2.seq, 2);
    await until(async () => (await page.title()) === 'duet', 'the title to clear');
    // Settings reflect the permission.
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByText('On: you are notified of new messages while duet is in the background.').waitFor();
    assertClean(page);
    await wb.close();
    await context.close();
  });
});
