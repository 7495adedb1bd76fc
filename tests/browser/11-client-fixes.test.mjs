// 11 - the web client's fixes of issues 12 and 14: Enter in Search (also
// before the list loaded), the username kept between log in and sign up,
// 12-hour times, www. and bare links, bidi isolation, drafts across reloads
// and tabs, presence while disconnected, the outbox and drafts cleared on
// logout, friend request notices, focus after login, Escape, focus across a
// row update, the theme, and lists fetched again after the server was too
// busy to give them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  User,
  assertClean,
  chatItem,
  controlSocket,
  fakeNotifications,
  launch,
  loginUI,
  newPage,
  newPerson,
  online,
  openChat,
  rowsWithText,
  send,
  startWebServer,
  until,
  waitStatus,
  withFriends,
} from './lib/browser.mjs';
import { sendMsg } from '../integration/lib/client.mjs';

const composer = (page) => page.getByRole('textbox', { name: 'Message' });
const focusedText = (page) => page.evaluate(() => document.activeElement?.closest?.('.row')?.querySelector('.text')?.textContent ?? null);

async function logoutUI(page) {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
}

function outboxCount(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('duet', 1);
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const c = req.result.transaction('outbox').objectStore('outbox').count();
          c.onsuccess = () => {
            resolve(c.result);
            req.result.close();
          };
          c.onerror = () => reject(c.error);
        };
      }),
  );
}

