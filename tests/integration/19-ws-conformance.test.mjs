// 19 - WebSocket conformance (RFC 6455), organised and numbered like the
// Autobahn testsuite's sections: 1 framing, 2 pings/pongs, 3 reserved bits,
// 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close handling, 9 limits (plus
// 10 masking). Every case runs on its own raw TCP socket after a real
// upgrade handshake with a real session cookie, and writes the bytes by hand.
//
// duetd is a chat server, not an echo server: where Autobahn expects a text
// message echoed, a case sends the JSON request {"type":"ping","ref":R} and
// expects duet's {"type":"pong","ref":R} event. Binary messages are refused
// by design (1003), so Autobahn's binary cases expect 1003 here.
//
// The expected behaviour is RFC 6455's: a protocol error fails the
// connection with 1002, invalid UTF-8 (also in a close reason) with 1007, a
// message over the limit with 1009; a close is answered with a close; a ping
// with a pong carrying the same payload; the server's frames are never
// masked and never carry RSV bits; 1005, 1006 and 1015 never go on the wire;
// after its close frame the server sends nothing and closes TCP. Cases marked
// "duet" are not in Autobahn.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SLOW, sleep, startServer } from './lib/server.mjs';
import { RawWs, User, wsFrame } from './lib/client.mjs';

const CONT = 0,
  TEXT = 1,
  BIN = 2,
  CLOSE = 8,
  PING = 9,
  PONG = 10;
const MAX_MSG = 64 * 1024; // --max-ws-message's default, in bytes
const WAIT_MS = 5000 * SLOW;

const ping = (ref) => Buffer.from(JSON.stringify({ type: 'ping', ref }));
// A JSON ping of exactly n bytes.
function pingOfLength(ref, n) {
  const base = Buffer.byteLength(JSON.stringify({ type: 'ping', ref, pad: '' }));
  assert.ok(n >= base, `no ping of ${n} bytes`);
  return Buffer.from(JSON.stringify({ type: 'ping', ref, pad: 'p'.repeat(n - base) }));
}
// A ping whose ref holds raw bytes (for UTF-8 cases): {"type":"ping","ref":"<bytes>"}.
const pingRaw = (bytes) => Buffer.concat([Buffer.from('{"type":"ping","ref":"'), Buffer.from(bytes), Buffer.from('"}')]);
const u16 = (code) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return b;
};
const closeFrame = (code, reason = Buffer.alloc(0)) => wsFrame(CLOSE, code === null ? Buffer.alloc(0) : Buffer.concat([u16(code), Buffer.from(reason)]));

// What the server should send back, in order, before its close (if any).
const pong = (ref) => ({ what: `pong event ${JSON.stringify(ref)}`, ok: (f) => f.opcode === TEXT && f.json?.type === 'pong' && f.json.ref === ref });
const errorEv = (code) => ({ what: `error event ${code}`, ok: (f) => f.opcode === TEXT && f.json?.type === 'error' && f.json.code === code });
const ctrlPong = (payload) => ({
  what: `pong frame "${Buffer.from(payload).toString('hex')}"`,
  ok: (f) => f.opcode === PONG && f.payload.equals(Buffer.from(payload)),
});

// Steps: a Buffer is written as is; {chops: n, data} is written n bytes at a
// time, each in its own write (so each arrives in its own read); {wait:
// matcher} waits until the server sent that frame; {sleep: ms} pauses.
const chops = (n, data) => ({ chops: n, data: Buffer.isBuffer(data) ? data : Buffer.concat(data) });
const waitFor = (m) => ({ wait: m });

function describeFrames(frames) {
  return frames.map((f) => `op${f.opcode}${f.opcode === CLOSE ? ` ${f.code}` : ''} ${f.opcode === TEXT ? f.payload.toString('utf8').slice(0, 80) : f.payload.toString('hex').slice(0, 40)}`).join(' | ') || 'none';
}

