// 98 - a duplicated key is named (audit 10): a body or frame with a key
// twice was refused with "the body is not a JSON object" or "each frame is
// one JSON object", which it is. Now the message is "duplicate key 'name'"
// (code bad_json as before), a frame's error names its request and ref,
// and nothing changes: the fast decoder of send, ack and seen frames
// (proto_fast.c) leaves such frames to jansson, which refuses them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { User, befriend, history, sendMsg } from './lib/client.mjs';

describe('98 duplicate keys', { timeout: 60000 }, () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('an HTTP body with a key twice: bad_json naming it, nothing changed', async () => {
    const [amy] = await User.all(srv, ['dk_amy']);
    const before = (await amy.http.get('/api/me')).json;
    const cases = [
      ['{"display_name":"One","display_name":"Two"}', "duplicate key 'display_name'"],
      ['{"display_name":"One","x":{"a\\"b":1,"a\\"b":2}}', "duplicate key 'a\"b'"],
      ['{"display_name":"One","\\u00e9":1,"é":2}', "duplicate key 'é'"],
      [`{"display_name":"One","${'k'.repeat(50)}":1,"${'k'.repeat(50)}":2}`, 'duplicate key in an object'],
    ];
    for (const [body, message] of cases) {
      const r = await amy.http.patch('/api/me', undefined, { body, contentType: 'application/json' });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error, 'bad_json', r.text);
      assert.equal(r.json.message, message, body);
    }
    const now = (await amy.http.get('/api/me')).json;
    assert.deepEqual(now, before, 'the display name is unchanged');
    // Other bad JSON keeps its message.
    const r = await amy.http.patch('/api/me', undefined, { body: '{"display_name":', contentType: 'application/json' });
    assert.equal(r.json.error, 'bad_json');
    assert.equal(r.json.message, 'the body is not a JSON object');
  });

  it('a frame with a key twice: bad_json naming it and the request, nothing stored', async () => {
    const [amy, ben] = await User.all(srv, ['dk_amy2', 'dk_ben']);
    const chat = await befriend(amy, ben);
    const A = await amy.connect();
    const B = await ben.connect();
    const first = await sendMsg(A, chat, 'first');
    await B.next('message', (e) => e.seq === first.seq);

    const frame = async (text) => {
      A.send(text);
      return A.next('error', (e) => e.ref === 'dup');
    };
    // send, ack and seen are the frames the fast decoder reads.
    const sends = [
      [`{"type":"send","ref":"dup","chat_id":"${chat}","id":"m-dup","text":"a","text":"b"}`, 'text'],
      [`{"type":"send","ref":"dup","chat_id":"${chat}","chat_id":"${chat}","id":"m-dup","text":"a"}`, 'chat_id'],
      [`{"type":"send","ref":"dup","chat_id":"${chat}","id":"m-dup","id":"m-dup2","text":"a"}`, 'id'],
    ];
    for (const [text, key] of sends) {
      const ev = await frame(text);
      assert.equal(ev.code, 'bad_json', JSON.stringify(ev));
      assert.equal(ev.message, `duplicate key '${key}'`);
      assert.equal(ev.request, 'send');
    }
    let ev = await frame(`{"type":"seen","ref":"dup","chat_id":"${chat}","seq":${first.seq},"seq":${first.seq}}`);
    assert.deepEqual([ev.code, ev.message, ev.request], ['bad_json', "duplicate key 'seq'", 'seen']);
    ev = await frame(`{"type":"ack","ref":"dup","chat_id":"${chat}","seq":${first.seq},"kind":"message","kind":"message"}`);
    assert.deepEqual([ev.code, ev.message, ev.request], ['bad_json', "duplicate key 'kind'", 'ack']);
    // A duplicated type or ref: which one is not told.
    A.send(`{"type":"send","type":"ping","ref":"dupt","chat_id":"${chat}","id":"m-t","text":"a"}`);
    ev = await A.next('error', (e) => e.message === "duplicate key 'type'");
    assert.equal(ev.code, 'bad_json');
    assert.equal(ev.request, null);
    assert.equal(ev.ref ?? null, null);

    // Nothing was stored or sent: ben hears nothing, the history has the
    // first message only, and m-dup is still a new id.
    await B.expectNo('message', 300);
    await A.expectNo('sent', 100);
    const h = await history(amy, chat);
    assert.deepEqual(h.map((m) => m.text), ['first']);
    assert.equal(h[0].seen_at ?? null, null, 'the seen frame was not applied');
    const ok = await A.request({ type: 'send', chat_id: chat, id: 'm-dup', text: 'fine' });
    assert.equal(ok.type, 'sent');
    assert.equal(ok.duplicate, false);
    await A.close();
    await B.close();
  });
});
