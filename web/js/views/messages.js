// messages.js - the message list of the open chat, windowed: at most
// MAX_ROWS rows are in the DOM, whatever the length of the conversation.
// Scrolling near an edge renders the next rows from memory, or pages in
// history (before / after) when memory ends there; rows far from the
// viewport are dropped, and memory beyond MAX_MEM messages is trimmed. The
// scroll position is kept by hand around every change (an anchor row keeps
// its place on screen).
import { announce, h } from '../dom.js';
import { startOfDay } from '../format.js';
import { icon } from '../icons.js';
import { atLatest, firstSeq, lastSeq, msgAt, nameOf, on, outboxFor, state, trimRun } from '../store.js';
import { loadInitial, loadNewer, loadOlder, markSeen } from '../sync.js';
import { tickFor } from './list.js';
import { mediaLabel } from '../media/labels.js';
import { openActions } from './msgactions.js';
import { jumpToSeq, onRowKey, toLatest, updateFloatDate, updateUnreadJump } from './msgnav.js';
import { messageRow, pendingRow } from './msgrows.js';

const INIT_ROWS = 80;
const STEP = 60;
const MAX_ROWS = 240;
const MAX_MEM = 1500;
const EDGE_PX = 900;
const GROUP_MS = 5 * 60 * 1000;
export class MessagesView {
  constructor(host, chat, { onInfo, onEscape, onReply, onEdit }) {
    this.chat = chat;
    this.onInfo = onInfo;
    this.actionHooks = { onInfo, onReply, onEdit }; // issue 17 (msgactions.js)
    this.onEscape = onEscape;
    this.rows = new Map(); // seq -> {el, key}
    this.wLo = 0;
    this.wHi = 0;
    this.pinned = true;
    this.trimSide = 'top';
    this.newBelow = 0;
    this.lastKnown = lastSeq(chat);
    // The "new messages" divider: before the first unread message of the peer.
    this.unreadAtOpen = chat.unread;
    this.readAtOpen = chat.read_seq;
    this.dividerSeq = 0;
    this.firstUnread = chat.unread > 0 ? chat.read_seq + 1 : 0;

    this.mountDom(host);
    this.frame = 0;
    this.listen();
    this.syncFrame = 0;
    if (!chat.loaded && !chat.loadingNewer) loadInitial(chat);
    this.sync();
  }

  // The scroller with its rows and loaders, and the buttons over it.
  mountDom(host) {
    const chat = this.chat;
    this.startEl = h('div', { class: 'chat-start', hidden: true });
    this.topLoader = h(
      'div',
      { class: 'loader', hidden: true, role: 'status' },
      h('span', { class: 'spinner', 'aria-hidden': 'true' }),
      'Loading earlier messages…',
    );
    this.list = h('div', { class: 'msg-list', role: 'list' });
    this.pending = h('div', { class: 'msg-list pending-list', role: 'list', 'aria-label': 'Messages waiting to be sent' });
    this.bottomLoader = h(
      'div',
      { class: 'loader', hidden: true, role: 'status' },
      h('span', { class: 'spinner', 'aria-hidden': 'true' }),
      'Loading…',
    );
    this.emptyEl = h('div', { class: 'chat-empty', hidden: true });
    this.scroller = h(
      'div',
      {
        class: 'messages',
        role: 'region',
        tabIndex: 0,
        'aria-label': 'Messages. Use the arrow keys to move between messages and Enter for details.',
      },
      this.startEl,
      this.topLoader,
      this.list,
      this.pending,
      this.bottomLoader,
      this.emptyEl,
    );
    this.jumpBadge = h('span', { class: 'badge jump-badge', hidden: true });
    this.jump = h(
      'button',
      { type: 'button', class: 'jump', hidden: true, 'aria-label': 'Jump to the latest message', onclick: () => this.toLatest(true) },
      icon('down', { size: 22 }),
      this.jumpBadge,
    );
    // issue 17: the floating date of the rows in view, and "jump to the
    // first unread" when the chat opens with unread messages above the fold.
    this.floatDate = h('div', { class: 'float-date', hidden: true, 'aria-hidden': 'true' });
    this.unreadBtn = h(
      'button',
      { type: 'button', class: 'jump-unread', hidden: true, onclick: () => this.jumpTo(this.firstUnread) },
      icon('up', { size: 18 }),
      h('span', null, `${chat.unread} unread`),
    );
    this.unreadBtn.setAttribute('aria-label', `Jump to the first unread message (${chat.unread} unread)`);
    host.append(this.floatDate, this.scroller, this.jump, this.unreadBtn);
  }

