// 18 - issue 17 in the browser (desktop): a reply's quote in the bubble and
// a click on it that pages history back to the original and highlights it;
// reactions under the bubble with counts and who reacted; an edit shown as
// "edited" on both sides; delete for me on one side only; forward to
// another friend, marked; and the reply flow by keyboard alone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { T, assertClean, launch, openChat, rowsWithText, send, shot, startWebServer, until, withFriends } from './lib/browser.mjs';
import { history, sendMsg } from '../integration/lib/client.mjs';

describe('18 reply, reactions, edit, delete for me, forward', { timeout: 300000 }, () => {
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

  it('a quote jumps to its original, paging history back', async () => {
    const { people, chats, close } = await withFriends(browser, srv, { browsers: ['amy'], peers: ['bill'] });
    const chat = chats.bill;
    const B = await people.bill.user.connect();
    const A = await people.amy.user.connect();
    const orig = await sendMsg(B, chat, 'the very first message');
    let last;
    for (let i = 0; i < 160; i++) last = await sendMsg(B, chat, `filler ${i}`);
    A.send({ type: 'seen', chat_id: chat, seq: last.seq });
    await A.ping();
    await B.request({ type: 'send', chat_id: chat, id: 'q-1', text: 'remember this?', reply_to: orig.seq });
    const page = people.amy.page;
    await openChat(page, 'bill');
    const row = rowsWithText(page, 'remember this?');
    await row.waitFor();
    const quote = row.locator('.quote');
    assert.match(await quote.innerText(), /Bill[\s\S]*the very first message/);
    assert.equal(await rowsWithText(page, 'the very first message').count(), 0, 'the original is not loaded yet');
    await quote.click();
    const target = rowsWithText(page, 'the very first message');
    await target.waitFor();
    await until(
      async () => await target.evaluate((el) => el.classList.contains('flash') || document.activeElement === el),
      'the original highlighted',
    );
    await until(async () => {
      const box = await target.boundingBox();
      return box && box.y >= 0 && box.y < 800;
    }, 'the original on screen');
    assertClean(page);
    await close();
  });

  it('react, edit, delete for me and forward between two browsers', async () => {
    const { people, chats, close } = await withFriends(browser, srv, { browsers: ['ann', 'ben'], peers: ['cat'] });
    const pa = people.ann.page;
    const pb = people.ben.page;
    await openChat(pa, 'ben');
    await openChat(pb, 'ann');
    await send(pa, 'lunch at noon?');
    await send(pb, 'sure!');
    await rowsWithText(pa, 'sure!').waitFor();
    await rowsWithText(pb, 'lunch at noon?').waitFor();

    // Ben reacts from the actions menu; Ann reacts the same: a count of 2.
    const openActions = async (page, text) => {
      const row = rowsWithText(page, text);
      await row.hover();
      await row.getByRole('button', { name: 'Message actions' }).click();
      return row;
    };
    await openActions(pb, 'lunch at noon?');
    await pb.getByRole('menuitem', { name: 'React' }).click();
    await pb.getByRole('menuitem', { name: 'React 👍' }).click();
    const chipA = rowsWithText(pa, 'lunch at noon?').locator('.reaction', { hasText: '👍' });
    await chipA.waitFor();
    assert.match(await chipA.getAttribute('title'), /Ben/);
    await chipA.click(); // Ann adds hers by clicking the chip
    await until(
      async () => (await rowsWithText(pb, 'lunch at noon?').locator('.reaction-count').innerText()) === '2',
      "the count reaches 2 on Ben's side",
    );
    assert.match(await rowsWithText(pb, 'lunch at noon?').locator('.reaction').getAttribute('aria-label'), /👍 2: .*Ann.*|👍 2: .*You.*/);

    // Ann edits her message: both sides show the new text, marked edited.
    await openActions(pa, 'lunch at noon?');
    await pa.getByRole('menuitem', { name: 'Edit' }).click();
    const input = pa.getByRole('textbox', { name: 'Message' });
    assert.equal(await input.inputValue(), 'lunch at noon?');
    await input.fill('lunch at one?');
    await input.press('Enter');
    for (const p of [pa, pb]) {
      const r = rowsWithText(p, 'lunch at one?');
      await r.waitFor();
      await r.locator('.edited-label', { hasText: 'edited' }).waitFor();
    }
    assert.equal(await rowsWithText(pb, 'lunch at noon?').count(), 0);
    assert.equal(await input.inputValue(), '', 'the composer is empty again');

    // Ben deletes Ann's message for himself: gone on his side only.
    await openActions(pb, 'lunch at one?');
    await pb.getByRole('menuitem', { name: 'Delete for me' }).click();
    await until(async () => (await rowsWithText(pb, 'lunch at one?').count()) === 0, 'hidden for Ben');
    assert.equal(await rowsWithText(pa, 'lunch at one?').count(), 1, 'still there for Ann');
    await pb.reload();
    await openChat(pb, 'ann');
    await rowsWithText(pb, 'sure!').waitFor();
    assert.equal(await rowsWithText(pb, 'lunch at one?').count(), 0, 'still hidden after a reload');

    // Ann forwards Ben's answer to Cat: marked forwarded there.
    await openActions(pa, 'sure!');
    await pa.getByRole('menuitem', { name: 'Forward' }).click();
    const dlg = pa.getByRole('dialog', { name: 'Forward to…' });
    await dlg.getByRole('button', { name: 'Cat' }).click();
    await until(
      async () => (await history(people.cat.user, chats.cat)).some((m) => m.text === 'sure!' && m.forwarded),
      "the copy in Cat's chat",
    );
    await pa.locator('.chat-item[data-username="cat"]').click();
    await rowsWithText(pa, 'sure!').locator('.fwd-label').waitFor();
    assertClean(pa);
    assertClean(pb);
    await close();
  });

  it('reply by keyboard: arrow to a message, r, type, Enter', async () => {
    const { people, close } = await withFriends(browser, srv, { browsers: ['dan', 'eve'] });
    const pd = people.dan.page;
    const pe = people.eve.page;
    await openChat(pd, 'eve');
    await openChat(pe, 'dan');
    await send(pe, 'what time is it?');
    await rowsWithText(pd, 'what time is it?').waitFor();
    await pd.locator('.messages').focus();
    await pd.keyboard.press('ArrowUp');
    await until(
      async () => (await pd.evaluate(() => document.activeElement?.closest('.row')?.innerText || '')).includes('what time is it?'),
      'the row focused',
    );
    await pd.keyboard.press('r');
    const bar = pd.locator('.composer-bar');
    await bar.waitFor();
    assert.match(await bar.innerText(), /Replying to Eve[\s\S]*what time is it\?/);
    // Escape cancels, r again, then type and send.
    await pd.keyboard.press('Escape');
    await until(async () => await bar.isHidden(), 'the bar gone');
    await pd.locator('.messages').focus();
    await pd.keyboard.press('ArrowUp');
    await pd.keyboard.press('r');
    await pd.keyboard.type('noon');
    await pd.keyboard.press('Enter');
    const reply = rowsWithText(pe, 'noon');
    await reply.waitFor({ timeout: T });
    assert.match(await reply.locator('.quote').innerText(), /Eve|You/);
    assert.match(await reply.locator('.quote').innerText(), /what time is it\?/);
    await rowsWithText(pd, 'noon').locator('.quote').waitFor();
    await shot(pd, 'reply-desktop');
    assertClean(pd);
    await close();
  });
});
