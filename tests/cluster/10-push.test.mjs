// 10 - Web Push in a cluster (issue 16): exactly one push per message,
// sent by the instance that stored it, whichever instance the sender's
// tabs are on; a visible tab on another instance holds the push back (the
// visibility is shared through Redis), and once it reports hidden the
// next message is pushed. Both instances share the data dir, so the same
// VAPID key (docs/deploy.md).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { User, befriend, expectStatus, sendMsg } from '../integration/lib/client.mjs';
import { startPushService } from '../integration/lib/push-service.mjs';
import { SLOW, sleep, waitFor } from '../integration/lib/server.mjs';
import { startCluster } from './lib/cluster.mjs';

describe('10 push across instances', { timeout: 300000 }, () => {
  let cl;
  let svc;
  let key;
  before(async () => {
    cl = await startCluster({ instances: 2, args: ['--push-test-loopback'] });
    svc = await startPushService();
    const u = await User.signup(cl.servers[0], 'pushkey_u');
    key = (await u.http.get('/api/push/key')).json.key;
    const k2 = (await new User(cl.servers[1], 'x', 'y').http.get('/api/push/key')).json.key;
    assert.equal(k2, key, 'both instances have the same VAPID key');
  });
  after(async () => {
    await svc?.close();
    await cl?.stop();
  });

  let n = 0;
  async function setup() {
    n++;
    const s1 = cl.servers[0];
    const a = await User.signup(s1, `pa${n}`, { displayName: `Sender ${n}` });
    const b = await User.signup(s1, `pb${n}`);
    const chat = await befriend(a, b);
    const subs = [];
    for (const device of ['laptop', 'phone']) {
      const s = svc.subscribe({ applicationServerKey: key });
      const r = await b.http.post('/api/push/subscriptions', { endpoint: s.endpoint, keys: { p256dh: s.p256dh, auth: s.auth }, device });
      expectStatus(r, 201, 'subscribe:');
      subs.push(s);
    }
    return { a, b, chat, subs };
  }
  const delivered = (s) => svc.forSubscription(s).filter((r) => r.status === 201).map((r) => JSON.parse(r.plaintext));

  it('one push per message per subscription, whichever instance stored it', async () => {
    const { a, chat, subs } = await setup();
    const w1 = await a.connect();
    const a2 = new User(cl.servers[1], a.username, a.password);
    expectStatus(await a2.http.post('/api/login', { username: a.username, password: a.password }), 200);
    const w2 = await a2.connect();
    assert.notEqual(w1.hello.instance, w2.hello.instance, 'the sender has a tab on each instance');
    const seqs = [];
    for (let i = 0; i < 6; i++) {
      const ws = i % 2 ? w2 : w1;
      const sent = await sendMsg(ws, chat, `m${i}`);
      seqs.push(sent.seq);
      await waitFor(() => subs.every((s) => delivered(s).some((p) => p.seq === sent.seq)), `the push of seq ${sent.seq}`);
    }
    await sleep(1500 * SLOW);
    for (const s of subs) {
      const got = delivered(s).map((p) => p.seq);
      assert.deepEqual(got, seqs, `exactly one push per message (${got})`);
    }
    console.log(`# 10: 6 messages from 2 instances, ${subs.length} subscriptions: ${delivered(subs[0]).length} pushes each`);
  });

  it('a visible tab on the other instance holds the push back; hidden, it does not', async () => {
    const { a, b, chat, subs } = await setup();
    const wa = await a.connect(); // instance 1
    const b2 = new User(cl.servers[1], b.username, b.password);
    expectStatus(await b2.http.post('/api/login', { username: b.username, password: b.password }), 200);
    const wb = await b2.connect(); // instance 2
    assert.notEqual(wa.hello.instance, wb.hello.instance);
    await sendMsg(wa, chat, 'seen live elsewhere');
    await wb.next('message');
    await sleep(800 * SLOW);
    assert.equal(delivered(subs[0]).length, 0, 'no push while a tab is visible on instance 2');
    wb.send({ type: 'visibility', visible: false, ref: 'h' });
    await wb.next('visibility', (e) => e.ref === 'h');
    const sent = await sendMsg(wa, chat, 'now hidden');
    await waitFor(() => subs.every((s) => delivered(s).length === 1), 'the push once hidden');
    assert.equal(delivered(subs[0])[0].seq, sent.seq);
    wb.send({ type: 'visibility', visible: true, ref: 'v' });
    await wb.next('visibility', (e) => e.ref === 'v');
    await sendMsg(wa, chat, 'visible again');
    await sleep(800 * SLOW);
    assert.equal(delivered(subs[0]).length, 1, 'visible again: no push');
  });
});
