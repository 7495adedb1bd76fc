// 24 - the cost of a peer's formatting marks (audit 9): each opening mark
// searched the rest of its line for a closer, so text of many marks that
// never close ("*x *x *x …") was quadratic: ~50 ms a render for 4,000
// characters on a desktop (a phone: ten times that; a row is rendered
// again at every tick, the chat list parses it too), seconds with a larger
// --max-message-chars (up to 16,000). Now linear; the tokens are the same (22-composer
// has the cases).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertClean, openChat, startSuite, stopSuite, until, withFriends } from './lib/browser.mjs';
import { sendMsg } from '../integration/lib/client.mjs';

describe('24 markup cost', { timeout: 120000 }, () => {
  let srv, browser;
  before(async () => ({ srv, browser } = await startSuite({ args: ['--max-message-chars', '16000'] })));
  after(() => stopSuite(srv, browser));

  it('marks that never close cost linear time', async () => {
    const f = await withFriends(browser, srv, { browsers: ['mka'], peers: ['mkb'] });
    const page = f.people.mka.page;
    const ms = await page.evaluate(async () => {
      const { parse } = await import('/js/markup.js');
      const worst = ['*x '.repeat(5333), '*a _b ~c '.repeat(1777), '*' + 'a _x ~x '.repeat(1999) + 'a*'];
      const out = [];
      for (const s of worst) {
        const t = performance.now();
        const tokens = parse(s);
        out.push([performance.now() - t, tokens.length]);
      }
      return out;
    });
    // Quadratic: about 1 s for the three here; linear: a few ms.
    const total = ms.reduce((a, [t]) => a + t, 0);
    assert.ok(total < 150, `three 16,000-character texts took ${total.toFixed(0)} ms to tokenize`);
    assert.equal(ms[2][1], 1, 'the outer bold still closes at the end');

    // End to end: the peer's 16,000 characters of marks render, formatted.
    const ws = await f.people.mkb.user.connect();
    await sendMsg(ws, f.chats.mkb, '*' + 'a _x ~x '.repeat(1999) + 'a*');
    await openChat(page, 'mkb');
    const bubble = page.locator('.row.theirs .text').last();
    await until(async () => (await bubble.locator('strong').count()) === 1, 'the bold renders');
    assertClean(page);
    await ws.close();
    await f.close();
  });
});
