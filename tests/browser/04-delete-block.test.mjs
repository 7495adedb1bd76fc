// 04 - delete for everyone (a tombstone on both sides), blocking and
// unblocking from the chat header, removing a friend, and declining and
// cancelling friend requests, all updating the other side live.
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
  startWebServer,
  until,
  waitStatus,
  withFriends,
} from './lib/browser.mjs';
import { befriend, fullHistory } from '../integration/lib/client.mjs';

async function pair(browser, srv, a, b) {
  const { people, chats } = await withFriends(browser, srv, { browsers: [a, b] });
  return { pa: people[a], pb: people[b], ua: people[a].user, ub: people[b].user, chatId: chats[b] };
}

async function openInfo(page, text) {
  const row = rowsWithText(page, text);
  await row.hover();
  await row.getByRole('button', { name: 'Message info' }).click();
  const dlg = page.getByRole('dialog', { name: 'Message info' });
  await dlg.waitFor();
  return dlg;
}

describe('04 delete for everyone, blocking, removing, declining', { timeout: 300000 }, () => {
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

  it('delete for everyone leaves a tombstone on both sides and erases the text', async () => {
    const { pa, pb, ua, chatId } = await pair(browser, srv, 'amy', 'bill');
    await openChat(pa.page, 'bill');
    await openChat(pb.page, 'amy');
    await send(pa.page, 'oops, wrong chat');
    await send(pa.page, 'this one stays');
    await rowsWithText(pb.page, 'oops, wrong chat').waitFor();
    await waitStatus(pa.page, 'this one stays', 'seen');

    // Only your own messages offer deletion.
    const binfo = await openInfo(pb.page, 'oops, wrong chat');
    assert.equal(await binfo.getByRole('button', { name: /Delete/ }).count(), 0);
    await pb.page.keyboard.press('Escape');

    const dlg = await openInfo(pa.page, 'oops, wrong chat');
    await dlg.getByRole('button', { name: 'Delete for everyone' }).click();
    await dlg.getByText('Both of you will see that a message was deleted.').waitFor();
    await dlg.getByRole('button', { name: 'Delete', exact: true }).click();
    await dlg.waitFor({ state: 'detached' });

    await pa.page.locator('.row[data-status="deleted"] .tombstone', { hasText: 'You deleted this message' }).waitFor();
    await pb.page.locator('.row[data-status="deleted"] .tombstone', { hasText: 'This message was deleted' }).waitFor();
    assert.equal(await rowsWithText(pb.page, 'oops, wrong chat').count(), 0, 'the text is gone from the other screen');
    assert.equal(await rowsWithText(pb.page, 'this one stays').count(), 1);
    const hist = await fullHistory(ua, chatId);
    assert.equal(hist[0].text, '');
    assert.ok(hist[0].deleted_at > 0);
    // The list shows it too, after a reload (from the server's state).
    await pb.page.reload();
    await chatItem(pb.page, 'amy').waitFor();
    await openChat(pb.page, 'amy');
    await pb.page.locator('.row[data-status="deleted"]').waitFor();
    await shot(pb.page, 'tombstone');
    assertClean(pa.page);
    assertClean(pb.page);
    await pa.context.close();
    await pb.context.close();
  });

  it('blocking from the header: the blocker sees it, the blocked one sees nothing but no presence; unblocking restores it', async () => {
    const { pa, pb } = await pair(browser, srv, 'cora', 'drew');
    await openChat(pa.page, 'drew');
    await openChat(pb.page, 'cora');
    await pa.page.locator('.ch-sub', { hasText: 'online' }).waitFor();

    await pb.page.getByRole('button', { name: 'Conversation options' }).click();
    await pb.page.getByRole('menuitem', { name: 'Block' }).click();
    const confirm = pb.page.getByRole('dialog', { name: 'Block Cora?' });
    await confirm.getByRole('button', { name: 'Block' }).click();

    await pb.page.locator('.blocked-bar', { hasText: 'You blocked Cora.' }).waitFor();
    assert.equal(await pb.page.locator('.composer').isHidden(), true, 'no composer while blocked');
    // The blocked one is not told (issue 12 item 4 point 2): Drew just
    // looks offline, as someone who hides last seen; no label, no bar.
    await until(async () => !(await pa.page.locator('.ch-sub').textContent()).includes('online'), 'Drew no longer shown online');
    assert.equal(await pa.page.locator('.ch-sub').textContent(), '@drew');
    assert.equal(await chatItem(pa.page, 'drew').locator('.presence-dot').count(), 0);
    await pa.page.reload();
    await online(pa.page);
    await openChat(pa.page, 'drew');
    assert.equal(await pa.page.locator('.blocked-bar').isHidden(), true, 'no blocked bar for the blocked one');
    assert.equal(await pa.page.locator('.composer').isHidden(), false, 'the composer stays');
    assert.equal(await chatItem(pa.page, 'drew').locator('.ci-flag').count(), 0, 'no "Blocked" label for the blocked one');
    assert.equal(await pa.page.locator('.ch-sub').textContent(), '@drew');
    // The blocked list in the friends dialog has them.
    await pb.page.getByRole('button', { name: /Friends and requests/ }).click();
    await pb.page.getByRole('dialog', { name: 'Friends' }).getByRole('button', { name: 'Unblock Cora' }).waitFor();
    await pb.page.keyboard.press('Escape');
    await shot(pb.page, 'blocked');

    await pb.page.locator('.blocked-bar').getByRole('button', { name: 'Unblock' }).click();
    await pb.page.locator('.composer').waitFor();
    await pa.page.locator('.composer').waitFor();
    await pb.page.locator('.ch-sub', { hasText: 'online' }).waitFor();
    await send(pa.page, 'friends again?');
    await rowsWithText(pb.page, 'friends again?').waitFor();
    assertClean(pa.page);
    assertClean(pb.page);
    await pa.context.close();
    await pb.context.close();
  });

  it('removing a friend keeps the chat read-only on both sides, with a way to ask again', async () => {
    const { pa, pb } = await pair(browser, srv, 'elle', 'finn');
    await openChat(pa.page, 'finn');
    await openChat(pb.page, 'elle');
    await send(pa.page, 'before we part');
    await rowsWithText(pb.page, 'before we part').waitFor();
    await pa.page.getByRole('button', { name: 'Conversation options' }).click();
    await pa.page.getByRole('menuitem', { name: 'Remove friend' }).click();
    await pa.page.getByRole('dialog', { name: 'Remove Finn?' }).getByRole('button', { name: 'Remove' }).click();
    // Both keep the conversation, read-only; Finn learns it live.
    for (const [pg, peer] of [
      [pa.page, 'Finn'],
      [pb.page, 'Elle'],
    ]) {
      await pg.locator('.blocked-bar', { hasText: `You are no longer friends with ${peer}.` }).waitFor();
      assert.equal(await pg.locator('.composer').isHidden(), true, 'read-only');
      await rowsWithText(pg, 'before we part').waitFor();
    }
    await chatItem(pa.page, 'finn').waitFor();
    await chatItem(pb.page, 'elle').waitFor();
    await pa.page.getByRole('button', { name: 'Conversation options' }).click();
    assert.equal(await pa.page.getByRole('menuitem', { name: 'Remove friend' }).count(), 0, 'nothing to remove');
    await pa.page.keyboard.press('Escape');
    // Finn asks again from the chat; Elle accepts; both can write again.
    await pb.page.locator('.blocked-bar').getByRole('button', { name: 'Send friend request' }).click();
    await pa.page.getByRole('button', { name: /1 new request/ }).click();
    await pa.page.getByRole('dialog', { name: 'Friends' }).getByRole('button', { name: 'Accept Finn' }).click();
    await pa.page.keyboard.press('Escape');
    await pa.page.locator('.composer').waitFor();
    await pb.page.locator('.composer').waitFor();
    await send(pb.page, 'hello again');
    await rowsWithText(pa.page, 'hello again').waitFor();
    assertClean(pa.page);
    assertClean(pb.page);
    await pa.context.close();
    await pb.context.close();
  });

  it('declining and cancelling requests update both sides live', async () => {
    const pg = await newPerson(browser, srv);
    const ph = await newPerson(browser, srv);
    await signupInto(pg.context, srv, 'gus', { displayName: 'Gus' });
    await signupInto(ph.context, srv, 'hal', { displayName: 'Hal' });
    await pg.page.goto('/');
    await ph.page.goto('/');
    await pg.page.getByRole('button', { name: 'Friends and requests' }).click();
    const gd = pg.page.getByRole('dialog', { name: 'Friends' });
    await gd.getByLabel('Add a friend by username').fill('hal');
    await gd.getByRole('button', { name: 'Send request' }).click();
    await gd.getByRole('button', { name: 'Cancel request to Hal' }).waitFor();

    await ph.page.getByRole('button', { name: /1 new request/ }).click();
    const hd = ph.page.getByRole('dialog', { name: 'Friends' });
    await hd.getByRole('button', { name: 'Decline Gus' }).click();
    await hd.getByText('No requests right now.').waitFor();
    // Gus's open dialog loses the outgoing request by itself.
    await gd.getByRole('button', { name: 'Cancel request to Hal' }).waitFor({ state: 'detached' });

    await gd.getByLabel('Add a friend by username').fill('hal');
    await gd.getByRole('button', { name: 'Send request' }).click();
    await hd.getByRole('button', { name: 'Accept Gus' }).waitFor();
    await gd.getByRole('button', { name: 'Cancel request to Hal' }).click();
    await hd.getByRole('button', { name: 'Accept Gus' }).waitFor({ state: 'detached' });
    await hd.getByText('No requests right now.').waitFor();
    assert.equal(await ph.page.locator('.side-head .badge').isHidden(), true);
    assertClean(pg.page);
    assertClean(ph.page);
    await pg.context.close();
    await ph.context.close();
  });

  it('after the delete window, deletion is no longer offered', async () => {
    const s2 = await startWebServer({ args: ['--delete-window', '2'] });
    try {
      const { pa, pb } = await pair(browser, s2, 'ian', 'joy');
      await openChat(pa.page, 'joy');
      await send(pa.page, 'too late to take back');
      await waitStatus(pa.page, 'too late to take back', 'delivered');
      let dlg = await openInfo(pa.page, 'too late to take back');
      await dlg.getByRole('button', { name: 'Delete for everyone' }).waitFor();
      await pa.page.keyboard.press('Escape');
      await pa.page.waitForTimeout(2200); // the window itself is what is tested
      dlg = await openInfo(pa.page, 'too late to take back');
      await dlg.locator('.info-sent').waitFor();
      assert.equal(await dlg.getByRole('button', { name: 'Delete for everyone' }).count(), 0);
      await pa.context.close();
      await pb.context.close();
    } finally {
      await s2.stop();
    }
  });
});
