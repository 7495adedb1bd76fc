// 04 - presence of a crashed instance's users: another instance notices the
// silence (heartbeat TTL, --presence-ttl), marks them offline with their
// last seen near the crash, and tells their friends, within the documented
// bound (TTL + TTL/5 + a fan-out).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { User, befriend, chatWith, chats } from '../integration/lib/client.mjs';
import { SLOW } from '../integration/lib/server.mjs';
import { TTL_S, startCluster } from './lib/cluster.mjs';
import { Chatter } from './lib/chatter.mjs';

// The chat id of two friends, from one side's list.
async function befriendChat(a, b) {
  return (await chats(a)).find((c) => c.peer.id === b.id).chat_id;
}

describe('04 presence: a crashed instance times out, a stopped one says goodbye', { timeout: 300000 }, () => {
  let cl;
  before(async () => {
    cl = await startCluster();
  });
  after(async () => {
    await cl?.stop();
  });

  it("a crashed instance's users go offline with a correct last seen within the bound", async () => {
    const victim = await User.signup(cl.endpoint, 'victim', { localAddress: cl.addrFor(3) });
    const friend = await User.signup(cl.endpoint, 'friend', { localAddress: cl.addrFor(4) });
    const other = await User.signup(cl.endpoint, 'other', { localAddress: cl.addrFor(2) });
    const chat = await befriend(victim, friend);
    await befriend(other, victim);
    const F = new Chatter(cl, friend);
    await F.connect();
    const O = new Chatter(cl, other);
    await O.connect();
    const V = new Chatter(cl, victim);
    V.auto = false; // a client that does not come back
    await V.connect();
    assert.equal(V.instance, 'duet-3');
    await F.seen('presence', (e) => e.user === victim.id && e.online === true);
    assert.equal((await chatWith(friend, chat)).peer.online, true);
    const before = Date.now();
    const mark = F.mark();
    await cl.crash(3);
    const crashedAt = Date.now();
    const off = await F.after(mark, 'presence', (e) => e.user === victim.id && e.online === false, (TTL_S * 3 + 10) * 1000 * SLOW);
    const took = Date.now() - crashedAt;
    const bound = (TTL_S + TTL_S / 5) * 1000 + 2000; // TTL, a reaper period, a fan-out
    assert.ok(took <= bound * SLOW, `offline after ${took} ms, bound ${bound} ms`);
    // Last seen is the dead instance's last heartbeat: at most a heartbeat
    // period (TTL/5) before the crash.
    assert.ok(off.last_seen <= crashedAt + 50, `last_seen ${off.last_seen} after the crash ${crashedAt}`);
    assert.ok(off.last_seen >= before - (TTL_S * 1000) / 5 - 500, `last_seen ${off.last_seen} too early (crash at ${before})`);
    // Told once to each friend, and stored.
    await O.seen('presence', (e) => e.user === victim.id && e.online === false);
    const c = await chatWith(friend, chat);
    assert.equal(c.peer.online, false);
    assert.equal(c.peer.last_seen, off.last_seen);
    const reg = cl.redis.cli('EXISTS', `duet:on:${victim.id.replace(/-/g, '')}`).trim();
    assert.equal(reg, '0', 'the registry forgot the victim');
    assert.deepEqual(F.events.filter((e) => e.type === 'presence' && e.user === victim.id && !e.online).length, 1);
    await F.close();
    await O.close();
  });

  it('a clean stop (SIGTERM) tells friends at once, and its users resume elsewhere', async () => {
    const leaver = await User.signup(cl.endpoint, 'leaver', { localAddress: cl.addrFor(2) });
    const stayer = await User.signup(cl.endpoint, 'stayer', { localAddress: cl.addrFor(2) });
    const friend = await User.signup(cl.endpoint, 'friend2', { localAddress: cl.addrFor(1) });
    await befriend(leaver, friend);
    await befriend(stayer, friend);
    const F = new Chatter(cl, friend);
    await F.connect();
    const L = new Chatter(cl, leaver);
    L.auto = false;
    await L.connect();
    const S = new Chatter(cl, stayer); // reconnects
    await S.connect();
    assert.equal(L.instance, 'duet-2');
    const mark = F.mark();
    const t0 = Date.now();
    const res = await cl.server(2).signal('SIGTERM');
    assert.equal(res.code, 0);
    assert.equal(L.cur.closed?.code ?? (await L.until(() => L.cur.closed, 'close')).code, 1001);
    const off = await F.after(mark, 'presence', (e) => e.user === leaver.id && !e.online, 5000 * SLOW);
    assert.ok(Date.now() - t0 < (TTL_S * 1000) / 2 + 2000 * SLOW, 'told at shutdown, not by the reaper');
    assert.ok(off.last_seen >= t0 - 1000 && off.last_seen <= Date.now());
    // The one who reconnects is on another instance and stays online.
    await S.until(() => S.conns.length === 2 && S.cur.synced && !S.cur.closed, 'stayer to resume');
    assert.notEqual(S.instance, 'duet-2');
    assert.equal(cl.redis.cli('EXISTS', `duet:on:${stayer.id.replace(/-/g, '')}`).trim(), '1');
    const id = F.send(await befriendChat(friend, stayer), "still here?");
    await F.sent(id);
    await S.seen('message', (e) => e.id === id);
    await F.close();
    await S.close();
  });
});
