// 33 - one client cannot fill the connection cap (issue 14 item 7): at most
// --max-conns-per-addr (default 128) connections from one peer address, the
// rest 429 too_many_connections; idle keep-alive connections close after
// --keepalive-timeout. With --trust-proxy (every peer is nginx) the cap is
// nginx's, not duetd's.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SLOW, startServer, waitFor } from './lib/server.mjs';
import { nextAddr, parseRawResponse, rawRequest } from './lib/client.mjs';

function open(srv, localAddress) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: srv.host, port: srv.port, localAddress });
    s.on('error', () => {});
    s.once('connect', () => resolve(s)).once('error', reject);
  });
}

// Sends one keep-alive request on s and resolves with the parsed answer.
function ask(s) {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const r = parseRawResponse(buf);
      if (r.complete) {
        s.off('data', onData);
        resolve(r);
      }
    };
    s.on('data', onData);
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  });
}

const healthz = (srv, localAddress) => rawRequest(srv, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', { localAddress });

describe('33 connections per address (default cap)', { timeout: 120000 }, () => {
  let srv;
  const held = [];
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    for (const s of held) s.destroy();
    await srv?.stop();
  });

  it('128 idle connections from one address are kept; the 129th gets 429; other addresses are served', async () => {
    const addr = nextAddr();
    for (let i = 0; i < 128; i++) held.push(await open(srv, addr));
    // They are all served, one request each, and stay open (keep-alive).
    const first = await ask(held[0]);
    assert.equal(first.status, 200);
    const r = await healthz(srv, addr);
    assert.equal(r.status, 429, r.text);
    assert.equal(r.json?.error, 'too_many_connections');
    assert.equal((await healthz(srv, nextAddr())).status, 200, 'another address');
    // Closing one gives its place back.
    held.pop().destroy();
    await waitFor(async () => (await healthz(srv, addr)).status === 200, 'a slot is free again');
  });
});

describe('33 keep-alive timeout and --trust-proxy', { timeout: 60000 }, () => {
  let srv, proxied;
  before(async () => {
    srv = await startServer({ args: ['--keepalive-timeout', '1', '--max-conns-per-addr', '3'] });
    proxied = await startServer({ args: ['--trust-proxy', '--max-conns-per-addr', '2'] });
  });
  after(async () => {
    await srv?.stop();
    await proxied?.stop();
  });

  it('an idle keep-alive connection is closed after --keepalive-timeout', async () => {
    const s = await open(srv, nextAddr());
    assert.equal((await ask(s)).status, 200);
    const t0 = Date.now();
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('not closed within 8 s')), 8000 * SLOW);
      s.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
    const waited = Date.now() - t0;
    console.log(`# idle keep-alive closed after ${waited} ms (--keepalive-timeout 1)`);
    assert.ok(waited >= 500, `closed after ${waited} ms, before the timeout`);
  });

  it('--max-conns-per-addr 3: the 4th connection gets 429', async () => {
    const addr = nextAddr();
    const mine = [];
    try {
      for (let i = 0; i < 3; i++) mine.push(await open(srv, addr));
      const r = await healthz(srv, addr);
      assert.equal(r.status, 429, r.text);
    } finally {
      for (const s of mine) s.destroy();
    }
  });

  it('--trust-proxy: the peer is the proxy, so its connections are not capped per address', async () => {
    const addr = nextAddr();
    const mine = [];
    try {
      for (let i = 0; i < 5; i++) mine.push(await open(proxied, addr));
      assert.equal((await healthz(proxied, addr)).status, 200);
    } finally {
      for (const s of mine) s.destroy();
    }
  });
});
