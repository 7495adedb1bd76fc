// 17 - Web Push in the browser: turning it on from settings subscribes
// this browser and registers it (the devices list shows it); with the tab
// hidden, a friend's message reaches the loopback push service encrypted,
// and that payload delivered to the service worker (DevTools Protocol
// ServiceWorker.deliverPushMessage) shows one notification per chat
// (title = sender, body = "New message" without the preview setting);
// clicking it opens the chat; a "clear" push closes it.
//
// Headless Chromium cannot subscribe at a real push service (no vendor
// service here), so an init script stubs PushManager.subscribe() and
// getSubscription() with a subscription of the loopback service (keys made
// by the test). Everything after that is real: the page's request, duetd's
// encryption and VAPID signature, the service worker's handlers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { T, assertClean, launch, openChat, send, startWebServer, until, withFriends } from './lib/browser.mjs';
import { User, sendMsg } from '../integration/lib/client.mjs';
import { startPushService } from '../integration/lib/push-service.mjs';

// Runs in the page before its scripts: a fake subscription, and a page
// that can be told it is hidden (headless Chromium never is).
function stubs(sub) {
  const fake = {
    endpoint: sub.endpoint,
    toJSON: () => ({ endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } }),
    unsubscribe: () => {
      window.__subscribed = false;
      return Promise.resolve(true);
    },
  };
  window.__subscribed = false;
  PushManager.prototype.subscribe = function (opts) {
    window.__subscribeKey = opts?.applicationServerKey;
    window.__subscribed = true;
    return Promise.resolve(fake);
  };
  PushManager.prototype.getSubscription = () => Promise.resolve(window.__subscribed ? fake : null);
  let hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  window.__setHidden = (v) => {
    hidden = v;
    document.dispatchEvent(new Event('visibilitychange'));
  };
}

