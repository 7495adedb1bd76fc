// 42 - when duet pushes: a message to a user whose tabs are all hidden (or
// who has none) is pushed to each subscription, encrypted (RFC 8291) and
// signed (VAPID) as the loopback push service checks; a visible tab gets
// none; the payload names the chat and the sender, with the text only when
// the preview setting is on; a burst carries one Topic per chat; a blocked
// sender's message pushes nothing; reading on one device sends a "clear".
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startPushEnv, subscribe } from './lib/push-env.mjs';
import { SLOW, sleep, waitFor } from './lib/server.mjs';
import { User, befriend, expectStatus, sendMsg, uniqueName } from './lib/client.mjs';

describe('42 push delivery', { timeout: 180000 }, () => {
  let server;
  let svc;
  let key;
  before(async () => {
    ({ server, svc, key } = await startPushEnv());
  });
  after(async () => {
    await svc?.close();
    await server?.stop();
  });

  const subscribed = (user, device = 'test') => subscribe({ svc, key }, user, device);
  const pushes = (s) => svc.forSubscription(s).filter((r) => r.status === 201).map((r) => ({ ...r, payload: JSON.parse(r.plaintext) }));
  async function pair() {
    const a = await User.signup(server, uniqueName('a'), { displayName: 'Alice Sender' });
    const b = await User.signup(server, uniqueName('b'));
    const chat = await befriend(a, b);
    return { a, b, chat };
  }
  const setVisible = async (ws, visible) => {
    ws.send({ type: 'visibility', visible, ref: `v-${visible}` });
    const ev = await ws.next('visibility', (e) => e.ref === `v-${visible}`);
    assert.equal(ev.visible, visible);
  };

  it('no tab: each subscription gets the push, verified and decrypted, sender only by default', async () => {
    const { a, b, chat } = await pair();
    const s1 = await subscribed(b, 'laptop');
    const s2 = await subscribed(b, 'phone');
    const wa = await a.connect();
    const sent = await sendMsg(wa, chat, 'the secret text');
    await waitFor(() => pushes(s1).length === 1 && pushes(s2).length === 1, 'a push to each subscription');
    for (const s of [s1, s2]) {
      const [p] = pushes(s);
      assert.deepEqual(p.payload, { type: 'message', chat_id: chat, seq: sent.seq, from: 'Alice Sender' });
      assert.equal(p.headers.urgency, 'high');
      assert.equal(p.headers.ttl, '86400');
      assert.match(p.headers.topic, /^[A-Za-z0-9_-]{32}$/);
      assert.ok(!p.headers.topic.includes(chat.replace(/-/g, '').slice(0, 8)), 'the topic does not carry the chat id');
      assert.equal(p.claims.sub, 'mailto:push@duet.invalid');
    }
    assert.equal(pushes(s1)[0].headers.topic, pushes(s2)[0].headers.topic, 'one topic per chat');
    // last_success is stamped
    await waitFor(async () => (await b.http.get('/api/push/subscriptions')).json.subscriptions.every((x) => x.last_success > 0), 'last_success');
  });

  it('a visible tab gets no push; once hidden, the next message is pushed', async () => {
    const { a, b, chat } = await pair();
    const s = await subscribed(b);
    const wa = await a.connect();
    const wb = await b.connect();
    await sendMsg(wa, chat, 'seen live');
    await wb.next('message');
    await sleep(500 * SLOW);
    assert.equal(svc.forSubscription(s).length, 0, 'a connected tab counts as visible until it says otherwise');
    await setVisible(wb, false);
    const sent = await sendMsg(wa, chat, 'while hidden');
    await waitFor(() => pushes(s).length === 1, 'the push to a hidden tab');
    assert.equal(pushes(s)[0].payload.seq, sent.seq);
    // two tabs: one hidden, one visible -> no push
    const wb2 = await b.connect();
    await sendMsg(wa, chat, 'one tab visible');
    await wb2.next('message');
    await sleep(500 * SLOW);
    assert.equal(pushes(s).length, 1, 'a visible tab among hidden ones: no push');
    await setVisible(wb2, false);
    await setVisible(wb, true);
    await sendMsg(wa, chat, 'visible again');
    await sleep(500 * SLOW);
    assert.equal(pushes(s).length, 1, 'visible again: no push');
    // closing the visible tab leaves only the hidden one
    await wb.close();
    await sendMsg(wa, chat, 'only hidden left');
    await waitFor(() => pushes(s).length === 2, 'the second push');
  });

  it('the preview setting puts the text in, cut to 100 characters', async () => {
    const { a, b, chat } = await pair();
    const s = await subscribed(b);
    expectStatus(await b.http.patch('/api/push/settings', { push_preview: true }), 200);
    const wa = await a.connect();
    await sendMsg(wa, chat, 'short one');
    await waitFor(() => pushes(s).length === 1, 'the first push');
    assert.equal(pushes(s)[0].payload.text, 'short one');
    const long = 'é'.repeat(150);
    await sendMsg(wa, chat, long);
    await waitFor(() => pushes(s).length === 2, 'the second push');
    assert.equal(pushes(s)[1].payload.text, `${'é'.repeat(100)}…`);
    expectStatus(await b.http.patch('/api/push/settings', { push_preview: false }), 200);
    await sendMsg(wa, chat, 'hidden text');
    await waitFor(() => pushes(s).length === 3, 'the third push');
    assert.equal(pushes(s)[2].payload.text, undefined);
    assert.equal(pushes(s)[2].payload.from, 'Alice Sender');
  });

  it('a burst to one chat carries one Topic; two chats, two topics', async () => {
    const { a, b, chat } = await pair();
    const c = await User.signup(server, uniqueName('c'));
    const chat2 = await befriend(c, b);
    const s = await subscribed(b);
    const wa = await a.connect();
    const wc = await c.connect();
    const N = 20;
    await Promise.all(Array.from({ length: N }, (_, i) => sendMsg(wa, chat, `burst ${i}`)));
    await sendMsg(wc, chat2, 'other chat');
    await waitFor(() => pushes(s).some((p) => p.payload.chat_id === chat2) && pushes(s).some((p) => p.payload.seq === N), 'the pushes of the burst');
    const burst = pushes(s).filter((p) => p.payload.chat_id === chat);
    const topics = new Set(burst.map((p) => p.headers.topic));
    assert.equal(topics.size, 1, 'one topic for the chat');
    assert.ok(burst.length <= N, `at most one push per message (${burst.length})`);
    assert.equal(burst.at(-1).payload.seq, N, 'the newest message is the last pushed');
    const other = pushes(s).find((p) => p.payload.chat_id === chat2);
    assert.notEqual(other.headers.topic, burst[0].headers.topic);
    process.stderr.write(`# burst of ${N}: ${burst.length} pushes reached the service\n`);
  });

  it('a message withheld by a block pushes nothing', async () => {
    const { a, b, chat } = await pair();
    const s = await subscribed(b);
    expectStatus(await b.http.put(`/api/blocks/${a.username}`), 204, 'block:');
    const wa = await a.connect();
    await sendMsg(wa, chat, 'withheld');
    await sleep(800 * SLOW);
    assert.equal(svc.forSubscription(s).length, 0);
  });

  it('reading the chat on another device sends a low-urgency clear, once', async () => {
    const { a, b, chat } = await pair();
    const s = await subscribed(b);
    const wa = await a.connect();
    const sent = await sendMsg(wa, chat, 'to be read');
    await waitFor(() => pushes(s).length === 1, 'the message push');
    const wb = await b.connect();
    wb.send({ type: 'seen', chat_id: chat, seq: sent.seq });
    await waitFor(() => pushes(s).length === 2, 'the clear push');
    const clear = pushes(s)[1];
    assert.deepEqual(clear.payload, { type: 'clear', chat_id: chat });
    assert.equal(clear.headers.urgency, 'low');
    assert.equal(clear.headers.topic, pushes(s)[0].headers.topic, 'replaces the message push if still undelivered');
    wb.send({ type: 'seen', chat_id: chat, seq: sent.seq });
    await sleep(800 * SLOW);
    assert.equal(pushes(s).length, 2, 'nothing to clear the second time');
  });

  it('visibility with a bad field is an error naming the request', async () => {
    const { b } = await pair();
    const wb = await b.connect();
    wb.send({ type: 'visibility', ref: 'x1' });
    let ev = await wb.next('error', (e) => e.ref === 'x1');
    assert.equal(ev.request, 'visibility');
    assert.equal(ev.code, 'missing_field');
    wb.send({ type: 'visibility', visible: 'no', ref: 'x2' });
    ev = await wb.next('error', (e) => e.ref === 'x2');
    assert.equal(ev.code, 'bad_request');
  });
  it('a muted chat pushes nothing; unmuted, it pushes again', async () => {
    const { a, b, chat } = await pair();
    const s = await subscribed(b);
    const wa = await a.connect();
    expectStatus(await b.http.put(`/api/chats/${chat}/state`, { mute: '8h' }), 200, 'mute:');
    await sendMsg(wa, chat, 'while muted');
    await sleep(800 * SLOW);
    assert.equal(svc.forSubscription(s).length, 0, 'no push for a muted chat');
    expectStatus(await b.http.put(`/api/chats/${chat}/state`, { mute: 'off' }), 200, 'unmute:');
    const sent = await sendMsg(wa, chat, 'after unmute');
    await waitFor(() => pushes(s).length === 1, 'the push once unmuted');
    assert.equal(pushes(s)[0].payload.seq, sent.seq);
  });
  it('a reaction to my message is pushed to me (not its removal)', async () => {
    const { a, b, chat } = await pair();
    const sa = await subscribed(a);
    const wa = await a.connect();
    const sent = await sendMsg(wa, chat, 'react to this');
    await wa.close();
    const wb = await b.connect();
    const r = await wb.request({ type: 'react', ref: 'r1', chat_id: chat, seq: sent.seq, emoji: '👍' });
    assert.equal(r.type, 'reaction', JSON.stringify(r));
    await waitFor(() => pushes(sa).length === 1, 'the reaction push to the author');
    const [p] = pushes(sa);
    assert.equal(p.payload.type, 'reaction');
    assert.equal(p.payload.chat_id, chat);
    assert.equal(p.payload.seq, sent.seq);
    assert.equal(p.payload.emoji, '👍');
    assert.equal(typeof p.payload.from, 'string');
    const rm = await wb.request({ type: 'react', ref: 'r2', chat_id: chat, seq: sent.seq, emoji: null });
    assert.equal(rm.type, 'reaction', JSON.stringify(rm));
    await sleep(800 * SLOW);
    assert.equal(pushes(sa).length, 1, 'removing a reaction pushes nothing');
  });
});
