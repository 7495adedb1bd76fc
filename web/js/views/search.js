// search.js - message search (issue 17): GET /api/search within one chat
// or across all chats, newest first, a page at a time. Each result shows
// who wrote it, when, and its snippet with the matched words marked
// (<mark> around text nodes: the snippet is never parsed as HTML); picking
// one jumps to the message in its conversation.
import { api, errorText } from '../api.js';
import { h } from '../dom.js';
import { listTime } from '../format.js';
import { nameOf, state } from '../store.js';

const DEBOUNCE_MS = 250;

// The snippet as nodes, the matches ([start, length] in UTF-16 units) marked.
export function highlight(snippet, matches) {
  const out = [];
  let at = 0;
  for (const [start, len] of [...(matches || [])].sort((a, b) => a[0] - b[0])) {
    if (start < at || start + len > snippet.length) continue;
    if (start > at) out.push(document.createTextNode(snippet.slice(at, start)));
    out.push(h('mark', null, snippet.slice(start, start + len)));
    at = start + len;
  }
  if (at < snippet.length) out.push(document.createTextNode(snippet.slice(at)));
  return out;
}

function whoOf(r) {
  if (r.from === state.me?.id) return 'You';
  const chat = state.chats.get(r.chat_id);
  return chat ? nameOf(chat.peer) : '';
}

// A results list in host for the query typed elsewhere. chatId: only that
// chat. onPick(chatId, seq) when a result is chosen.
export function mountSearchResults(host, { chatId = null, onPick, label = 'Search results' }) {
  const list = h('ul', { class: 'search-results', 'aria-label': label });
  const status = h('p', { class: 'search-status muted', role: 'status' });
  const more = h('button', { type: 'button', class: 'btn btn-small search-more', hidden: true }, 'More results');
  const box = h('div', { class: 'search-box', hidden: true }, status, list, more);
  host.append(box);
  let q = '';
  let next = null;
  let timer = 0;
  let gen = 0;

  function item(r) {
    const chat = state.chats.get(r.chat_id);
    return h(
      'li',
      null,
      h(
        'button',
        {
          type: 'button',
          class: 'search-hit',
          dataset: { chatId: r.chat_id, seq: String(r.seq) },
          onclick: () => onPick(r.chat_id, r.seq),
        },
        h(
          'span',
          { class: 'sh-top' },
          h('span', { class: 'sh-who' }, chatId || !chat || r.from !== state.me?.id ? whoOf(r) : `You · ${nameOf(chat.peer)}`),
          h('time', { class: 'sh-time' }, listTime(r.sent_at)),
        ),
        h('span', { class: 'sh-snippet', dir: 'auto' }, highlight(r.snippet, r.matches)),
      ),
    );
  }

  // A page may come back empty with a cursor: the server scans a bounded
  // part of a big history per request (docs/protocol.md, "Search"). Empty
  // pages are followed at once, a few at a time, so a rare word deep in the
  // history is still found without a click per empty page.
  const EMPTY_PAGES_MAX = 10;

  async function load(reset) {
    const my = ++gen;
    const params = { q, limit: 20 };
    if (chatId) params.chat_id = chatId;
    if (!reset && next) params.before = next;
    status.textContent = 'Searching…';
    try {
      let got = 0;
      for (let pages = 0; ; pages++) {
        const res = await api.search(params);
        if (my !== gen) return;
        if (reset && pages === 0) list.replaceChildren();
        list.append(...res.results.map(item));
        got += res.results.length;
        next = res.next_before;
        if (got > 0 || !next || pages + 1 >= EMPTY_PAGES_MAX) break;
        params.before = next;
      }
      more.hidden = !next;
      status.textContent = list.children.length
        ? `${list.children.length}${next ? '+' : ''} message${list.children.length === 1 && !next ? '' : 's'} found`
        : next
          ? `No messages match “${q}” in the newest messages; search further back?`
          : `No messages match “${q}”.`;
    } catch (e) {
      if (my !== gen) return;
      status.textContent = errorText(e);
    }
  }

  more.addEventListener('click', () => load(false));

  return {
    // Runs a search for text (debounced); an empty text hides the results.
    set(text) {
      const t = text.trim();
      clearTimeout(timer);
      if (t === q) return;
      q = t;
      next = null;
      gen++;
      box.hidden = !/[\p{L}\p{N}]/u.test(q);
      if (box.hidden) {
        list.replaceChildren();
        return;
      }
      timer = setTimeout(() => load(true), DEBOUNCE_MS);
    },
    first: () => list.querySelector('.search-hit'),
    destroy() {
      clearTimeout(timer);
      gen++;
      box.remove();
    },
  };
}
