// 43 - sending: 404/410 delete the subscription, 429 waits Retry-After and
// retries, 5xx backs off and retries, and a push that is due survives a
// kill -9 of duetd: after the restart it is delivered, once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startPushEnv, subscribe } from './lib/push-env.mjs';
import { SLOW, isCassandra, sleep, waitFor } from './lib/server.mjs';
import { User, befriend, expectStatus, sendMsg, uniqueName } from './lib/client.mjs';

describe('43 push retries and restarts', { timeout: 180000 }, () => {
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

  async function setup() {
    const a = await User.signup(server, uniqueName('a'));
    const b = await User.signup(server, uniqueName('b'));
    const chat = await befriend(a, b);
    const s = await subscribe({ svc, key }, b);
    return { a, b, chat, s, wa: await a.connect() };
  }
  const got = (s, status) => svc.forSubscription(s).filter((r) => r.status === status);
  const subsOf = async (u) => (await u.http.get('/api/push/subscriptions')).json.subscriptions;

  for (const status of [410, 404]) {
    it(`${status} deletes the subscription; later messages are not pushed to it`, async () => {
      const { b, chat, s, wa } = await setup();
      svc.answer(s, status);
      await sendMsg(wa, chat, 'to a gone subscription');
      await waitFor(() => got(s, status).length === 1, `the ${status}`);
      await waitFor(async () => (await subsOf(b)).length === 0, 'the subscription deleted');
      await sendMsg(wa, chat, 'after');
      await sleep(800 * SLOW);
      assert.equal(svc.forSubscription(s).length, 1, 'no push after the subscription went');
    });
  }

  it('/metrics counts pushes delivered, gone and retried', async () => {
    const r = await new User(server, 'm', 'm').http.get('/metrics');
    const v = (name) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(r.text)?.[1]);
    assert.ok(v('duet_push_gone_total') >= 2, `the 410 and the 404 (${v('duet_push_gone_total')})`);
    for (const n of ['duet_push_delivered_total', 'duet_push_failed_total', 'duet_push_retried_total', 'duet_push_dropped_total']) {
      assert.ok(Number.isInteger(v(n)), `${n} is exported`);
    }
  });

  it('429 waits Retry-After, then the retry is delivered', async () => {
    const { chat, s, wa } = await setup();
    svc.answer(s, 429);
    const sent = await sendMsg(wa, chat, 'slow down');
    await waitFor(() => got(s, 429).length === 1, 'the 429');
    const t429 = Date.now();
    svc.answer(s, 201);
    await waitFor(() => got(s, 201).length === 1, 'the retry', 15000 * SLOW);
    const waited = Date.now() - t429;
    assert.ok(waited >= 900, `Retry-After: 1 was honoured (retried after ${waited} ms)`);
    assert.equal(JSON.parse(got(s, 201)[0].plaintext).seq, sent.seq);
    process.stderr.write(`# 429 -> retried after ${waited} ms\n`);
    const m = (await new User(server, 'm', 'm').http.get('/metrics')).text;
    assert.ok(Number(/^duet_push_retried_total (\d+)$/m.exec(m)[1]) >= 1, 'the retry is counted');
    assert.ok(Number(/^duet_push_delivered_total (\d+)$/m.exec(m)[1]) >= 1, 'the delivery is counted');
  });

  it('5xx backs off and retries until delivered', async () => {
    const { chat, s, wa } = await setup();
    svc.answer(s, 503);
    const sent = await sendMsg(wa, chat, 'service down');
    await waitFor(() => got(s, 503).length >= 2, 'two failed attempts', 15000 * SLOW);
    svc.answer(s, 201);
    await waitFor(() => got(s, 201).length === 1, 'the delivery', 20000 * SLOW);
    assert.equal(JSON.parse(got(s, 201)[0].plaintext).seq, sent.seq);
    await sleep(500 * SLOW);
    assert.equal(got(s, 201).length, 1, 'delivered once');
  });

  it('a push due when duetd is killed is delivered after the restart, once', async () => {
    const { chat, s, wa } = await setup();
    svc.answer(s, 500);
    const sent = await sendMsg(wa, chat, 'survives a crash');
    await waitFor(() => got(s, 500).length >= 1, 'a failed attempt');
    await server.crash();
    svc.answer(s, 201);
    await server.start();
    await waitFor(() => got(s, 201).length === 1, 'the delivery after the restart', 15000 * SLOW);
    const p = JSON.parse(got(s, 201)[0].plaintext);
    assert.equal(p.seq, sent.seq);
    assert.equal(p.chat_id, chat);
    await sleep(1500 * SLOW);
    assert.equal(got(s, 201).length, 1, 'delivered once');
    // and a graceful restart with nothing due sends nothing again
    await server.stop({ keepData: true });
    await server.start();
    await sleep(1000 * SLOW);
    assert.equal(got(s, 201).length, 1, 'a delivered push is not sent again');
  });

  it('a burst over the per-subscription rate is spread out, not dropped', async () => {
    // 14 chats (a queued push of one chat is replaced by the next, so each
    // message here is in a chat of its own); the bucket holds 10 and
    // refills one a second.
    const b = await User.signup(server, uniqueName('rb'));
    const s = svc.subscribe({ applicationServerKey: key });
    expectStatus(await b.http.post('/api/push/subscriptions', { endpoint: s.endpoint, keys: { p256dh: s.p256dh, auth: s.auth } }), 201);
    const N = 14;
    const senders = [];
    for (let i = 0; i < N; i++) {
      const a = await User.signup(server, uniqueName('ra'));
      senders.push({ ws: await a.connect(), chat: await befriend(a, b) });
    }
    const t0 = Date.now();
    await Promise.all(senders.map(({ ws, chat }, i) => sendMsg(ws, chat, `rate ${i}`)));
    await waitFor(() => got(s, 201).length === N, 'every push delivered', 30000 * SLOW);
    const spread = Date.now() - t0;
    assert.ok(spread >= 3000, `the last 4 waited for tokens (${spread} ms)`);
    assert.equal(new Set(got(s, 201).map((r) => JSON.parse(r.plaintext).chat_id)).size, N, 'one push per chat');
    process.stderr.write(`# ${N} pushes to one subscription took ${spread} ms (bucket 10, 1/s)\n`);
  });
  // The queued push holds the text (preview on) while the push service
  // fails; delete for everyone takes it out of the queue too, so the erase
  // promise of 25-delete-erase holds. SQLite scans every file; on Cassandra
  // the queued job keeps the text until it is sent (docs/security.md).
  it('delete for everyone erases the text from a push still queued', { skip: isCassandra && 'Cassandra: a queued push keeps its text until sent (docs/security.md)' }, async () => {
    const { b, chat, s, wa } = await setup();
    expectStatus(await b.http.patch('/api/push/settings', { push_preview: true }), 200, 'preview on:');
    svc.answer(s, 500);
    const text = `Q${Date.now().toString(36)}-queued-push-text`;
    const sent = await sendMsg(wa, chat, text);
    await waitFor(() => got(s, 500).length >= 1, 'a failed attempt');
    // the message row itself is erased by the delete; the scan must see the text first
    assert.ok((await server.storeBytes()).includes(Buffer.from(text)), 'the text is stored before the delete');
    const d = await wa.request({ type: 'delete', ref: 'del-q', chat_id: chat, seq: sent.seq });
    assert.equal(d.type, 'deleted', JSON.stringify(d));
    assert.ok(!(await server.storeBytes()).includes(Buffer.from(text)), 'no file holds the text after the delete');
    svc.answer(s, 201);
    await waitFor(() => got(s, 201).length === 1, 'the push, without the text', 20000 * SLOW);
    const p = JSON.parse(got(s, 201)[0].plaintext);
    assert.equal(p.seq, sent.seq);
    assert.equal(p.text, undefined, 'the delivered push carries no text');
  });
});
