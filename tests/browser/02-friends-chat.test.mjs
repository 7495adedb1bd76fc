// 02 - two people in two browsers: a friend request sent by username and
// accepted live, chatting both ways, ticks going sent → delivered → seen
// with their times in the info panel, the typing indicator, last seen after
// the other closes their tab, unread badges, the title, the "new messages"
// divider and the search filter.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  T,
  User,
  assertClean,
  chatItem,
  launch,
  newPerson,
  online,
  openChat,
  rowsWithText,
  send,
  shot,
  signupInto,
  signupUI,
  startWebServer,
  statusOf,
  until,
  waitStatus,
  withFriends,
} from './lib/browser.mjs';
import { befriend, sendMsg } from '../integration/lib/client.mjs';

describe('02 friends and chat between two browsers', { timeout: 300000 }, () => {
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

  it('request by username, live badge, accept, then chat both ways', async () => {
    const alice = await newPerson(browser, srv);
    const bob = await newPerson(browser, srv);
    await signupUI(alice.page, 'alice', 'alice password', 'Alice');
    await signupUI(bob.page, 'bob', 'bob password', 'Bob');
    await online(bob.page);

    // Alice asks by username.
    await alice.page.getByRole('button', { name: 'Friends and requests' }).click();
    const dlg = alice.page.getByRole('dialog', { name: 'Friends' });
    await dlg.getByLabel('Add a friend by username').fill('Bob');
    await dlg.getByRole('button', { name: 'Send request' }).click();
    await dlg.getByText('Request sent to Bob.').waitFor();
    await dlg.locator('.person[data-username="bob"]').getByRole('button', { name: 'Cancel request to Bob' }).waitFor();
    await dlg.getByLabel('Add a friend by username').fill('nobody_here');
    await dlg.getByRole('button', { name: 'Send request' }).click();
    await dlg.getByText('There is no user with that name.').waitFor();
    await dlg.getByLabel('Add a friend by username').fill('alice');
    await dlg.getByRole('button', { name: 'Send request' }).click();
    await dlg.getByText('That is you.').waitFor();
    await alice.page.keyboard.press('Escape');
    await dlg.waitFor({ state: 'detached' });

    // Bob's badge appears without a reload.
    const bobPeople = bob.page.getByRole('button', { name: /Friends and requests, 1 new request/ });
    await bobPeople.waitFor();
    assert.equal(await bob.page.locator('.side-head .badge').textContent(), '1');
    await bobPeople.click();
    const bdlg = bob.page.getByRole('dialog', { name: 'Friends' });
    await bdlg.getByRole('button', { name: 'Accept Alice' }).click();
    // Accepting opens the new conversation.
    await bob.page.locator('.ch-name', { hasText: 'Alice' }).waitFor();
    assert.equal(await bob.page.locator('.side-head .badge').isHidden(), true, 'the badge is gone');

    // Alice's list shows Bob, online, without a reload.
    await chatItem(alice.page, 'bob').waitFor();
    await alice.page.waitForFunction(() => document.querySelector('.chat-item[data-username="bob"] .presence-dot'));
    assert.equal(await chatItem(alice.page, 'bob').locator('.ci-presence').textContent(), 'online');
    await openChat(alice.page, 'bob');
    assert.equal(await alice.page.locator('.ch-sub').textContent(), 'online');

    await send(alice.page, 'Hello Bob! <b>not bold</b>');
    await rowsWithText(bob.page, 'Hello Bob! <b>not bold</b>').waitFor();
    assert.equal(await bob.page.locator('.row b').count(), 0, 'user text is never HTML');
    await send(bob.page, 'Hi Alice 👋');
    await rowsWithText(alice.page, 'Hi Alice 👋').waitFor();
    // Multi-line: Shift+Enter adds a line, Enter sends.
    const input = alice.page.getByRole('textbox', { name: 'Message' });
    await input.fill('line one');
    await input.press('Shift+Enter');
    await input.type('line two');
    await input.press('Enter');
    await rowsWithText(bob.page, 'line one\nline two').waitFor();
    assert.equal(await input.inputValue(), '');
    // Both see each message exactly once, in the same order.
    const texts = async (p) => p.locator('.msg-list .row .text').allTextContents();
    await until(async () => (await texts(alice.page)).length === 3 && (await texts(bob.page)).length === 3, 'three messages on both sides');
    assert.deepEqual(await texts(alice.page), await texts(bob.page));
    await shot(alice.page, 'chat-alice');
    assertClean(alice.page);
    assertClean(bob.page);
    await alice.context.close();
    await bob.context.close();
  });

  it('ticks: sent (peer away) → delivered (peer online) → seen (peer opens the chat), with times', async () => {
    const friends = await withFriends(browser, srv, { browsers: ['carol'], peers: ['dave'], open: false });
    const { carol } = friends.people;
    const [uc, ud] = [carol.user, friends.people.dave.user];
    await carol.page.goto('/');
    await openChat(carol.page, 'dave');
    assert.equal(await carol.page.locator('.ch-sub').textContent(), '@dave', 'no last seen for someone never seen');

    await send(carol.page, 'Are you there?');
    await waitStatus(carol.page, 'Are you there?', 'sent');
    assert.equal(await rowsWithText(carol.page, 'Are you there?').locator('.tick').getAttribute('aria-label'), 'Sent');
    // The list shows the tick too.
    await carol.page.locator('.chat-item[data-username="dave"] .tick-sent').waitFor();

    // Dave comes online, on his conversation list: delivered, not seen.
    const dave = await newPerson(browser, srv);
    await dave.context.addCookies([{ name: 'duet_session', value: ud.session, domain: srv.host, path: '/' }]);
    await dave.page.goto('/');
    await chatItem(dave.page, 'carol').waitFor();
    await waitStatus(carol.page, 'Are you there?', 'delivered');
    await carol.page.locator('.ch-sub', { hasText: 'online' }).waitFor();
    assert.equal(await chatItem(dave.page, 'carol').locator('.badge').textContent(), '1');

    // Dave opens the chat: seen, in the accent colour.
    await openChat(dave.page, 'carol');
    await waitStatus(carol.page, 'Are you there?', 'seen');
    const tick = rowsWithText(carol.page, 'Are you there?').locator('.tick');
    assert.equal(await tick.getAttribute('aria-label'), 'Seen');
    const colors = await carol.page.evaluate(() => ({
      seen: getComputedStyle(document.querySelector('.row[data-status="seen"] .tick')).color,
      accent: getComputedStyle(document.documentElement).getPropertyValue('--tick-seen').trim(),
    }));
    assert.equal(colors.seen, 'rgb(79, 70, 229)', `the seen ticks use the accent colour (${colors.accent})`);
    assert.equal(await chatItem(dave.page, 'carol').locator('.badge').count(), 0, 'opening the chat clears the badge');

    // The info panel has the three times.
    await rowsWithText(carol.page, 'Are you there?').hover();
    await rowsWithText(carol.page, 'Are you there?').getByRole('button', { name: 'Message info' }).click();
    const info = carol.page.getByRole('dialog', { name: 'Message info' });
    await info.waitFor();
    for (const k of ['sent', 'delivered', 'seen']) {
      const dd = await info.locator(`.info-${k} dd`).textContent();
      assert.match(dd, /\d{1,2}:\d{2}:\d{2}/, `${k} has a time: ${dd}`);
    }
    await carol.page.keyboard.press('Escape');
    await info.waitFor({ state: 'detached' });

    // Receipts also reach a message that was queued while Dave was away and
    // shown from history: reload Carol and the tick is still "seen".
    await carol.page.reload();
    await openChat(carol.page, 'dave');
    await waitStatus(carol.page, 'Are you there?', 'seen');
    assertClean(carol.page);
    assertClean(dave.page);
    await carol.context.close();
    await dave.context.close();
  });

  it('typing indicator, and last seen once the other closes their tab', async () => {
    const { erin, frank } = (await withFriends(browser, srv, { browsers: ['erin', 'frank'] })).people;
    await openChat(erin.page, 'frank');
    await openChat(frank.page, 'erin');
    await erin.page.locator('.ch-sub', { hasText: 'online' }).waitFor();

    await frank.page.getByRole('textbox', { name: 'Message' }).type('I am typ', { delay: 30 });
    await erin.page.locator('.ch-sub.typing', { hasText: 'typing…' }).waitFor();
    await frank.page.getByRole('textbox', { name: 'Message' }).type('ing', { delay: 30 });
    await frank.page.getByRole('textbox', { name: 'Message' }).press('Enter');
    await rowsWithText(erin.page, 'I am typing').waitFor();
    // A message ends the indicator.
    await erin.page
      .locator('.ch-sub.typing')
      .waitFor({ state: 'detached' })
      .catch(async () => {
        assert.equal(await erin.page.locator('.ch-sub').textContent(), 'online');
      });
    await until(async () => (await erin.page.locator('.ch-sub').textContent()) === 'online', 'the typing indicator to end');

    // Typing without sending: the indicator goes away after about 5 s.
    await frank.page.getByRole('textbox', { name: 'Message' }).type('hm', { delay: 20 });
    await erin.page.locator('.ch-sub.typing').waitFor();
    const t0 = Date.now();
    await until(async () => (await erin.page.locator('.ch-sub').textContent()) === 'online', 'the typing indicator to time out', 15000);
    assert.ok(Date.now() - t0 > 2500, 'it stayed for a few seconds');

    // Frank closes his browser: Erin sees "last seen today at HH:MM".
    await frank.context.close();
    await until(async () => /^last seen today at \d{2}:\d{2}$/.test(await erin.page.locator('.ch-sub').textContent()), 'last seen today');
    // The list redraws on its next frame, maybe after the header.
    const row = chatItem(erin.page, 'frank');
    await until(async () => (await row.locator('.presence-dot').count()) === 0, 'no online dot in the list');
    await until(
      async () => /^last seen today at \d{2}:\d{2}$/.test(await row.locator('.ci-presence').textContent()),
      'the list shows the last seen too',
    );
    await shot(erin.page, 'last-seen');
    assertClean(erin.page);
    await erin.context.close();
  });

  it('unread badges, the title, the new-messages divider, and search', async () => {
    const gina = await newPerson(browser, srv);
    const ug = await signupInto(gina.context, srv, 'gina', { displayName: 'Gina' });
    const uh = await User.signup(srv, 'hank', { displayName: 'Hank' });
    const ui = await User.signup(srv, 'ivy', { displayName: 'Ivy' });
    const chatH = await befriend(ug, uh);
    await befriend(ug, ui);
    const wh = await uh.connect();
    await sendMsg(wh, chatH, 'old message');
    await gina.page.goto('/');
    await openChat(gina.page, 'hank');
    await rowsWithText(gina.page, 'old message').waitFor();
    await openChat(gina.page, 'ivy');
    await until(async () => (await gina.page.title()) === 'duet', 'no unread in the title');

    await sendMsg(wh, chatH, 'new one');
    await sendMsg(wh, chatH, 'and another');
    const badge = chatItem(gina.page, 'hank').locator('.badge');
    await until(async () => (await badge.count()) === 1 && (await badge.textContent()) === '2', 'an unread badge of 2');
    await until(async () => (await gina.page.title()) === '(2) duet', 'the unread count in the title');
    assert.match(await chatItem(gina.page, 'hank').getAttribute('aria-label'), /2 unread messages/);
    // Newest activity first.
    assert.deepEqual(await gina.page.locator('.chat-item').evaluateAll((els) => els.map((e) => e.dataset.username)), ['hank', 'ivy']);

    await openChat(gina.page, 'hank');
    const divider = gina.page.locator('.row .unread-sep');
    await divider.waitFor();
    const after = await gina.page.locator('.row:has(.unread-sep) .text').textContent();
    assert.equal(after, 'new one', 'the divider sits before the first unread message');
    await until(async () => (await gina.page.title()) === 'duet', 'the title to clear once seen');
    assert.equal(await badge.count(), 0);

    // Search filters the list.
    const search = gina.page.getByRole('searchbox', { name: 'Search conversations' });
    await search.fill('iv');
    await until(async () => (await gina.page.locator('.chat-item').count()) === 1, 'one match');
    assert.equal(await gina.page.locator('.chat-item').getAttribute('data-username'), 'ivy');
    await search.fill('zzz');
    await gina.page.getByText('No conversations match “zzz”.').waitFor();
    await search.fill('');
    await until(async () => (await gina.page.locator('.chat-item').count()) === 2, 'both again');
    assertClean(gina.page);
    await wh.close();
    await gina.context.close();
  });
});
