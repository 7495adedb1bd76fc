// msgnav.js - moving about in a chat's messages (MessagesView, messages.js):
// the floating date, "jump to first unread", jumping to a message in
// context (search results, quotes), and the keyboard on rows.
import { dayLabel } from '../format.js';
import { history } from '../history.js';
import { atLatest, dropRun, firstSeq, lastSeq, mergePage, msgAt, setLoaded } from '../store.js';
import { loadInitial } from '../sync.js';

const CONTROLS = 'a, button, input, textarea, [role="slider"]';

// The day of the topmost row in view, shown at the top while scrolling.
export function updateFloatDate(v) {
  const top = v.scroller.scrollTop;
  let label = '';
  for (const s of [...v.rows.keys()].sort((a, b) => a - b)) {
    const el = v.rows.get(s).el;
    const m = msgAt(v.chat, s);
    if (m && !m.withheld && el.offsetTop + el.offsetHeight > top) {
      label = dayLabel(m.sent_at);
      break;
    }
  }
  v.floatDate.textContent = label;
  v.floatDate.hidden = !label || top < 8;
  clearTimeout(v.floatTimer);
  v.floatDate.classList.add('shown');
  v.floatTimer = setTimeout(() => v.floatDate.classList.remove('shown'), 1500);
}

// Shows "jump to first unread" while that message is above the viewport.
export function updateUnreadJump(v) {
  let show = false;
  if (v.firstUnread) {
    const r = v.rows.get(v.firstUnread);
    if (r) show = r.el.offsetTop + r.el.offsetHeight < v.scroller.scrollTop;
    else show = !msgAt(v.chat, v.firstUnread) || v.firstUnread < v.wLo;
    if (r && !show) v.firstUnread = 0; // seen once: done
  }
  v.unreadBtn.hidden = !show;
}

// Shows message seq in context, loading the history around it when it
// is not in memory (a search result, the first unread), and flashes it.
export async function jumpToSeq(v, seq) {
  const chat = v.chat;
  for (let i = 0; i < 100 && chat.loadingNewer; i++) await new Promise((r) => setTimeout(r, 50));
  if (!msgAt(chat, seq)) {
    let page;
    try {
      page = await history(chat.id, { after: Math.max(0, seq - 25), limit: 50 });
    } catch {
      return;
    }
    if (!v.scroller.isConnected || !page.length) return;
    dropRun(chat);
    mergePage(chat, page);
    setLoaded(chat, true);
  }
  if (!msgAt(chat, seq)) return;
  if (seq === v.firstUnread) v.firstUnread = 0;
  v.pinned = false;
  v.clearRows();
  v.wLo = Math.max(firstSeq(chat), seq - 30);
  v.wHi = Math.min(lastSeq(chat), seq + 30);
  v.lastKnown = lastSeq(chat);
  v.trimSide = 'bottom';
  v.sync();
  const el = v.rows.get(seq)?.el;
  if (!el) return;
  v.scroller.scrollTop = el.offsetTop - v.scroller.clientHeight / 3;
  el.classList.add('flash');
  setTimeout(() => el.classList.remove('flash'), 2000);
  el.focus({ preventScroll: true });
  v.updateJump();
}

export function onRowKey(v, e) {
  const rows = [...v.list.children, ...v.pending.children];
  const cur = document.activeElement?.closest?.('.row');
  const i = cur ? rows.indexOf(cur) : -1;
  const focusRow = (el) => {
    if (!el) return;
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: 'nearest' });
  };
  if (e.key === 'ArrowUp') {
    e.preventDefault();
    if (i < 0) focusRow(lastVisibleRow(v, rows));
    else if (i > 0) focusRow(rows[i - 1]);
    else v.onScroll();
  } else if (e.key === 'ArrowDown') {
    e.preventDefault();
    if (i < 0) focusRow(lastVisibleRow(v, rows));
    else if (i < rows.length - 1) focusRow(rows[i + 1]);
  } else if ((e.key === 'Enter' || e.key === ' ') && cur && cur.dataset.seq && !e.target.closest(CONTROLS)) {
    e.preventDefault();
    v.onInfo(Number(cur.dataset.seq));
  } else if ((e.key === 'a' || e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey)) && cur?.dataset.seq) {
    e.preventDefault(); // the message's actions (issue 17)
    v.openActions(Number(cur.dataset.seq), cur.querySelector('.msg-act') || cur);
  } else if (e.key === 'r' && cur?.dataset.seq && msgAt(v.chat, Number(cur.dataset.seq))) {
    e.preventDefault();
    v.actionHooks.onReply?.(msgAt(v.chat, Number(cur.dataset.seq)));
  } else if (e.key === 'End' && e.ctrlKey) {
    e.preventDefault();
    v.toLatest(true);
  } else if (e.key === 'Escape') {
    v.onEscape?.();
  }
}

function lastVisibleRow(v, rows) {
  const box = v.scroller.getBoundingClientRect();
  for (let j = rows.length - 1; j >= 0; j--) {
    const r = rows[j].getBoundingClientRect();
    if (r.top < box.bottom && r.bottom > box.top) return rows[j];
  }
  return rows[rows.length - 1];
}

// Jumps to the newest message (reloading the end if memory does not reach it).
export function toLatest(v, focus = false) {
  const chat = v.chat;
  v.pinned = true;
  v.toEnd = true; // the end, not the "new messages" divider (issue 17: after a jump)
  v.newBelow = 0;
  v.trimSide = 'top';
  if (atLatest(chat)) {
    if (v.wHi !== lastSeq(chat)) v.clearRows();
    v.sync();
  } else {
    dropRun(chat);
    v.clearRows();
    loadInitial(chat);
    v.sync();
  }
  v.scrollToBottom();
  if (focus) v.scroller.focus({ preventScroll: true });
}
