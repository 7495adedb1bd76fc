// 01 - signing up and logging in through the UI, with the inline errors a
// person meets: a taken username, a weak password, wrong credentials, and
// being throttled. Logging out ends the session in every tab.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { T, User, assertClean, launch, loginUI, newPage, newPerson, shot, signupUI, startWebServer, until } from './lib/browser.mjs';

describe('01 auth: sign up, log in, errors, log out', { timeout: 180000 }, () => {
  let srv;
  let browser;
  before(async () => {
    srv = await startWebServer({ args: ['--login-max-failures', '3'] });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await srv?.stop();
  });

  it('the login screen, then sign-up with a display name lands in the app', async () => {
    const { context, page } = await newPerson(browser, srv);
    await page.goto('/');
    await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
    assert.equal(await page.title(), 'duet');
    await shot(page, 'auth-login');
    await signupUI(page, 'ada', 'correct horse battery', 'Ada Lovelace');
    assert.equal(await page.locator('.me-name').textContent(), 'Ada Lovelace');
    assert.equal(await page.locator('.me-user').textContent(), '@ada');
    await page.getByText('No conversations yet').waitFor();
    // The session survives a reload.
    await page.reload();
    await page.locator('.me-name', { hasText: 'Ada Lovelace' }).waitFor();
    assertClean(page);
    await context.close();
  });

  it('inline errors: taken username, bad username, weak password', async () => {
    await User.signup(srv, 'taken_name');
    const { context, page } = await newPerson(browser, srv);
    await page.goto('/');
    await page.getByRole('button', { name: 'Create an account' }).click();
    const user = page.getByLabel('Username');
    const pass = page.getByLabel('Password', { exact: true });

    await user.fill('Taken_Name'); // the server folds case: still taken
    await pass.fill('long enough password');
    await page.getByRole('button', { name: 'Create account' }).click();
    const userMsg = page.locator('#auth-username-msg');
    await userMsg.filter({ hasText: 'That username is taken' }).waitFor();
    assert.equal(await user.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'auth-username', 'focus goes to the field in error');

    await user.fill('x!');
    await page.getByRole('button', { name: 'Create account' }).click();
    await userMsg.filter({ hasText: '3–32 characters' }).waitFor();

    await user.fill('newcomer');
    await pass.fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#auth-password-msg').filter({ hasText: 'at least 8 characters' }).waitFor();
    assert.equal(await pass.getAttribute('aria-invalid'), 'true');
    assert.equal(await user.getAttribute('aria-invalid'), null, 'the username error is gone');
    assertClean(page);
    await context.close();
  });

  it('wrong credentials, then throttling, are explained', async () => {
    await User.signup(srv, 'victim', { password: 'the right password' });
    const { context, page } = await newPerson(browser, srv);
    await page.goto('/');
    const alert = page.getByRole('alert');
    for (let i = 0; i < 3; i++) {
      await page.getByLabel('Username').fill('victim');
      await page.getByLabel('Password', { exact: true }).fill(`wrong password ${i}`);
      await page.getByRole('button', { name: 'Log in' }).click();
      await alert.filter({ hasText: 'Wrong username or password.' }).waitFor();
      await page.getByRole('button', { name: 'Log in' }).and(page.locator(':enabled')).waitFor();
    }
    await page.getByLabel('Password', { exact: true }).fill('the right password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await alert.filter({ hasText: /Too many attempts\. Try again in \d+ (minutes|seconds)\./ }).waitFor();
    assert.equal(await page.locator('.side-head').count(), 0, 'still on the login screen');
    assertClean(page);
    await context.close();
  });

  it('log in, then log out from settings: every tab returns to the login screen', async () => {
    await User.signup(srv, 'grace', { password: 'hopper hopper', displayName: 'Grace Hopper' });
    const { context, page } = await newPerson(browser, srv);
    await loginUI(page, 'GRACE', 'hopper hopper');
    assert.equal(await page.locator('.me-name').textContent(), 'Grace Hopper');
    const tab2 = await newPage(context);
    await tab2.goto('/');
    await tab2.locator('.me-name', { hasText: 'Grace Hopper' }).waitFor();

    await page.getByRole('button', { name: 'Settings' }).click();
    const dlg = page.getByRole('dialog', { name: 'Settings' });
    await dlg.waitFor();
    await dlg.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
    await tab2.getByRole('heading', { name: 'Welcome back' }).waitFor({ timeout: T });
    // The session is really gone on the server.
    const status = await page.evaluate(async () => (await fetch('/api/me')).status);
    assert.equal(status, 401);
    assertClean(page);
    assertClean(tab2);
    await context.close();
  });

  it('logging in in one tab brings the other tab in too', async () => {
    await User.signup(srv, 'linus', { password: 'penguins rule' });
    const { context, page } = await newPerson(browser, srv);
    await page.goto('/');
    const tab2 = await newPage(context);
    await tab2.goto('/');
    await tab2.getByRole('heading', { name: 'Welcome back' }).waitFor();
    await loginUI(page, 'linus', 'penguins rule');
    await until(async () => (await tab2.locator('.me-user').count()) === 1, 'the second tab to follow the login');
    await context.close();
  });
});
