// 05 - several tabs of one user stay consistent: a message sent in one
// appears in the other (once), incoming messages reach both, seen state and
// unread badges sync, deletions and settings follow, and an outbox item
// queued in one tab shows in the other and is sent once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  T,
  User,
  assertClean,
  chatItem,
  launch,
  newPage,
  newPerson,
  openChat,
  retryNow,
  rowsWithText,
  send,
  signupInto,
  startWebServer,
  until,
  waitStatus,
  withFriends,
} from './lib/browser.mjs';
import { befriend, fullHistory, sendMsg } from '../integration/lib/client.mjs';

describe('05 two tabs of one user', { timeout: 300000 }, () => {
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

  it('messages, receipts, seen state and deletions are the same in both tabs', async () => {
    const friends = await withFriends(browser, srv, { browsers: ['kim'], peers: ['lou'], open: false });
    const { kim } = friends.people;
    const [uk, ul, chatId] = [kim.user, friends.people.lou.user, friends.chats.lou];
    const tab1 = kim.page;
    const tab2 = await newPage(kim.context);
    await tab1.goto('/');
    await tab2.goto('/');
    await openChat(tab1, 'lou');
    await chatItem(tab2, 'lou').waitFor();

    // Sent in tab 1: shown once in tab 2, with its ticks.
    await send(tab1, 'from tab one');
    await chatItem(tab2, 'lou').locator('.pv-text', { hasText: 'from tab one' }).waitFor();
    await openChat(tab2, 'lou');
    await rowsWithText(tab2, 'from tab one').waitFor();
    assert.equal(await rowsWithText(tab2, 'from tab one').count(), 1);
    await waitStatus(tab2, 'from tab one', 'sent');

    // Lou reads it: both tabs turn it "seen".
    const wl = await ul.connect();
    const m = wl.pending.find((e) => e.text === 'from tab one') || (await wl.next('message', (e) => e.text === 'from tab one'));
    wl.send({ type: 'ack', chat_id: chatId, kind: 'message', seq: m.seq });
    wl.send({ type: 'seen', chat_id: chatId, seq: m.seq });
    await waitStatus(tab1, 'from tab one', 'seen');
    await waitStatus(tab2, 'from tab one', 'seen');

    // An incoming message reaches both tabs.
    await sendMsg(wl, chatId, 'hello both tabs');
    await rowsWithText(tab1, 'hello both tabs').waitFor();
    await rowsWithText(tab2, 'hello both tabs').waitFor();

    // Deleting in tab 2 tombstones in tab 1.
    const row = rowsWithText(tab2, 'from tab one');
    await row.hover();
    await row.getByRole('button', { name: 'Message info' }).click();
    const dlg = tab2.getByRole('dialog', { name: 'Message info' });
    await dlg.getByRole('button', { name: 'Delete for everyone' }).click();
    await dlg.getByRole('button', { name: 'Delete', exact: true }).click();
    await tab1.locator('.row[data-status="deleted"]', { hasText: 'You deleted this message' }).waitFor();
    assertClean(tab1);
    assertClean(tab2);
    await wl.close();
    await kim.context.close();
  });

  it('reading in one tab clears the unread badge and title in the other', async () => {
    const friends = await withFriends(browser, srv, { browsers: ['max'], peers: ['nia'], open: false });
    const { max } = friends.people;
    const [um, un, chatId] = [max.user, friends.people.nia.user, friends.chats.nia];
    const tab1 = max.page;
    const tab2 = await newPage(max.context);
    await tab1.goto('/');
    await tab2.goto('/');
    await chatItem(tab1, 'nia').waitFor();
    await chatItem(tab2, 'nia').waitFor();
    const wn = await un.connect();
    await sendMsg(wn, chatId, 'unread one');
    await sendMsg(wn, chatId, 'unread two');
    for (const t of [tab1, tab2]) {
      await chatItem(t, 'nia').locator('.badge', { hasText: '2' }).waitFor();
      await until(async () => (await t.title()) === '(2) duet', 'the title count');
    }
    await openChat(tab1, 'nia');
    await until(async () => (await tab2.title()) === 'duet', 'tab 2 to learn that tab 1 read the chat');
    await chatItem(tab2, 'nia').locator('.badge').waitFor({ state: 'detached' });
    assertClean(tab1);
    assertClean(tab2);
    await wn.close();
    await max.context.close();
  });

  it('an outbox item queued in one tab shows in the other and is sent once', async () => {
    const friends = await withFriends(browser, srv, { browsers: ['oli'], peers: ['pia'], open: false });
    const { oli } = friends.people;
    const [uo, up, chatId] = [oli.user, friends.people.pia.user, friends.chats.pia];
    let cutting = true;
    await oli.context.routeWebSocket(/\/ws$/, (ws) => {
      if (cutting) ws.close({ code: 1011, reason: 'cut by the test' });
      else ws.connectToServer();
    });
    const tab1 = oli.page;
    const tab2 = await newPage(oli.context);
    await tab1.goto('/');
    await tab2.goto('/');
    await openChat(tab1, 'pia');
    await openChat(tab2, 'pia');
    await tab1.locator('.banner', { hasText: 'Offline' }).waitFor({ timeout: T });
    await send(tab1, 'queued in tab one');
    await waitStatus(tab2, 'queued in tab one', 'pending');
    cutting = false;
    await retryNow(tab1);
    await retryNow(tab2);
    await waitStatus(tab1, 'queued in tab one', 'sent');
    await waitStatus(tab2, 'queued in tab one', 'sent');
    const hist = await fullHistory(uo, chatId);
    assert.deepEqual(
      hist.map((x) => x.text),
      ['queued in tab one'],
      'one message, though both tabs may have sent it',
    );
    assert.equal(await rowsWithText(tab1, 'queued in tab one').count(), 1);
    assert.equal(await rowsWithText(tab2, 'queued in tab one').count(), 1);
    assertClean(tab1);
    assertClean(tab2);
    await oli.context.close();
  });
});
