// 76 - an edit keeps no old text (issue 17 item 3, docs/security.md): once
// `edited` has gone out, the previous text is in no file under --data (the
// database and its WAL), also for a message still undelivered (its pending
// copy is rewritten) and after a kill -9 right after the answer. SQLite only
// (Cassandra answers unsupported: 75-conv-backend).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SLOW, isCassandra, startServer } from './lib/server.mjs';
import { User, befriend, history, sendMsg } from './lib/client.mjs';

function uniqueText(n) {
  const tag = crypto.randomBytes(6).toString('hex');
  const tokens = [];
  for (let i = 0; i < n; i++) tokens.push(`D${tag}-${String(i).padStart(5, '0')}#`.padEnd(24, '.'));
  return { text: tokens.join(''), tokens };
}


describe('76 an edit erases the old text', { timeout: 120000 * SLOW }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ['--max-message-chars', '6000'] });
  });
  after(async () => {
    await srv?.stop();
  });

  async function survivors(t) {
    const bytes = await srv.storeBytes();
    return t.tokens.filter((tok) => bytes.includes(Buffer.from(tok)));
  }

  it('no file holds the old text once `edited` went out, pending copy included, also after kill -9', async () => {
    const [amy, ben] = await User.all(srv, ['x_amy', 'x_ben']);
    const chat = await befriend(amy, ben);
    const A = await amy.connect();
    // Ben is offline: the message waits in the pending table as a copy.
    const t = uniqueText(120);
    const s = await sendMsg(A, chat, t.text);
    for (let i = 0; i < 20; i++) await sendMsg(A, chat, `filler ${i}`);
    // A token that straddles two overflow pages is not contiguous in the
    // file: all but a few must be found, else the scan proves nothing.
    const before = (await survivors(t)).length;
    assert.ok(before >= t.tokens.length - 3, `the scan finds the text before the edit (else it proves nothing): ${before} of ${t.tokens.length}`);
    const e = await A.request({ type: 'edit', chat_id: chat, seq: s.seq, text: 'nothing to see' });
    assert.equal(e.type, 'edited', JSON.stringify(e));
    let found = await survivors(t);
    assert.equal(found.length, 0, `${found.length} of ${t.tokens.length} pieces of the old text found, e.g. ${found[0]}`);
    // kill -9 straight after an edit: still gone, and the edit stands.
    const t2 = uniqueText(60);
    const s2 = await sendMsg(A, chat, t2.text);
    await A.request({ type: 'edit', chat_id: chat, seq: s2.seq, text: 'second edit' });
    await srv.crash();
    found = await survivors(t2);
    assert.equal(found.length, 0, 'after kill -9');
    await srv.restart();
    const B = await ben.connect();
    const pend = B.pending.filter((ev) => ev.type === 'message');
    assert.equal(pend.find((m) => m.seq === s.seq).text, 'nothing to see', 'the pending copy has the new text');
    assert.equal((await history(ben, chat)).find((m) => m.seq === s2.seq).text, 'second edit');
    await B.close();
  });
});