  // Scrolling, keys, a bubble's long press or tap, resizes, and the store.
  listen() {
    const chat = this.chat;
    this.scroller.addEventListener(
      'scroll',
      () => {
        if (!this.frame) this.frame = requestAnimationFrame(() => this.onScroll());
      },
      { passive: true },
    );
    this.scroller.addEventListener('keydown', (e) => this.onKey(e));
    // A long press (or right click) on a bubble opens its actions.
    this.scroller.addEventListener('contextmenu', (e) => {
      const row = e.target.closest('.row[data-seq]');
      if (!row || !e.target.closest('.bubble') || e.target.closest('a')) return;
      e.preventDefault();
      this.openActions(Number(row.dataset.seq), row.querySelector('.msg-act') || row);
    });
    // Touch screens have no hover button: a tap on a bubble opens its info.
    this.scroller.addEventListener('click', (e) => {
      if (!window.matchMedia('(hover: none)').matches || e.target.closest('a, button')) return;
      const row = e.target.closest('.row[data-seq]');
      if (row && e.target.closest('.bubble')) this.onInfo(Number(row.dataset.seq));
    });
    this.resizeObs = new ResizeObserver(() => {
      if (this.pinned) this.scrollToBottom();
    });
    this.resizeObs.observe(this.scroller);
    this.offs = [
      on('msgs', (id) => id === chat.id && this.schedule()),
      on('outbox', (id) => (!id || id === chat.id) && this.schedule()),
      on('chats', () => this.schedule()),
      on('conn', () => this.checkSeen()),
      on('incoming', ({ chat: c, msg }) => {
        if (c.id !== chat.id) return;
        announce(`${nameOf(c.peer)}: ${mediaLabel(msg)}`);
        if (!this.pinned) this.newBelow++;
      }),
    ];
    this.onVisible = () => this.checkSeen();
    document.addEventListener('visibilitychange', this.onVisible);
  }

  destroy() {
    this.offs.forEach((f) => f());
    document.removeEventListener('visibilitychange', this.onVisible);
    this.resizeObs.disconnect();
    cancelAnimationFrame(this.frame);
    cancelAnimationFrame(this.syncFrame);
    clearTimeout(this.floatTimer);
  }

  schedule() {
    if (!this.syncFrame)
      this.syncFrame = requestAnimationFrame(() => {
        this.syncFrame = 0;
        this.sync();
      });
  }

  // ---- rows ------------------------------------------------------------------

  info(seq) {
    const chat = this.chat;
    const m = msgAt(chat, seq);
    let prev = msgAt(chat, seq - 1);
    for (let s = seq - 2; prev?.withheld && s >= seq - 20; s--) prev = msgAt(chat, s);
    if (prev?.withheld) prev = null;
    const day = !prev || startOfDay(prev.sent_at) !== startOfDay(m.sent_at);
    const grouped = !day && prev && prev.from === m.from && m.sent_at - prev.sent_at < GROUP_MS && !prev.deleted_at && !m.deleted_at;
    const divider = seq === this.dividerSeq;
    const status = tickFor(chat, m);
    return { m, day, grouped, divider, status, key: `${m._v}|${day}|${grouped}|${divider}|${status}` };
  }

  buildRow(info) {
    return messageRow(this, info);
  }

  // The actions menu of the message at seq (msgactions.js), under anchor.
  openActions(seq, anchor) {
    const m = msgAt(this.chat, seq);
    if (m && !m.withheld && !m.hidden) openActions(anchor, this.chat, m, this.actionHooks);
  }

