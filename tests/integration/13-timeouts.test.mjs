// 13 - slow clients: headers that do not arrive in time get 408 timeout, and
// slow connections do not hold up anyone else.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SLOW, startServer } from './lib/server.mjs';
import { HttpClient, expectApiHeaders, expectStatus, nextAddr, parseRawResponse } from './lib/client.mjs';

describe('13 timeouts', { timeout: 120000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('headers that never complete → 408 timeout and the connection closes, while others are served', async () => {
    const slow = [];
    for (let i = 0; i < 20; i++) {
      const s = net.connect({ host: srv.host, port: srv.port, localAddress: nextAddr() });
      const st = { buf: Buffer.alloc(0), closed: false, t0: Date.now() };
      s.on('data', (d) => (st.buf = Buffer.concat([st.buf, d])));
      s.on('close', () => {
        st.closed = true;
        st.t1 = Date.now();
      });
      s.on('error', () => {});
      s.on('connect', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: '));
      slow.push({ s, st });
    }
    // Meanwhile the server answers everyone else at once.
    const h = new HttpClient(srv);
    for (let i = 0; i < 5; i++) {
      const t = Date.now();
      expectStatus(await h.get('/healthz'), 200);
      assert.ok(Date.now() - t < 2000 * SLOW, 'a normal request waited behind slow clients');
    }
    // Keep trickling one byte now and then: it must not extend the deadline forever.
    const trickle = setInterval(() => {
      for (const { s, st } of slow) if (!st.closed) s.write('a');
    }, 500);
    const deadline = Date.now() + 30000 * SLOW;
    try {
      while (slow.some(({ st }) => !st.closed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    } finally {
      clearInterval(trickle);
    }
    for (const { s, st } of slow) {
      assert.ok(st.closed, 'a connection with endless headers was never closed');
      const p = parseRawResponse(st.buf);
      assert.equal(p.status, 408, `expected 408, got: ${st.buf.toString('latin1').slice(0, 200)}`);
      assert.equal(p.json?.error, 'timeout');
      expectApiHeaders(p.headers, '408:');
      s.destroy();
    }
    expectStatus(await h.get('/healthz'), 200);
  });

  // One server timer serves every connection's timeout (src/net/timer.c):
  // a shorter one set after a longer one must re-arm it.
  it('a header timeout set after a longer keep-alive timeout still fires first', async () => {
    const open = (label) => {
      const s = net.connect({ host: srv.host, port: srv.port, localAddress: nextAddr() });
      const st = { s, buf: Buffer.alloc(0), closed: false, label };
      s.on('data', (d) => (st.buf = Buffer.concat([st.buf, d])));
      s.on('close', () => (st.closed = true));
      s.on('error', () => {});
      return new Promise((resolve) => s.on('connect', () => resolve(st)));
    };
    const until = async (cond, what) => {
      const deadline = Date.now() + 30000 * SLOW;
      while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(cond(), what);
    };
    // answered, then idle: its keep-alive timeout (60 s) is pending
    const ka = await open('keep-alive');
    ka.s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => ka.buf.includes('\r\n\r\n') && parseRawResponse(ka.buf).status === 200, 'no answer');
    // headers that never end: the header timeout (10 s) is set later
    const slow = await open('slow');
    slow.s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    await until(() => slow.closed, 'the slow connection was never closed');
    assert.equal(parseRawResponse(slow.buf).status, 408);
    assert.ok(!ka.closed, 'the keep-alive connection was closed before the shorter header timeout fired');
    ka.s.destroy();
    slow.s.destroy();
  });
});
