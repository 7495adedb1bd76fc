// 15 - big transfers in the web client (issue 15): an upload over ~200 KB
// shows a progress bar and can be cancelled (a tus DELETE: the server
// forgets it, nothing is sent); "Send as file" keeps a photo's bytes; a
// big download shows its progress and can be cancelled; an upload goes on
// where it stopped after a reload and after a server restart, and the
// message is sent once it completes. The network is slowed down through
// the DevTools protocol so that there is something to watch.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { T, assertClean, controlSocket, launch, newPage, online, openChat, startWebServer, until, withFriends } from './lib/browser.mjs';
import { apiHistory, attach, fetchMedia, makePhoto, randomFile, sendTray, sha256, throttle } from './lib/media.mjs';

const MB = 1024 * 1024;

// Records the page's tus requests: [{method, url, offset}].
function watchTus(page) {
  const seen = [];
  page.on('request', (r) => {
    if (!r.url().includes('/api/uploads')) return;
    seen.push({ method: r.method(), url: new URL(r.url()).pathname, offset: Number(r.headers()['upload-offset'] ?? -1) });
  });
  return seen;
}

// Bytes the server has of the pending upload, as the progress bar shows it.
async function uploaded(page, name) {
  return page.evaluate((n) => {
    const b = document.querySelector(`.upload-progress[aria-label="Uploading ${n}"]`);
    return b ? b.value * Number(b.dataset.size) : -1;
  }, name);
}

async function headStatus(page, url) {
  return page.evaluate(async (u) => (await fetch(u, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })).status, url);
}

