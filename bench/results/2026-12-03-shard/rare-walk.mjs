// rare-walk.mjs PORT SESSION WORD: the whole walk of a search (following
// next_before until null): requests, hits, total and slowest request in ms.
const [port, session, word] = process.argv.slice(2);
let next = null, reqs = 0, hits = 0, slowest = 0;
const t0 = performance.now();
do {
  const t = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/api/search?q=${word}&limit=20${next ? `&before=${next}` : ''}`, { headers: { cookie: `duet_session=${session}` } });
  const j = await res.json();
  if (res.status !== 200) throw new Error(JSON.stringify(j));
  slowest = Math.max(slowest, performance.now() - t);
  reqs++;
  hits += j.results.length;
  next = j.next_before;
} while (next !== null);
console.log(`${word}: ${reqs} requests, ${hits} hits, ${(performance.now() - t0).toFixed(1)} ms in all, slowest ${slowest.toFixed(1)} ms`);