describe('11 client fixes (issues 12 and 14)', { timeout: 400000 }, () => {
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

  it('Search then Enter opens the chat without a new line in the composer; focus after login; Escape closes a chat', async () => {
    const f = await withFriends(browser, srv, { browsers: ['ada'], peers: ['bea', 'cid'] });
    const { page } = f.people.ada;
    // After the app loads, focus is in the list's search box, not on the body.
    await until(
      () => page.evaluate(() => document.activeElement?.getAttribute('aria-label') === 'Search conversations'),
      'focus in Search',
    );
    await page.keyboard.type('bea');
    await page.keyboard.press('Enter');
    await page.locator('.ch-name', { hasText: 'Bea' }).waitFor();
    await until(() => page.evaluate(() => document.activeElement?.id === 'composer-input'), 'focus in the composer');
    assert.equal(await composer(page).inputValue(), '', 'the Enter did not reach the composer');
    await page.keyboard.type('first words');
    await page.keyboard.press('Enter');
    await waitStatus(page, 'first words', 'sent');
    const [m] = (await f.people.bea.user.http.get(`/api/chats/${f.chats.bea}/messages`)).json.messages;
    assert.equal(m.text, 'first words', 'stored without a leading new line');
    // Escape in the composer closes the chat on a wide screen too, and
    // focus goes back to its row in the list.
    await composer(page).press('Escape');
    await page.locator('.chat-head').waitFor({ state: 'detached' });
    await until(() => page.evaluate(() => document.activeElement?.dataset?.username === 'bea'), 'focus on the chat row');
    assertClean(page);
    await f.close();
  });

  it('an Enter in Search before the chat list loaded opens the chat once it has', async () => {
    const f = await withFriends(browser, srv, { browsers: ['abe'], peers: ['bri'], open: false });
    const { page } = f.people.abe;
    // Every fetch of the list waits until the Enter was pressed.
    let release;
    const gate = new Promise((resolve) => (release = resolve));
    let held = 0;
    await page.route('**/api/chats', async (route) => {
      held++;
      await gate;
      await route.continue();
    });
    await page.goto('/');
    await online(page);
    await until(
      () => page.evaluate(() => document.activeElement?.getAttribute('aria-label') === 'Search conversations'),
      'focus in Search',
    );
    await until(() => held >= 1, 'the list asked for');
    await page.keyboard.type('bri');
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('.chat-head').count(), 0, 'no chat open before the list loaded');
    release();
    await page.locator('.ch-name', { hasText: 'Bri' }).waitFor();
    await until(() => page.evaluate(() => document.activeElement?.id === 'composer-input'), 'focus in the composer');
    assert.equal(await composer(page).inputValue(), '', 'the Enter did not reach the composer');
    assertClean(page);
    await f.close();
  });

  it('switching between Log in and Create account keeps the username', async () => {
    const { context, page } = await newPerson(browser, srv);
    await page.goto('/');
    await page.getByLabel('Username').fill('kept_name');
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create your account' }).waitFor();
    assert.equal(await page.getByLabel('Username').inputValue(), 'kept_name');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
    assert.equal(await page.getByLabel('Username').inputValue(), 'kept_name');
    assertClean(page);
    await context.close();
  });

  it('12-hour locales: times without a leading zero', async () => {
    // A zone where it is now between 1 and 9 o'clock, so a padded hour
    // would show.
    const h = new Date().getUTCHours();
    let off = 5 - h;
    if (off < -11) off += 24;
    if (off > 12) off -= 24;
    const timezoneId = off === 0 ? 'UTC' : `Etc/GMT${off > 0 ? '-' : '+'}${Math.abs(off)}`;
    const f = await withFriends(browser, srv, { browsers: ['tim'], peers: ['tom'], locale: 'en-US', timezoneId });
    const { page } = f.people.tim;
    await openChat(page, 'tom');
    await send(page, 'what time is it');
    await waitStatus(page, 'what time is it', 'sent');
    const shown = await rowsWithText(page, 'what time is it').locator('.meta time').textContent();
    assert.match(shown, /^[1-9]:\d\d\s?[AP]M$/, `"${shown}"`);
    assertClean(page);
    await f.close();
  });

  it('www. and bare links are clickable; bidi overrides stay isolated and show in link text', async () => {
    const f = await withFriends(browser, srv, { browsers: ['lia'], peers: ['lou'] });
    const { page } = f.people.lia;
    const wl = await f.people.lou.user.connect();
    await openChat(page, 'lou');
    const text = 'see www.example.org and example.net, not file.txt or bob@example.com; http://ex.com/\u202egpj.exe';
    await sendMsg(wl, f.chats.lou, text);
    const row = page.locator('.row', { has: page.locator('.text', { hasText: 'see www.example.org' }) });
    await row.waitFor();
    const links = await row.locator('a').evaluateAll((as) => as.map((a) => ({ href: a.href, text: a.textContent })));
    assert.deepEqual(
      links.map((l) => l.href),
      ['https://www.example.org/', 'https://example.net/', 'http://ex.com/%E2%80%AEgpj.exe'],
    );
    assert.equal(links[2].text.includes('\u202e'), false, 'no raw override in link text');
    assert.match(links[2].text, /U\+202E/);
    // A name-like override in the list preview and the bubble is isolated.
    await sendMsg(wl, f.chats.lou, 'x\u202eevil');
    await rowsWithText(page, 'x\u202eevil').waitFor();
    const bidi = await page.evaluate(() =>
      ['.ci-name', '.pv-text', '.ch-name', '.row .text', '.me-name'].map((s) => getComputedStyle(document.querySelector(s)).unicodeBidi),
    );
    assert.deepEqual(bidi, ['isolate', 'isolate', 'isolate', 'isolate', 'isolate']);
    await wl.close();
    assertClean(page);
    await f.close();
  });

  it('drafts survive a reload, show in another tab, and leave with the message or a logout', async () => {
    const f = await withFriends(browser, srv, { browsers: ['dan'], peers: ['dee', 'dot'] });
    const { context, page } = f.people.dan;
    await openChat(page, 'dee');
    await composer(page).fill('half a thought');
    await openChat(page, 'dot');
    assert.equal(await composer(page).inputValue(), '', 'drafts are per chat');
    await page.reload();
    await online(page);
    await openChat(page, 'dee');
    assert.equal(await composer(page).inputValue(), 'half a thought', 'kept across a reload');
    const tab2 = await newPage(context);
    await tab2.goto('/');
    await online(tab2);
    await openChat(tab2, 'dee');
    assert.equal(await composer(tab2).inputValue(), 'half a thought', 'seen from another tab');
    await composer(page).press('Enter');
    await waitStatus(page, 'half a thought', 'sent');
    await page.reload();
    await online(page);
    await openChat(page, 'dee');
    assert.equal(await composer(page).inputValue(), '', 'sent: the draft is gone');
    await composer(page).fill('private words');
    await logoutUI(page);
    assert.deepEqual(
      await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('duet.draft.'))),
      [],
      'no draft after logout',
    );
    assertClean(page);
    await f.close();
  });

  it('disconnected: presence is not shown as online; logging out clears the outbox', async () => {
    const f = await withFriends(browser, srv, { browsers: ['pia'], peers: ['pat'], open: false });
    const { context, page } = f.people.pia;
    const ctl = await controlSocket(context);
    const wp = await f.people.pat.user.connect();
    await page.goto('/');
    await online(page);
    await openChat(page, 'pat');
    await until(async () => (await page.locator('.ch-sub').textContent()) === 'online', 'Pat online');
    assert.equal(await chatItem(page, 'pat').locator('.ci-presence').textContent(), 'online');
    ctl.cutNow();
    await page.locator('.banner', { hasText: 'Offline' }).waitFor();
    await until(async () => (await page.locator('.ch-sub').textContent()) !== 'online', 'the header to stop saying online');
    assert.equal(await chatItem(page, 'pat').locator('.ci-presence').count(), 0, 'no presence in the list');
    assert.equal(await chatItem(page, 'pat').locator('.presence-dot').count(), 0, 'no online dot');
    // Back: presence is live again.
    ctl.restore();
    await until(async () => (await page.locator('.ch-sub').textContent()) === 'online', 'online again', 30000);

    // A message that cannot go out stays in the outbox; logging out clears it.
    ctl.cutNow();
    await page.locator('.banner', { hasText: 'Offline' }).waitFor();
    await send(page, 'never sent, never kept');
    await waitStatus(page, 'never sent, never kept', 'pending');
    await until(async () => (await outboxCount(page)) === 1, 'the message in IndexedDB');
    await logoutUI(page);
    assert.equal(await outboxCount(page), 0, 'the outbox is empty after logout');
    await wp.close();
    assertClean(page);
    await f.close();
  });

  it('friend requests: no repeated notices after logging in again; "accepted" notice; stale "Request sent" cleared', async () => {
    const { context, page } = await newPerson(browser, srv, { initScript: fakeNotifications });
    const noa = await User.signup(srv, 'noa', { displayName: 'Noa' });
    const ned = await User.signup(srv, 'ned', { displayName: 'Ned' });
    await ned.http.post('/api/friends/requests', { username: 'noa' });
    await loginUI(page, 'noa', noa.password);
    await page.getByRole('button', { name: /Friends and requests, 1 new request/ }).waitFor();
    await logoutUI(page);
    // In the same page (no reload): the state of the first session must not leak.
    await page.evaluate(() => window.__setHidden(true));
    await page.getByLabel('Username').fill('noa');
    await page.getByLabel('Password', { exact: true }).fill(noa.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: /Friends and requests, 1 new request/ }).waitFor();
    // A new request does notify (the notifier works), the old one did not again.
    const nia = await User.signup(srv, 'nia', { displayName: 'Nia' });
    await nia.http.post('/api/friends/requests', { username: 'noa' });
    await page.getByRole('button', { name: /Friends and requests, 2 new requests/ }).waitFor();
    await until(() => page.evaluate(() => window.__notes.length > 0), 'a notification');
    const notes = await page.evaluate(() => window.__notes.map((n) => n.body));
    assert.deepEqual(notes, ['\u2068Nia\u2069 (@nia) wants to be friends']);
    await page.evaluate(() => window.__setHidden(false));

    // Noa asks Kit; Kit accepts: a notice, and the dialog says so.
    const kit = await User.signup(srv, 'kit', { displayName: 'Kit' });
    const ela = await User.signup(srv, 'ela', { displayName: 'Ela' });
    await page.getByRole('button', { name: /Friends and requests/ }).click();
    const dlg = page.getByRole('dialog', { name: 'Friends' });
    await dlg.getByLabel('Add a friend by username').fill('kit');
    await dlg.getByRole('button', { name: 'Send request' }).click();
    await dlg.getByText('Request sent to Kit.').waitFor();
    await dlg.locator('.person[data-username="kit"]').waitFor();
    await kit.http.post('/api/friends/requests/noa/accept');
    await page.locator('.toast', { hasText: 'Kit accepted your friend request.' }).waitFor();
    await dlg.getByText('You and Kit are now friends.').waitFor();
    // Noa asks Ela; Ela declines: "Request sent to Ela." goes.
    await dlg.getByLabel('Add a friend by username').fill('ela');
    await dlg.getByRole('button', { name: 'Send request' }).click();
    await dlg.getByText('Request sent to Ela.').waitFor();
    await dlg.locator('.person[data-username="ela"]').waitFor();
    await ela.http.post('/api/friends/requests/noa/decline');
    await dlg.locator('.person[data-username="ela"]').waitFor({ state: 'detached' });
    await until(async () => (await dlg.locator('#add-friend-msg').textContent()) === '', 'the stale text to clear');
    assertClean(page);
    await context.close();
  });

  it('keyboard: focus follows a message from the outbox to the list', async () => {
    const f = await withFriends(browser, srv, { browsers: ['kai'], peers: ['kim'], open: false });
    const { context, page } = f.people.kai;
    const ctl = await controlSocket(context);
    const wk = await f.people.kim.user.connect();
    await sendMsg(wk, f.chats.kim, 'an older one');
    await page.goto('/');
    await online(page);
    await openChat(page, 'kim');
    await rowsWithText(page, 'an older one').waitFor();
    ctl.holdSends = true;
    await send(page, 'held back');
    await waitStatus(page, 'held back', 'pending');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('ArrowUp');
    assert.equal(await focusedText(page), 'held back');
    ctl.release();
    await waitStatus(page, 'held back', 'sent');
    await until(async () => (await focusedText(page)) === 'held back', 'focus on the sent row');
    assert.equal(await page.evaluate(() => document.activeElement.closest('.row').dataset.status), 'sent');
    await page.keyboard.press('ArrowUp');
    assert.equal(await focusedText(page), 'an older one');
    await wk.close();
    assertClean(page);
    await f.close();
  });

  it('reconnect: the back-off is capped low, the online event and a /healthz probe retry early', async () => {
    const f = await withFriends(browser, srv, { browsers: ['rex'], peers: ['ray'], open: false });
    const { context, page } = f.people.rex;
    const ctl = await controlSocket(context);
    let probes = 0;
    let probeOk = false;
    await page.route('**/healthz', (route) => {
      probes++;
      return probeOk ? route.continue() : route.abort();
    });
    await page.goto('/');
    await online(page);
    const cap = await page.evaluate(async () => {
      const { backoffDelay } = await import('/js/socket.js');
      return Math.max(...[5, 10, 20, 40].map((a) => backoffDelay(a, () => 1)));
    });
    assert.ok(cap <= 10000, `the back-off tops out at ${cap} ms`);

    // Cut until the wait is long; the browser's online event retries at once.
    ctl.cutNow();
    await page.locator('.banner', { hasText: /Retrying in [3-9] s/ }).waitFor();
    await until(() => probes > 0, 'a /healthz probe while waiting');
    ctl.restore();
    let before = ctl.attempts;
    await context.setOffline(true);
    await context.setOffline(false);
    await until(() => ctl.attempts > before, 'a connection attempt on the online event', 3000);
    await page.locator('.banner').waitFor({ state: 'hidden' });

    // Cut again; the server answers /healthz again: the probe connects
    // before the back-off is over.
    ctl.cutNow();
    await page.locator('.banner', { hasText: /Retrying in [3-9] s/ }).waitFor();
    ctl.restore();
    before = ctl.attempts;
    const probesBefore = probes;
    probeOk = true;
    await until(() => ctl.attempts > before, 'a connection attempt after the probe answered');
    assert.ok(probes > probesBefore, 'the probe ran first');
    await page.locator('.banner').waitFor({ state: 'hidden' });
    assertClean(page);
    await f.close();
  });

  it('a reload fetches index.html and the API, not the scripts and styles again', async () => {
    const f = await withFriends(browser, srv, { browsers: ['rhea'], peers: ['ron'] });
    const { page } = f.people.rhea;
    // Same-origin scripts and styles and how many bytes each cost on the wire.
    const assets = () =>
      page.evaluate(() =>
        performance
          .getEntriesByType('resource')
          .filter((e) => /\.(js|css)$/.test(new URL(e.name).pathname))
          .map((e) => ({ path: new URL(e.name).pathname, transferSize: e.transferSize })),
      );
    const first = await assets();
    assert.ok(first.length >= 15, `the client is many files (${first.length})`);
    assert.ok(
      first.every((e) => /^\/v\/[0-9a-f]{16}\//.test(e.path)),
      'all under one versioned path',
    );
    await page.reload();
    await online(page);
    const again = await assets();
    assert.equal(again.length, first.length, 'the same files');
    const fetched = again.filter((e) => e.transferSize > 0).map((e) => e.path);
    assert.deepEqual(fetched, [], 'nothing revalidated or downloaded again');
    assertClean(page);
    await f.close();
  });

  it('a theme picked in settings wins over the system one, across a reload', async () => {
    const f = await withFriends(browser, srv, { browsers: ['thea'], peers: ['theo'], colorScheme: 'light' });
    const { page } = f.people.thea;
    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await bg();
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Theme').selectOption('dark');
    await until(async () => (await bg()) !== light, 'the dark background');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    const dark = await bg();
    await page.reload();
    await online(page);
    assert.equal(await bg(), dark, 'kept across a reload');
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Theme').selectOption('system');
    await until(async () => (await bg()) === light, 'back to the system (light) theme');
    assertClean(page);
    await f.close();
  });

  it('a chat list the server was too busy to give is fetched again', async () => {
    const f = await withFriends(browser, srv, { browsers: ['bud'], peers: ['ben'], open: false });
    const { page } = f.people.bud;
    // The first two fetches of each list (the one at start and the one
    // after the socket's sync) are answered as an overloaded store does.
    const calls = { chats: 0, requests: 0 };
    const busy = (kind) => (route) =>
      ++calls[kind] <= 2
        ? route.fulfill({
            status: 503,
            contentType: 'application/json',
            headers: { 'Retry-After': '1' },
            body: JSON.stringify({ error: 'busy', message: 'the server is busy', retry_after: 1 }),
          })
        : route.continue();
    await page.route('**/api/chats', busy('chats'));
    await page.route('**/api/friends/requests', busy('requests'));
    await page.goto('/');
    await online(page);
    await chatItem(page, 'ben').waitFor({ timeout: 15000 });
    assert.ok(calls.chats >= 3, `the chat list was fetched ${calls.chats} times`);
    await until(() => calls.requests >= 3, 'the requests fetched again', 15000);
    assertClean(page);
    await f.close();
  });
});