describe('17 push notifications in the browser', { timeout: 300000 }, () => {
  let browser;
  let server;
  let svc;
  before(async () => {
    browser = await launch();
    server = await startWebServer({ args: ['--push-test-loopback'] });
    svc = await startPushService();
  });
  after(async () => {
    await browser?.close();
    await svc?.close();
    await server?.stop();
  });

  it('subscribe from settings, a push shows a notification, a click opens the chat, a clear closes it', async () => {
    const key = (await new User(server, 'x', 'y').http.get('/api/push/key')).json.key;
    const sub = svc.subscribe({ applicationServerKey: key });
    const initScript = { content: `(${stubs})(${JSON.stringify(sub)})` };
    const friends = await withFriends(browser, server, { browsers: ['ann'], peers: ['ben', 'cat'], initScript });
    const { page, context } = friends.people.ann;
    await context.grantPermissions(['notifications'], { origin: server.url });
    await page.evaluate(() => navigator.serviceWorker.ready);

    // settings: turn on
    await page.getByRole('button', { name: 'Settings' }).click();
    const dlg = page.getByRole('dialog', { name: 'Settings' });
    await dlg.locator('#set-push-toggle').click();
    await until(async () => /On: this browser/.test(await dlg.locator('#set-push-state').textContent()), 'push on');
    assert.equal(await page.evaluate(() => window.__subscribeKey), key, 'subscribed with the server key');
    const devs = (await friends.people.ann.user.http.get('/api/push/subscriptions')).json.subscriptions;
    assert.equal(devs.length, 1);
    assert.match(devs[0].device, / on /);
    await until(async () => (await dlg.locator('.push-device').count()) === 1, 'the devices list');
    assert.match(await dlg.locator('.push-device').textContent(), /this one/);
    await page.keyboard.press('Escape');

    // hidden: ben's message is pushed (duetd -> loopback push service)
    await page.evaluate(() => window.__setHidden(true));
    await page.waitForTimeout(300);
    const ben = await friends.people.ben.user.connect();
    const sent = await sendMsg(ben, friends.chats.ben, 'secret words');
    await until(() => svc.forSubscription(sub).some((r) => r.status === 201), 'the push at the push service');
    const plaintext = svc.forSubscription(sub).find((r) => r.status === 201).plaintext;
    const payload = JSON.parse(plaintext);
    assert.deepEqual(payload, { type: 'message', chat_id: friends.chats.ben, seq: sent.seq, from: 'Ben' });

    // delivered to the service worker
    const cdp = await context.newCDPSession(page);
    const regs = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => regs.push(...e.registrations));
    await cdp.send('ServiceWorker.enable');
    await until(() => regs.some((r) => !r.isDeleted), 'the registration');
    const reg = regs.find((r) => !r.isDeleted);
    const notes = () =>
      page.evaluate(async () => {
        const list = await (await navigator.serviceWorker.ready).getNotifications();
        return list.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }));
      });
    const deliver = (data) =>
      cdp.send('ServiceWorker.deliverPushMessage', { origin: server.url, registrationId: reg.registrationId, data });
    await deliver(plaintext);
    await until(async () => (await notes()).length === 1, 'a notification');
    let [n] = await notes();
    assert.equal(n.title, 'Ben');
    assert.equal(n.body, 'New message', 'no text without the preview setting');
    assert.equal(n.tag, `duet-chat-${friends.chats.ben}`);
    assert.equal(n.data.chat_id, friends.chats.ben);
    // a second push of the same chat replaces it
    await deliver(JSON.stringify({ ...payload, seq: payload.seq + 1 }));
    await until(async () => (await notes())[0]?.data.seq === payload.seq + 1, 'the replaced notification');
    assert.equal((await notes()).length, 1, 'one notification per chat');

    // click: the worker opens duet on the chat (the page is told)
    assert.notEqual(await page.evaluate(() => location.hash), `#/c/${friends.chats.ben}`);
    const [sw] = context.serviceWorkers();
    assert.ok(sw, 'the service worker');
    await sw.evaluate(async () => {
      const [note] = await self.registration.getNotifications();
      try {
        self.dispatchEvent(new NotificationEvent('notificationclick', { notification: note }));
      } catch {
        /* waitUntil on an untrusted event throws after the handler ran */
      }
    });
    await until(async () => (await page.evaluate(() => location.hash)) === `#/c/${friends.chats.ben}`, 'the chat opened');
    await page.locator('.chat-head .ch-name', { hasText: 'Ben' }).waitFor({ timeout: T });
    await until(async () => (await notes()).length === 0, 'the clicked notification closed');

    // a clear closes the chat's notification
    await deliver(plaintext);
    await until(async () => (await notes()).length === 1, 'a notification again');
    await deliver(JSON.stringify({ type: 'clear', chat_id: friends.chats.ben }));
    await until(async () => (await notes()).length === 0, 'cleared');

    // settings: turn off removes the device
    await page.evaluate(() => window.__setHidden(false));
    await page.getByRole('button', { name: 'Settings' }).click();
    await dlg.locator('#set-push-toggle', { hasText: 'Turn off here' }).click();
    const devices = async () => (await friends.people.ann.user.http.get('/api/push/subscriptions')).json.subscriptions;
    await until(async () => (await devices()).length === 0, 'the device removed');
    assertClean(page);
    await friends.close();
  });

  it('the offer comes once, after the first message sent, never on page load', async () => {
    const key = (await new User(server, 'x', 'y').http.get('/api/push/key')).json.key;
    const sub = svc.subscribe({ applicationServerKey: key });
    const initScript = { content: `(${stubs})(${JSON.stringify(sub)})` };
    const friends = await withFriends(browser, server, { browsers: ['dee'], peers: ['eve'], initScript });
    const { page } = friends.people.dee;
    const offer = page.getByRole('region', { name: 'Notifications' });
    await page.waitForTimeout(500);
    assert.equal(await offer.count(), 0, 'no offer on page load');
    await openChat(page, 'eve');
    await send(page, 'first words');
    await offer.waitFor({ timeout: T });
    await send(page, 'typing goes on while the offer shows');
    await offer.getByRole('button', { name: 'Not now' }).click();
    assert.equal(await offer.count(), 0, 'dismissed');
    await page.reload();
    await page.locator('.chat-list').waitFor();
    await openChat(page, 'eve');
    await send(page, 'second words');
    await page.waitForTimeout(800);
    assert.equal(await offer.count(), 0, 'offered once only');
    assert.equal(
      (await friends.people.dee.user.http.get('/api/push/subscriptions')).json.subscriptions.length,
      0,
      'declined: nothing subscribed',
    );
    assertClean(page);
    await friends.close();
  });
});
