// delete-e2e.mjs PORT SESSION CHAT SEQ...: one delete for everyone at a time
// over the WebSocket; prints the time from request to `deleted` for each.
import WebSocket from 'ws';
const [port, session, chat, ...seqs] = process.argv.slice(2);
const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { Cookie: `duet_session=${session}` }, origin: `http://127.0.0.1:${port}` });
await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
const waiting = new Map();
ws.on('message', (d) => {
  const m = JSON.parse(d);
  if (m.ref && waiting.has(m.ref)) waiting.get(m.ref)(m);
});
const out = [];
for (const seq of seqs) {
  const ref = `d${seq}`;
  const t = performance.now();
  const m = await new Promise((r) => { waiting.set(ref, r); ws.send(JSON.stringify({ type: 'delete', ref, chat_id: chat, seq: Number(seq) })); });
  out.push(`seq ${seq}: ${m.type}${m.code ? ' ' + m.code : ''} in ${(performance.now() - t).toFixed(1)} ms`);
}
console.log(out.join('\n'));
ws.close();
