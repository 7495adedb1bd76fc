// 18 - parked WebSockets: a connection that stays quiet gives back its
// framing state (about 8.6 KiB) at the next sweep (once a second) and gets it
// again with its next frame. Nothing about it may change for the client:
// frames in both directions, pings, a message split across the quiet time,
// and the close handshake all work after parking.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { RawWs, User, befriend, sendMsg, wsFrame } from './lib/client.mjs';

const OP_CONT = 0,
  OP_TEXT = 1,
  OP_PING = 9,
  OP_PONG = 10;

// Two sweeps: the first clears the busy mark, the second parks.
const QUIET_MS = 2600;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function parked(user) {
  const r = await user.http.get('/metrics');
  assert.equal(r.status, 200);
  const m = /^duet_websockets_parked (\d+)$/m.exec(r.text);
  assert.ok(m, 'duet_websockets_parked is missing from /metrics');
  return Number(m[1]);
}

describe('18 parked WebSockets', { timeout: 120000 }, () => {
  let srv, alice, bob, chat;

  before(async () => {
    srv = await startServer();
    [alice, bob] = await User.all(srv, ['park_alice', 'park_bob']);
    chat = await befriend(alice, bob);
  });

  after(async () => {
    await alice?.closeAll();
    await bob?.closeAll();
    await srv?.stop();
  });

  it('quiet connections park, and messages flow both ways afterwards', async () => {
    const a = await alice.connect();
    const b = await bob.connect();
    await sleep(QUIET_MS);
    assert.ok((await parked(alice)) >= 2, 'two quiet WebSockets were not parked');
    const sent = await sendMsg(a, chat, 'after a quiet while');
    const msg = await b.next('message');
    assert.equal(msg.text, 'after a quiet while');
    assert.equal(msg.seq, sent.seq);
    b.send({ type: 'ack', chat_id: chat, kind: 'message', seq: msg.seq });
    const receipt = await a.next('receipt');
    assert.equal(receipt.status, 'delivered');
    assert.equal(receipt.seq, sent.seq);
    // and once more, after parking again
    await sleep(QUIET_MS);
    assert.ok((await parked(alice)) >= 2, 'the WebSockets did not park again');
    const again = await sendMsg(b, chat, 'and again');
    assert.equal((await a.next('message')).seq, again.seq);
  });

  it('a message split by a quiet time is not lost when the connection parks', async () => {
    const r = await RawWs.connect(srv, { cookie: alice.session });
    await r.waitEvent('synced');
    await sleep(QUIET_MS); // parked before anything is half sent
    const body = Buffer.from(JSON.stringify({ type: 'ping', ref: 'split-across-quiet' }));
    const frame = wsFrame(OP_TEXT, body);
    // half a frame header, a quiet time, then the rest
    r.write(frame.subarray(0, 1));
    await sleep(QUIET_MS);
    r.write(frame.subarray(1, 9));
    await sleep(QUIET_MS);
    r.write(frame.subarray(9));
    assert.equal((await r.waitEvent('pong')).ref, 'split-across-quiet');
    // a message in two fragments with a quiet time between them
    const first = Buffer.from('{"type":"ping",');
    const second = Buffer.from('"ref":"fragments"}');
    r.write(wsFrame(OP_TEXT, first, { fin: false }));
    await sleep(QUIET_MS);
    r.write(wsFrame(OP_CONT, second));
    assert.equal((await r.waitEvent('pong')).ref, 'fragments');
    // control frames on a parked connection are answered
    await sleep(QUIET_MS);
    r.write(wsFrame(OP_PING, Buffer.from('hi')));
    const pong = await r.waitFrame((f) => f.opcode === OP_PONG, undefined, 'pong frame');
    assert.equal(pong.payload.toString(), 'hi');
    // and the close handshake
    await sleep(QUIET_MS);
    r.write(wsFrame(8, Buffer.from([0x03, 0xe8])));
    assert.equal(await r.waitClose(), 1000);
    await r.waitSocketClosed();
  });
});
