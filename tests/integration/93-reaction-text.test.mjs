// 93 - what a reaction's "emoji" may hold (audit 9): it reaches the peer's
// screen, toasts and lock screen (a push: "Reacted … to your message"), so
// it is held to the display names' rule: no bidi control (an override
// reverses the text after it), no C1 control or line separator, and at
// least one code point that draws something. Real emoji (ZWJ sequences,
// variation selectors, keycaps, flags) still pass.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { User, befriend, history, sendMsg } from './lib/client.mjs';

describe('93 reaction text', { timeout: 60000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('bidi controls, invisible-only and control characters are refused; real emoji pass', async () => {
    const [amy, ben] = await User.all(srv, ['rt_amy', 'rt_ben']);
    const chat = await befriend(amy, ben);
    const A = await amy.connect();
    const B = await ben.connect();
    const s = await sendMsg(A, chat, 'react to me');
    await B.next('message', (e) => e.seq === s.seq);

    const bad = [
      '\u202e👍', // RLO: reverses "to your message" in the push, names in toasts
      '👍\u202e',
      '\u2067😀', // RLI
      '\u200f😀', // RLM
      '\u061c😀', // ALM
      '\u200b', // zero-width space: an invisible reaction
      '\u200d\ufe0f', // ZWJ and VS16 alone
      '\u3164', // Hangul filler
      '\u0085😀', // C1 control (NEL)
      '😀\u2028', // line separator
    ];
    for (const emoji of bad) {
      const err = await B.expectError({ type: 'react', chat_id: chat, seq: s.seq, emoji }, 'bad_emoji');
      assert.equal(err.request, 'react', JSON.stringify(emoji));
    }
    // Nothing was stored: no reaction event reached Amy, history has none.
    await A.expectNo('reaction', 300);
    let h = await history(amy, chat);
    assert.deepEqual(h.find((m) => m.seq === s.seq).reactions ?? [], []);

    for (const emoji of ['👍', '❤️', '👩‍💻', '🇫🇷', '1️⃣', '#️⃣', '👍🏽']) {
      const ans = await B.request({ type: 'react', chat_id: chat, seq: s.seq, emoji });
      assert.equal(ans.type, 'reaction', `${JSON.stringify(emoji)}: ${JSON.stringify(ans)}`);
      assert.equal(ans.emoji, emoji);
    }
    h = await history(amy, chat);
    assert.deepEqual(
      h.find((m) => m.seq === s.seq).reactions.map((r) => r.emoji),
      ['👍🏽'],
    );
    await A.close();
    await B.close();
  });
});
