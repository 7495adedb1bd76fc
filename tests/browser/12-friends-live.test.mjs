// 12 - friends as people expect (issue 12 item 4 points 6 and 10): a
// friend's new display name reaches the list, the header and the message
// info panel live; the sender of a request is told when it is accepted, and
// "Request sent" goes away when it is declined.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertClean,
  chatItem,
  launch,
  newPerson,
  online,
  openChat,
  rowsWithText,
  signupInto,
  startWebServer,
  withFriends,
} from './lib/browser.mjs';
import { User, expectStatus, sendMsg } from '../integration/lib/client.mjs';

describe('12 friends live: renames and request answers', { timeout: 300000 }, () => {
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

  it("a friend's rename shows at once in the list, the header and the info panel", async () => {
    const f = await withFriends(browser, srv, { browsers: ['ivy'], peers: ['jay'] });
    const { page } = f.people.ivy;
    const jay = f.people.jay.user;
    const ws = await jay.connect();
    await sendMsg(ws, f.chats.jay, 'from jay');
    await openChat(page, 'jay');
    await rowsWithText(page, 'from jay').waitFor();
    await page.locator('.ch-name', { hasText: 'Jay' }).waitFor();

    expectStatus(await jay.http.patch('/api/me', { display_name: 'Jay Renamed' }), 200);
    await page.locator('.ch-name', { hasText: 'Jay Renamed' }).waitFor();
    await chatItem(page, 'jay').locator('.ci-name', { hasText: 'Jay Renamed' }).waitFor();
    const row = rowsWithText(page, 'from jay');
    await row.hover();
    await row.getByRole('button', { name: 'Message info' }).click();
    const dlg = page.getByRole('dialog', { name: 'Message info' });
    await dlg.getByText('Jay Renamed').waitFor();
    await page.keyboard.press('Escape');
    assertClean(page);
    await ws.close();
    await f.close();
  });

  it("the blocker never sees a blocked friend's messages, not even after unblocking; the chat goes on without a gap", async () => {
    const f = await withFriends(browser, srv, { browsers: ['kay'], peers: ['lou'] });
    const { page } = f.people.kay;
    const lou = f.people.lou.user;
    const chat = f.chats.lou;
    const warnings = [];
    page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
    const ws = await lou.connect();
    await sendMsg(ws, chat, 'hi kay');
    await openChat(page, 'lou');
    await rowsWithText(page, 'hi kay').waitFor();
    await page.getByRole('button', { name: 'Conversation options' }).click();
    await page.getByRole('menuitem', { name: 'Block' }).click();
    await page.getByRole('dialog', { name: 'Block Lou?' }).getByRole('button', { name: 'Block' }).click();
    await page.locator('.blocked-bar', { hasText: 'You blocked Lou.' }).waitFor();
    // Lou's sends look sent to him; nothing reaches Kay, live or on reload.
    for (const t of ['withheld one', 'withheld two']) assert.equal((await sendMsg(ws, chat, t)).type, 'sent');
    await page.reload();
    await online(page);
    await openChat(page, 'lou');
    await rowsWithText(page, 'hi kay').waitFor();
    assert.equal(await page.locator('.row:not([hidden])', { hasText: 'withheld' }).count(), 0);
    assert.equal(await chatItem(page, 'lou').locator('.badge').count(), 0, 'no unread badge');
    await page.locator('.blocked-bar').getByRole('button', { name: 'Unblock' }).click();
    await page.locator('.composer').waitFor();
    await sendMsg(ws, chat, 'after the unblock');
    await rowsWithText(page, 'after the unblock').waitFor();
    const shown = await page.locator('.row:not([hidden]) .text').allTextContents();
    assert.deepEqual(
      shown.filter((t) => /withheld|after|hi kay/.test(t)),
      ['hi kay', 'after the unblock'],
      'in order, nothing withheld shown',
    );
    assert.deepEqual(
      warnings.filter((w) => w.includes('gap')),
      [],
      'no gap in the run',
    );
    assertClean(page);
    await ws.close();
    await f.close();
  });

  it('the sender is told when a request is accepted; a declined request clears "Request sent"', async () => {
    const p = await newPerson(browser, srv);
    await signupInto(p.context, srv, 'kit', { displayName: 'Kit' });
    const [lea, max] = await Promise.all([
      User.signup(srv, 'lea', { displayName: 'Lea' }),
      User.signup(srv, 'max', { displayName: 'Max' }),
    ]);
    await p.page.goto('/');
    await online(p.page);
    await p.page.getByRole('button', { name: 'Friends and requests' }).click();
    const dlg = p.page.getByRole('dialog', { name: 'Friends' });
    await dlg.getByLabel('Add a friend by username').fill('lea');
    await dlg.getByRole('button', { name: 'Send request' }).click();
    await dlg.getByText('Request sent to Lea.').waitFor();
    expectStatus(await lea.http.post('/api/friends/requests/kit/accept'), 200);
    await dlg.getByText('You and Lea are now friends.').waitFor();
    await dlg.getByLabel('Add a friend by username').fill('max');
    await dlg.getByRole('button', { name: 'Send request' }).click();
    await dlg.getByText('Request sent to Max.').waitFor();
    expectStatus(await max.http.post('/api/friends/requests/kit/decline'), 204);
    await dlg.getByText('Request sent to Max.').waitFor({ state: 'detached' });
    await p.page.keyboard.press('Escape');
    await chatItem(p.page, 'lea').waitFor();
    assert.equal(await chatItem(p.page, 'max').count(), 0);
    assertClean(p.page);
    await p.context.close();
  });
});
