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

async function gauge(user, name) {
  const r = await user.http.get('/metrics');
  assert.equal(r.status, 200);
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(r.text);
  assert.ok(m, `${name} is missing from /metrics`);
  return Number(m[1]);
}
const parked = (user) => gauge(user, 'duet_websockets_parked');

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

describe('18 new WebSockets start parked', { timeout: 120000 }, () => {
  let srv, carol, dave, chat;

  before(async () => {
    srv = await startServer();
    [carol, dave] = await User.all(srv, ['park_carol', 'park_dave']);
    chat = await befriend(carol, dave);
  });

  after(async () => {
    await carol?.closeAll();
    await dave?.closeAll();
    await srv?.stop();
  });

  it('a session gets its hello, backlog and live messages as plain frames without unparking', async () => {
    // a backlog for carol: frames of both short length forms (< 126, 16 bits)
    const d = await dave.connect();
    const short = await sendMsg(d, chat, 'short');
    const long = await sendMsg(d, chat, 'x'.repeat(300));
    await dave.closeAll();
    while ((await gauge(carol, 'duet_websockets')) > 0) await sleep(50); // dave's close is done
    const r = await RawWs.connect(srv, { cookie: carol.session });
    const hello = await r.waitEvent('hello');
    assert.equal(hello.user.username, 'park_carol');
    const synced = await r.waitEvent('synced');
    assert.equal(synced.pending, 2);
    const got = r.frames.filter((f) => f.json?.type === 'message').map((f) => [f.json.seq, f.json.text]);
    assert.deepEqual(got, [
      [short.seq, 'short'],
      [long.seq, 'x'.repeat(300)],
    ]);
    for (const f of r.frames) {
      assert.equal(f.opcode, 1, 'a text frame');
      assert.ok(f.fin && !f.masked && f.rsv === 0, 'one final, unmasked frame per event');
    }
    // no wslay state was made for any of it: the only WebSocket is parked
    assert.equal(await gauge(carol, 'duet_websockets'), 1);
    assert.equal(await parked(carol), 1, 'a new WebSocket that only received was not parked');
    // and the session works both ways: a frame from the client unparks it
    r.sendText(JSON.stringify({ type: 'ping', ref: 'after-start' }));
    assert.equal((await r.waitEvent('pong')).ref, 'after-start');
    r.write(wsFrame(8, Buffer.from([0x03, 0xe8])));
    assert.equal(await r.waitClose(), 1000);
    await r.waitSocketClosed();
  });
});

describe('18 pings to parked WebSockets', { timeout: 120000 }, () => {
  let srv, erin;

  before(async () => {
    srv = await startServer({ args: ['--ws-ping', '1'] });
    [erin] = await User.all(srv, ['park_erin']);
  });

  after(async () => {
    await erin?.closeAll();
    await srv?.stop();
  });

  it('a parked connection is pinged and its pongs are taken without unparking; no pong closes it', async () => {
    const r = await RawWs.connect(srv, { cookie: erin.session });
    await r.waitEvent('synced');
    for (let i = 0; i < 3; i++) {
      const ping = await r.waitFrame((f) => f.opcode === OP_PING, undefined, `ping ${i + 1}`);
      assert.ok(ping.fin && !ping.masked, 'a final, unmasked ping');
      // the ping made no wslay state, nor did the pongs before it
      assert.equal(await parked(erin), 1, `not parked at ping ${i + 1}`);
      const pong = wsFrame(OP_PONG, ping.payload);
      if (i < 2) {
        r.write(pong);
      } else {
        // a pong and a request in one write: the pong is taken, the rest goes on
        const req = wsFrame(OP_TEXT, Buffer.from(JSON.stringify({ type: 'ping', ref: 'behind-pong' })));
        r.write(Buffer.concat([pong, req]));
        assert.equal((await r.waitEvent('pong')).ref, 'behind-pong');
      }
    }
    // answered pings kept it open; an unanswered one closes it at the next
    await r.waitFrame((f) => f.opcode === OP_PING, undefined, 'the last ping');
    await r.waitSocketClosed();
  });
});
