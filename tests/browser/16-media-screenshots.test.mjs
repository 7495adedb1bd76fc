// 16 - the README's media screenshots (issue 15): a chat with a photo, a
// voice note and a file, on a wide screen and on a phone. The scene is
// made in two browsers (the photo drawn on a canvas, the voice note from
// Chromium's fake microphone); each screenshot is checked to be a PNG of
// the expected size, with the photo loaded and the waveform drawn, and is
// copied to docs/screenshots/ with DUET_UPDATE_SCREENSHOTS=1.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  T,
  assertClean,
  launch,
  newPerson,
  openChat,
  publishShot,
  rowsWithText,
  send,
  shot,
  shotsDir,
  signupInto,
  startWebServer,
  until,
  waitStatus,
} from './lib/browser.mjs';
import { befriend } from '../integration/lib/client.mjs';
import { attach, makePhoto, sendTray } from './lib/media.mjs';

function pngSize(file) {
  const b = fs.readFileSync(file);
  assert.equal(b.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', `${file} is a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

describe('16 screenshots of a chat with media', { timeout: 300000 }, () => {
  let srv;
  let browser;
  let maya;
  let sofia;
  let mayaUser;
  before(async () => {
    srv = await startWebServer();
    browser = await launch({ fakeMedia: true });
    maya = await newPerson(browser, srv);
    sofia = await newPerson(browser, srv);
    mayaUser = await signupInto(maya.context, srv, 'maya', { displayName: 'Maya Okafor' });
    const s = await signupInto(sofia.context, srv, 'sofia', { displayName: 'Sofia Alves' });
    await befriend(mayaUser, s);
    await maya.page.goto('/');
    await sofia.page.goto('/');
    await openChat(maya.page, 'sofia');
    await openChat(sofia.page, 'maya');
  });
  after(async () => {
    await maya?.context.close();
    await sofia?.context.close();
    await browser?.close();
    await srv?.stop();
  });

  it('a photo, a voice note and a file', async () => {
    const m = maya.page;
    const s = sofia.page;
    await send(m, 'How was Lisbon? 😊');
    await rowsWithText(s, 'How was Lisbon? 😊').waitFor();
    const photo = await makePhoto(s, { width: 1600, height: 1200, type: 'image/jpeg' });
    await attach(s, [{ name: 'lisbon.jpg', mimeType: 'image/jpeg', buffer: photo }]);
    await s.getByLabel('Caption for lisbon.jpg').fill('Sunset from the Miradouro 🌅');
    await sendTray(s);
    await m.locator('.row.theirs .media-photo.loaded').waitFor({ timeout: T });
    await send(m, 'Wow, those colours!');
    await m.getByRole('button', { name: 'Record a voice message' }).click();
    await m.waitForTimeout(2500);
    await m.getByRole('button', { name: 'Send the voice message' }).click();
    await s.locator('.row.theirs .voice').waitFor({ timeout: T });
    await attach(s, [
      { name: 'itinerary.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n% duet\n' + 'x'.repeat(180000)) },
    ]);
    await sendTray(s);
    await m.locator('.row.theirs .file-card').waitFor({ timeout: T });
    await send(s, 'Next time you come with us!');
    await rowsWithText(m, 'Next time you come with us!').waitFor();
    await waitStatus(m, 'Wow, those colours!', 'seen');
    await until(async () => (await m.locator('.row.mine[data-status="seen"] .voice').count()) === 1, 'the voice note seen');
    await m.mouse.move(1270, 10);
    await shot(m, 'chat-media');
    assert.deepEqual(Object.values(pngSize(path.join(shotsDir, 'chat-media.png'))), [1280, 800]);
    publishShot('chat-media');
    assertClean(m);
    assertClean(s);
  });

  it('on a phone, dark', async () => {
    const p = await newPerson(browser, srv, {
      viewport: { width: 360, height: 740 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
      colorScheme: 'dark',
    });
    await p.context.addCookies([{ name: 'duet_session', value: mayaUser.session, domain: srv.host, path: '/' }]);
    await p.page.goto('/');
    await p.page.locator('.chat-item[data-username="sofia"]').tap();
    await p.page.locator('.row.theirs .media-photo.loaded').waitFor({ timeout: T });
    await p.page.locator('.voice').waitFor();
    await rowsWithText(p.page, 'Next time you come with us!').waitFor();
    await p.page.locator('.row.theirs .media-photo').scrollIntoViewIfNeeded();
    await shot(p.page, 'phone-media');
    assert.deepEqual(Object.values(pngSize(path.join(shotsDir, 'phone-media.png'))), [720, 1480]);
    publishShot('phone-media');
    assertClean(p.page);
    await p.context.close();
  });
});
