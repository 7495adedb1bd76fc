#!/usr/bin/env node
// table.mjs [DIR] - the upload runs of this folder as the table of
// BENCHMARKS.md "Uploads": per configuration, each run's figures and the
// median of the runs.
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2] || path.dirname(new URL(import.meta.url).pathname);
const med = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const f1 = (x) => x.toFixed(1);
const groups = new Map();
for (const f of fs.readdirSync(dir).filter((x) => /^upload-.*\.json$/.test(x)).sort()) {
  const cfg = f.replace(/^upload-/, '').replace(/-run\d+\.json$/, '');
  const r = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).results[0].runs[0];
  const u = r.upload;
  const row = {
    file: f,
    load: r.load1,
    pass: r.pass,
    mbps: u.mb_per_s,
    done: u.done,
    up_p50: u.time_per_upload.p50_ms,
    up_p99: u.time_per_upload.p99_ms,
    base_p50: r.steps[1].send_to_receive.p50_ms,
    base_p99: r.steps[1].send_to_receive.p99_ms,
    up_chat_p50: r.steps[2].send_to_receive.p50_ms,
    up_chat_p99: r.steps[2].send_to_receive.p99_ms,
    up_chat_n: r.steps[2].send_to_receive.count,
    rss0: u.rss_before_kib,
    rss_growth: u.rss_max_during_kib - u.rss_before_kib,
    per_upload: (u.rss_max_during_kib - u.rss_before_kib) / u.uploads,
    hwm0: u.hwm_before_kib,
    hwm1: u.hwm_after_kib,
  };
  if (!groups.has(cfg)) groups.set(cfg, []);
  groups.get(cfg).push(row);
}
const cols = ['load', 'mbps', 'done', 'up_p50', 'up_p99', 'base_p50', 'base_p99', 'up_chat_p50',
  'up_chat_p99', 'up_chat_n', 'rss0', 'rss_growth', 'per_upload', 'hwm0', 'hwm1'];
console.log(`| config | run | pass | ${cols.join(' | ')} |`);
console.log(`|---|---|---|${cols.map(() => '---').join('|')}|`);
for (const [cfg, rows] of groups) {
  for (const r of rows) console.log(`| ${cfg} | ${r.file} | ${r.pass ? 'yes' : 'NO'} | ${cols.map((c) => f1(r[c])).join(' | ')} |`);
  console.log(`| ${cfg} | **median of ${rows.length}** | | ${cols.map((c) => f1(med(rows.map((r) => r[c])))).join(' | ')} |`);
}
