// check-js-size.mjs - fails when a file under web/js is over MAX_FILE lines
// or a function in one is over MAX_FUNC lines (issue 13: small files, small
// functions). scripts/check-js-size.sh runs it; `make check-layers` too.
//
//   node scripts/check-js-size.mjs [DIR]     (default: web/js next to this script)
//
// A simple scan, not a parser. Strings, template text and comments are
// blanked first, then it matches, at the start of a line:
//   function name(…) {          (export, async and a generator's * allowed)
//   name(…) {                   a method (static, async, get, set allowed)
//   const name = (…) => {       let or var too, async, or one bare parameter
// and counts from that line to the line of the brace that closes the body.
// Its limits: anonymous functions and callbacks (`on('x', () => { … })`),
// object properties (`name: () => { … }`) and arrows without a braced body
// are not counted, only the functions that hold them; a regular expression
// literal with an unbalanced brace (/\{/) would throw the count off (none
// has one today; write it as new RegExp or \x7b).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_FILE = 600;
const MAX_FUNC = 100;
const KEYWORDS = new Set(['if', 'for', 'while', 'switch', 'catch', 'with', 'return', 'function', 'typeof', 'await', 'new', 'do', 'else']);

const here = dirname(fileURLToPath(import.meta.url));
const root = process.argv[2] || join(here, '..', 'web', 'js');

function jsFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...jsFiles(p));
    else if (name.endsWith('.js')) out.push(p);
  }
  return out;
}

// The source with strings, template text and comments turned into spaces
// (newlines kept, so offsets and line numbers stay); code in a template's
// ${…} stays code.
function blank(src) {
  const out = src.split('');
  const stack = []; // for each open ${: the brace depth it started at
  let depth = 0;
  let i = 0;
  const clear = (from, to) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  // Skips template text from i (just after ` or }); stops after the closing
  // ` or after a ${ (then the caller goes on with code).
  const template = () => {
    const start = i;
    while (i < src.length) {
      if (src[i] === '\\') i += 2;
      else if (src[i] === '`') {
        clear(start, i);
        i++;
        return;
      } else if (src[i] === '$' && src[i + 1] === '{') {
        clear(start, i + 2);
        stack.push(depth);
        depth++;
        i += 2;
        return;
      } else i++;
    }
    clear(start, i);
  };
  while (i < src.length) {
    const c = src[i];
    if (c === '/' && src[i + 1] === '/') {
      const end = src.indexOf('\n', i);
      const to = end < 0 ? src.length : end;
      clear(i, to);
      i = to;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const to = end < 0 ? src.length : end + 2;
      clear(i, to);
      i = to;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      clear(i + 1, j);
      i = j + 1;
    } else if (c === '`') {
      i++;
      template();
    } else if (c === '{') {
      depth++;
      i++;
    } else if (c === '}') {
      depth--;
      if (stack.length && stack[stack.length - 1] === depth) {
        stack.pop();
        out[i] = ' ';
        i++;
        template();
      } else i++;
    } else i++;
  }
  return out.join('');
}

// The index just past the bracket that closes the one at `at`.
function closeOf(code, at, open, close) {
  let n = 0;
  for (let k = at; k < code.length; k++) {
    if (code[k] === open) n++;
    else if (code[k] === close && --n === 0) return k + 1;
  }
  return -1;
}

const STARTS = [
  /^[ \t]*(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)\s*(?=\()/gm,
  /^[ \t]*(?:static\s+)?(?:async\s+)?(?:(?:get|set)\s+)?\*?([A-Za-z_$][\w$]*)\s*(?=\()/gm,
  /^[ \t]*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:async\s+)?(?=\(|[A-Za-z_$][\w$]*\s*=>)/gm,
];

// Each function found: [name, first line, last line].
function functions(code) {
  const lineAt = (k) => code.slice(0, k).split('\n').length;
  const found = new Map();
  for (const re of STARTS) {
    for (const m of code.matchAll(re)) {
      if (KEYWORDS.has(m[1])) continue;
      let k = m.index + m[0].length;
      if (code[k] === '(') k = closeOf(code, k, '(', ')');
      else k = code.indexOf('=>', k); // one bare parameter
      if (k < 0) continue;
      const rest = code.slice(k).match(/^\s*(=>\s*)?\{/);
      // A function or method has its body right after the parameters; a
      // const's needs the arrow (else it is a call: `const x = f(…) {` is
      // not JavaScript, but `const x = f(y)` then a block could look so).
      if (!rest || (re === STARTS[2]) !== !!rest[1]) continue;
      const open = k + rest[0].length - 1;
      const end = closeOf(code, open, '{', '}');
      if (end < 0 || found.has(m.index)) continue;
      found.set(m.index, [m[1], lineAt(m.index + m[0].search(/\S/)), lineAt(end - 1)]);
    }
  }
  return [...found.values()];
}

let bad = 0;
let nfiles = 0;
let nfuncs = 0;
for (const file of jsFiles(root)) {
  const src = readFileSync(file, 'utf8');
  const rel = relative(process.cwd(), file);
  const lines = src.split('\n').length - (src.endsWith('\n') ? 1 : 0);
  nfiles++;
  if (lines > MAX_FILE) {
    console.error(`check-js-size: ${rel}: ${lines} lines (at most ${MAX_FILE})`);
    bad++;
  }
  for (const [name, from, to] of functions(blank(src))) {
    nfuncs++;
    if (to - from + 1 > MAX_FUNC) {
      console.error(`check-js-size: ${rel}:${from}: ${name} is ${to - from + 1} lines (at most ${MAX_FUNC})`);
      bad++;
    }
  }
}
if (bad) process.exit(1);
console.log(`check-js-size: ${nfiles} files and ${nfuncs} functions, none too long`);
