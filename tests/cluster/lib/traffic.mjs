// traffic.mjs - pairs of friends on given instances sending to each other
// on a timer, for the failure tests.
import { User, befriend } from '../../integration/lib/client.mjs';
import { Chatter, WAIT_MS, checkDelivery, checkGapless } from './chatter.mjs';

let n = 0;

// Makes one pair per [i, j] of instances: a on i, b on j, friends, connected.
export async function makePairs(cl, specs, prefix = 'p') {
  const pairs = [];
  for (const [i, j] of specs) {
    const ua = await User.signup(cl.endpoint, `${prefix}a${++n}`, { localAddress: cl.addrFor(i) });
    const ub = await User.signup(cl.endpoint, `${prefix}b${n}`, { localAddress: cl.addrFor(j) });
    const chat = await befriend(ua, ub);
    const a = new Chatter(cl, ua);
    const b = new Chatter(cl, ub);
    await a.connect();
    await b.connect();
    pairs.push({ a, b, chat, homes: [i, j] });
  }
  return pairs;
}

// Both sides of every pair send every `everyMs` until stop() is called.
export function startTraffic(pairs, everyMs = 40) {
  let k = 0;
  const timer = setInterval(() => {
    k++;
    for (const p of pairs) {
      p.a.send(p.chat, `a says ${k}`);
      p.b.send(p.chat, `b says ${k}`);
    }
  }, everyMs);
  return { stop: () => clearInterval(timer), count: () => k };
}

// Waits until every send is acknowledged, then checks delivery both ways.
export async function checkPairs(pairs, timeoutMs = 2 * WAIT_MS) {
  for (const p of pairs) {
    await p.a.until(() => p.a.unacked() === 0, `${p.a.label}: every send acknowledged`, timeoutMs);
    await p.b.until(() => p.b.unacked() === 0, `${p.b.label}: every send acknowledged`, timeoutMs);
  }
  for (const p of pairs) {
    checkGapless(p.a, p.b, p.chat);
    await checkDelivery(p.a, p.b, p.chat, timeoutMs);
    await checkDelivery(p.b, p.a, p.chat, timeoutMs);
  }
}

export async function closePairs(pairs) {
  await Promise.all(pairs.flatMap((p) => [p.a.close(), p.b.close()]));
}
