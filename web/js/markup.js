// markup.js - light formatting of message text (issue 17): *bold*,
// _italic_, ~strike~, `code` and ``` blocks ```, as WhatsApp writes them.
// parse() is a small tokenizer (pure: no DOM), render() turns its tokens
// into elements and text nodes. Nothing is ever parsed as HTML: the text
// only becomes text nodes (and links, through linkify).
import { h, linkify } from './dom.js';

const MARKS = { '*': 'b', _: 'i', '~': 's' };
const WORD = /[\p{L}\p{N}]/u;

// A mark may open at the start or after a character that is not a letter
// or digit, and must be followed by a non-space; it closes before a
// non-letter/digit (or the end), right after a non-space.
function opens(text, i) {
  const prev = i > 0 ? text[i - 1] : '';
  const next = text[i + 1] || '';
  return (!prev || !WORD.test(prev)) && next && !/\s/.test(next) && next !== text[i];
}

function closes(text, i) {
  const prev = text[i - 1] || '';
  const next = text[i + 1] || '';
  return prev && !/\s/.test(prev) && (!next || !WORD.test(next));
}

// The closing marks of text, found once: for each mark, the positions
// where it may close (ascending), and the positions of the newlines. The
// opener at i then takes the first closer from i + 2 on, if no newline
// comes first; the pointers only move forward, as i does. Searching from
// each opener instead was quadratic: a peer's 4,000 characters of "*x "
// cost ~50 ms a render on a desktop, ten times that on a phone.
function closers(text) {
  const at = { '*': [], _: [], '~': [], '\n': [] };
  for (let j = 1; j < text.length; j++) {
    const c = text[j];
    if (c === '\n') at[c].push(j);
    else if (MARKS[c] && j >= 2 && closes(text, j)) at[c].push(j);
  }
  const ptr = { '*': 0, _: 0, '~': 0, '\n': 0 };
  // The first position of kind c at or after from, or Infinity.
  return (c, from) => {
    const list = at[c];
    while (ptr[c] < list.length && list[ptr[c]] < from) ptr[c]++;
    return ptr[c] < list.length ? list[ptr[c]] : Infinity;
  };
}

// Tokens: {t: 'text', v}, {t: 'code', v}, {t: 'pre', v}, {t: 'b'|'i'|'s', c: [tokens]}.
export function parse(text) {
  const out = [];
  let buf = '';
  const flush = () => {
    if (buf) out.push({ t: 'text', v: buf });
    buf = '';
  };
  let next = null;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (text.startsWith('```', i)) {
      const end = text.indexOf('```', i + 3);
      if (end > i + 3) {
        flush();
        // A newline right after the opening fence is not part of the block.
        let v = text.slice(i + 3, end);
        if (v.startsWith('\n')) v = v.slice(1);
        out.push({ t: 'pre', v });
        i = end + 3;
        continue;
      }
    }
    if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end > i + 1 && !text.slice(i + 1, end).includes('\n')) {
        flush();
        out.push({ t: 'code', v: text.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    if (MARKS[c] && opens(text, i)) {
      // The nearest closing mark on the same line.
      next ??= closers(text);
      const end = next(c, i + 2);
      if (end < next('\n', i + 2)) {
        flush();
        out.push({ t: MARKS[c], c: parse(text.slice(i + 1, end)) });
        i = end + 1;
        continue;
      }
    }
    buf += c;
    i++;
  }
  flush();
  return out;
}

const TAGS = { b: 'strong', i: 'em', s: 's' };

// DOM nodes for text: formatted, with links in the plain parts.
export function render(tokens) {
  return tokens.map((tk) => {
    if (tk.t === 'text') return linkify(tk.v);
    if (tk.t === 'code') return h('code', { class: 'md-code' }, tk.v);
    if (tk.t === 'pre') return h('pre', { class: 'md-pre', dir: 'ltr' }, h('code', null, tk.v));
    return h(TAGS[tk.t], { class: `md-${tk.t}` }, render(tk.c));
  });
}

export function markup(text) {
  return render(parse(text));
}

// The text without its marks, for previews and labels.
export function plain(text) {
  const walk = (tokens) => tokens.map((tk) => (tk.c ? walk(tk.c) : tk.v)).join('');
  return walk(parse(text));
}
