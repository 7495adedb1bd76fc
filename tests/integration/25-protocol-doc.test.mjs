// 25 - docs/protocol.md against the running server. The test reads the
// document's tables (error codes, client requests, server events with their
// fields) and the example objects, drives a session that makes the server
// emit every documented event, and checks both ways: every event and field
// the server sends is documented, every documented always-present field is
// there, and every documented event was seen. The docs cannot drift again
// without this file failing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot, startServer } from './lib/server.mjs';
import { User, befriend, expectStatus, sendMsg } from './lib/client.mjs';
import { Tus, mediaFor, sample, sendMedia } from './lib/tus.mjs';

const DOC = fs.readFileSync(path.join(repoRoot, 'docs', 'protocol.md'), 'utf8');

// The lines of the section that starts with `heading`, up to the next
// heading of the same or a higher level.
function section(heading) {
  const lines = DOC.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  assert.ok(start >= 0, `protocol.md has no "${heading}" section`);
  const level = heading.match(/^#+/)[0].length;
  const out = [];
  for (const l of lines.slice(start + 1)) {
    const m = l.match(/^(#+) /);
    if (m && m[1].length <= level) break;
    out.push(l);
  }
  return out;
}

// Table rows of a section as arrays of cells (header and rule skipped).
function tableRows(lines) {
  const rows = lines.filter((l) => l.startsWith('|')).map((l) =>
    l.replace(/\\\|/g, '\u0000').split('|').slice(1, -1).map((c) => c.replace(/\u0000/g, '|').trim()),
  );
  return rows.slice(2);
}

const ticks = (cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

// Error codes: the first column of the table under "### Errors".
const ERROR_CODES = new Set(tableRows(section('### Errors')).map((r) => ticks(r[0])[0]));

// Client requests: type → documented fields.
const REQUESTS = new Map(tableRows(section('### Client → server')).map((r) => [ticks(r[0])[0], new Set(ticks(r[1]))]));

// Server events: type → {always, sometimes}.
const EVENTS = new Map(
  tableRows(section('### Server → client')).map((r) => [
    ticks(r[0])[0],
    { always: new Set(ticks(r[1])), sometimes: new Set(ticks(r[2] || '')) },
  ]),
);

// The keys of the JSON example that follows `**name**` in "### Objects".
function objectKeys(name) {
  const text = DOC;
  const at = text.indexOf(`**${name}**`);
  assert.ok(at >= 0, `protocol.md documents no **${name}** object`);
  const rest = text.slice(at);
  const open = rest.indexOf('{');
  let depth = 0;
  let end = open;
  for (; end < rest.length; end++) {
    if (rest[end] === '{') depth++;
    if (rest[end] === '}' && --depth === 0) break;
  }
  const body = rest.slice(open, end + 1);
  // Only the top level's keys: drop nested objects first.
  const flat = body.slice(1, -1).replace(/\{[^{}]*\}/g, '{}');
  return new Set([...flat.matchAll(/"([a-z_]+)":/g)].map((m) => m[1]));
}

function sameKeys(obj, keys, what) {
  assert.deepEqual(Object.keys(obj).sort(), [...keys].sort(), `${what}: fields differ from protocol.md: ${JSON.stringify(obj)}`);
}

describe('25 protocol.md matches the server', { timeout: 120000 }, () => {
  let srv;
  let alice, bob, carol, dave;
  let chat;
  const sockets = [];

  before(async () => {
    srv = await startServer();
    [alice, bob, carol, dave] = await User.all(srv, ['alice', 'bob', 'carol', 'dave']);
  });
  after(async () => {
    for (const s of sockets) await s.close();
    await srv?.stop();
  });

  it('the document parses into the tables this test walks', () => {
    assert.ok(ERROR_CODES.size > 20, `error codes: ${[...ERROR_CODES]}`);
    for (const t of ['send', 'ack', 'seen', 'typing', 'delete', 'history', 'ping', 'react', 'edit', 'hide']) assert.ok(REQUESTS.has(t), `request ${t} is documented`);
    for (const t of ['hello', 'synced', 'message', 'sent', 'receipt', 'deleted', 'read', 'typing', 'presence', 'friends_changed', 'history', 'pong', 'error']) {
      assert.ok(EVENTS.has(t), `event ${t} is documented`);
    }
  });

  it('every event and field the server sends is documented, and every documented event is sent', async () => {
    const A1 = await alice.connect();
    const A2 = await alice.connect();
    sockets.push(A1, A2);
    const r1 = await alice.http.post('/api/friends/requests', { username: bob.username }); // friends_changed request
    expectStatus(r1, 201);
    const B1 = await bob.connect();
    sockets.push(B1);
    const r2 = await bob.http.post(`/api/friends/requests/${alice.username}/accept`);
    expectStatus(r2, 200);
    chat = r2.json.chat_id;
    const acc = await A1.next('friends_changed', (e) => e.reason === 'accepted');
    assert.equal(acc.chat_id, chat, 'accepted names the new chat');

    // send / sent / message / receipt / read / typing / deleted / history / pong
    const sent = await sendMsg(A1, chat, 'hello bob');
    const msg = await B1.next('message', (e) => e.seq === sent.seq);
    B1.send({ type: 'ack', chat_id: chat, kind: 'message', seq: msg.seq });
    await A1.next('receipt', (e) => e.status === 'delivered');
    B1.send({ type: 'seen', chat_id: chat, seq: msg.seq });
    await A1.next('receipt', (e) => e.status === 'seen');
    A2.send({ type: 'seen', chat_id: chat, seq: 0 });
    const s2 = await sendMsg(B1, chat, 'hi alice');
    A2.send({ type: 'seen', chat_id: chat, seq: s2.seq });
    await A1.next('read');
    B1.send({ type: 'typing', chat_id: chat });
    await A1.next('typing');
    const del = await A1.request({ type: 'delete', chat_id: chat, seq: sent.seq });
    assert.equal(del.type, 'deleted');
    await B1.next('deleted');
    // a media message (issue 15): the message event's media field
    const photo = sample('jpeg', 3000);
    const upId = await new Tus(alice).upload(photo, { filename: 'p.jpg' });
    const ps = await sendMedia(A1, chat, mediaFor(upId, 1, photo));
    assert.equal(ps.type, 'sent', JSON.stringify(ps));
    const pm = await B1.next('message', (e) => e.seq === ps.seq);
    assert.equal(pm.media.id, upId);
    await A1.expectError({ type: 'send', chat_id: chat, id: 'doc-media', text: '', media: { upload: upId } }, 'bad_media');
    const h = await A1.request({ type: 'history', chat_id: chat });
    assert.equal(h.type, 'history');
    const pong = await A1.ping();
    assert.equal(pong.type, 'pong');
    A1.send({ type: 'visibility', ref: 'vis', visible: true });
    assert.equal((await A1.next('visibility', (e) => e.ref === 'vis')).visible, true);
    await A1.expectError({ type: 'no_such_request' }, 'unknown_type');

    // presence: bob goes away and comes back
    await B1.close();
    await A1.next('presence', (e) => e.user === bob.id && e.online === false);

    // pending replay: a message to offline bob
    await sendMsg(A1, chat, 'while you were away');
    const B2 = await bob.connect();
    sockets.push(B2);
    assert.ok(B2.pending.some((e) => e.type === 'message' && e.pending === true), `replayed message: ${JSON.stringify(B2.pending)}`);
    await A1.next('presence', (e) => e.user === bob.id && e.online === true);

    // friends_changed: declined, cancelled, removed, blocked, unblocked
    const C1 = await carol.connect();
    sockets.push(C1);
    expectStatus(await alice.http.post('/api/friends/requests', { username: carol.username }), 201);
    expectStatus(await carol.http.post(`/api/friends/requests/${alice.username}/decline`), 204);
    expectStatus(await alice.http.post('/api/friends/requests', { username: dave.username }), 201);
    expectStatus(await alice.http.del(`/api/friends/requests/${dave.username}`), 204);
    await befriend(alice, carol);
    expectStatus(await alice.http.del(`/api/friends/${carol.username}`), 204);
    expectStatus(await alice.http.put(`/api/blocks/${dave.username}`), 204);
    expectStatus(await alice.http.del(`/api/blocks/${dave.username}`), 204);
    // renamed: bob's new display name reaches alice's connections live.
    expectStatus(await bob.http.patch('/api/me', { display_name: 'Bobby' }), 200);
    const ren = await A1.next('friends_changed', (e) => e.reason === 'renamed');
    assert.equal(ren.user.display_name, 'Bobby');
    assert.equal(ren.chat_id, chat);
    for (const reason of ['request', 'accepted', 'declined', 'cancelled', 'removed', 'blocked', 'unblocked', 'renamed']) {
      await A2.next('friends_changed', (e) => e.reason === reason);
    }
    // chat_state (issue 17): alice pins and mutes her chat with bob; every
    // connection of hers is told, and an offline device gets it pending.
    expectStatus(await alice.http.put(`/api/chats/${chat}/state`, { pinned: true, mute: '8h' }), 200);
    await A1.next('chat_state', (e) => e.chat_id === chat);
    await A2.next('chat_state', (e) => e.chat_id === chat);
    const A3 = await (await alice.device()).connect();
    sockets.push(A3);
    assert.ok(A3.pending.some((e) => e.type === 'chat_state' && e.pending === true), `replayed chat_state: ${JSON.stringify(A3.pending)}`);
    await A1.ping();

    // Issue 17 (own pair, so alice's history keeps the plain message object):
    // reply, forward, react, edit, hide, live and replayed.
    const [erin, fred] = await User.all(srv, ['erin', 'fred']);
    const ef = await befriend(erin, fred);
    const E1 = await erin.connect();
    const F1 = await fred.connect();
    const F2 = await fred.connect();
    sockets.push(E1, F1, F2);
    const o = await sendMsg(E1, ef, 'original');
    await F1.next('message', (e) => e.seq === o.seq);
    const rep = await F1.request({ type: 'send', chat_id: ef, id: 'doc-rep', text: 'reply', reply_to: o.seq });
    assert.ok((await E1.next('message', (e) => e.seq === rep.seq)).reply_to);
    const fw = await E1.request({ type: 'send', chat_id: ef, id: 'doc-fw', forward: { chat_id: ef, seq: rep.seq } });
    assert.equal((await F1.next('message', (e) => e.seq === fw.seq)).forwarded, true);
    assert.equal((await F1.request({ type: 'react', chat_id: ef, seq: o.seq, emoji: '👍' })).type, 'reaction');
    await E1.next('reaction');
    assert.equal((await E1.request({ type: 'edit', chat_id: ef, seq: o.seq, text: 'edited' })).type, 'edited');
    await F1.next('edited');
    assert.equal((await F1.request({ type: 'hide', chat_id: ef, seq: fw.seq })).type, 'hidden');
    await F2.next('hidden');
    await F1.close();
    await F2.close();
    await E1.request({ type: 'react', chat_id: ef, seq: rep.seq, emoji: '🎉' });
    await E1.request({ type: 'edit', chat_id: ef, seq: fw.seq, text: 'fwd edited' });
    const F3 = await fred.connect();
    sockets.push(F3);
    for (const t of ['reaction', 'edited', 'hidden']) assert.ok(F3.pending.some((e) => e.type === t && e.pending === true), `replayed ${t}: ${JSON.stringify(F3.pending)}`);
    await new Promise((r) => setTimeout(r, 200));

    const seen = new Map();
    for (const s of sockets) {
      for (const ev of s.events) {
        const doc = EVENTS.get(ev.type);
        assert.ok(doc, `${s.label}: event type "${ev.type}" is not in protocol.md: ${JSON.stringify(ev)}`);
        for (const k of Object.keys(ev)) {
          if (k === 'type') continue;
          assert.ok(doc.always.has(k) || doc.sometimes.has(k), `${s.label}: field "${k}" of "${ev.type}" is not in protocol.md: ${JSON.stringify(ev)}`);
        }
        for (const k of doc.always) assert.ok(k in ev, `${s.label}: "${ev.type}" lacks the documented field "${k}": ${JSON.stringify(ev)}`);
        if (ev.type === 'error') assert.ok(ERROR_CODES.has(ev.code), `error code ${ev.code} is not in protocol.md`);
        seen.set(ev.type, (seen.get(ev.type) || 0) + 1);
      }
    }
    for (const t of EVENTS.keys()) assert.ok(seen.has(t), `protocol.md documents "${t}", which the session never received (seen: ${[...seen.keys()]})`);
  });

  it('every documented request type is known to the server', async () => {
    const W = await dave.connect();
    sockets.push(W);
    for (const t of REQUESTS.keys()) {
      const ref = `doc-${t}`;
      W.send({ type: t, ref });
      // Fields are missing on purpose: any answer but unknown_type will do.
      await W.expectNo('error', 200, (e) => e.ref === ref && e.code === 'unknown_type');
    }
  });

  it('the documented objects have exactly the fields the server gives', async () => {
    const me = await alice.http.get('/api/me');
    expectStatus(me, 200);
    const meKeys = new Set([...objectKeys('user'), 'settings']);
    sameKeys(me.json.user, meKeys, 'me');
    const list = await alice.http.get('/api/chats');
    expectStatus(list, 200);
    const entry = list.json.chats.find((c) => c.chat_id === chat);
    assert.ok(entry, 'alice lists her chat with bob');
    sameKeys(entry, objectKeys('chat'), 'chat list entry');
    sameKeys(entry.peer, new Set([...objectKeys('user'), 'online', 'last_seen']), 'peer');
    assert.ok(entry.last_message, 'the chat has a last message');
    sameKeys(entry.last_message, objectKeys('message'), 'message');
    const hist = await alice.http.get(`/api/chats/${chat}/messages`);
    // media only on media messages (protocol.md: "media" below the example)
    assert.ok(hist.json.messages.some((m) => m.media), 'the history has the media message');
    for (const m of hist.json.messages) {
      sameKeys(m, m.media ? new Set([...objectKeys('message'), 'media']) : objectKeys('message'), 'history message');
      if (m.media) sameKeys(m.media, new Set(['id', 'mime', 'size', 'name', 'width', 'height', 'duration_ms', 'waveform', 'thumb']), 'media');
    }
  });

  it('HTTP errors use documented codes', async () => {
    const probes = [
      ['post', '/api/login', { username: 'nobody_here', password: 'whatever-pass' }],
      ['post', '/api/signup', { username: 'x', password: 'short' }],
      ['get', '/api/chats/not-a-uuid/messages'],
      ['post', '/api/friends/requests', { username: alice.username }],
      ['get', '/api/nowhere'],
      ['del', '/api/me'],
      ['get', '/api/search?q=%20'],
      ['get', `/api/search?q=x&chat_id=${chat}&limit=99`],
    ];
    for (const [m, p, body] of probes) {
      const res = m === 'get' || m === 'del' ? await alice.http[m](p) : await alice.http[m](p, body);
      assert.ok(res.status >= 400, `${m} ${p}: ${res.status}`);
      assert.ok(ERROR_CODES.has(res.json?.error), `${m} ${p}: code ${res.json?.error} is not in protocol.md`);
    }
  });
});
