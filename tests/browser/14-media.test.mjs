// 14 - media messages in the web client (issue 15): a photo made on a
// canvas is re-encoded in the browser (EXIF with GPS gone, longest side
// <= 2560), the other side sees the blurred thumbnail at once and then the
// full image, opens it in the lightbox and goes through the chat's photos
// with the keyboard; a voice note recorded with Chromium's fake microphone
// plays with a waveform and speeds; a video recorded from a canvas shows
// its poster and duration, plays, and seeks (HTTP Range).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  T,
  assertClean,
  chatItem,
  fakeNotifications,
  launch,
  newPerson,
  openChat,
  startWebServer,
  until,
  withFriends,
} from './lib/browser.mjs';
import { apiHistory, attach, fetchMedia, makePhoto, makeVideo, sendTray, withExif } from './lib/media.mjs';

describe('14 media: photos, voice notes, videos', { timeout: 300000 }, () => {
  let srv;
  let browser;
  let f;
  let ann;
  let bob;
  before(async () => {
    srv = await startWebServer();
    browser = await launch({ fakeMedia: true });
    f = await withFriends(browser, srv, { browsers: ['ann', 'bob'], initScript: fakeNotifications });
    ann = f.people.ann.page;
    bob = f.people.bob.page;
    await openChat(ann, 'bob');
    await openChat(bob, 'ann');
  });
  after(async () => {
    await f?.close();
    await browser?.close();
    await srv?.stop();
  });

  it('a photo: re-encoded without EXIF, thumbnail first, then the full image; the lightbox', async () => {
    const marker = 'LAT51.5007LON0.1246';
    const jpeg = withExif(await makePhoto(ann, { width: 3200, height: 2400, type: 'image/jpeg' }), marker);
    assert.ok(jpeg.includes(marker), 'the original carries the GPS marker');
    await attach(ann, [{ name: 'holiday.jpg', mimeType: 'image/jpeg', buffer: jpeg }]);
    // The tray: a preview, the caption, the remove button.
    const tray = ann.locator('.tray-item');
    await tray.locator('img.tray-thumb').waitFor();
    await tray.getByLabel('Caption for holiday.jpg').fill('Sunset at the lake');
    await sendTray(ann);
    await ann.locator('.tray').waitFor({ state: 'hidden' });

    // Bob: the row, its box at the photo's aspect ratio, the blurred thumb, then the image.
    const row = bob
      .locator('.row.theirs')
      .filter({ has: bob.locator('.media-photo') })
      .last();
    await row.waitFor({ timeout: T });
    const thumb = row.locator('img.media-thumb');
    assert.match((await thumb.getAttribute('src')) || '', /^data:image\/(webp|jpeg);base64,/);
    const box = await row.locator('.media-photo').boundingBox();
    assert.ok(Math.abs(box.width / box.height - 4 / 3) < 0.03, `the box keeps 4:3 (${box.width}x${box.height})`);
    await row.locator('.media-photo.loaded').waitFor();
    const sizes = await row.evaluate((el) => ({
      thumb: el.querySelector('img.media-thumb').naturalWidth,
      full: el.querySelector('img.media-full').naturalWidth,
      fullH: el.querySelector('img.media-full').naturalHeight,
    }));
    assert.ok(sizes.thumb > 0 && sizes.thumb <= 64, `a small thumbnail (${sizes.thumb} px)`);
    assert.ok(sizes.full > sizes.thumb, `the full image is bigger than the thumbnail (${sizes.full} px)`);
    assert.deepEqual([sizes.full, sizes.fullH], [2560, 1920], 'longest side 2560');
    assert.equal(await row.locator('.text').textContent(), 'Sunset at the lake');
    await chatItem(bob, 'ann').locator('.ci-preview', { hasText: '📷 Sunset at the lake' }).waitFor();

    // What the server stores is the re-encoded photo: WebP, no EXIF.
    const hist = await apiHistory(bob, f.chats.bob);
    const m = hist.find((x) => x.media && (x.msg_type ?? x.type) === 1);
    assert.ok(m, 'the message has media in history');
    assert.equal(m.media.width, 2560);
    assert.equal(m.media.height, 1920);
    const got = await fetchMedia(bob, m.media.id);
    assert.equal(got.status, 200);
    assert.equal(got.bytes.subarray(0, 4).toString('latin1'), 'RIFF', 'WebP bytes');
    assert.equal(got.bytes.subarray(8, 12).toString('latin1'), 'WEBP');
    assert.ok(!got.bytes.includes(marker), 'no GPS marker left');
    assert.ok(!got.bytes.includes('Exif'), 'no EXIF left');
    assert.equal(got.bytes.length, m.media.size);

    // Ann ticks like text, and her photo shows at once from her own bytes.
    await ann.locator('.row.mine[data-status="seen"] .media-photo.loaded').last().waitFor();

    // A second photo, without caption, while Bob's tab is hidden: the
    // notification says what it is.
    await bob.evaluate(() => window.__setHidden(true));
    const png = await makePhoto(ann, { width: 400, height: 600 });
    await attach(ann, [{ name: 'tall.png', mimeType: 'image/png', buffer: png }]);
    await sendTray(ann);
    await bob.locator('.row.theirs .media-photo.loaded').nth(1).waitFor();
    await chatItem(bob, 'ann').locator('.ci-preview', { hasText: '📷 Photo' }).waitFor();
    await until(() => bob.evaluate(() => window.__notes.some((n) => n.body.includes('📷 Photo'))), 'a notification "📷 Photo"');
    await bob.evaluate(() => window.__setHidden(false));

    // The lightbox: open the first, → to the second, ← back, Escape closes.
    // With the keyboard: the photo is a button.
    const first = bob.locator('.row.theirs .media-photo').first();
    await first.focus();
    await bob.keyboard.press('Enter');
    const lb = bob.locator('dialog.lightbox');
    await lb.waitFor();
    await lb.locator('.lb-count', { hasText: '1 of 2' }).waitFor();
    await until(
      () => lb.evaluate((d) => d.classList.contains('loaded') && d.querySelector('.lb-img').naturalWidth === 2560),
      'the full photo',
    );
    await bob.keyboard.press('ArrowRight');
    await lb.locator('.lb-count', { hasText: '2 of 2' }).waitFor();
    await until(() => lb.evaluate((d) => d.querySelector('.lb-img').naturalWidth === 400), 'the second photo');
    await bob.keyboard.press('ArrowLeft');
    await lb.locator('.lb-count', { hasText: '1 of 2' }).waitFor();
    const dl = bob.waitForEvent('download');
    await lb.getByRole('button', { name: 'Download photo' }).click();
    const d = await dl;
    assert.match(d.suggestedFilename(), /\.webp$/);
    await bob.keyboard.press('Escape');
    await lb.waitFor({ state: 'detached' });
    assert.ok(await first.evaluate((el) => el === document.activeElement), 'focus back on the photo');
    assertClean(ann);
    assertClean(bob);
  });

  it('a voice note: recorded with the fake microphone, played with its waveform and speeds', async () => {
    const before = (await apiHistory(bob, f.chats.bob)).length;
    // Cancelled: nothing is sent.
    await ann.getByRole('button', { name: 'Record a voice message' }).click();
    const bar = ann.locator('.rec-bar');
    await bar.waitFor();
    await ann.waitForTimeout(700);
    await ann.getByRole('button', { name: 'Cancel the recording' }).click();
    await bar.waitFor({ state: 'hidden' });
    await ann.getByRole('textbox', { name: 'Message' }).waitFor();
    await ann.waitForTimeout(500);
    assert.equal(await ann.locator('.row.pending').count(), 0, 'a cancelled recording is not queued');
    assert.equal((await apiHistory(bob, f.chats.bob)).length, before);

    await ann.getByRole('button', { name: 'Record a voice message' }).click();
    await bar.waitFor();
    await until(async () => (await bar.locator('.rec-time').textContent()) !== '0:00', 'the timer runs');
    await ann.waitForTimeout(1200);
    await ann.getByRole('button', { name: 'Send the voice message' }).click();
    await bar.waitFor({ state: 'hidden' });

    const voice = bob.locator('.row.theirs .voice').last();
    await voice.waitFor({ timeout: T });
    await chatItem(bob, 'ann').locator('.ci-preview', { hasText: '🎤 Voice message' }).waitFor();
    const hist = await apiHistory(bob, f.chats.bob);
    const m = hist.filter((x) => x.media && (x.msg_type ?? x.type) === 3).pop();
    assert.ok(m, 'a voice message in history');
    assert.match(m.media.mime, /^audio\/(webm|ogg)$/);
    assert.equal(m.media.waveform.length, 64, '64 peaks');
    assert.ok(
      m.media.waveform.some((v) => v > 0),
      'a waveform with sound in it',
    );
    assert.ok(m.media.duration_ms >= 1500 && m.media.duration_ms < 20000, `duration ${m.media.duration_ms} ms`);

    await voice.getByRole('button', { name: 'Play voice message' }).click();
    await voice.getByRole('button', { name: 'Pause voice message' }).waitFor();
    await until(() => voice.evaluate((el) => el.querySelector('audio').currentTime > 0.3), 'playback advances');
    await voice.getByRole('button', { name: 'Playback speed 1×' }).click();
    assert.equal(await voice.evaluate((el) => el.querySelector('audio').playbackRate), 1.5);
    await voice.getByRole('button', { name: 'Playback speed 1.5×' }).click();
    assert.equal(await voice.evaluate((el) => el.querySelector('audio').playbackRate), 2);
    // The played part is drawn: the slider reports the position.
    await until(async () => Number(await voice.locator('.voice-track').getAttribute('aria-valuenow')) >= 1, 'the position moves');
    // Closing the chat stops it (nothing plays on unseen).
    const player = await voice.elementHandle();
    // Looping, so that it cannot end by itself while we look.
    await player.evaluate((el) => {
      const a = el.querySelector('audio');
      a.loop = true;
      return a.paused ? a.play() : null;
    });
    assert.equal(await player.evaluate((el) => el.querySelector('audio').paused), false);
    await bob.evaluate(() => {
      location.hash = '';
    });
    await bob.locator('.chat-head').waitFor({ state: 'detached' });
    await until(() => player.evaluate((el) => el.querySelector('audio').paused), 'paused once the chat is closed');
    await openChat(bob, 'ann');
    assertClean(ann);
    assertClean(bob);
  });

  it('a video recorded from a canvas: poster and duration, plays, seeks with Range', async () => {
    const webm = await makeVideo(ann, { ms: 3000 });
    await attach(ann, [{ name: 'clip.webm', mimeType: 'video/webm', buffer: webm }]);
    await sendTray(ann);

    const ranges = [];
    bob.on('response', (r) => {
      if (r.url().includes('/api/media/')) ranges.push(r.status());
    });
    const box = bob.locator('.row.theirs .media-video').last();
    await box.waitFor({ timeout: T });
    await chatItem(bob, 'ann').locator('.ci-preview', { hasText: '🎥 Video' }).waitFor();
    const video = box.locator('video');
    assert.match((await video.getAttribute('poster')) || '', /^data:image\/(webp|jpeg);base64,/);
    assert.match(await box.locator('.media-badge').textContent(), /^0:0[2-4]$/);
    await video.evaluate((v) => v.play());
    await until(() => video.evaluate((v) => v.currentTime > 0.3), 'the video plays');
    await video.evaluate((v) => v.pause());
    const at = await video.evaluate(
      (v) =>
        new Promise((resolve) => {
          v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
          v.currentTime = 2;
        }),
    );
    assert.ok(Math.abs(at - 2) < 0.5, `seeked to ${at}`);
    assert.ok(ranges.includes(206), `the video came in ranges (${ranges.join(',')})`);
    assertClean(ann);
    assertClean(bob);
  });

  it('the lightbox on a phone: a swipe goes to the next photo, two fingers zoom', async () => {
    const p = await newPerson(browser, srv, { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    await p.context.addCookies([{ name: 'duet_session', value: f.people.bob.user.session, domain: srv.host, path: '/' }]);
    await p.page.goto('/');
    // The chat list from the server names the last message's kind.
    await chatItem(p.page, 'ann').locator('.ci-preview', { hasText: '🎥 Video' }).waitFor();
    await chatItem(p.page, 'ann').tap();
    await p.page.locator('.row.theirs .media-photo.loaded').first().waitFor();
    await p.page.locator('.row.theirs .media-photo').first().tap();
    const lb = p.page.locator('dialog.lightbox');
    await lb.locator('.lb-count', { hasText: '1 of 2' }).waitFor();
    const cdp = await p.context.newCDPSession(p.page);
    const touch = (type, points) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: points.map(([x, y], id) => ({ x, y, id })) });
    // A swipe to the left: the next photo.
    await touch('touchStart', [[300, 370]]);
    for (const x of [260, 200, 140, 80]) await touch('touchMove', [[x, 372]]);
    await touch('touchEnd', []);
    await lb.locator('.lb-count', { hasText: '2 of 2' }).waitFor();
    // Two fingers apart: zoomed in.
    await touch('touchStart', [
      [160, 370],
      [200, 370],
    ]);
    for (const d of [40, 80, 120, 160]) {
      await touch('touchMove', [
        [160 - d / 2, 370],
        [200 + d / 2, 370],
      ]);
    }
    await touch('touchEnd', []);
    await until(() => lb.evaluate((d) => d.classList.contains('zoomed')), 'zoomed in');
    const scale = await lb.locator('.lb-img').evaluate((img) => new DOMMatrix(getComputedStyle(img).transform).a);
    assert.ok(scale > 1.5, `pinched to ${scale}x`);
    await lb.getByRole('button', { name: 'Close' }).tap();
    await lb.waitFor({ state: 'detached' });
    assertClean(p.page);
    await p.context.close();
  });

  it('delete for everyone: the photo is gone on both screens and on the server', async () => {
    const hist = await apiHistory(ann, f.chats.bob);
    const m = hist.find((x) => x.text === 'Sunset at the lake');
    const row = ann.locator(`.row.mine[data-seq="${m.seq}"]`);
    await row.hover();
    await row.getByRole('button', { name: 'Message info' }).click();
    const dlg = ann.locator('dialog');
    await dlg.getByRole('button', { name: 'Delete for everyone' }).click();
    await dlg.getByRole('button', { name: 'Delete', exact: true }).click();
    await row.locator('.tombstone', { hasText: 'You deleted this message' }).waitFor();
    const theirs = bob.locator(`.row.theirs[data-seq="${m.seq}"]`);
    await theirs.locator('.tombstone', { hasText: 'This message was deleted' }).waitFor();
    assert.equal(await theirs.locator('.media-photo').count(), 0, 'no photo left in the row');
    assert.equal(await row.locator('.media-photo').count(), 0);
    await until(async () => (await fetchMedia(bob, m.media.id)).status === 404, 'the photo is gone from the server');
    assertClean(ann);
    assertClean(bob);
  });
});