  renderPending() {
    const chat = this.chat;
    const show = !this.wHi || (this.wHi === lastSeq(chat) && atLatest(chat));
    const items = show ? outboxFor(chat.id) : [];
    const rows = items.map(pendingRow);
    // A focused row that leaves the outbox becomes a message row with the
    // same id: focus follows it, so arrow keys go on from where they were.
    const focusedId = this.pending.contains(document.activeElement) ? document.activeElement.closest('.row')?.dataset.id : null;
    this.pending.replaceChildren(...rows);
    if (focusedId && !this.scroller.contains(document.activeElement)) {
      const sel = `.row[data-id="${CSS.escape(focusedId)}"]`;
      (this.list.querySelector(sel) || this.pending.querySelector(sel) || this.scroller).focus({ preventScroll: true });
    }
    return items.length;
  }

  // ---- the window ------------------------------------------------------------

  sync() {
    const chat = this.chat;
    const first = firstSeq(chat);
    const last = lastSeq(chat);
    this.topLoader.hidden = !chat.loadingOlder;
    this.bottomLoader.hidden = !(chat.loadingNewer && chat.msgs.length > 0 && this.wHi >= last);
    if (!chat.msgs.length) {
      this.syncEmpty();
      return;
    }
    this.emptyEl.hidden = true;
    this.findDivider(first, last);
    const initial = this.placeWindow(first, last);
    const anchor = initial ? null : this.captureAnchor();
    this.syncRows();
    this.trimRows();
    this.renderPending();
    this.showStart();
    this.settleScroll(initial, anchor);
    // Memory: keep a margin around the window, drop the rest.
    if (chat.msgs.length > MAX_MEM) trimRun(chat, this.wLo - 400, this.wHi + 400);
    this.updateJump();
    this.checkSeen();
    // Fill the screen: a short window on a tall screen must grow.
    if (this.scroller.scrollHeight <= this.scroller.clientHeight + EDGE_PX / 2) this.onScroll();
    // Following the end but the run has a gap after it: fetch it.
    if (this.pinned && !atLatest(chat) && chat.loaded && !chat.loadingNewer && this.wHi === lastSeq(chat)) loadNewer(chat);
  }

  // No message in memory: the outbox, "Say hi", or the loader.
  syncEmpty() {
    const chat = this.chat;
    this.clearRows();
    const n = this.renderPending();
    const loading = !chat.loaded || chat.loadingNewer;
    this.emptyEl.hidden = loading || n > 0;
    const blocked = chat.blocked_by_me || !chat.friends;
    this.emptyEl.replaceChildren(
      h('div', { class: 'empty-art', 'aria-hidden': 'true' }, icon(blocked ? 'block' : 'chat', { size: 36 })),
      h('p', { class: 'empty-title' }, blocked ? 'No messages' : `Say hi to ${nameOf(chat.peer)}`),
      blocked ? null : h('p', { class: 'muted' }, 'Messages are delivered even when they are offline.'),
    );
    this.bottomLoader.hidden = !loading;
    this.startEl.hidden = true;
    // The chat was empty when loaded and has messages now that did not
    // reach us live (the list saw them first): fetch them.
    if (chat.loaded && !chat.loadingNewer && !atLatest(chat)) loadNewer(chat);
    this.updateJump();
    if (this.pinned) this.scrollToBottom();
  }

  // The "new messages" divider goes before the peer's first message after
  // what was read when the chat opened, once that is in memory.
  findDivider(first, last) {
    const chat = this.chat;
    if (this.dividerSeq || this.unreadAtOpen <= 0 || first > this.readAtOpen + 1) return;
    for (let s = Math.max(first, this.readAtOpen + 1); s <= last; s++) {
      if (msgAt(chat, s).from !== state.me.id && !msgAt(chat, s).withheld) {
        this.dividerSeq = s;
        break;
      }
    }
  }

