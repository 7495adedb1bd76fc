// emoji.js - the composer's emoji picker (issue 17): searchable by name and
// keyword, the recently used first (localStorage), and keyboard accessible:
// typing filters, arrows move in the grid, Enter inserts, Esc closes and
// returns to the composer. The data ships in web/ (emoji-data.js).
import { h } from '../dom.js';
import { EMOJI } from '../emoji-data.js';

const RECENT_KEY = 'duet.emoji.recent';
const RECENT_MAX = 16;
const COLS = 8;

function loadRecent() {
  try {
    const v = JSON.parse(localStorage.getItem(RECENT_KEY) || '[]');
    return Array.isArray(v) ? v.filter((x) => typeof x === 'string').slice(0, RECENT_MAX) : [];
  } catch {
    return [];
  }
}

function saveRecent(e) {
  const list = [e, ...loadRecent().filter((x) => x !== e)].slice(0, RECENT_MAX);
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(list));
  } catch {
    /* private mode: no memory of recent ones */
  }
}

const NAMES = new Map(EMOJI.map(([e, n]) => [e, n]));

// The entries that match q (every word a prefix of a name word), recent first.
export function emojiMatches(q) {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  const recent = loadRecent().filter((e) => NAMES.has(e));
  const all = [...recent.map((e) => [e, NAMES.get(e)]), ...EMOJI.filter(([e]) => !recent.includes(e))];
  if (!words.length) return all;
  return all.filter(([, n]) => {
    const nw = n.split(' ');
    return words.every((w) => nw.some((x) => x.startsWith(w)));
  });
}

// Inserts text at the caret of a textarea, as typing would.
function insertAtCaret(input, text) {
  const start = input.selectionStart ?? input.value.length;
  const end = input.selectionEnd ?? start;
  input.setRangeText(text, start, end, 'end');
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

function emojiOption(e, n, first, onclick) {
  return h(
    'button',
    {
      type: 'button',
      class: 'emoji-opt',
      role: 'option',
      tabIndex: first ? 0 : -1,
      'aria-label': n.split(' ').slice(0, 3).join(' '),
      title: n,
      dataset: { emoji: e },
      onclick,
    },
    e,
  );
}

// Arrows move in the grid (up from the first row goes to the search box),
// Home and End to either end, Esc closes.
function onGridKey(e, { grid, search, close }) {
  const list = [...grid.querySelectorAll('.emoji-opt')];
  const i = list.indexOf(document.activeElement);
  if (i < 0) return;
  const move = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLS, ArrowUp: -COLS, Home: -i, End: list.length - 1 - i }[e.key];
  if (move !== undefined) {
    e.preventDefault();
    const j = i + move;
    if (j < 0 && e.key === 'ArrowUp') search.focus();
    else list[Math.max(0, Math.min(list.length - 1, j))].focus();
  } else if (e.key === 'Escape') {
    e.preventDefault();
    e.stopPropagation();
    close(true);
  }
}

// A button that opens the picker above anchor, inserting into input.
export function emojiButton(input, anchor) {
  let picker = null;
  const btn = h(
    'button',
    {
      type: 'button',
      class: 'icon-btn emoji-btn',
      'aria-label': 'Emoji',
      'aria-haspopup': 'dialog',
      'aria-expanded': 'false',
      onclick: () => (picker ? close(true) : open()),
    },
    '☺',
  );

  function close(focusInput) {
    if (!picker) return;
    picker.remove();
    picker = null;
    btn.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', onDoc, true);
    if (focusInput) input.focus();
  }

  function onDoc(e) {
    if (picker && !picker.contains(e.target) && !btn.contains(e.target)) close(false);
  }

  function open() {
    const search = h('input', {
      type: 'search',
      class: 'emoji-search',
      placeholder: 'Search emoji',
      'aria-label': 'Search emoji',
      autocomplete: 'off',
      spellcheck: false,
    });
    const grid = h('div', { class: 'emoji-grid', role: 'listbox', 'aria-label': 'Emoji' });
    const none = h('p', { class: 'emoji-none muted', hidden: true }, 'No emoji found');
    picker = h('div', { class: 'emoji-picker', role: 'dialog', 'aria-label': 'Emoji picker' }, search, grid, none);

    const pick = (e) => {
      saveRecent(e);
      insertAtCaret(input, e);
      close(true);
    };
    const fill = () => {
      const items = emojiMatches(search.value);
      grid.replaceChildren(...items.map(([e, n], i) => emojiOption(e, n, i === 0, () => pick(e))));
      none.hidden = items.length > 0;
    };
    const opts = () => [...grid.querySelectorAll('.emoji-opt')];
    search.addEventListener('input', fill);
    search.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        close(true);
      } else if (e.key === 'ArrowDown') {
        e.preventDefault();
        opts()[0]?.focus();
      } else if (e.key === 'Enter') {
        e.preventDefault();
        const first = opts()[0];
        if (first) pick(first.dataset.emoji);
      }
    });
    grid.addEventListener('keydown', (e) => onGridKey(e, { grid, search, close }));
    fill();
    anchor.append(picker);
    btn.setAttribute('aria-expanded', 'true');
    document.addEventListener('pointerdown', onDoc, true);
    search.focus();
  }

  return { button: btn, close: () => close(false) };
}
