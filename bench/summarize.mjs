#!/usr/bin/env node
// bench/summarize.mjs DIR... - one markdown table of duet-bench JSON results:
// per scenario file, each run's headline value with the machine's load, and
// the median, min and max (BENCHMARKS.md is written from these).
import fs from 'node:fs';
import path from 'node:path';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const g3 = (x) => Number(x.toPrecision(3)).toString();

const rows = new Map();
for (const d of process.argv.slice(2)) {
  for (const file of fs.readdirSync(d).filter((f) => f.endsWith('.json')).sort()) {
    let name = file.slice(0, -5);
    if (name.startsWith('idle-')) name = name.split('-')[0];
    const doc = JSON.parse(fs.readFileSync(path.join(d, file), 'utf8'));
    for (const res of doc.results) {
      for (const r of res.runs) {
        const key = `${d}\u0000${name}`;
        if (!rows.has(key)) rows.set(key, []);
        rows.get(key).push(r);
      }
    }
  }
}

console.log('| results | scenario | key | runs (load) | median | min | max | pass | server CPU us/msg |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const [key, rs] of rows) {
  const [d, name] = key.split('\u0000');
  const vals = rs.map((r) => r.value);
  const cpu = rs.map((r) => r.server_cpu_us_per_message).filter(Boolean);
  const runs = rs.map((r) => `${g3(r.value)} (${r.load1.toFixed(1)})`).join(', ');
  console.log(`| ${path.basename(d.replace(/\/+$/, ''))} | ${name} | ${rs[0].key} | ${runs} | ` +
    `${g3(median(vals))} | ${g3(Math.min(...vals))} | ${g3(Math.max(...vals))} | ` +
    `${rs.every((r) => r.pass) ? 'yes' : 'NO'} | ${cpu.length ? median(cpu).toFixed(0) : '-'} |`);
}
