// cpu.mjs OUT...: per-thread CPU µs per message over measure.sh's window
// (OUT.s0, OUT.s1). Threads: main = the pid (lowest tid), then by tid:
// the checkpoint helper, the writer, then libuv's pool (idle here).
import { readFileSync, existsSync } from 'node:fs';
const parse = f => {
  const r = { task: {} };
  for (const l of readFileSync(f, 'utf8').trim().split('\n')) {
    const p = l.split(' ');
    if (p[0] === 'task') r.task[p[1]] = [+p[2], +p[3]];
    else if (p[0].startsWith('cpu')) r[p[0]] = [+p[1], +p[2]];
    else r[p[0]] = +p[1];
  }
  return r;
};
for (const out of process.argv.slice(2)) {
  const a = parse(out + '.s0'), b = parse(out + '.s1');
  const msgs = b.msgs - a.msgs, secs = b.t - a.t;
  const tids = Object.keys(b.task).map(Number).sort((x, y) => x - y);
  const names = ['main', 'ckpt', 'writer'];
  let all = 0, wait = 0; const per = {};
  tids.forEach((t, i) => {
    const d = b.task[t][0] - (a.task[t] ? a.task[t][0] : 0);
    const w = b.task[t][1] - (a.task[t] ? a.task[t][1] : 0);
    all += d; wait += w;
    const n = names[i] || 'pool';
    per[n] = (per[n] || 0) + d;
  });
  const us = x => (x / 1e3 / msgs).toFixed(1);
  const core = k => a[k] ? `${k} busy ${((b[k][0] - a[k][0]) / ((b[k][0] - a[k][0]) + (b[k][1] - a[k][1])) * 100).toFixed(0)}%` : '';
  const up = existsSync(out + '.uptime') ? readFileSync(out + '.uptime', 'utf8').trim().replace(/.*load average: /, '') : '';
  console.log(`${out}: ${msgs} msgs in ${secs.toFixed(2)} s = ${(msgs / secs).toFixed(0)}/s; CPU us/msg all ${us(all)} main ${us(per.main)} writer ${us(per.writer)} ckpt ${us(per.ckpt)} pool ${us(per.pool || 0)}; core busy ${(all / 1e9 / secs * 100).toFixed(0)}%, runq wait ${(wait / 1e9 / secs * 100).toFixed(0)}% (sum of threads); ${core('cpu0')}, ${core('cpu1')} (all processes); disk write ${((b.wbytes - a.wbytes) / msgs / 1024).toFixed(1)} KiB/msg; load ${up}`);
}
