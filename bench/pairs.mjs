// node bench/pairs.mjs DIR OLD NEW: medians of CPU per message (all threads and
// the loop thread), p99, load, WAL KiB per message, exactly-once, and the
// per-round ratio NEW/OLD of a folder written by pair.sh or ab2.sh.
import fs from 'node:fs';
const [dir, oldName, newName] = process.argv.slice(2);
const median = (v) => {
    const s = [...v].sort((x, y) => x - y);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const runs = (name) => {
    const out = new Map();
    for (const f of fs.readdirSync(dir)) {
        const m = f.match(/^(.*)-r(\d+)\.json$/);
        if (!m || m[1] !== name) continue;
        const run = JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8')).results[0].runs[0];
        const wb = Number(fs.readFileSync(`${dir}/${name}-r${m[2]}.write_bytes`, 'utf8'));
        const bad = run.errors + run.lost + run.duplicates + run.out_of_order +
            run.seq_out_of_order + run.unanswered + run.missing_receipts;
        out.set(Number(m[2]), {
            cpu: run.server_cpu_us_per_message,
            loop: (run.server_main_cpu_s / run.sends) * 1e6,
            // the busiest other thread: duetd's writer (absent before round 6)
            writer: ((run.server_other_cpu_s ?? NaN) / run.sends) * 1e6,
            p99: run.value, load: run.load1, wal: wb / run.sends / 1024,
            once: bad === 0 && run.sends === run.received,
        });
    }
    return out;
};
const a = runs(oldName), b = runs(newName);
for (const [name, r] of [[oldName, a], [newName, b]]) {
    const v = [...r.values()];
    console.log(`${name}: n=${v.length} cpu/msg ${median(v.map((x) => x.cpu)).toFixed(1)} ` +
        `[${v.map((x) => x.cpu.toFixed(0)).join(', ')}] loop ${median(v.map((x) => x.loop)).toFixed(1)} ` +
        `writer ${median(v.map((x) => x.writer)).toFixed(1)} ` +
        `p99 ${median(v.map((x) => x.p99)).toFixed(1)} ms load ` +
        `${Math.min(...v.map((x) => x.load))}-${Math.max(...v.map((x) => x.load))} ` +
        `WAL KiB/msg ${median(v.map((x) => x.wal)).toFixed(1)} exactly-once ${v.every((x) => x.once)}`);
}
const rounds = [...a.keys()].filter((k) => b.has(k)).sort((x, y) => x - y);
for (const k of ['cpu', 'writer', 'loop']) {
    const ratios = rounds.map((i) => b.get(i)[k] / a.get(i)[k]);
    console.log(`${newName}/${oldName} ${k === 'cpu' ? '' : k + ' '}per round: ` +
        `${ratios.map((x) => x.toFixed(3)).join(' ')}; median ${median(ratios).toFixed(3)}`);
}