describe('19 WebSocket conformance (Autobahn-style sections)', { timeout: 600000 }, () => {
  let srv, user;
  const closeCodesSeen = [];
  before(async () => {
    srv = await startServer();
    user = await User.signup(srv, 'conformance');
  });
  after(async () => {
    await srv?.stop();
  });

  async function open() {
    const r = await RawWs.connect(srv, { cookie: user.session });
    await r.waitEvent('synced');
    r.frames = []; // hello and synced are not part of the case
    return r;
  }

  // Waits until pred(frames) holds or the socket is closed; true if it held.
  async function until(r, pred, ms = WAIT_MS) {
    const deadline = Date.now() + ms;
    while (!pred(r.frames)) {
      if (r.closedSocket || Date.now() > deadline) return pred(r.frames);
      await new Promise((res) => {
        const t = setTimeout(res, Math.min(50, Math.max(1, deadline - Date.now())));
        r.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
    return true;
  }

  // Runs one case: steps, then either a close with `close` (and the TCP
  // connection ending) or, with close null, a connection that still answers.
  async function run(steps, { replies = [], close = null, anyOrder = false } = {}) {
    const r = await open();
    try {
      for (const s of steps) {
        if (Buffer.isBuffer(s)) r.write(s);
        else if (s.chops) {
          for (let i = 0; i < s.data.length; i += s.chops) {
            if (r.closedSocket) break;
            r.sock.write(s.data.subarray(i, i + s.chops));
            await sleep(1);
          }
          if ((s.data[0] & 0x0f) === CLOSE) r.sentClose = true;
        } else if (s.wait) {
          assert.ok(await until(r, (fs) => fs.some(s.wait.ok)), `no ${s.wait.what} while waiting; frames: ${describeFrames(r.frames)}`);
        } else if (s.sleep) await sleep(s.sleep);
      }
      if (close !== null) {
        const got = await until(r, (fs) => fs.some((f) => f.opcode === CLOSE));
        assert.ok(got, `expected a close frame with ${close}; frames: ${describeFrames(r.frames)}${r.closedSocket ? ' (TCP closed)' : ''}`);
        // The server closes TCP after the closing handshake.
        assert.ok(await until(r, () => r.closedSocket), 'the TCP connection stays open after the close');
        const i = r.frames.findIndex((f) => f.opcode === CLOSE);
        const cf = r.frames[i];
        closeCodesSeen.push(cf.code);
        assert.equal(cf.code, close, `close code; frames: ${describeFrames(r.frames)}`);
        assert.equal(i, r.frames.length - 1, `frames after the close frame: ${describeFrames(r.frames)}`);
      } else {
        // Still open and in step: a final request is answered.
        r.write(wsFrame(TEXT, ping('end-of-case')));
        assert.ok(await until(r, (fs) => fs.some(pong('end-of-case').ok)), `the connection no longer answers; frames: ${describeFrames(r.frames)}${r.closedSocket ? ' (TCP closed)' : ''}`);
        assert.ok(!r.frames.some((f) => f.opcode === CLOSE), `unexpected close: ${describeFrames(r.frames)}`);
        r.frames = r.frames.filter((f) => !pong('end-of-case').ok(f));
      }
      const data = r.frames.filter((f) => f.opcode !== CLOSE);
      for (const f of r.frames) {
        assert.equal(f.masked, false, 'server frames are never masked (RFC 6455 5.1)');
        assert.equal(f.rsv, 0, 'no RSV bits without an extension');
        assert.equal(f.fin, true, 'duet sends whole messages');
      }
      const want = replies.map((m) => m.what);
      if (anyOrder) {
        assert.equal(data.length, replies.length, `replies: want ${want.join(', ') || 'none'}; got ${describeFrames(data)}`);
        for (const m of replies) assert.ok(data.some(m.ok), `missing ${m.what}; got ${describeFrames(data)}`);
      } else {
        const ok = data.length === replies.length && replies.every((m, i) => m.ok(data[i]));
        assert.ok(ok, `replies: want ${want.join(', ') || 'none'}; got ${describeFrames(data)}`);
      }
    } finally {
      r.destroy();
    }
  }

  const cases = [];
  const c = (id, title, steps, expect) => cases.push({ id, title, steps, expect });

  // ------------------------------------------------------------ 1 framing
  for (const [id, n] of [['1.1.1', 0], ['1.1.2', 125], ['1.1.3', 126], ['1.1.4', 127], ['1.1.5', 128], ['1.1.6', 65535], ['1.1.7', MAX_MSG]]) {
    if (n === 0) {
      c(id, 'empty text message: valid framing, answered with bad_json', [wsFrame(TEXT, Buffer.alloc(0))], { replies: [errorEv('bad_json')] });
      continue;
    }
    c(id, `text message of ${n} bytes (${n < 126 ? '7-bit' : n < 65536 ? '16-bit' : '64-bit'} length)`, [wsFrame(TEXT, pingOfLength(id, n))], { replies: [pong(id)] });
  }
  c('1.1.8', 'text message of 65535 bytes in chops of 997 octets', [chops(997, wsFrame(TEXT, pingOfLength('1.1.8', 65535)))], { replies: [pong('1.1.8')] });
  c('1.1.9 (duet)', 'a frame written one byte at a time', [chops(1, wsFrame(TEXT, ping('1.1.9')))], { replies: [pong('1.1.9')] });
  c('1.1.10 (duet)', 'three messages in one write', [Buffer.concat([wsFrame(TEXT, ping('a')), wsFrame(TEXT, ping('b')), wsFrame(TEXT, ping('c'))])], { replies: [pong('a'), pong('b'), pong('c')] });
  c('1.2.1', 'binary message (duet refuses binary: 1003)', [wsFrame(BIN, Buffer.alloc(0))], { close: 1003 });
  c('1.2.2', 'binary message of 125 bytes → 1003', [wsFrame(BIN, Buffer.alloc(125, 0xfe))], { close: 1003 });
  c('1.2.6', 'binary message of 65535 bytes → 1003', [wsFrame(BIN, Buffer.alloc(65535, 0xfe))], { close: 1003 });

  // ---------------------------------------------------------- 2 ping/pong
  c('2.1', 'ping without payload → pong without payload', [wsFrame(PING)], { replies: [ctrlPong(Buffer.alloc(0))] });
  c('2.2', 'ping with a small text payload → the same payload', [wsFrame(PING, Buffer.from('Hello, world!'))], { replies: [ctrlPong(Buffer.from('Hello, world!'))] });
  c('2.3', 'ping with a binary payload', [wsFrame(PING, Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]))], { replies: [ctrlPong(Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]))] });
  c('2.4', 'ping with 125 bytes of payload', [wsFrame(PING, Buffer.alloc(125, 0xfe))], { replies: [ctrlPong(Buffer.alloc(125, 0xfe))] });
  c('2.5', 'ping with 126 bytes of payload → 1002', [wsFrame(PING, Buffer.alloc(126, 0xfe))], { close: 1002 });
  c('2.6', 'ping with 125 bytes in chops of 1 byte', [chops(1, wsFrame(PING, Buffer.alloc(125, 0x41)))], { replies: [ctrlPong(Buffer.alloc(125, 0x41))] });
  c('2.7', 'unsolicited pong without payload: ignored', [wsFrame(PONG)], {});
  c('2.8', 'unsolicited pong with payload: ignored', [wsFrame(PONG, Buffer.from('unsolicited pong payload'))], {});
  c('2.9', 'unsolicited pong, then ping', [wsFrame(PONG, Buffer.from('unsolicited')), wsFrame(PING, Buffer.from('ping payload'))], { replies: [ctrlPong(Buffer.from('ping payload'))] });
  const ten = Array.from({ length: 10 }, (_, i) => Buffer.from(`payload-${i}`));
  c('2.10', '10 pings with payload → 10 pongs, in order', [Buffer.concat(ten.map((p) => wsFrame(PING, p)))], { replies: ten.map(ctrlPong) });
  c('2.11', '10 pings in chops of 1 byte', [chops(1, ten.map((p) => wsFrame(PING, p)))], { replies: ten.map(ctrlPong) });

  // --------------------------------------------------------- 3 reserved bits
  c('3.1', 'text with RSV = 1 → 1002', [wsFrame(TEXT, ping('3.1'), { rsv: 1 })], { close: 1002 });
  c('3.2', 'a good text, then text with RSV = 2 → reply, then 1002', [wsFrame(TEXT, ping('3.2')), waitFor(pong('3.2')), wsFrame(TEXT, ping('x'), { rsv: 2 })], { replies: [pong('3.2')], close: 1002 });
  c('3.3', 'as 3.2 frame-wise with RSV = 3, then a ping that must stay unanswered', [wsFrame(TEXT, ping('3.3')), waitFor(pong('3.3')), Buffer.concat([wsFrame(TEXT, ping('x'), { rsv: 3 }), wsFrame(PING)])], { replies: [pong('3.3')], close: 1002 });
  c('3.4', 'as 3.3 with RSV = 4, in chops of 1 byte', [wsFrame(TEXT, ping('3.4')), waitFor(pong('3.4')), chops(1, [wsFrame(TEXT, ping('x'), { rsv: 4 }), wsFrame(PING)])], { replies: [pong('3.4')], close: 1002 });
  c('3.5', 'binary with RSV = 5 → 1002', [wsFrame(BIN, Buffer.from([1, 2, 3]), { rsv: 5 })], { close: 1002 });
  c('3.6', 'ping with RSV = 6 → 1002 (no pong)', [wsFrame(PING, Buffer.from('rsv'), { rsv: 6 })], { close: 1002 });
  c('3.7', 'close with RSV = 7 → 1002', [wsFrame(CLOSE, u16(1000), { rsv: 7 })], { close: 1002 });

  // ------------------------------------------------------------- 4 opcodes
  for (const [i, op] of [[1, 3], [2, 4], [3, 5], [4, 6], [5, 7]]) {
    c(`4.1.${i}`, `reserved data opcode ${op} → 1002`, [wsFrame(TEXT, ping(`4.1.${i}`)), waitFor(pong(`4.1.${i}`)), Buffer.concat([wsFrame(op, Buffer.from('reserved')), wsFrame(PING)])], { replies: [pong(`4.1.${i}`)], close: 1002 });
  }
  for (const [i, op] of [[1, 11], [2, 12], [3, 13], [4, 14], [5, 15]]) {
    c(`4.2.${i}`, `reserved control opcode ${op} → 1002`, [wsFrame(TEXT, ping(`4.2.${i}`)), waitFor(pong(`4.2.${i}`)), Buffer.concat([wsFrame(op, Buffer.from('reserved')), wsFrame(PING)])], { replies: [pong(`4.2.${i}`)], close: 1002 });
  }

  // ------------------------------------------------------- 5 fragmentation
  const msg = ping('fragmented');
  const [m1, m2] = [msg.subarray(0, 10), msg.subarray(10)];
  c('5.1', 'a fragmented ping → 1002', [wsFrame(PING, Buffer.from('frag'), { fin: false }), wsFrame(CONT, Buffer.from('ment'))], { close: 1002 });
  c('5.2', 'a fragmented pong → 1002', [wsFrame(PONG, Buffer.from('frag'), { fin: false }), wsFrame(CONT, Buffer.from('ment'))], { close: 1002 });
  c('5.3', 'text in 2 fragments', [Buffer.concat([wsFrame(TEXT, m1, { fin: false }), wsFrame(CONT, m2)])], { replies: [pong('fragmented')] });
  c('5.4', 'as 5.3, in chops of 1 byte', [chops(1, [wsFrame(TEXT, m1, { fin: false }), wsFrame(CONT, m2)])], { replies: [pong('fragmented')] });
  c('5.5', 'as 5.3, frame-wise with a pause', [wsFrame(TEXT, m1, { fin: false }), { sleep: 50 }, wsFrame(CONT, m2)], { replies: [pong('fragmented')] });
  c('5.6', 'text in 2 fragments with a ping in between', [Buffer.concat([wsFrame(TEXT, m1, { fin: false }), wsFrame(PING, Buffer.from('between')), wsFrame(CONT, m2)])], { replies: [ctrlPong('between'), pong('fragmented')] });
  c('5.7', 'as 5.6, in chops of 1 byte', [chops(1, [wsFrame(TEXT, m1, { fin: false }), wsFrame(PING, Buffer.from('between')), wsFrame(CONT, m2)])], { replies: [ctrlPong('between'), pong('fragmented')] });
  c('5.8', 'as 5.6, frame-wise', [wsFrame(TEXT, m1, { fin: false }), { sleep: 20 }, wsFrame(PING, Buffer.from('between')), waitFor(ctrlPong('between')), wsFrame(CONT, m2)], { replies: [ctrlPong('between'), pong('fragmented')] });
  c('5.9', 'a continuation with FIN and no message to continue → 1002', [Buffer.concat([wsFrame(CONT, ping('x')), wsFrame(TEXT, ping('5.9'))])], { close: 1002 });
  c('5.10', 'as 5.9, frame-wise', [wsFrame(CONT, ping('x')), { sleep: 20 }, wsFrame(TEXT, ping('5.10'))], { close: 1002 });
  c('5.11', 'as 5.9, in chops of 1 byte', [chops(1, [wsFrame(CONT, ping('x')), wsFrame(TEXT, ping('5.11'))])], { close: 1002 });
  c('5.12', 'a continuation without FIN and no message to continue → 1002', [Buffer.concat([wsFrame(CONT, ping('x'), { fin: false }), wsFrame(TEXT, ping('5.12'))])], { close: 1002 });
  c('5.13', 'as 5.12, frame-wise', [wsFrame(CONT, ping('x'), { fin: false }), { sleep: 20 }, wsFrame(TEXT, ping('5.13'))], { close: 1002 });
  c('5.14', 'as 5.12, in chops of 1 byte', [chops(1, [wsFrame(CONT, ping('x'), { fin: false }), wsFrame(TEXT, ping('5.14'))])], { close: 1002 });
  c('5.15', 'a complete fragmented message, then a stray continuation → reply, then 1002', [wsFrame(TEXT, m1, { fin: false }), wsFrame(CONT, m2), waitFor(pong('fragmented')), Buffer.concat([wsFrame(CONT, Buffer.from('x'), { fin: false }), wsFrame(CONT, Buffer.from('y'))])], { replies: [pong('fragmented')], close: 1002 });
  c('5.16', 'a stray continuation pair before and after a good message → 1002 at once', [Buffer.concat([wsFrame(CONT, Buffer.from('a'), { fin: false }), wsFrame(CONT, Buffer.from('b')), wsFrame(TEXT, ping('5.16'))])], { close: 1002 });
  c('5.17', 'as 5.16, with FIN on the first continuation', [Buffer.concat([wsFrame(CONT, Buffer.from('a')), wsFrame(CONT, Buffer.from('b')), wsFrame(TEXT, ping('5.17'))])], { close: 1002 });
  c('5.18', 'a second text frame where a continuation is due → 1002', [Buffer.concat([wsFrame(TEXT, m1, { fin: false }), wsFrame(TEXT, m2)])], { close: 1002 });
  const five = [msg.subarray(0, 5), msg.subarray(5, 10), msg.subarray(10, 15), msg.subarray(15, 20), msg.subarray(20)];
  c('5.19', 'text in 5 fragments with pings between, frame-wise', [
    wsFrame(TEXT, five[0], { fin: false }), wsFrame(CONT, five[1], { fin: false }), wsFrame(PING, Buffer.from('p1')), waitFor(ctrlPong('p1')),
    wsFrame(CONT, five[2], { fin: false }), wsFrame(CONT, five[3], { fin: false }), wsFrame(PING, Buffer.from('p2')), waitFor(ctrlPong('p2')),
    wsFrame(CONT, five[4]),
  ], { replies: [ctrlPong('p1'), ctrlPong('p2'), pong('fragmented')] });
  c('5.20', 'as 5.19 in one write', [Buffer.concat([
    wsFrame(TEXT, five[0], { fin: false }), wsFrame(CONT, five[1], { fin: false }), wsFrame(PING, Buffer.from('p1')),
    wsFrame(CONT, five[2], { fin: false }), wsFrame(CONT, five[3], { fin: false }), wsFrame(PING, Buffer.from('p2')), wsFrame(CONT, five[4]),
  ])], { replies: [ctrlPong('p1'), ctrlPong('p2'), pong('fragmented')] });
  c('5.21 (duet)', 'a fragmented message with empty fragments', [Buffer.concat([wsFrame(TEXT, Buffer.alloc(0), { fin: false }), wsFrame(CONT, msg, { fin: false }), wsFrame(CONT, Buffer.alloc(0))])], { replies: [pong('fragmented')] });

  // --------------------------------------------------------------- 6 UTF-8
  c('6.1.1', 'empty fragments of an empty text message: valid, answered bad_json', [Buffer.concat([wsFrame(TEXT, Buffer.alloc(0), { fin: false }), wsFrame(CONT, Buffer.alloc(0), { fin: false }), wsFrame(CONT, Buffer.alloc(0))])], { replies: [errorEv('bad_json')] });
  const kosme = Buffer.from('κόσμε', 'utf8');
  c('6.5.1', 'valid UTF-8: κόσμε', [wsFrame(TEXT, pingRaw(kosme))], { replies: [pong('κόσμε')] });
  {
    // 6.6: κόσμε cut into fragments at every byte.
    const whole = pingRaw(kosme);
    const start = whole.indexOf(kosme[0]);
    const steps = [];
    let prev = 0;
    for (let k = 1; k <= kosme.length; k++) {
      const end = start + k;
      steps.push(wsFrame(prev === 0 ? TEXT : CONT, whole.subarray(prev, end), { fin: false }));
      prev = end;
    }
    steps.push(wsFrame(CONT, whole.subarray(prev)));
    c('6.6.1', 'κόσμε with a fragment boundary after every byte, inside every code point', [Buffer.concat(steps)], { replies: [pong('κόσμε')] });
  }
  const valid = [
    ['6.2.1', 'U+0080 (first 2-byte)', [0xc2, 0x80]],
    ['6.2.2', 'U+0800 (first 3-byte)', [0xe0, 0xa0, 0x80]],
    ['6.2.3', 'U+10000 (first 4-byte)', [0xf0, 0x90, 0x80, 0x80]],
    ['6.7.1', 'U+007F (last 1-byte)', [0x7f]],
    ['6.7.2', 'U+07FF (last 2-byte)', [0xdf, 0xbf]],
    ['6.7.3', 'U+FFFF (last 3-byte)', [0xef, 0xbf, 0xbf]],
    ['6.7.4', 'U+10FFFF (last code point)', [0xf4, 0x8f, 0xbf, 0xbf]],
    ['6.7.5', 'U+D7FF (before the surrogates)', [0xed, 0x9f, 0xbf]],
    ['6.7.6', 'U+E000 (after the surrogates)', [0xee, 0x80, 0x80]],
    ['6.7.7', 'U+FFFD', [0xef, 0xbf, 0xbd]],
  ];
  for (const [id, what, bytes] of valid) {
    const s = Buffer.from(bytes).toString('utf8');
    c(id, `valid UTF-8: ${what}`, [wsFrame(TEXT, pingRaw(bytes))], { replies: [pong(s)] });
    // The same, split inside the code point across two fragments.
    if (bytes.length > 1) {
      const whole = pingRaw(bytes);
      const cut = whole.indexOf(bytes[0]) + 1;
      c(`${id}.f (duet)`, `valid UTF-8 split inside ${what} across fragments`, [wsFrame(TEXT, whole.subarray(0, cut), { fin: false }), { sleep: 10 }, wsFrame(CONT, whole.subarray(cut))], { replies: [pong(s)] });
    }
  }
  const invalid = [
    ['6.3.1', 'κόσμε with a bad byte inside', [0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64]],
    ['6.8.1', 'U+110000 (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]],
    ['6.8.2', '5-byte sequence (F8 88 80 80 80)', [0xf8, 0x88, 0x80, 0x80, 0x80]],
    ['6.8.3', '6-byte sequence (FC 84 80 80 80 80)', [0xfc, 0x84, 0x80, 0x80, 0x80, 0x80]],
    ['6.8.4', 'F7 BF BF BF', [0xf7, 0xbf, 0xbf, 0xbf]],
    ['6.9.1', 'overlong "/" (C0 AF)', [0xc0, 0xaf]],
    ['6.9.2', 'overlong "/" (E0 80 AF)', [0xe0, 0x80, 0xaf]],
    ['6.9.3', 'overlong "/" (F0 80 80 AF)', [0xf0, 0x80, 0x80, 0xaf]],
    ['6.9.4', 'maximal overlong (C1 BF)', [0xc1, 0xbf]],
    ['6.9.5', 'maximal overlong (E0 9F BF)', [0xe0, 0x9f, 0xbf]],
    ['6.9.6', 'maximal overlong (F0 8F BF BF)', [0xf0, 0x8f, 0xbf, 0xbf]],
    ['6.9.7', 'overlong NUL (C0 80)', [0xc0, 0x80]],
    ['6.10.1', 'surrogate U+D800', [0xed, 0xa0, 0x80]],
    ['6.10.2', 'surrogate U+DBFF', [0xed, 0xaf, 0xbf]],
    ['6.10.3', 'surrogate U+DC00', [0xed, 0xb0, 0x80]],
    ['6.10.4', 'surrogate U+DFFF', [0xed, 0xbf, 0xbf]],
    ['6.10.5', 'surrogate pair U+D800 U+DC00', [0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80]],
    ['6.11.1', 'lone continuation byte 80', [0x80]],
    ['6.11.2', 'lone continuation byte BF', [0xbf]],
    ['6.11.3', 'continuation bytes 80 BF 80', [0x80, 0xbf, 0x80]],
    ['6.12.1', 'lone 2-byte lead then space (C0 20)', [0xc2, 0x20]],
    ['6.12.2', 'lone 3-byte lead then space (E0 20)', [0xe1, 0x20]],
    ['6.12.3', 'lone 4-byte lead then space (F0 20)', [0xf1, 0x20]],
    ['6.13.1', '2-byte sequence missing its last byte (C2)', [0xc2]],
    ['6.13.2', '3-byte sequence missing its last byte (E0 A0)', [0xe0, 0xa0]],
    ['6.13.3', '4-byte sequence missing its last byte (F0 90 80)', [0xf0, 0x90, 0x80]],
    ['6.14.1', 'impossible byte FE', [0xfe]],
    ['6.14.2', 'impossible byte FF', [0xff]],
    ['6.14.3', 'impossible bytes FE FE FF FF', [0xfe, 0xfe, 0xff, 0xff]],
  ];
  for (const [id, what, bytes] of invalid) {
    c(id, `invalid UTF-8 → 1007: ${what}`, [wsFrame(TEXT, pingRaw(bytes))], { close: 1007 });
  }
  {
    const at = (bytes, cutAfter) => {
      const whole = pingRaw(bytes);
      const cut = whole.indexOf(bytes[0]) + cutAfter;
      return [whole.subarray(0, cut), whole.subarray(cut)];
    };
    let [a, b] = at([0xf4, 0x90, 0x80, 0x80], 1);
    c('6.4.1', 'fail fast: F4 | 90 80 80 split inside the code point: 1007 on the second fragment, before FIN', [wsFrame(TEXT, a, { fin: false }), { sleep: 20 }, wsFrame(CONT, b, { fin: false })], { close: 1007 });
    [a, b] = at([0xed, 0xa0, 0x80], 2);
    c('6.4.2', 'fail fast: ED A0 | 80 (a surrogate) split across fragments', [wsFrame(TEXT, a, { fin: false }), { sleep: 20 }, wsFrame(CONT, b, { fin: false })], { close: 1007 });
    [a, b] = at([0xe2, 0x82, 0x28], 2);
    c('6.4.3', 'fail fast: E2 82 | 28 (a lead not continued) split across fragments', [wsFrame(TEXT, a, { fin: false }), { sleep: 20 }, wsFrame(CONT, b)], { close: 1007 });
    const bad = pingRaw([0xc0, 0xaf]);
    c('6.4.4', 'fail fast: invalid bytes in the first fragment; the rest never comes', [wsFrame(TEXT, bad.subarray(0, bad.length - 2), { fin: false })], { close: 1007 });
    c('6.4.5', 'fail fast inside one frame: the frame is cut after the bad byte and the rest never comes', [wsFrame(TEXT, pingRaw([0xff, 0x61, 0x62])).subarray(0, 6 + 24)], { close: 1007 });
    c('6.4.6 (duet)', 'a message ending inside a code point (F0 9F | end)', [wsFrame(TEXT, Buffer.concat([Buffer.from('{"type":"ping"}'), Buffer.from([0xf0, 0x9f])]), { fin: false }), wsFrame(CONT, Buffer.alloc(0))], { close: 1007 });
  }

  // ------------------------------------------------------- 7 close handling
  c('7.1.1', 'a good message, then a close → reply, then the close echoed', [Buffer.concat([wsFrame(TEXT, ping('7.1.1')), closeFrame(1000)])], { replies: [pong('7.1.1')], close: 1000 });
  c('7.1.2', 'two closes: answered once', [Buffer.concat([closeFrame(1000), closeFrame(1000)])], { close: 1000 });
  c('7.1.3', 'a ping after the close: no pong', [Buffer.concat([closeFrame(1000), wsFrame(PING, Buffer.from('late'))])], { close: 1000 });
  c('7.1.4', 'a text message after the close: not answered', [Buffer.concat([closeFrame(1000), wsFrame(TEXT, ping('late'))])], { close: 1000 });
  c('7.1.5', 'a fragment, a close, then the continuation: not answered', [Buffer.concat([wsFrame(TEXT, m1, { fin: false }), closeFrame(1000), wsFrame(CONT, m2)])], { close: 1000 });
  c('7.1.6', 'a large message, a close and a ping in one write', [Buffer.concat([wsFrame(TEXT, pingOfLength('7.1.6', 60 * 1024)), closeFrame(1000), wsFrame(PING)])], { replies: [pong('7.1.6')], close: 1000 });
  c('7.3.1', 'a close with no payload → a close with no payload (never 1005 on the wire)', [closeFrame(null)], { close: null, closeEmpty: true });
  c('7.3.2', 'a close with a 1-byte payload → 1002', [wsFrame(CLOSE, Buffer.from([0x03]))], { close: 1002 });
  c('7.3.3', 'close 1000 without reason', [closeFrame(1000)], { close: 1000 });
  c('7.3.4', 'close 1000 with a reason', [closeFrame(1000, 'Hello World!')], { close: 1000 });
  c('7.3.5', 'close 1000 with a reason of 123 bytes (the most that fits)', [closeFrame(1000, 'r'.repeat(123))], { close: 1000 });
  c('7.3.6', 'close 1000 with a reason of 124 bytes (payload 126) → 1002', [closeFrame(1000, 'r'.repeat(124))], { close: 1002 });
  c('7.5.1', 'close with an invalid UTF-8 reason → 1007', [closeFrame(1000, Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64]))], { close: 1007 });
  c('7.5.2 (duet)', 'close with a reason ending inside a code point → 1007', [closeFrame(1000, Buffer.from([0x61, 0xe2, 0x82]))], { close: 1007 });
  c('7.5.3 (duet)', 'close with a valid multi-byte reason written a byte at a time', [chops(1, closeFrame(1000, Buffer.from('κόσμε é 😀')))], { close: 1000 });
  c('7.5.4 (duet)', 'close with a valid reason split inside a code point across two writes', [(() => {
    const f = closeFrame(1000, Buffer.from('aé'));
    return { chops: f.length - 1, data: f };
  })()], { close: 1000 });
  for (const [i, code] of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999].entries()) {
    c(`7.7.${i + 1}`, `close with the valid code ${code} → echoed`, [closeFrame(code)], { close: code });
  }
  // 1012-1014 were registered after RFC 6455 (IANA); neither list holds them.
  for (const [i, code] of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535].entries()) {
    c(`7.9.${i + 1}`, `close with the invalid code ${code} → 1002`, [closeFrame(code)], { close: 1002 });
  }

  // ---------------------------------------------------------------- 9 limits
  c('9.1.1 (duet)', `a text message of exactly ${MAX_MSG} bytes (the limit) in one frame`, [wsFrame(TEXT, pingOfLength('9.1.1', MAX_MSG))], { replies: [pong('9.1.1')] });
  c('9.1.2 (duet)', `one frame of ${MAX_MSG + 1} bytes → 1009`, [wsFrame(TEXT, pingOfLength('9.1.2', MAX_MSG + 1))], { close: 1009 });
  c('9.1.3 (duet)', `${MAX_MSG + 1} bytes in 5 fragments → 1009`, [(() => {
    const m = pingOfLength('9.1.3', MAX_MSG + 1);
    const n = Math.ceil(m.length / 5);
    return Buffer.concat([0, 1, 2, 3, 4].map((k) => wsFrame(k === 0 ? TEXT : CONT, m.subarray(k * n, (k + 1) * n), { fin: k === 4 })));
  })()], { close: 1009 });
  c('9.1.4 (duet)', 'a frame header announcing 1 GiB → 1009 at once, before any payload', [(() => {
    const h = Buffer.from([0x81, 0xff, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4]);
    return h;
  })()], { close: 1009 });
  c('9.1.5 (duet)', 'a frame header announcing 2^63 - 1 bytes → closed (1009)', [Buffer.from([0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4])], { close: 1009 });
  c('9.2.1 (duet)', 'a close frame of 126 bytes (a control frame over 125) → 1002', [wsFrame(CLOSE, Buffer.concat([u16(1000), Buffer.alloc(124, 0x61)]))], { close: 1002 });
  c('9.2.2 (duet)', 'a pong frame of 126 bytes → 1002', [wsFrame(PONG, Buffer.alloc(126, 0x61))], { close: 1002 });

  // --------------------------------------------------------------- 10 masking
  c('10.1.1 (duet)', 'an unmasked text frame from the client → 1002', [wsFrame(TEXT, ping('10.1.1'), { mask: false })], { close: 1002 });
  c('10.1.2 (duet)', 'an unmasked ping → 1002, no pong', [wsFrame(PING, Buffer.from('p'), { mask: false })], { close: 1002 });
  c('10.1.3 (duet)', 'an unmasked close → 1002', [wsFrame(CLOSE, u16(1000), { mask: false })], { close: 1002 });
  c('10.1.4 (duet)', 'a masked message, then an unmasked continuation → 1002', [Buffer.concat([wsFrame(TEXT, m1, { fin: false }), wsFrame(CONT, m2, { mask: false })])], { close: 1002 });
  c('10.1.5 (duet)', 'an all-zero masking key is still a mask', [(() => {
    const p = ping('10.1.5');
    return Buffer.concat([Buffer.from([0x81, 0x80 | p.length, 0, 0, 0, 0]), p]);
  })()], { replies: [pong('10.1.5')] });

  for (const k of cases) {
    it(`${k.id} ${k.title}`, async () => {
      if (k.expect.closeEmpty) {
        // 7.3.1 needs the close frame's payload itself.
        const r = await open();
        try {
          r.write(k.steps[0]);
          const f = await r.waitFrame((x) => x.opcode === CLOSE, WAIT_MS, 'close frame');
          assert.equal(f.payload.length, 0, `the answer to an empty close carries ${f.payload.toString('hex')}`);
          await r.waitSocketClosed();
        } finally {
          r.destroy();
        }
        return;
      }
      await run(k.steps, k.expect);
    });
  }

  it('1005, 1006 and 1015 never went on the wire; every close code sent was a valid one', () => {
    assert.ok(closeCodesSeen.length > 50, `only ${closeCodesSeen.length} close frames seen`);
    for (const code of closeCodesSeen) {
      assert.ok(![1005, 1006, 1015].includes(code), `the server sent close code ${code}`);
      assert.ok((code >= 1000 && code <= 1011 && code !== 1004) || (code >= 3000 && code <= 4999), `the server sent close code ${code}`);
    }
  });

  it('server-initiated closes (session end) carry a valid code and reason, unmasked', async () => {
    const d = await user.device();
    const r = await RawWs.connect(srv, { cookie: d.session });
    await r.waitEvent('synced');
    const res = await d.http.post('/api/logout');
    assert.equal(res.status, 204);
    const f = await r.waitFrame((x) => x.opcode === CLOSE, WAIT_MS, 'close frame');
    assert.equal(f.masked, false);
    assert.equal(f.code, 1008);
    assert.equal(f.reason, 'session ended');
    await r.waitSocketClosed();
  });
});