  // Moves [wLo, wHi] into the run; true when it starts over (first render).
  placeWindow(first, last) {
    let initial = false;
    if (!this.wHi || this.wLo > last || this.wHi < first) {
      // First render: the end, or the divider when it is further up.
      this.clearRows();
      let hi = last;
      let lo = Math.max(first, hi - INIT_ROWS + 1);
      if (this.dividerSeq && this.dividerSeq - 5 < lo && !this.toEnd) {
        lo = Math.max(first, this.dividerSeq - 5);
        hi = Math.min(last, lo + INIT_ROWS - 1);
      }
      this.wLo = lo;
      this.wHi = hi;
      initial = true;
    } else {
      if (this.wLo < first) this.wLo = first;
      if (this.wHi > last) this.wHi = last;
      if (this.wHi === this.lastKnown && last > this.wHi) {
        this.wHi = last; // the window followed the end: new messages join it
        if (this.trimSide !== 'bottom' || this.pinned) this.trimSide = 'top';
      }
    }
    this.lastKnown = last;
    return initial;
  }

  // The rows in the DOM become the window's: drop, rebuild, add.
  syncRows() {
    for (const [seq, r] of this.rows) {
      if (seq < this.wLo || seq > this.wHi) {
        r.el.remove();
        this.rows.delete(seq);
      }
    }
    // Update changed rows, then add the missing ones at either end.
    for (const [seq, r] of this.rows) {
      const inf = this.info(seq);
      if (inf.key !== r.key) {
        const el = this.buildRow(inf);
        const hadFocus = r.el.contains(document.activeElement);
        r.el.replaceWith(el);
        this.rows.set(seq, { el, key: inf.key });
        if (hadFocus) el.focus({ preventScroll: true });
      }
    }
    const seqs = [...this.rows.keys()];
    const lo = seqs.length ? Math.min(...seqs) : this.wHi + 1;
    const hi = seqs.length ? Math.max(...seqs) : this.wHi;
    if (lo > this.wLo) {
      const frag = document.createDocumentFragment();
      for (let s = this.wLo; s < lo; s++) frag.append(this.addRow(s));
      this.list.prepend(frag);
    }
    if (hi < this.wHi) {
      const frag = document.createDocumentFragment();
      for (let s = Math.max(hi + 1, this.wLo); s <= this.wHi; s++) frag.append(this.addRow(s));
      this.list.append(frag);
    }
  }

  // "The beginning of your conversation" above the first message.
  showStart() {
    this.startEl.hidden = !(this.wLo === 1);
    if (!this.startEl.hidden && !this.startEl.firstChild) {
      this.startEl.append(
        h('div', { class: 'empty-art small', 'aria-hidden': 'true' }, icon('chat', { size: 22 })),
        h('p', null, `This is the beginning of your conversation with ${nameOf(this.chat.peer)}.`),
      );
    }
  }

  // Where the scroller ends up: at the divider on opening, at the end when
  // following it, else where the anchor row was.
  settleScroll(initial, anchor) {
    if (initial && this.dividerSeq && this.rows.has(this.dividerSeq) && this.dividerSeq > this.wLo && !this.toEnd) {
      const el = this.rows.get(this.dividerSeq).el;
      this.scroller.scrollTop = el.offsetTop - 24;
      this.pinned = this.distanceFromBottom() < 40;
    } else if (initial || this.pinned) {
      this.scrollToBottom();
    } else if (anchor) {
      this.restoreAnchor(anchor);
    }
  }

  addRow(seq) {
    const inf = this.info(seq);
    const el = this.buildRow(inf);
    this.rows.set(seq, { el, key: inf.key });
    return el;
  }

  clearRows() {
    this.rows.clear();
    this.list.replaceChildren();
    this.wLo = this.wHi = 0;
  }

  trimRows() {
    const extra = this.rows.size - MAX_ROWS;
    if (extra <= 0) return;
    const seqs = [...this.rows.keys()].sort((a, b) => a - b);
    const drop = this.trimSide === 'bottom' ? seqs.slice(seqs.length - extra) : seqs.slice(0, extra);
    for (const s of drop) {
      const r = this.rows.get(s);
      if (r.el.contains(document.activeElement)) this.scroller.focus({ preventScroll: true });
      r.el.remove();
      this.rows.delete(s);
    }
    if (this.trimSide === 'bottom') this.wHi = seqs[seqs.length - extra - 1];
    else this.wLo = seqs[extra];
  }

