// latency.mjs DIR...: medians of p50 and p99 per binary (old, new) in the
// folders of window.sh: load.mjs's p50_ms/p99_ms (pair-load*), or
// duet-bench's measured step, send -> receive (pair*).
import fs from 'node:fs';
const median = (v) => {
    const s = [...v].sort((x, y) => x - y);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
for (const dir of process.argv.slice(2)) {
    for (const name of ['old', 'new']) {
        const p50 = [], p99 = [];
        for (const f of fs.readdirSync(dir)) {
            if (!f.startsWith(`${name}-r`) || !f.endsWith('.json')) continue;
            const j = JSON.parse(fs.readFileSync(`${dir}/${f}`, 'utf8'));
            if (j.results) {
                const steps = j.results[0].runs[0].steps;
                const s = steps[steps.length - 1].send_to_receive;
                p50.push(s.p50_ms);
                p99.push(s.p99_ms);
            } else {
                p50.push(j.p50_ms);
                p99.push(j.p99_ms);
            }
        }
        console.log(`${dir} ${name}: n=${p50.length} p50 ${median(p50).toFixed(1)} ms, p99 ${median(p99).toFixed(1)} ms`);
    }
}
