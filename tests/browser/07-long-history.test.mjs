// 07 - a 10,000-message conversation: the DOM stays bounded (the list is
// windowed), scrolling up pages through all of history with no gap and no
// duplicate, scrolling back down pages forward again (memory is trimmed
// too), and live messages still land at the bottom.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { T, assertClean, launch, openChat, rowsWithText, shot, startWebServer, until, withFriends } from './lib/browser.mjs';
import { sendMsg } from '../integration/lib/client.mjs';

const N = 10000;
const MAX_ROWS = 240; // web/js/views/messages.js

// Sends n messages pipelined in batches; resolves when all are stored.
async function seed(ws, chatId, n) {
  const batch = 500;
  for (let start = 1; start <= n; start += batch) {
    const end = Math.min(n, start + batch - 1);
    for (let i = start; i <= end; i++) ws.send({ type: 'send', ref: `s${i}`, chat_id: chatId, id: `seed-${i}`, text: `message ${i}` });
    await ws.next('sent', (e) => e.ref === `s${end}`, 60000);
  }
}

// The seqs of the rendered rows, in DOM order, and the DOM size.
function rendered(page) {
  return page.evaluate(() => {
    const rows = [...document.querySelectorAll('.msg-list:not(.pending-list) > .row')];
    return {
      seqs: rows.map((r) => Number(r.dataset.seq)),
      texts: rows.map((r) => r.querySelector('.text')?.textContent),
      nodes: document.querySelector('.messages').getElementsByTagName('*').length,
    };
  });
}

function checkRun(r, what) {
  assert.ok(r.seqs.length > 0, `${what}: rows are rendered`);
  assert.ok(r.seqs.length <= MAX_ROWS, `${what}: ${r.seqs.length} rows in the DOM (at most ${MAX_ROWS})`);
  for (let i = 0; i < r.seqs.length; i++) {
    if (i > 0) assert.equal(r.seqs[i], r.seqs[i - 1] + 1, `${what}: rows ${r.seqs[i - 1]} then ${r.seqs[i]}`);
    assert.equal(r.texts[i], `message ${r.seqs[i]}`, `${what}: row ${r.seqs[i]} shows its own text`);
  }
}

describe('07 a 10,000-message conversation', { timeout: 600000 }, () => {
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

  it('windowed rendering: bounded DOM, full history up and down, no gap, no duplicate', async () => {
    const f = await withFriends(browser, srv, {
      browsers: ['tess'],
      peers: ['uma'],
      open: false,
      viewport: { width: 1100, height: 760 },
    });
    const p = f.people.tess;
    const [ut, uu] = [p.user, f.people.uma.user];
    const chatId = f.chats.uma;
    const wu = await uu.connect();
    const t0 = Date.now();
    await seed(wu, chatId, N);
    const seeded = Date.now() - t0;
    // Tess has read them all elsewhere (no "new messages" jump at the start).
    const wt = await ut.connect();
    wt.send({ type: 'ack', chat_id: chatId, kind: 'message', seq: N });
    wt.send({ type: 'seen', chat_id: chatId, seq: N });
    await wt.ping();
    await wt.close();

    const page = p.page;
    await page.goto('/');
    await openChat(page, 'uma');
    await rowsWithText(page, `message ${N}`).waitFor();
    let r = await rendered(page);
    checkRun(r, 'at the end');
    assert.equal(r.seqs[r.seqs.length - 1], N);

    // Up, all the way to message 1.
    const tUp = Date.now();
    let maxRows = 0;
    let maxNodes = 0;
    let steps = 0;
    for (;;) {
      const before = r.seqs[0];
      if (before === 1) break;
      await page.evaluate(() => {
        const s = document.querySelector('.messages');
        s.scrollTop = 0;
        s.dispatchEvent(new Event('scroll'));
      });
      await until(
        async () => {
          r = await rendered(page);
          return r.seqs[0] < before;
        },
        `older messages above ${before}`,
        T,
      );
      steps++;
      maxRows = Math.max(maxRows, r.seqs.length);
      maxNodes = Math.max(maxNodes, r.nodes);
      if (steps % 25 === 0) checkRun(r, `scrolling up, step ${steps}`);
    }
    const upMs = Date.now() - tUp;
    checkRun(r, 'at the top');
    await page.getByText('This is the beginning of your conversation with Uma.').waitFor();
    assert.ok(maxRows <= MAX_ROWS, `at most ${MAX_ROWS} rows at any time (saw ${maxRows})`);
    assert.ok(maxNodes < MAX_ROWS * 30, `the DOM stays small (saw ${maxNodes} elements)`);
    await shot(page, 'long-history-top');

    // Down again, to the newest (memory was trimmed on the way up: this
    // pages forward with history "after").
    const tDown = Date.now();
    for (;;) {
      const last = r.seqs[r.seqs.length - 1];
      if (last === N) break;
      await page.evaluate(() => {
        const s = document.querySelector('.messages');
        s.scrollTop = s.scrollHeight;
        s.dispatchEvent(new Event('scroll'));
      });
      await until(
        async () => {
          r = await rendered(page);
          return r.seqs[r.seqs.length - 1] > last;
        },
        `newer messages below ${last}`,
        T,
      );
      assert.ok(r.seqs.length <= MAX_ROWS, `${r.seqs.length} rows`);
    }
    const downMs = Date.now() - tDown;
    checkRun(r, 'back at the end');

    // Pinned at the bottom: a live message shows up and stays in view.
    await page.evaluate(() => {
      const s = document.querySelector('.messages');
      s.scrollTop = s.scrollHeight;
    });
    await sendMsg(wu, chatId, 'message 10001');
    await rowsWithText(page, 'message 10001').waitFor();
    await until(
      () =>
        page.evaluate(() => {
          const s = document.querySelector('.messages');
          return s.scrollHeight - s.scrollTop - s.clientHeight < 60;
        }),
      'the view to follow the new message',
    );

    // Far up, then "jump to the latest".
    for (let i = 0; i < 8; i++) {
      await page.evaluate(() => {
        const s = document.querySelector('.messages');
        s.scrollTop = 0;
        s.dispatchEvent(new Event('scroll'));
      });
      await page.waitForFunction(() => !document.querySelector('.messages .loader:not([hidden])'));
    }
    await page.getByRole('button', { name: 'Jump to the latest message' }).click();
    await rowsWithText(page, 'message 10001').waitFor();
    r = await rendered(page);
    assert.ok(r.seqs.length <= MAX_ROWS);
    console.log(
      `# 07: seeded ${N} in ${seeded} ms; up in ${steps} steps, ${upMs} ms (${Math.round(upMs / steps)} ms/step); down ${downMs} ms; max ${maxRows} rows, ${maxNodes} elements`,
    );
    assertClean(page);
    await wu.close();
    await f.close();
  });
});
