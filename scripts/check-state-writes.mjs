// check-state-writes.mjs - fails when a module under web/js other than
// store.js assigns into the shared state (issue 13: store.js is the only
// writer; the others call its named mutations). Only modules that import
// `state` from store.js are looked at, since some views name a local
// element `state`. A scan, not a parser: it sees `state.x = …`,
// `state.x[k] += …`, `state.x++` and `delete state.x`, not writes through
// an alias (`const s = state; s.x = 1`).
//
//   node scripts/check-state-writes.mjs [DIR]     (default: web/js)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = process.argv[2] || join(here, '..', 'web', 'js');
const IMPORTS_STATE = /import\s*\{[^}]*\bstate\b[^}]*\}\s*from\s*['"][./]*store\.js['"]/;
const WRITE = /(?:\bdelete\s+state\.|\bstate\.[A-Za-z_$][\w$.]*(?:\[[^\]]*\])*\s*(?:[-+*/|&]?=(?!=)|\+\+|--))/;

function jsFiles(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return jsFiles(p);
      return name.endsWith('.js') ? [p] : [];
    });
}

let bad = 0;
for (const file of jsFiles(root)) {
  if (file.endsWith(`${join('js', 'store.js')}`)) continue;
  const src = readFileSync(file, 'utf8');
  if (!IMPORTS_STATE.test(src)) continue;
  src.split('\n').forEach((line, i) => {
    if (WRITE.test(line.replace(/\/\/.*$/, ''))) {
      console.error(`${relative(process.cwd(), file)}:${i + 1}: writes state outside store.js: ${line.trim()}`);
      bad++;
    }
  });
}
if (bad) {
  console.error(`check-state-writes: ${bad} write(s); add a named mutation to web/js/store.js instead`);
  process.exit(1);
}
console.log('check-state-writes: only store.js writes state');
