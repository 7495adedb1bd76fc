// node pairs-load.mjs DIR OLD NEW: a folder written by pair-load.sh.
// Per binary, medians of delivered msg/s, p99, and CPU µs per message
// (all threads; the loop thread; the writer, the busiest other thread);
// then the per-round ratios NEW/OLD and their medians.
import fs from 'node:fs';
const [dir, oldName, newName] = process.argv.slice(2);
const median = (v) => {
    const s = [...v].sort((x, y) => x - y);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const readCpu = (f) => new Map(fs.readFileSync(f, 'utf8').trim().split('\n')
    .map((l) => l.split(' ').map(Number)));
const runs = (name) => {
    const out = new Map();
    for (const f of fs.readdirSync(dir)) {
        const m = f.match(/^(.*)-r(\d+)\.json$/);
        if (!m || m[1] !== name) continue;
        const j = JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8'));
        const c0 = readCpu(`${dir}/${name}-r${m[2]}.cpu0`), c1 = readCpu(`${dir}/${name}-r${m[2]}.cpu1`);
        const d = [...c1].map(([t, ns]) => [t, ns - (c0.get(t) ?? 0)]);
        const main = Math.min(...d.map(([t]) => t));
        const loop = d.find(([t]) => t === main)[1];
        const writer = Math.max(...d.filter(([t]) => t !== main).map(([, ns]) => ns));
        const all = d.reduce((s, [, ns]) => s + ns, 0);
        const per = (ns) => ns / 1000 / j.msgs;
        out.set(Number(m[2]), { rate: j.rate, p99: j.p99_ms, cpu: per(all), loop: per(loop), writer: per(writer) });
    }
    return out;
};
const a = runs(oldName), b = runs(newName);
const keys = ['rate', 'p99', 'cpu', 'loop', 'writer'];
for (const [name, r] of [[oldName, a], [newName, b]]) {
    const v = [...r.values()];
    console.log(`${name}: n=${v.length} ` + keys.map((k) => `${k} ${median(v.map((x) => x[k])).toFixed(1)} ` +
        `[${v.map((x) => x[k].toFixed(0)).join(', ')}]`).join(' '));
}
const rounds = [...a.keys()].filter((k) => b.has(k)).sort((x, y) => x - y);
for (const k of ['rate', 'cpu', 'loop', 'writer']) {
    const r = rounds.map((i) => b.get(i)[k] / a.get(i)[k]);
    console.log(`${newName}/${oldName} ${k} per round: ${r.map((x) => x.toFixed(3)).join(' ')}; median ${median(r).toFixed(3)}`);
}
