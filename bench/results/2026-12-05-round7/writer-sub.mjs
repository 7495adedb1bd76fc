// writer-sub.mjs SCRIPT FUNC...: of the samples of `perf script -F tid,ip,sym`
// (dwarf call graphs) with FUNC on the stack, the two frames FUNC calls
// ("a > b": FUNC calls a, which calls b), by share of all samples.
import { printShares, readSamples } from '../../perf-samples.mjs';

const [file, ...targets] = process.argv.slice(2);
const samples = readSamples(file);
const n = samples.length;
for (const target of targets) {
  const c = new Map();
  for (const st of samples) {
    const i = st.indexOf(target);
    if (i < 0) continue;
    const k = i > 0 ? st.slice(Math.max(0, i - 2), i).reverse().join(' > ') : '(self)';
    c.set(k, (c.get(k) || 0) + 1);
  }
  const tot = [...c.values()].reduce((a, b) => a + b, 0);
  console.log(`== ${target}: ${tot} samples, ${((100 * tot) / n).toFixed(1)}% of ${n}`);
  printShares(c, n, 25);
}