describe('15 uploads: progress, cancel, resume', { timeout: 400000 }, () => {
  let srv;
  let browser;
  let f;
  let ann;
  let bob;
  before(async () => {
    srv = await startWebServer();
    browser = await launch();
    f = await withFriends(browser, srv, { browsers: ['ann', 'bob'] });
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

  it('a big upload shows its progress; cancel deletes it on the server and sends nothing', async () => {
    const tus = watchTus(ann);
    const cdp = await throttle(f.people.ann.context, ann, { up: 1 * MB });
    await attach(ann, [{ name: 'big.bin', mimeType: 'application/octet-stream', buffer: randomFile(8 * MB) }]);
    await sendTray(ann);
    const bar = ann.getByLabel('Uploading big.bin');
    await bar.waitFor();
    await until(async () => (await uploaded(ann, 'big.bin')) > 0.2 * MB, 'upload progress');
    const created = tus.find((x) => x.method === 'POST');
    assert.ok(created, 'a tus POST');
    const url = tus.find((x) => x.method === 'PATCH').url;
    await ann.getByRole('button', { name: 'Cancel sending big.bin' }).click();
    await ann.locator('.row.pending').waitFor({ state: 'detached' });
    await until(() => tus.some((x) => x.method === 'DELETE' && x.url === url), 'a tus DELETE of the upload');
    await until(async () => (await headStatus(ann, url)) === 404, 'the server forgot the upload');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, uploadThroughput: -1, downloadThroughput: -1 });
    // Nothing reached Bob, and nothing waits in Ann's outbox after a reload.
    assert.equal((await apiHistory(bob, f.chats.bob)).length, 0);
    await ann.reload();
    await online(ann);
    await openChat(ann, 'bob');
    assert.equal(await ann.locator('.row.pending').count(), 0);
    assertClean(ann);
  });

  it('paste and drop add to the tray; a removed item is not sent', async () => {
    const drop = (sel, files, type) =>
      ann.evaluate(
        ({ sel, files, type }) => {
          const dt = new DataTransfer();
          for (const [name, text] of files) dt.items.add(new File([text], name, { type: 'text/plain' }));
          const el = document.querySelector(sel);
          if (type === 'paste') el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
          else
            for (const t of ['dragenter', 'dragover', 'drop'])
              el.dispatchEvent(new DragEvent(t, { dataTransfer: dt, bubbles: true, cancelable: true }));
        },
        { sel, files, type },
      );
    await drop(
      '.composer-input',
      [
        ['one.txt', 'first'],
        ['two.txt', 'second'],
        ['four.txt', '4'],
        ['five.txt', '5'],
        ['six.txt', '6'],
      ],
      'paste',
    );
    await drop('.messages', [['three.txt', 'third']], 'drop');
    const items = ann.locator('.tray-item');
    await until(async () => (await items.count()) === 6, 'six items in the tray');
    assert.deepEqual(await items.locator('.tray-name').allTextContents(), [
      'one.txt',
      'two.txt',
      'four.txt',
      'five.txt',
      'six.txt',
      'three.txt',
    ]);
    await ann.getByRole('button', { name: 'Remove two.txt' }).click();
    await ann.getByLabel('Caption for three.txt').fill('the third one');
    await sendTray(ann);
    const cards = bob.locator('.row.theirs .file-card');
    // More than the server lets one user have unfinished at once (4): all
    // arrive (each is sent when its upload completes: the order may vary).
    await until(async () => (await cards.count()) === 5, 'five files at Bob');
    assert.deepEqual((await cards.locator('.file-name').allTextContents()).sort(), [
      'five.txt',
      'four.txt',
      'one.txt',
      'six.txt',
      'three.txt',
    ]);
    await bob.locator('.row.theirs .text', { hasText: 'the third one' }).waitFor();
    const names = (await apiHistory(bob, f.chats.bob)).map((m) => m.media?.name);
    assert.ok(!names.includes('two.txt'), 'the removed file was not sent');
    assertClean(ann);
  });

  it('"Send as file" keeps the bytes; a big download shows its progress and can be cancelled', async () => {
    const photo = await makePhoto(ann, { width: 1200, height: 900, type: 'image/jpeg' });
    const data = randomFile(3 * MB);
    await attach(ann, [
      { name: 'original.jpg', mimeType: 'image/jpeg', buffer: photo },
      { name: 'data.bin', mimeType: 'application/octet-stream', buffer: data },
    ]);
    await ann.getByLabel('Send as file (original quality)').check();
    await sendTray(ann);
    const cards = bob.locator('.row.theirs .file-card').filter({ hasNotText: '.txt' });
    await until(async () => (await cards.count()) === 2, 'two files at Bob');
    assert.equal(await bob.locator('.row.theirs .media-photo').count(), 0, 'a photo sent as a file is not inline');
    assert.deepEqual(await cards.locator('.file-name').allTextContents(), ['original.jpg', 'data.bin']);
    assert.equal(await cards.nth(1).locator('.file-size').textContent(), '3.0 MB');
    const hist = await apiHistory(bob, f.chats.bob);
    const orig = hist.find((m) => m.media?.name === 'original.jpg');
    assert.equal(orig.msg_type ?? orig.type, 4);
    assert.equal(sha256((await fetchMedia(bob, orig.media.id)).bytes), sha256(photo), 'the original bytes');

    // Bob downloads the big one slowly: progress, cancel, then the whole file.
    const cdp = await throttle(f.people.bob.context, bob, { down: 256 * 1024 });
    const card = cards.nth(1);
    await card.getByRole('button', { name: 'Download data.bin' }).click();
    const prog = card.locator('.media-progress');
    await prog.waitFor();
    await until(() => prog.evaluate((p) => p.value > 0), 'download progress');
    await card.getByRole('button', { name: 'Cancel the download of data.bin' }).click();
    await prog.waitFor({ state: 'hidden' });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, uploadThroughput: -1, downloadThroughput: -1 });
    const dl = bob.waitForEvent('download');
    await card.getByRole('button', { name: 'Download data.bin' }).click();
    const d = await dl;
    assert.equal(d.suggestedFilename(), 'data.bin');
    const file = await d.path();
    assert.equal(sha256(fs.readFileSync(file)), sha256(data), 'the downloaded bytes');
    assertClean(bob);
  });

  it('a photo over 200 KB loads with a progress bar that can be cancelled and resumed', async () => {
    const photo = await makePhoto(ann, { width: 2000, height: 1500, type: 'image/jpeg', noise: true });
    const cdp = await throttle(f.people.bob.context, bob, { down: 128 * 1024 });
    await attach(ann, [{ name: 'noisy.jpg', mimeType: 'image/jpeg', buffer: photo }]);
    await sendTray(ann);
    const row = bob
      .locator('.row.theirs')
      .filter({ has: bob.locator('.media-photo') })
      .last();
    const box = row.locator('.media-photo');
    await box.waitFor({ timeout: T });
    const m = (await apiHistory(bob, f.chats.bob)).find((x) => x.media?.name === 'noisy.webp' || x.media?.name === 'noisy.jpg');
    assert.ok(m.media.size > 200 * 1024, `a big photo (${m.media.size} bytes)`);
    const bar = row.locator('.media-load progress');
    await until(() => bar.evaluate((p) => !p.hidden && p.value > 0), 'the photo loads with progress');
    await row.getByRole('button', { name: 'Cancel loading the photo' }).click();
    await row.getByRole('button', { name: /^Load the photo/ }).waitFor();
    assert.equal(await box.evaluate((el) => el.classList.contains('loaded')), false, 'not shown after cancel');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, uploadThroughput: -1, downloadThroughput: -1 });
    await row.getByRole('button', { name: /^Load the photo/ }).click();
    await row.locator('.media-photo.loaded').waitFor();
    assert.ok((await box.locator('img.media-full').evaluate((i) => i.naturalWidth)) === 2000);
    assertClean(bob);
  });

  it('an upload resumes after a reload and after a server restart; then it is sent', async () => {
    const tus = watchTus(ann);
    await throttle(f.people.ann.context, ann, { up: 1.5 * MB });
    const data = randomFile(14 * MB);
    await attach(ann, [{ name: 'archive.bin', mimeType: 'application/octet-stream', buffer: data }]);
    await sendTray(ann);
    await until(async () => (await uploaded(ann, 'archive.bin')) > 4.5 * MB, 'a first chunk stored', T * 2);

    // A reload: the outbox still has the file; HEAD, then on from there.
    const before = tus.length;
    await ann.reload();
    await online(ann);
    await throttle(f.people.ann.context, ann, { up: 1.5 * MB });
    await openChat(ann, 'bob');
    await until(() => tus.slice(before).some((x) => x.method === 'PATCH'), 'the upload goes on after the reload');
    const afterReload = tus.slice(before);
    assert.ok(
      afterReload.some((x) => x.method === 'HEAD'),
      'it asked the server where it was',
    );
    assert.ok(!afterReload.some((x) => x.method === 'POST'), 'no new upload');
    assert.ok(afterReload.find((x) => x.method === 'PATCH').offset >= 4 * MB, 'it resumed past the first chunk');

    // The network drops for a moment: it goes on from HEAD again.
    const cdp = await f.people.ann.context.newCDPSession(ann);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: true, latency: 0, uploadThroughput: -1, downloadThroughput: -1 });
    const cut = tus.length;
    await ann.waitForTimeout(1500);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, uploadThroughput: 1.5 * MB, downloadThroughput: -1 });
    await until(
      () => tus.slice(cut).some((x) => x.method === 'PATCH' && x.offset >= 4 * MB),
      'the upload goes on after the network is back',
      T * 2,
    );
    assert.ok(!tus.slice(cut).some((x) => x.method === 'POST'), 'no new upload after the cut');

    // The server goes down mid-upload and comes back on the same data.
    await until(async () => (await uploaded(ann, 'archive.bin')) > 8.5 * MB, 'a second chunk stored', T * 2);
    const port = srv.port;
    const mark = tus.length;
    await srv.stop({ keepData: true });
    await ann.waitForTimeout(1500);
    await srv.restart({ port });
    await until(
      () => tus.slice(mark).some((x) => x.method === 'PATCH' && x.offset >= 8 * MB),
      'the upload resumes after the restart',
      T * 2,
    );
    assert.ok(!tus.slice(mark).some((x) => x.method === 'POST'), 'the same upload, not a new one');

    // Sent once complete: Bob gets exactly the bytes.
    const card = bob.locator('.row.theirs .file-card', { hasText: 'archive.bin' });
    await card.waitFor({ timeout: T * 3 });
    await ann.locator('.row.pending').waitFor({ state: 'detached' });
    const m = (await apiHistory(bob, f.chats.bob)).find((x) => x.media?.name === 'archive.bin');
    assert.equal(m.media.size, data.length);
    assert.equal(sha256((await fetchMedia(bob, m.media.id)).bytes), sha256(data));
    assert.equal((await apiHistory(bob, f.chats.bob)).filter((x) => x.media?.name === 'archive.bin').length, 1, 'sent once');
    assertClean(ann);
    assertClean(bob);
  });

  it('an upload the server lost before the send is uploaded again, then sent', async () => {
    const g = await withFriends(browser, srv, { browsers: ['cara'], peers: ['dora'], open: false });
    const { context, page } = g.people.cara;
    const ctl = await controlSocket(context);
    const tus = watchTus(page);
    await page.goto('/');
    await online(page);
    await openChat(page, 'dora');
    ctl.holdSends = true;
    const data = randomFile(300 * 1024);
    await attach(page, [{ name: 'notes.bin', mimeType: 'application/octet-stream', buffer: data }]);
    await sendTray(page);
    await until(() => ctl.held.length === 1, 'the send waits (held back by the test)');
    // The upload goes away before the send reaches the server (as if it expired).
    const url = tus.find((x) => x.method === 'POST') && tus.filter((x) => x.method === 'PATCH').pop().url;
    assert.equal(
      await page.evaluate(async (u) => (await fetch(u, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' } })).status, url),
      204,
    );
    ctl.release();
    await until(() => tus.filter((x) => x.method === 'POST').length === 2, 'a second upload of the same bytes');
    await page.locator('.row.pending').waitFor({ state: 'detached', timeout: T * 2 });
    const hist = await g.people.dora.user.http.get(`/api/chats/${g.chats.dora}/messages`);
    const msgs = hist.json.messages.filter((m) => m.media?.name === 'notes.bin');
    assert.equal(msgs.length, 1, 'sent once');
    assert.equal(msgs[0].media.size, data.length);
    assertClean(page);
    await g.close();
  });

  it('two tabs: the other tab shows the upload, and takes it over when the first one closes', async () => {
    const g = await withFriends(browser, srv, { browsers: ['eve'], peers: ['finn'] });
    const { context, page: tab1 } = g.people.eve;
    const tab2 = await newPage(context);
    await tab2.goto('/');
    await online(tab2);
    await openChat(tab1, 'finn');
    await openChat(tab2, 'finn');
    await throttle(context, tab1, { up: 1 * MB });
    const tus2 = watchTus(tab2);
    const data = randomFile(6 * MB);
    await attach(tab1, [{ name: 'shared.bin', mimeType: 'application/octet-stream', buffer: data }]);
    await sendTray(tab1);
    await until(async () => (await uploaded(tab1, 'shared.bin')) > 0.5 * MB, 'the first tab uploads');
    // The other tab lists it as sending, and does not upload it as well.
    await tab2.locator('.row.pending[data-status="pending"]').waitFor();
    assert.equal(tus2.filter((x) => x.method === 'PATCH').length, 0, 'one tab uploads at a time');
    await tab1.close();
    await until(() => tus2.some((x) => x.method === 'PATCH'), 'the second tab goes on with it', T * 2);
    assert.equal(tus2.filter((x) => x.method === 'POST').length, 0, 'the same upload');
    await tab2.locator('.row.pending').waitFor({ state: 'detached', timeout: T * 2 });
    const hist = await g.people.finn.user.http.get(`/api/chats/${g.chats.finn}/messages`);
    const msgs = hist.json.messages.filter((m) => m.media?.name === 'shared.bin');
    assert.equal(msgs.length, 1, 'sent once');
    assertClean(tab2);
    await g.close();
  });
});
