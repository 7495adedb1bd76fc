// 97 - history cursors agree on both transports (audit 10): the HTTP
// history read `before`/`after` as at most 18 digits, so `after=INT64_MAX`
// (9223372036854775807, a valid sequence number the WebSocket's history
// request accepts) was bad_request over HTTP only. Now both accept 0 to
// INT64_MAX and refuse the rest with bad_request: -1, "abc" and
// INT64_MAX+1 (over the WebSocket an integer that does not fit in 64 bits
// is bad_request naming the request and its ref, not bad_json).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { User, befriend, sendMsg } from './lib/client.mjs';

const MAX = '9223372036854775807';
const OVER = '9223372036854775808';

describe('97 history cursors', { timeout: 60000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('HTTP and WebSocket accept and refuse the same before/after values', async () => {
    const [amy, ben] = await User.all(srv, ['hc_amy', 'hc_ben']);
    const chat = await befriend(amy, ben);
    const A = await amy.connect();
    for (const t of ['one', 'two'])
      await sendMsg(A, chat, t);

    // What the server returns for each cursor, per transport: the seqs, or
    // the error code.
    const viaHttp = async (q) => {
      const r = await amy.http.get(`/api/chats/${chat}/messages?${q}`);
      if (r.status === 200) return r.json.messages.map((m) => m.seq);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.equal(typeof r.json.message, 'string', r.text);
      return r.json.error;
    };
    const viaWs = async (key, raw) => {
      const ref = A.newRef();
      // Written by hand: JSON.stringify cannot write INT64_MAX exactly.
      A.send(`{"type":"history","ref":"${ref}","chat_id":"${chat}","${key}":${raw}}`);
      const ev = await A.next(null, (e) => e.ref === ref && ['history', 'error'].includes(e.type));
      if (ev.type === 'history') return ev.messages.map((m) => m.seq);
      assert.equal(ev.request, 'history', JSON.stringify(ev));
      assert.equal(typeof ev.message, 'string', JSON.stringify(ev));
      return ev.code;
    };

    const cases = [
      // [key, query value, JSON value, expected]
      ['after', '0', '0', [1, 2]],
      ['after', '1', '1', [2]],
      ['after', MAX, MAX, []],
      ['after', OVER, OVER, 'bad_request'],
      ['after', '-1', '-1', 'bad_request'],
      ['after', 'abc', '"abc"', 'bad_request'],
      ['before', '0', '0', []],
      ['before', MAX, MAX, [1, 2]],
      ['before', OVER, OVER, 'bad_request'],
      ['before', '-1', '-1', 'bad_request'],
      ['before', 'abc', '"abc"', 'bad_request'],
    ];
    for (const [key, q, raw, want] of cases) {
      assert.deepEqual(await viaHttp(`${key}=${q}`), want, `HTTP ${key}=${q}`);
      assert.deepEqual(await viaWs(key, raw), want, `WebSocket ${key}: ${raw}`);
    }
    // An integer ref survives the refusal of a frame with an integer too big.
    A.send(`{"type":"history","ref":77,"chat_id":"${chat}","after":${OVER}}`);
    const ev = await A.next('error', (e) => e.ref === 77);
    assert.equal(ev.code, 'bad_request');
    assert.equal(ev.request, 'history');
    // The connection still works.
    await A.ping();
    await A.close();
  });
});
