// 12 - friends as people expect (issue 12 item 4 points 6 and 10): a
// friend's new display name reaches the list, the header and the message
// info panel live; the sender of a request is told when it is accepted, and
// "Request sent" goes away when it is declined.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertClean, chatItem, launch, newPerson, online, openChat, rowsWithText, signupInto, startWebServer, withFriends } from './lib/browser.mjs';
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

  it('the sender is told when a request is accepted; a declined request clears "Request sent"', async () => {
    const p = await newPerson(browser, srv);
    await signupInto(p.context, srv, 'kit', { displayName: 'Kit' });
    const [lea, max] = await Promise.all([User.signup(srv, 'lea', { displayName: 'Lea' }), User.signup(srv, 'max', { displayName: 'Max' })]);
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
