// perf-samples.mjs: reads the output of `perf script -F tid,ip,sym` with
// call graphs into one array of function names per sample, innermost
// first. Used by the profile classifiers kept with some results
// (bench/results/*/writer-*.mjs).
import fs from 'node:fs';

export function readSamples(file) {
  const samples = [];
  let cur = [];
  const end = () => {
    if (cur.length) samples.push(cur);
    cur = [];
  };
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line) {
      end();
      continue;
    }
    if (/^\d+$/.test(line)) {
      end(); // a sample's tid line
      continue;
    }
    const i = line.search(/\s/);
    if (i > 0) cur.push(line.slice(i).trim().split('+')[0]);
  }
  end();
  return samples;
}

// Prints a count map as shares of n, largest first.
export function printShares(counts, n, most = Infinity) {
  for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, most))
    console.log(`  ${((100 * v) / n).toFixed(1).padStart(5)}%  ${k}`);
}