  // The first row whose bottom is below the top of the viewport, and where.
  captureAnchor() {
    const top = this.scroller.scrollTop;
    for (const s of [...this.rows.keys()].sort((a, b) => a - b)) {
      const el = this.rows.get(s).el;
      if (el.offsetTop + el.offsetHeight > top) return { seq: s, delta: el.offsetTop - top };
    }
    return null;
  }

  restoreAnchor(a) {
    const r = this.rows.get(a.seq);
    if (r) this.scroller.scrollTop = r.el.offsetTop - a.delta;
  }

  distanceFromBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  onScroll() {
    this.frame = 0;
    const chat = this.chat;
    if (!chat.msgs.length) return;
    const last = lastSeq(chat);
    const dist = this.distanceFromBottom();
    this.pinned = dist < 40 && this.wHi === last && atLatest(chat);
    if (this.pinned) this.newBelow = 0;
    if (this.scroller.scrollTop < EDGE_PX) {
      if (this.wLo > firstSeq(chat)) {
        this.wLo = Math.max(firstSeq(chat), this.wLo - STEP);
        this.trimSide = 'bottom';
        this.sync();
        return;
      }
      if (firstSeq(chat) > 1 && !chat.loadingOlder) {
        this.trimSide = 'bottom';
        // Once the page is in memory, the same check renders it.
        loadOlder(chat).then((got) => got && this.scroller.isConnected && this.onScroll());
        this.topLoader.hidden = false;
      }
    }
    if (dist < EDGE_PX) {
      if (this.wHi < last) {
        this.wHi = Math.min(last, this.wHi + STEP);
        this.trimSide = 'top';
        this.sync();
        return;
      }
      if (!atLatest(chat) && !chat.loadingNewer) {
        this.trimSide = 'top';
        loadNewer(chat).then((got) => got && this.scroller.isConnected && this.onScroll());
      }
    }
    this.updateJump();
    this.updateFloatDate();
    this.checkSeen();
  }

  updateFloatDate() {
    updateFloatDate(this);
  }

  updateUnreadJump() {
    updateUnreadJump(this);
  }

  jumpTo(seq) {
    return jumpToSeq(this, seq);
  }

  updateJump() {
    this.updateUnreadJump();
    const away = !this.pinned && (this.distanceFromBottom() > 300 || this.wHi < lastSeq(this.chat) || !atLatest(this.chat));
    this.jump.hidden = !away;
    this.jumpBadge.hidden = !this.newBelow;
    this.jumpBadge.textContent = String(this.newBelow);
  }

  // Jumps to the newest message (reloading the end if memory does not reach it).
  toLatest(focus = false) {
    toLatest(this, focus);
  }

  // Tells the server how far the user has seen: the newest row on screen,
  // while the tab is visible.
  checkSeen() {
    const chat = this.chat;
    if (document.visibilityState !== 'visible' || !chat.msgs.length || !this.scroller.isConnected) return;
    if (!this.scroller.offsetParent) return; // hidden (the list view on a phone)
    let seq = 0;
    if (this.pinned && atLatest(chat)) {
      seq = chat.latestSeq;
    } else {
      const box = this.scroller.getBoundingClientRect();
      const seqs = [...this.rows.keys()].sort((a, b) => b - a);
      for (const s of seqs) {
        const r = this.rows.get(s).el.getBoundingClientRect();
        if (r.top < box.bottom && r.bottom > box.top) {
          seq = s;
          break;
        }
      }
    }
    if (seq > chat.read_seq) markSeen(chat, seq);
  }

  onKey(e) {
    onRowKey(this, e);
  }

  focusRow(seq) {
    this.rows.get(seq)?.el.focus({ preventScroll: true });
  }
}
