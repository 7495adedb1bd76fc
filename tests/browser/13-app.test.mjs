// 12 - duet as an installable app: the manifest is valid and Chromium finds
// the page installable; the service worker controls the page and serves the
// shell with duetd stopped (offline banner, the saved chat list and the open
// chat's messages); a new version is announced, not taken on a plain reload,
// and taken whole on "Reload to update"; the unread count goes to the app
// badge; logging out removes the saved chats.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  T,
  assertClean,
  launch,
  mkTempDir,
  newPage,
  online,
  openChat,
  rmDir,
  rowsWithText,
  signupInto,
  startWebServer,
  until,
  webDir,
  withFriends,
} from './lib/browser.mjs';
import { sendMsg } from '../integration/lib/client.mjs';

// Resolves once a service worker controls the page; returns its script URL.
function controlled(page) {
  return page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
    }
    return navigator.serviceWorker.controller.scriptURL;
  });
}

// The v/<version>/ the page's scripts came from.
function pageVersion(page) {
  return page.evaluate(() => /\/v\/([0-9a-f]{16})\//.exec(document.querySelector('script[type=module]').src)?.[1] || null);
}

function pngSize(buf) {
  assert.equal(buf.subarray(1, 4).toString('latin1'), 'PNG', 'a PNG file');
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

// Records the Badging API calls (headless Chromium has no app icon to put
// a badge on, so the calls are what can be checked).
function stubBadge() {
  window.__badges = [];
  window.__nativeBadge = typeof Navigator.prototype.setAppBadge === 'function';
  Object.defineProperty(Navigator.prototype, 'setAppBadge', {
    configurable: true,
    value(n) {
      window.__badges.push(n);
      return Promise.resolve();
    },
  });
  Object.defineProperty(Navigator.prototype, 'clearAppBadge', {
    configurable: true,
    value() {
      window.__badges.push(0);
      return Promise.resolve();
    },
  });
}

describe('12 the app: manifest, service worker, offline start, updates, badge', { timeout: 300000 }, () => {
  let browser;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  it('the manifest is valid and Chromium finds the page installable', async () => {
    const srv = await startWebServer();
    // A browser profile of its own: Chromium installs nothing from the
    // incognito-like contexts the other tests use ("in-incognito").
    const profile = mkTempDir('duet-chromium-profile-');
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      baseURL: srv.url,
      timeout: 60000,
    });
    context.setDefaultTimeout(T);
    await signupInto(context, srv, 'ann');
    const page = await newPage(context);
    await page.goto('/');
    await online(page);
    assert.match(await controlled(page), /\/sw\.js$/, 'the worker at the root controls the page');
    const cdp = await context.newCDPSession(page);
    const man = await cdp.send('Page.getAppManifest');
    assert.deepEqual(man.errors, [], 'the manifest parses without errors');
    assert.match(man.url, /\/manifest\.webmanifest$/);
    const inst = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(inst.installabilityErrors, [], 'installable');

    const m = JSON.parse(man.data);
    assert.equal(m.name, 'duet');
    assert.equal(m.short_name, 'duet');
    assert.equal(m.display, 'standalone');
    assert.equal(m.start_url, '/');
    assert.match(m.theme_color, /^#[0-9a-f]{6}$/i);
    assert.match(m.background_color, /^#[0-9a-f]{6}$/i);
    const want = [
      ['192x192', 'any'],
      ['512x512', 'any'],
      ['512x512', 'maskable'],
    ];
    for (const [sizes, purpose] of want) {
      const icon = m.icons.find((i) => i.sizes === sizes && i.purpose === purpose && i.type === 'image/png');
      assert.ok(icon, `a ${purpose} PNG icon of ${sizes}`);
      const r = await page.request.get(icon.src);
      assert.equal(r.status(), 200, icon.src);
      assert.equal(r.headers()['content-type'], 'image/png');
      assert.deepEqual(pngSize(await r.body()).join('x'), sizes, `${icon.src} is really ${sizes}`);
    }
    assertClean(page);
    await context.close();
    rmDir(profile);
    await srv.stop();
  });

  it('with duetd stopped the worker serves the shell: offline banner, the saved chats and messages', async () => {
    const srv = await startWebServer();
    const friends = await withFriends(browser, srv, { browsers: ['ann'], peers: ['ben'] });
    const { page } = friends.people.ann;
    const ben = await friends.people.ben.user.connect();
    await sendMsg(ben, friends.chats.ben, 'kept for the trip');
    await sendMsg(ben, friends.chats.ben, 'unread while away');
    await controlled(page);
    await openChat(page, 'ben');
    await rowsWithText(page, 'unread while away').waitFor();
    await sendMsg(ben, friends.chats.ben, 'the newest one');
    await rowsWithText(page, 'the newest one').waitFor();
    // The saved copy follows the list and the open chat.
    await until(
      () =>
        page.evaluate(() =>
          Object.keys(localStorage).some((k) => k.startsWith('duet.app.chats.') && localStorage[k].includes('the newest one')),
        ),
      'the chats to be saved',
    );
    await ben.close();

    const port = srv.port;
    await srv.stop({ keepData: true });
    await page.reload();
    await page.locator('.banner.banner-offline').waitFor({ timeout: T });
    assert.match(await page.locator('.banner').textContent(), /Offline/);
    assert.ok(await page.evaluate(() => !!navigator.serviceWorker.controller), 'the page came from the worker');
    const item = page.locator('.chat-item[data-username="ben"]');
    await item.waitFor();
    assert.match(await item.textContent(), /the newest one/, 'the saved list shows the last message');
    // The chat that was open (the address names it) shows its saved messages.
    for (const t of ['kept for the trip', 'unread while away', 'the newest one']) await rowsWithText(page, t).waitFor();
    // Nothing else of the server was cached: the API is really down.
    assert.equal(
      await page.evaluate(() =>
        fetch('/api/me').then(
          () => 'answered',
          () => 'failed',
        ),
      ),
      'failed',
    );

    // The server returns (on the same port: the worker belongs to the origin)
    // and the app reconnects from there, without a reload.
    await srv.restart({ port });
    await online(page);
    const listed = await page.evaluate(() => document.querySelectorAll('.chat-item').length);
    assert.equal(listed, 1, 'the list from the server: still the one chat');
    assertClean(page);
    await friends.close();
    await srv.stop();
  });

  it('a new version is announced, not taken by a plain reload, and taken whole on "Reload to update"', async () => {
    const web = mkTempDir('duet-web12-');
    fs.cpSync(webDir, web, { recursive: true });
    const srv = await startWebServer({ webDir: web });
    try {
      const friends = await withFriends(browser, srv, { browsers: ['ann'] });
      const { page } = friends.people.ann;
      await controlled(page);
      const v1 = await pageVersion(page);
      assert.ok(v1);
      assert.deepEqual(await page.evaluate(() => caches.keys()), [`duet-shell-${v1}`]);

      // A new version of the client on the server.
      fs.appendFileSync(path.join(web, 'app-install.css'), '\n:root { --duet-test-build: 2; }\n');
      const mark = () => page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--duet-test-build').trim());
      assert.equal(await mark(), '');
      await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r.update()));
      const bar = page.locator('.update-bar');
      await bar.getByRole('button', { name: 'Reload to update' }).waitFor();
      assert.match(await bar.textContent(), /new version/);
      assert.equal(await pageVersion(page), v1, 'nothing changed under the page');

      // A plain reload keeps the whole old version (the new one waits).
      await page.reload();
      await online(page);
      assert.equal(await pageVersion(page), v1, 'the reload is still the old version');
      assert.equal(await mark(), '', 'with the old styles');
      await bar.getByRole('button', { name: 'Reload to update' }).waitFor();

      // The click: the page reloads into the new version, and the old cache goes.
      const reloaded = page.waitForEvent('load');
      await bar.getByRole('button', { name: 'Reload to update' }).click();
      await reloaded;
      await online(page);
      const v2 = await pageVersion(page);
      assert.notEqual(v2, v1, 'a new version');
      assert.equal(await mark(), '2', 'with the new styles');
      await until(
        async () => JSON.stringify(await page.evaluate(() => caches.keys())) === JSON.stringify([`duet-shell-${v2}`]),
        'only the new cache to remain',
      );
      assert.equal(await bar.count(), 0, 'no more announcement');
      assertClean(page);
      await friends.close();
    } finally {
      await srv.stop();
      rmDir(web);
    }
  });

  it('the unread total goes to the app badge, and logging out clears it and the saved chats', async (t) => {
    const srv = await startWebServer();
    const friends = await withFriends(browser, srv, { browsers: ['ann'], peers: ['ben'], initScript: stubBadge });
    const { page } = friends.people.ann;
    t.diagnostic(`headless Chromium has navigator.setAppBadge: ${await page.evaluate(() => window.__nativeBadge)} (tested through a stub)`);
    const ben = await friends.people.ben.user.connect();
    await sendMsg(ben, friends.chats.ben, 'one');
    await sendMsg(ben, friends.chats.ben, 'two');
    await until(async () => (await page.evaluate(() => window.__badges.at(-1))) === 2, 'the badge to say 2');
    await openChat(page, 'ben');
    await until(async () => (await page.evaluate(() => window.__badges.at(-1))) === 0, 'the badge to be cleared once read');
    await sendMsg(ben, friends.chats.ben, 'three');
    await page.evaluate(() => {
      location.hash = '';
    });
    await until(() => page.evaluate(() => Object.keys(localStorage).some((k) => k.startsWith('duet.app.chats.'))), 'the chats to be saved');
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    assert.deepEqual(
      await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('duet.app.'))),
      [],
      'no saved chats after logout',
    );
    assert.equal(await page.evaluate(() => window.__badges.at(-1)), 0, 'no badge after logout');
    await ben.close();
    assertClean(page);
    await friends.close();
    await srv.stop();
  });
});
