// browser.mjs - Chromium (Debian's, never a downloaded one) driven by
// playwright-core, and the helpers the browser tests share: users in their
// own browser contexts, UI steps, waiting for conditions, screenshots.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { SLOW, mkTempDir, repoRoot, rmDir, startServer, waitFor } from '../../integration/lib/server.mjs';
import { User, befriend } from '../../integration/lib/client.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const browserDir = path.resolve(here, '..');
export const shotsDir = path.join(browserDir, 'screenshots');
export const webDir = path.join(repoRoot, 'web');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// Generous: the suite may share two cores with other suites.
export const T = 20000 * SLOW;

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--hide-scrollbars',
  '--mute-audio',
];

// Chromium's fake camera and microphone (a beep), allowed without asking:
// only for the media tests (launch({ fakeMedia: true })).
export const FAKE_MEDIA_ARGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
];

export async function launch({ fakeMedia = false } = {}) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (scripts/install-browser-deps.sh installs it)`);
  const userDataDir = mkTempDir('duet-chromium-');
  // A persistent context on a fresh profile would tie us to one context;
  // launch() keeps its own fresh temporary profile, and ours is unused
  // beyond being the place Chromium may write crash dumps.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(fakeMedia ? FAKE_MEDIA_ARGS : []), `--crash-dumps-dir=${userDataDir}`],
    timeout: 60000,
  });
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close().catch(() => {});
    rmDir(userDataDir);
  };
  return browser;
}

// The duetd for the browser tests: the real web client, fast hashing.
export function startWebServer(opts = {}) {
  return startServer({ webDir, ...opts, args: ['--sync', 'normal', ...(opts.args || [])] });
}

// A suite's duetd and browser, started in its before() and stopped in its
// after(): `before(async () => ({ srv, browser } = await startSuite()))`.
export async function startSuite(serverOpts = {}, launchOpts = {}) {
  const srv = await startWebServer(serverOpts);
  try {
    return { srv, browser: await launch(launchOpts) };
  } catch (e) {
    await srv.stop();
    throw e;
  }
}

export async function stopSuite(srv, browser) {
  await browser?.close();
  await srv?.stop();
}

const problems = new WeakMap();

// A new browser context (one person's browser) and a page in it.
export async function newPerson(
  browser,
  server,
  {
    viewport = { width: 1280, height: 800 },
    colorScheme = 'light',
    deviceScaleFactor = 1,
    isMobile = false,
    hasTouch = false,
    initScript,
    locale = 'en-GB',
    timezoneId = 'Europe/London',
  } = {},
) {
  const context = await browser.newContext({
    baseURL: server.url,
    viewport,
    colorScheme,
    deviceScaleFactor,
    isMobile,
    hasTouch,
    locale,
    timezoneId,
    reducedMotion: 'reduce',
  });
  context.setDefaultTimeout(T);
  if (initScript) await context.addInitScript(initScript);
  const page = await newPage(context);
  return { context, page };
}

export async function newPage(context) {
  const page = await context.newPage();
  const list = [];
  problems.set(page, list);
  page.on('pageerror', (e) => list.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const t = m.text();
    // Expected while a test takes the server down, or before logging in.
    if (/Failed to load resource|WebSocket connection to .* failed|ERR_CONNECTION_REFUSED|net::ERR_/.test(t)) return;
    list.push(`console.error: ${t}`);
  });
  return page;
}

// Fails on uncaught exceptions and console errors (CSP violations among them).
export function assertClean(page) {
  const list = problems.get(page) || [];
  assert.deepEqual(list, [], `the page logged errors:\n${list.join('\n')}`);
}

export async function until(fn, what, timeoutMs = T) {
  return waitFor(fn, what, timeoutMs, 50);
}

export function shot(page, name, opts = {}) {
  fs.mkdirSync(shotsDir, { recursive: true });
  return page.screenshot({ path: path.join(shotsDir, `${name}.png`), ...opts });
}

// Copies a screenshot to docs/screenshots (the README shows those), when
// DUET_UPDATE_SCREENSHOTS=1: the times in them change on every run, so
// ordinary runs leave the committed files alone.
export function publishShot(name, as = name) {
  if (process.env.DUET_UPDATE_SCREENSHOTS !== '1') return;
  const dir = path.join(repoRoot, 'docs', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(shotsDir, `${name}.png`), path.join(dir, `${as}.png`));
}

// ---- people ------------------------------------------------------------------

// Signs up over HTTP and puts the session cookie into the context.
export async function signupInto(context, server, username, { displayName } = {}) {
  const u = await User.signup(server, username, { displayName });
  await context.addCookies([{ name: 'duet_session', value: u.session, domain: server.host, path: '/', httpOnly: true, sameSite: 'Lax' }]);
  return u;
}

// The set-up most tests share: people who are friends. `browsers` get a
// browser context each (signed up, the session cookie set, the app open
// and online); `peers` are users without a browser (drive them over HTTP or
// user.connect()). The first name befriends every other one.
// Returns {people: {name: {user, context?, page?}}, chats: {name: chat id
// of first <-> name}, close()}. Options go to newPerson.
export async function withFriends(browser, server, { browsers = [], peers = [], open = true, ...personOpts } = {}) {
  const people = {};
  const cap = (n) => n[0].toUpperCase() + n.slice(1);
  for (const name of browsers) {
    const p = await newPerson(browser, server, personOpts);
    p.user = await signupInto(p.context, server, name, { displayName: cap(name) });
    people[name] = p;
  }
  for (const name of peers) people[name] = { user: await User.signup(server, name, { displayName: cap(name) }) };
  const [first, ...rest] = [...browsers, ...peers];
  const chats = {};
  for (const name of rest) chats[name] = await befriend(people[first].user, people[name].user);
  if (open) {
    for (const name of browsers) {
      await people[name].page.goto('/');
      await online(people[name].page);
    }
  }
  return {
    people,
    chats,
    async close() {
      for (const name of browsers) await people[name].context.close().catch(() => {});
    },
  };
}

// An init script for newPerson: the page can be told it is hidden
// (window.__setHidden(true)), and notifications are recorded in
// window.__notes instead of shown. Headless Chromium is never "hidden".
export function fakeNotifications() {
  let hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  window.__setHidden = (v) => {
    hidden = v;
    document.dispatchEvent(new Event('visibilitychange'));
  };
  window.__notes = [];
  class FakeNotification {
    static permission = 'granted';
    static requestPermission() {
      return Promise.resolve('granted');
    }
    constructor(title, opts) {
      window.__notes.push({ title, body: opts?.body, tag: opts?.tag });
    }
    close() {}
  }
  window.Notification = FakeNotification;
}

// A WebSocket the test can cut and restore (HTTP keeps working), and whose
// outgoing "send" frames it can hold back. Install before the page loads.
export async function controlSocket(context) {
  const ctl = { cut: false, holdSends: false, held: [], current: null, attempts: 0 };
  await context.routeWebSocket(/\/ws$/, (ws) => {
    ctl.attempts++;
    if (ctl.cut) {
      ws.close({ code: 1011, reason: 'cut by the test' });
      return;
    }
    const server = ws.connectToServer();
    ctl.current = { ws, server };
    ws.onMessage((m) => {
      if (ctl.holdSends && typeof m === 'string' && JSON.parse(m).type === 'send') ctl.held.push({ server, m });
      else server.send(m);
    });
  });
  ctl.cutNow = () => {
    ctl.cut = true;
    ctl.current?.ws.close({ code: 1011, reason: 'cut by the test' });
    ctl.current = null;
  };
  ctl.restore = () => {
    ctl.cut = false;
  };
  ctl.release = () => {
    ctl.holdSends = false;
    for (const { server, m } of ctl.held.splice(0)) server.send(m);
  };
  return ctl;
}

// Makes a test client (integration WsClient) behave like a person with the
// chat open: every incoming message is acknowledged and marked seen.
export function autoRead(ws) {
  const me = ws.hello.user.id;
  ws.ws.on('message', (data) => {
    let ev;
    try {
      ev = JSON.parse(data.toString('utf8'));
    } catch {
      return;
    }
    if (ev.type !== 'message' || ev.from === me) return;
    ws.send({ type: 'ack', chat_id: ev.chat_id, kind: 'message', seq: ev.seq });
    ws.send({ type: 'seen', chat_id: ev.chat_id, seq: ev.seq });
  });
  return ws;
}

// Clicks the banner's "Retry now" if it is there (no race with a retry
// that already succeeded).
export function retryNow(page) {
  return page.evaluate(() => document.querySelector('.banner:not([hidden]) .banner-btn')?.click());
}

export async function signupUI(page, username, password, displayName) {
  await page.goto('/');
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Username').fill(username);
  if (displayName) await page.getByLabel('Display name').fill(displayName);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.locator('.side-head').waitFor();
}

export async function loginUI(page, username, password) {
  await page.goto('/');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('.side-head').waitFor();
}

// Waits until the app is connected and synced (no banner, socket online).
export async function online(page) {
  await page.locator('.side-head').waitFor();
  await page.waitForFunction(() => document.querySelector('.banner')?.hidden !== false && !!document.querySelector('.chat-list'), null, {
    timeout: T,
  });
}

export function chatItem(page, username) {
  return page.locator(`.chat-item[data-username="${username}"]`);
}

export async function openChat(page, username) {
  await chatItem(page, username).click();
  await page.locator('.chat-head').waitFor();
  await page.locator('.ch-name').waitFor();
}

export async function send(page, text) {
  const input = page.getByRole('textbox', { name: 'Message' });
  await input.fill(text);
  await input.press('Enter');
}

// The message rows of the open chat with exactly this text.
export function rowsWithText(page, text) {
  return page.locator('.row').filter({ has: page.locator('.text', { hasText: new RegExp(`^${escapeRe(text)}$`) }) });
}

export function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export async function statusOf(page, text) {
  return rowsWithText(page, text).last().getAttribute('data-status');
}

export async function waitStatus(page, text, status) {
  await until(async () => (await statusOf(page, text)) === status, `"${text}" to be ${status}`);
}

export { SLOW, User, mkTempDir, rmDir, repoRoot as repoRootDir };
