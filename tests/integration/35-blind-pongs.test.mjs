// 35 - only a pong that answers the server's current ping keeps a WebSocket
// alive, and a client that does not read is closed after a bounded time even
// if it keeps sending pongs (issue 14 item 2): it would otherwise hold its
// output (and what the server keeps for it) forever.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NO_RATE_LIMIT, SLOW, startServer } from './lib/server.mjs';
import { RawWs, User, befriend, nextAddr, wsFrame } from './lib/client.mjs';

const OP_TEXT = 1;
const OP_PING = 9;
const OP_PONG = 10;
const PING_S = 1;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Sends an unsolicited pong every 100 ms until the socket goes; resolves
// with how long it stayed open (ms).
function blindPongsUntilClosed(r, payload, limitMs) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const iv = setInterval(() => {
      if (r.closedSocket || Date.now() - t0 > limitMs) {
        clearInterval(iv);
        resolve(r.closedSocket ? Date.now() - t0 : Infinity);
        return;
      }
      try {
        r.sock.write(wsFrame(OP_PONG, payload));
      } catch {}
    }, 100);
  });
}

// A queue cap far above what the socket holds: the close must come from the
// stalled output, not from the cap (1008).
describe('35 blind pongs, and clients that do not read (--ws-ping 1)', { timeout: 120000 }, () => {
  let srv, alice, bob, chat;
  before(async () => {
    srv = await startServer({ args: ['--ws-ping', String(PING_S), '--max-ws-queue', '262144', ...NO_RATE_LIMIT] });
    [alice, bob] = await User.all(srv, ['alice', 'bob']);
    chat = await befriend(alice, bob);
    const A = await alice.connect();
    const TEXT = 'x'.repeat(4000);
    for (let i = 0; i < 40; i++) assert.equal((await A.request({ type: 'send', chat_id: chat, id: `m${i}`, text: TEXT })).type, 'sent');
    await A.close();
  });
  after(async () => {
    await srv?.stop();
  });

  it('pongs that answer no ping of ours do not keep an idle connection', async () => {
    const r = await RawWs.connect(srv, { cookie: alice.session, localAddress: nextAddr() });
    await r.waitEvent('synced');
    const ping = await r.waitFrame((f) => f.opcode === OP_PING, undefined, 'a ping');
    assert.equal(ping.payload.length, 4, 'the ping carries an id');
    // Wrong payloads (an empty one, a guess) every 100 ms: not an answer.
    const lived = await blindPongsUntilClosed(r, Buffer.from('guess'), 10000 * SLOW);
    console.log(`# 35 blind pongs: closed after ${lived} ms (ping every ${PING_S * 1000} ms)`);
    assert.ok(lived <= 4000 * SLOW, `the connection stayed open ${lived} ms`);
  });

  it('the right pong keeps it open', async () => {
    const r = await RawWs.connect(srv, { cookie: alice.session, localAddress: nextAddr() });
    await r.waitEvent('synced');
    for (let i = 0; i < 3; i++) {
      const ping = await r.waitFrame((f) => f.opcode === OP_PING, 5000 * SLOW, `ping ${i + 1}`);
      r.write(wsFrame(OP_PONG, ping.payload));
    }
    r.sendJson({ type: 'ping', ref: 'alive' });
    assert.equal((await r.waitEvent('pong')).ref, 'alive');
    assert.equal(r.closedSocket, false);
    r.destroy();
  });

  it('a client that does not read is closed even if it sends pongs', async () => {
    const r = await RawWs.connect(srv, { cookie: bob.session, localAddress: nextAddr() });
    r.sock.pause(); // reads nothing from here: not the backlog, nor the pings
    // Enough output to fill the kernel's buffers: 200 pages of 40 × 4 KB.
    const req = wsFrame(OP_TEXT, Buffer.from(JSON.stringify({ type: 'history', chat_id: chat, limit: 100 })));
    r.sock.write(Buffer.concat(Array.from({ length: 200 }, () => req)));
    // Pongs with every payload the ping could have had recently would be a
    // guess; send empty ones, as a client that ignores pings would.
    const lived = await blindPongsUntilClosed(r, Buffer.alloc(0), 20000 * SLOW);
    console.log(`# 35 non-reading client: closed after ${lived} ms (ping every ${PING_S * 1000} ms)`);
    assert.ok(lived <= 6000 * SLOW, `the connection stayed open ${lived} ms`);
    const res = await alice.http.get('/api/me');
    assert.equal(res.status, 200);
  });
});
