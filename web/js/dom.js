// dom.js - building DOM without HTML strings. User text only ever becomes
// text nodes (textContent / createTextNode): nothing here parses markup.

const PROPS = new Set([
  'value',
  'checked',
  'disabled',
  'hidden',
  'tabIndex',
  'htmlFor',
  'type',
  'name',
  'placeholder',
  'autocomplete',
  'required',
  'maxLength',
  'minLength',
  'readOnly',
  'selected',
  'open',
  'rows',
  'spellcheck',
  'title',
  'id',
  'href',
  'target',
  'rel',
  'autofocus',
  'inputMode',
  'enterKeyHint',
  'lang',
  'dir',
]);

// h('button', {class: 'x', onclick: fn, 'aria-label': 'Send'}, 'text', child, [more])
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) setProps(el, props);
  append(el, children);
  return el;
}

export function setProps(el, props) {
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) {
      if (k.startsWith('aria-') || k.startsWith('data-')) continue;
      if (PROPS.has(k)) el[k] = v === false ? false : el[k];
      continue;
    }
    if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function replaceChildren(el, ...children) {
  clear(el);
  return append(el, children);
}

// Text with links made clickable; everything stays text nodes. Links are
// http(s) URLs, "www." hosts and bare hosts under a common top-level domain
// ("example.net"; not "file.txt" or "e.g.").
const URL_RE =
  /\b(?:https?:\/\/|www\.)[^\s<>"'`]*[^\s<>"'`.,;:!?)\]}]|(?<![@\w.\/-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,12})\b(?![.@-]?\w)(?:\/[^\s<>"'`]*[^\s<>"'`.,;:!?)\]}])?/gi;
const TLDS = new Set(
  (
    'com org net edu gov io dev app info biz me co uk de fr nl be ch at it es pt se no dk fi pl cz ' +
    'eu us ca au nz jp cn in br ru ie lu is ee lv lt sk si hu ro gr tr il za mx ar xyz online site tech'
  ).split(' '),
);
// Bidi controls and invisible marks: shown as code points inside link text,
// so "…\u202egpj.exe" cannot display as "…exe.jpg".
const BIDI_RE = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function showControls(s) {
  return s.replace(BIDI_RE, (c) => `<U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}>`);
}

function linkHref(raw, tld) {
  if (tld !== undefined && !TLDS.has(tld.toLowerCase())) return null;
  let u;
  try {
    u = new URL(/^https?:\/\//i.test(raw) ? raw : `https://${raw}`);
  } catch {
    return null; // not a URL after all
  }
  return u.protocol === 'http:' || u.protocol === 'https:' ? u : null;
}

export function linkify(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    const u = linkHref(m[0], m[1]);
    if (!u) continue;
    if (m.index > last) out.push(document.createTextNode(text.slice(last, m.index)));
    // The host as the browser will use it (punycode for look-alike
    // letters) is in the title; the text is left-to-right and isolated.
    out.push(
      h(
        'a',
        { href: u.href, target: '_blank', rel: 'noopener noreferrer nofollow', title: u.href, dir: 'ltr', class: 'link' },
        showControls(m[0]),
      ),
    );
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

// Announces text to screen readers through the page's polite live region.
let announceTimer = 0;
export function announce(text) {
  const el = document.getElementById('announcer');
  if (!el) return;
  clearTimeout(announceTimer);
  el.textContent = '';
  // A fresh text node after a tick makes repeated messages announce again.
  announceTimer = setTimeout(() => {
    el.textContent = text;
  }, 50);
}

// Keeps Tab focus inside el (for the small non-dialog overlays).
export function focusables(el) {
  return [...el.querySelectorAll('button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])')].filter(
    (x) => !x.disabled && !x.closest('[hidden]'),
  );
}

// Initials for an avatar: up to two letters of the name.
export function initials(name) {
  const words = String(name || '?')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  const chars = words.length > 1 ? [words[0], words[words.length - 1]].map((w) => [...w][0]) : [...(words[0] || '?')].slice(0, 1);
  return chars.join('').toUpperCase();
}

// A stable colour per user, from a palette that keeps white text readable.
// Each pair is a gradient whose both ends keep white text over 4.5:1.
const AVATAR_COLORS = [
  ['#c0265c', '#9d174d'],
  ['#c2410c', '#9a3412'],
  ['#a16207', '#854d0e'],
  ['#15803d', '#166534'],
  ['#0f766e', '#115e59'],
  ['#0369a1', '#075985'],
  ['#4f46e5', '#3730a3'],
  ['#7e22ce', '#6b21a8'],
  ['#be185d', '#9d174d'],
  ['#475569', '#334155'],
  ['#b91c1c', '#991b1b'],
  ['#0e7490', '#155e75'],
];
export function avatar(user, { online = false, size = '' } = {}) {
  let hsh = 0x811c9dc5; // FNV-1a over the id: neighbours get different colours
  for (const ch of String(user?.id || user?.username || '')) hsh = Math.imul(hsh ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  const el = h('span', { class: ['avatar', size], 'aria-hidden': 'true' }, initials(user?.display_name || user?.username));
  const [c1, c2] = AVATAR_COLORS[hsh % AVATAR_COLORS.length];
  el.style.backgroundColor = c2;
  el.style.backgroundImage = `linear-gradient(145deg, ${c1}, ${c2})`;
  if (online) el.append(h('span', { class: 'presence-dot' }));
  return el;
}
