// stat.mjs OUT...: measure.sh's perf stat counters per message and per
// commit (a commit = one fdatasync of the writer thread), by thread.
import { readFileSync } from 'node:fs';
for (const out of process.argv.slice(2)) {
  const s0 = readFileSync(out + '.s0', 'utf8'), s1 = readFileSync(out + '.s1', 'utf8');
  const msgs = +s1.match(/^msgs (\d+)/m)[1] - +s0.match(/^msgs (\d+)/m)[1];
  const tids = [...s1.matchAll(/^task (\d+)/gm)].map(m => +m[1]).sort((x, y) => x - y);
  const name = { [tids[0]]: 'main', [tids[1]]: 'ckpt', [tids[2]]: 'writer' };
  const c = {};
  for (const l of readFileSync(out + '.stat.txt', 'utf8').split('\n')) {
    const f = l.split(',');
    if (f.length < 4 || !/^\d+$/.test(f[1])) continue;
    const n = name[+f[0].split('-').pop()] || 'pool';
    const ev = f[3].replace('syscalls:sys_enter_', '').replace('raw_syscalls:sys_enter', 'syscalls');
    c[n] = c[n] || {}; c[n][ev] = (c[n][ev] || 0) + +f[1];
  }
  const commits = c.writer?.fdatasync || 0;
  console.log(`${out}: ${msgs} msgs, ${commits} commits = ${(msgs / commits).toFixed(1)} msgs/commit`);
  for (const [t, e] of Object.entries(c)) {
    if (t === 'pool') continue;
    console.log('  ' + t + ': ' + Object.entries(e).map(([k, v]) => `${k} ${(v / msgs).toFixed(2)}/msg`).join(', ') +
      (t === 'writer' && commits ? `; pwrite64 ${(e.pwrite64 / commits).toFixed(0)}/commit` : ''));
  }
}
