// 03 - when people or the server are away: messages sent while the
// recipient is offline appear when they return; messages written while the
// server is down wait in the outbox and are delivered exactly once after it
// restarts; the outbox survives a reload and re-sends with the original
// client ids.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  T,
  User,
  assertClean,
  launch,
  newPerson,
  online,
  openChat,
  rowsWithText,
  send,
  shot,
  startWebServer,
  until,
  waitStatus,
  withFriends,
} from './lib/browser.mjs';
import { fullHistory, sendMsg } from '../integration/lib/client.mjs';

describe('03 offline delivery, server restarts and the outbox', { timeout: 300000 }, () => {
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

  it('messages sent while the recipient is away appear, in order, once, when they return', async () => {
    const friends = await withFriends(browser, srv, { browsers: ['ann'], peers: ['ben'], open: false });
    const { ann } = friends.people;
    const [ua, ub] = [ann.user, friends.people.ben.user];
    await ann.page.goto('/');
    await openChat(ann.page, 'ben');
    const texts = ['first while away', 'second while away', 'third while away'];
    for (const t of texts) await send(ann.page, t);
    for (const t of texts) await waitStatus(ann.page, t, 'sent');

    const ben = await newPerson(browser, srv);
    await ben.context.addCookies([{ name: 'duet_session', value: ub.session, domain: srv.host, path: '/' }]);
    await ben.page.goto('/');
    const item = ben.page.locator('.chat-item[data-username="ann"]');
    await item.locator('.badge', { hasText: '3' }).waitFor();
    for (const t of texts) await waitStatus(ann.page, t, 'delivered');
    await openChat(ben.page, 'ann');
    for (const t of texts) await rowsWithText(ben.page, t).waitFor();
    assert.deepEqual(await ben.page.locator('.msg-list .row .text').allTextContents(), texts);
    for (const t of texts) await waitStatus(ann.page, t, 'seen');
    assertClean(ann.page);
    assertClean(ben.page);
    await ann.context.close();
    await ben.context.close();
  });

  it('reconnect delays grow exponentially, with jitter, up to a cap', async () => {
    const { context, page } = await newPerson(browser, srv);
    await page.goto('/');
    const d = await page.evaluate(async () => {
      const { backoffDelay } = await import('/js/socket.js');
      const lo = [];
      const hi = [];
      for (let a = 0; a < 12; a++) {
        lo.push(backoffDelay(a, () => 0));
        hi.push(backoffDelay(a, () => 0.999999));
      }
      const random = new Set(Array.from({ length: 20 }, () => backoffDelay(4)));
      return { lo, hi, distinct: random.size };
    });
    for (let a = 1; a < 5; a++) assert.equal(d.lo[a], d.lo[a - 1] * 2, `doubling at attempt ${a}: ${d.lo}`);
    for (let a = 0; a < 12; a++) {
      assert.ok(d.hi[a] <= 2 * d.lo[a] && d.hi[a] > d.lo[a], `jitter spans [x, 2x) at attempt ${a}`);
      assert.ok(d.hi[a] <= 8000, 'capped at 8 s (issue 12: an idle tab must not stay offline long)');
    }
    assert.ok(d.lo[0] >= 200 && d.lo[0] <= 1000, `a quick first retry (${d.lo[0]} ms)`);
    assert.ok(d.distinct > 5, 'random jitter');
    await context.close();
  });

  it('server down: a banner, queued messages, then delivered exactly once after the restart', async () => {
    const f = await withFriends(browser, srv, { browsers: ['cleo', 'dan'] });
    const { cleo, dan } = f.people;
    const chatId = f.chats.dan;
    await openChat(cleo.page, 'dan');
    await openChat(dan.page, 'cleo');
    await send(cleo.page, 'before the outage');
    await rowsWithText(dan.page, 'before the outage').waitFor();

    const port = srv.port;
    await srv.stop({ keepData: true });
    // Both see that they are offline.
    const banner = cleo.page.locator('.banner');
    await banner.filter({ hasText: /Offline|Connecting/ }).waitFor({ timeout: T });
    await cleo.page.locator('.banner', { hasText: 'Offline' }).waitFor({ timeout: T });
    await shot(cleo.page, 'offline-banner');

    const queued = ['written offline 1', 'written offline 2'];
    for (const t of queued) await send(cleo.page, t);
    for (const t of queued) await waitStatus(cleo.page, t, 'pending');
    assert.equal(await rowsWithText(cleo.page, queued[0]).locator('.tick').getAttribute('aria-label'), 'Sending');
    // The list shows the pending message with its clock.
    await cleo.page.locator('.chat-item[data-username="dan"] .tick-pending').waitFor();

    await srv.restart({ port });
    await online(cleo.page);
    for (const t of queued) await waitStatus(cleo.page, t, 'seen');
    for (const t of queued) await rowsWithText(dan.page, t).waitFor();
    await cleo.page.locator('.banner').waitFor({ state: 'hidden' });

    // Exactly once, on both screens and on the server, in order.
    const want = ['before the outage', ...queued];
    assert.deepEqual(await dan.page.locator('.msg-list .row .text').allTextContents(), want);
    assert.deepEqual(await cleo.page.locator('.msg-list .row .text').allTextContents(), want);
    assert.equal(await cleo.page.locator('.pending-list .row').count(), 0);
    const hist = await fullHistory(cleo.user, chatId);
    assert.deepEqual(
      hist.map((m) => m.text),
      want,
    );
    // The messages kept the ids the client gave them before the outage.
    const ids = await cleo.page.locator('.msg-list .row').evaluateAll((els) => els.map((e) => e.dataset.id));
    assert.deepEqual(
      ids,
      hist.map((m) => m.id),
    );
    assertClean(cleo.page);
    assertClean(dan.page);
    await f.close();
  });

  it('the outbox survives a reload and re-sends with the original client ids', async () => {
    const friends = await withFriends(browser, srv, { browsers: ['eve'], peers: ['fay'], open: false });
    const { eve } = friends.people;
    const [ue, uf, chatId] = [eve.user, friends.people.fay.user, friends.chats.fay];
    const wf = await uf.connect();
    // The WebSocket is cut (HTTP still works): the page can load, but not connect.
    let cutting = true;
    let attempts = 0;
    await eve.context.routeWebSocket(/\/ws$/, (ws) => {
      attempts++;
      if (cutting) ws.close({ code: 1011, reason: 'cut by the test' });
      else ws.connectToServer(); // frames pass through untouched
    });
    await eve.page.goto('/');
    await openChat(eve.page, 'fay');
    await eve.page.locator('.banner', { hasText: 'Offline' }).waitFor({ timeout: T });
    await send(eve.page, 'queued before a reload');
    await waitStatus(eve.page, 'queued before a reload', 'pending');
    const id = await rowsWithText(eve.page, 'queued before a reload').getAttribute('data-id');
    assert.match(id, /^c-[0-9a-f-]{36}$/);

    await eve.page.reload();
    await openChat(eve.page, 'fay');
    await waitStatus(eve.page, 'queued before a reload', 'pending');
    assert.equal(await rowsWithText(eve.page, 'queued before a reload').getAttribute('data-id'), id, 'the same client id after the reload');
    assert.equal(await rowsWithText(eve.page, 'queued before a reload').count(), 1);

    // "Retry now" tries at once, without waiting for the backoff.
    await eve.page.locator('.banner', { hasText: /Retrying in [3-9]\d* s/ }).waitFor({ timeout: T });
    const before = attempts;
    await eve.page.getByRole('button', { name: 'Retry now' }).click();
    await until(() => attempts > before, 'a new connection attempt', 1500);

    // Let the socket through: the message goes out once, with its id.
    cutting = false;
    await waitStatus(eve.page, 'queued before a reload', 'sent');
    const ev = await wf.next('message', (e) => e.text === 'queued before a reload');
    assert.equal(ev.id, id);
    wf.send({ type: 'ack', chat_id: chatId, kind: 'message', seq: ev.seq });
    await waitStatus(eve.page, 'queued before a reload', 'delivered');
    const hist = await fullHistory(ue, chatId);
    assert.equal(hist.filter((m) => m.text === 'queued before a reload').length, 1);
    assert.equal(hist[0].id, id);
    // Nothing is left in IndexedDB.
    const left = await eve.page.evaluate(
      () =>
        new Promise((resolve, reject) => {
          const r = indexedDB.open('duet');
          r.onsuccess = () => {
            const q = r.result.transaction('outbox').objectStore('outbox').count();
            q.onsuccess = () => resolve(q.result);
            q.onerror = () => reject(q.error);
          };
          r.onerror = () => reject(r.error);
        }),
    );
    assert.equal(left, 0);
    await sendMsg(wf, chatId, 'got it');
    await rowsWithText(eve.page, 'got it').waitFor();
    assertClean(eve.page);
    await wf.close();
    await eve.context.close();
  });
});
