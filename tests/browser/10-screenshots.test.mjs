// 10 - the screenshots in the README: the login screen, the conversation
// list with a chat (light), the same in the dark theme, and a phone. A
// small, realistic scene is staged through the API first; each screenshot
// is checked to be a PNG of the expected size and copied to
// docs/screenshots/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  User,
  assertClean,
  autoRead,
  chatItem,
  launch,
  newPerson,
  openChat,
  publishShot,
  repoRootDir,
  rowsWithText,
  send,
  shot,
  shotsDir,
  startWebServer,
  until,
  waitStatus,
} from './lib/browser.mjs';
import { befriend, sendMsg } from '../integration/lib/client.mjs';

function pngSize(file) {
  const b = fs.readFileSync(file);
  assert.equal(b.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', `${file} is a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), bytes: b.length };
}

describe('10 screenshots of the main screens', { timeout: 300000 }, () => {
  let srv;
  let browser;
  let people;
  before(async () => {
    srv = await startWebServer();
    browser = await launch();
    // The scene: Maya and her friends.
    const names = [
      ['maya', 'Maya Okafor'],
      ['leo', 'Leo Marchetti'],
      ['priya', 'Priya Raman'],
      ['jonas', 'Jonas Berg'],
      ['sofia', 'Sofia Alves'],
      ['tom', 'Tom Becker'],
    ];
    people = {};
    for (const [u, d] of names) people[u] = await User.signup(srv, u, { displayName: d });
    const chats = {};
    for (const u of ['tom', 'sofia', 'jonas', 'priya', 'leo']) chats[u] = await befriend(people[u], people.maya);
    people.chats = chats;
    const w = {};
    for (const u of ['leo', 'priya', 'jonas', 'sofia', 'tom']) w[u] = autoRead(await people[u].connect());
    people.ws = w;
    await sendMsg(w.tom, chats.tom, 'Thanks for the book recommendation!');
    await sendMsg(w.sofia, chats.sofia, 'The photos from Lisbon are up 📸');
    await sendMsg(w.jonas, chats.jonas, 'Running late, 10 min');
    await sendMsg(w.jonas, chats.jonas, 'Order me a flat white ☕');
    await sendMsg(w.priya, chats.priya, 'Can you review my slides before Friday?');
    await sendMsg(w.leo, chats.leo, 'Morning! Did the deploy go out last night?');
    // Jonas and Tom leave: they show a last seen.
    await w.jonas.close();
    await w.tom.close();
  });
  after(async () => {
    for (const ws of Object.values(people?.ws || {})) await ws.close().catch(() => {});
    await browser?.close();
    await srv?.stop();
  });

  async function maya(opts) {
    const p = await newPerson(browser, srv, opts);
    await p.context.addCookies([{ name: 'duet_session', value: people.maya.session, domain: srv.host, path: '/' }]);
    return p;
  }

  it('login', async () => {
    const { context, page } = await newPerson(browser, srv);
    await page.goto('/');
    await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
    await page.getByLabel('Username').fill('maya');
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await shot(page, 'login');
    const s = pngSize(path.join(shotsDir, 'login.png'));
    assert.deepEqual([s.width, s.height], [1280, 800]);
    publishShot('login');
    await context.close();
  });

  it('conversation list and chat, light and dark', async () => {
    const { ws, chats } = people;
    for (const colorScheme of ['light', 'dark']) {
      const { context, page } = await maya({ colorScheme });
      await page.goto('/');
      await chatItem(page, 'leo').waitFor();
      if (colorScheme === 'light') {
        await openChat(page, 'leo');
        await send(page, 'It did 🚀 Everything is green.');
        await waitStatus(page, 'It did 🚀 Everything is green.', 'seen');
        await sendMsg(ws.leo, chats.leo, 'Nice. The reconnect fix too?');
        await rowsWithText(page, 'Nice. The reconnect fix too?').waitFor();
        await send(
          page,
          'Yes: messages written offline now wait in the outbox and go out once the server is back.\nNo duplicates, same order.',
        );
        await waitStatus(
          page,
          'Yes: messages written offline now wait in the outbox and go out once the server is back.\nNo duplicates, same order.',
          'seen',
        );
        await sendMsg(ws.leo, chats.leo, 'That was the one bug people kept hitting. Thank you!');
        await rowsWithText(page, 'That was the one bug people kept hitting. Thank you!').waitFor();
        await send(page, 'Demo at 3? https://duet.example/demo');
        await until(async () => (await page.locator('.row.mine[data-status="seen"]').count()) >= 1, 'seen ticks');
      } else {
        await openChat(page, 'leo');
        await rowsWithText(page, 'Demo at 3? https://duet.example/demo').waitFor();
      }
      await page.locator('.ch-sub', { hasText: 'online' }).waitFor();
      // Sofia is typing (shown in the list).
      ws.sofia.send({ type: 'typing', chat_id: chats.sofia });
      await chatItem(page, 'sofia').locator('.typing-hint').waitFor();
      await page.getByRole('textbox', { name: 'Message' }).fill(colorScheme === 'light' ? '' : 'See you there 👋');
      await page.mouse.move(1270, 10);
      await shot(page, `chat-${colorScheme}`);
      const s = pngSize(path.join(shotsDir, `chat-${colorScheme}.png`));
      assert.deepEqual([s.width, s.height], [1280, 800]);
      publishShot(`chat-${colorScheme}`);
      assertClean(page);
      await context.close();
      await new Promise((r) => setTimeout(r, 1100)); // the server forwards one typing a second
    }
  });

  it('phone', async () => {
    const { ws, chats } = people;
    const { context, page } = await maya({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await page.goto('/');
    await chatItem(page, 'priya').waitFor();
    await shot(page, 'phone-list-full');
    await chatItem(page, 'priya').tap();
    await rowsWithText(page, 'Can you review my slides before Friday?').waitFor();
    await send(page, 'Sure! Send them over.');
    await waitStatus(page, 'Sure! Send them over.', 'seen');
    await sendMsg(ws.priya, chats.priya, 'Sent. The charts are on slides 4 to 7.');
    await rowsWithText(page, 'Sent. The charts are on slides 4 to 7.').waitFor();
    await until(async () => (await page.locator('.row.mine[data-status="seen"]').count()) >= 1, 'seen ticks');
    await shot(page, 'phone');
    const s = pngSize(path.join(shotsDir, 'phone.png'));
    assert.deepEqual([s.width, s.height], [720, 1480]);
    publishShot('phone');
    assertClean(page);
    await context.close();
    for (const f of ['login', 'chat-light', 'chat-dark', 'phone']) {
      assert.ok(fs.existsSync(path.join(shotsDir, `${f}.png`)), `screenshots/${f}.png`);
      assert.ok(fs.existsSync(path.join(repoRootDir, 'docs', 'screenshots', `${f}.png`)), `docs/screenshots/${f}.png`);
    }
  });
});
