// 08 - settings: display name, last-seen visibility (reciprocal), read
// receipts off (no "seen" either way), and changing the password (other
// sessions end, this one stays).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  User,
  assertClean,
  chatItem,
  launch,
  loginUI,
  newPerson,
  openChat,
  rowsWithText,
  send,
  signupInto,
  startWebServer,
  until,
  waitStatus,
  withFriends,
} from './lib/browser.mjs';
import { befriend } from '../integration/lib/client.mjs';

async function openSettings(page) {
  await page.getByRole('button', { name: 'Settings' }).click();
  const dlg = page.getByRole('dialog', { name: 'Settings' });
  await dlg.waitFor();
  return dlg;
}

describe('08 settings', { timeout: 300000 }, () => {
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

  it('display name, last seen hidden, read receipts off', async () => {
    const { vic: va, wes: wb } = (await withFriends(browser, srv, { browsers: ['vic', 'wes'] })).people;

    // Display name.
    let dlg = await openSettings(va.page);
    await dlg.getByLabel('Display name').fill('Victoria');
    await dlg.getByRole('button', { name: 'Save' }).click();
    await dlg.getByText('Saved.').waitFor();
    await va.page.locator('.me-name', { hasText: 'Victoria' }).waitFor();
    await va.page.keyboard.press('Escape');
    await wb.page.reload();
    await chatItem(wb.page, 'vic').locator('.ci-name', { hasText: 'Victoria' }).waitFor();

    // Last seen: Vic hides hers; Wes then sees no last seen for Vic.
    dlg = await openSettings(va.page);
    await dlg.getByLabel('Who sees my last seen').selectOption('nobody');
    await va.page.getByText('Last seen updated.').waitFor();
    await va.page.keyboard.press('Escape');
    // Hiding last seen hides online too (issue 14 item 4): while Vic is
    // still here, Wes sees only her username.
    await openChat(wb.page, 'vic');
    await until(async () => (await wb.page.locator('.ch-sub').textContent()) === '@vic', 'no online for Vic, only her username');
    await va.context.close(); // Vic leaves
    await wb.page.waitForTimeout(500); // give a wrong presence event the chance to arrive
    assert.equal(await wb.page.locator('.ch-sub').textContent(), '@vic', 'no last seen for Vic after she left');

    // Read receipts off (Wes): Vic's messages are delivered, never "seen".
    const va2 = await newPerson(browser, srv);
    await loginUI(va2.page, 'vic', `pw-vic-secret`);
    dlg = await openSettings(wb.page);
    const sw = dlg.getByRole('switch', { name: /Read receipts/ });
    assert.equal(await sw.isChecked(), true);
    await sw.uncheck();
    await wb.page.getByText('Read receipts updated.').waitFor();
    await wb.page.keyboard.press('Escape');
    await openChat(va2.page, 'wes');
    await send(va2.page, 'did you read this?');
    await rowsWithText(wb.page, 'did you read this?').waitFor();
    await waitStatus(va2.page, 'did you read this?', 'delivered');
    await va2.page.waitForTimeout(1000); // give a wrong "seen" the chance to arrive
    assert.equal(await rowsWithText(va2.page, 'did you read this?').getAttribute('data-status'), 'delivered');
    assertClean(va2.page);
    assertClean(wb.page);
    await va2.context.close();
    await wb.context.close();
  });

  it("the composer shows the server's length limit as it nears and refuses more", async () => {
    const s2 = await startWebServer({ args: ['--max-message-chars', '40'] });
    try {
      const p = await newPerson(browser, s2);
      const ua = await signupInto(p.context, s2, 'terse', { displayName: 'Terse' });
      const ub = await User.signup(s2, 'reader', { displayName: 'Reader' });
      await befriend(ua, ub);
      await p.page.goto('/');
      await openChat(p.page, 'reader');
      const input = p.page.getByRole('textbox', { name: 'Message' });
      const count = p.page.locator('#composer-count');
      await input.fill('short');
      assert.equal(await count.isHidden(), true, 'no counter far from the limit');
      await input.fill('é'.repeat(36)); // 36 characters, 72 bytes: the limit counts characters
      await count.filter({ hasText: '4 left' }).waitFor();
      await input.fill('x'.repeat(43));
      await count.filter({ hasText: '3 too many' }).waitFor();
      assert.equal(await p.page.getByRole('button', { name: 'Send' }).isDisabled(), true);
      await input.press('Enter');
      assert.equal(await p.page.locator('.row.mine').count(), 0, 'nothing was sent');
      await input.fill('🙂'.repeat(40)); // exactly at the limit, in code points
      await count.filter({ hasText: '0 left' }).waitFor();
      await input.press('Enter');
      await waitStatus(p.page, '🙂'.repeat(40), 'sent');
      assertClean(p.page);
      await p.context.close();
    } finally {
      await s2.stop();
    }
  });

  it('changing the password ends the other sessions and keeps this one', async () => {
    const x1 = await newPerson(browser, srv);
    const x2 = await newPerson(browser, srv);
    await User.signup(srv, 'xena', { password: 'warrior princess' });
    await loginUI(x1.page, 'xena', 'warrior princess');
    await loginUI(x2.page, 'xena', 'warrior princess');
    const dlg = await openSettings(x1.page);
    await dlg.getByLabel('Current password').fill('nope nope nope');
    await dlg.getByLabel('New password').fill('a brand new password');
    await dlg.getByRole('button', { name: 'Change password' }).click();
    await dlg.getByText('The current password is wrong.').waitFor();
    await dlg.getByLabel('Current password').fill('warrior princess');
    await dlg.getByRole('button', { name: 'Change password' }).click();
    await dlg.getByText('Password changed.', { exact: false }).waitFor();
    // The other browser is sent back to the login screen.
    await x2.page.getByRole('heading', { name: 'Welcome back' }).waitFor();
    await x1.page.keyboard.press('Escape');
    assert.equal(await x1.page.locator('.me-user').textContent(), '@xena');
    await loginUI(x2.page, 'xena', 'a brand new password');
    assertClean(x1.page);
    await x1.context.close();
    await x2.context.close();
  });
});
