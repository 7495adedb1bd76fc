// sync.js - keeps the store in step with the server: the HTTP lists, the
// WebSocket events (with an ack for every message, receipt and deletion we
// process), resuming after a reconnect, history paging, and the outbox.
import { api, ApiError } from './api.js';
import { Socket } from './socket.js';
import { outboxAdd, outboxAll, outboxRemove, outboxUpdate, onOutboxChange } from './outbox.js';
import {
  DEFAULT_LIMITS, atLatest, chatByPeer, emit, firstSeq, insertLive, lastSeq, makeChat, mergePage, msgAt,
  normalize, recountUnread, state, touch, updateMsg,
} from './store.js';
import { notifyAccepted, notifyMessage, notifyRequest } from './notify.js';

const PAGE = 100;
// Errors after which a queued message is worth sending again later.
const TRANSIENT = new Set(['offline', 'disconnected', 'timeout', 'store_failed', 'internal', 'busy']);

let socket = null;
let ackMax = new Map(); // "chat|kind" -> seq (cumulative kinds)
let ackDeleted = [];
let ackTimer = 0;
const inflight = new Set(); // outbox ids sent on this connection, not yet answered
let refreshTimer = 0;
let flushTimer = 0;
let stopOutboxWatch = null;
let onLoggedOut = () => {};

export function currentSocket() {
  return socket;
}

// ---- session ------------------------------------------------------------------

export function startSession(me, { loggedOut }) {
  onLoggedOut = loggedOut;
  state.me = me;
  try {
    const saved = JSON.parse(localStorage.getItem('duet.limits') || 'null');
    if (saved) state.limits = { ...DEFAULT_LIMITS, ...saved };
  } catch { /* defaults */ }
  emit('me');
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  socket = new Socket(`${proto}//${location.host}/ws`);
  socket.addEventListener('state', (e) => {
    state.conn = e.detail;
    if (e.detail.state !== 'online') state.synced = false;
    emit('conn');
  });
  socket.addEventListener('event', (e) => onEvent(e.detail));
  socket.addEventListener('ended', () => checkSession());
  socket.addEventListener('closed', () => inflight.clear());
  stopOutboxWatch = onOutboxChange(() => loadOutbox(false));
  loadOutbox(false);
  refreshAll();
  socket.start();
  flushTimer = setInterval(() => {
    if (socket?.ready) flushOutbox(10000);
  }, 15000);
}

export function endSession() {
  socket?.stop();
  socket = null;
  clearInterval(flushTimer);
  clearTimeout(refreshTimer);
  clearTimeout(ackTimer);
  ackMax = new Map();
  ackDeleted = [];
  inflight.clear();
  ownItems.clear();
  stopOutboxWatch?.();
}

// A closed socket may mean the session ended: ask, and log out on 401.
let checking = false;
async function checkSession() {
  if (checking) return;
  checking = true;
  try {
    const r = await api.me();
    if (r?.user && state.me) {
      state.me = r.user;
      emit('me');
    }
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) onLoggedOut();
  } finally {
    checking = false;
  }
}

export function retryNow() {
  socket?.retryNow();
}

// ---- lists over HTTP ------------------------------------------------------------

export async function refreshChats() {
  let res;
  try {
    res = await api.chats();
  } catch (e) {
    if (e.status === 401) onLoggedOut();
    return;
  }
  const seen = new Set();
  for (const c of res.chats) {
    seen.add(c.chat_id);
    const old = state.chats.get(c.chat_id);
    if (!old) {
      state.chats.set(c.chat_id, makeChat(c));
      continue;
    }
    const srvLatest = c.last_message ? c.last_message.seq : 0;
    old.peer = c.peer;
    old.blocked_by_me = !!c.blocked_by_me;
    old.blocked_me = !!c.blocked_me;
    old.peer_read_seq = c.peer_read_seq || 0; // 0 while either has receipts off
    old.last_activity = Math.max(old.last_activity, c.last_activity || 0);
    if (srvLatest >= old.latestSeq) {
      old.latestSeq = srvLatest;
      old.last_message = c.last_message ? normalize(c.last_message) : null;
      old.unread = c.unread;
      old.liveUnread.clear();
    } else {
      // We already hold newer messages than this answer knew of.
      let extra = 0;
      for (const s of old.liveUnread) if (s > srvLatest && s > c.read_seq) extra++;
      old.unread = c.unread + extra;
    }
    if (c.read_seq > old.read_seq) old.read_seq = c.read_seq;
    else if (old.read_seq > c.read_seq) recountUnread(old);
  }
  for (const id of [...state.chats.keys()]) if (!seen.has(id)) state.chats.delete(id);
  state.chatsLoaded = true;
  emit('chats');
  for (const id of seen) emit('msgs', id);
  if (state.openChatId && !state.chats.has(state.openChatId)) emit('open');
}

export async function refreshRequests() {
  try {
    const [r, b] = await Promise.all([api.requests(), api.blocks()]);
    const before = new Set(state.requests.incoming.map((x) => x.user.id));
    state.requests = r;
    state.blocked = b.blocked;
    emit('requests');
    for (const x of r.incoming) if (!before.has(x.user.id) && state.requestsLoaded) notifyRequest(x.user);
    state.requestsLoaded = true;
  } catch (e) {
    if (e.status === 401) onLoggedOut();
  }
}

export function refreshAll() {
  return Promise.all([refreshChats(), refreshRequests()]);
}

function scheduleRefresh(ms = 150) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshAll, ms);
}

// ---- events -------------------------------------------------------------------

function onEvent(ev) {
  switch (ev.type) {
    case 'hello':
      state.me = ev.user;
      state.limits = { ...DEFAULT_LIMITS, ...(ev.limits || {}) };
      try {
        localStorage.setItem('duet.limits', JSON.stringify(state.limits));
      } catch { /* private mode */ }
      emit('me');
      break;
    case 'synced':
      onSynced();
      break;
    case 'message':
      onMessage(ev);
      break;
    case 'receipt':
      onReceipt(ev);
      break;
    case 'deleted':
      onDeleted(ev);
      break;
    case 'read':
      onRead(ev);
      break;
    case 'typing':
      onTyping(ev);
      break;
    case 'presence':
      onPresence(ev);
      break;
    case 'friends_changed':
      onFriendsChanged(ev);
      break;
    case 'error':
      if (ev.request !== 'typing') console.warn('duet: server error', ev.request, ev.code, ev.message);
      break;
    default:
      break;
  }
}

async function onSynced() {
  state.synced = true;
  flushAcks();
  emit('conn');
  flushOutbox(0);
  const before = new Map([...state.chats].map(([id, c]) => [id, atLatest(c)]));
  await refreshAll();
  // Resume every conversation we hold from the last sequence number we know:
  // no gap, and the newest page's receipts and deletions are refreshed.
  for (const chat of state.chats.values()) {
    if (chat.msgs.length && (before.get(chat.id) || chat.id === state.openChatId)) resume(chat);
    else if (!chat.msgs.length && chat.loaded && !atLatest(chat)) loadNewer(chat);
  }
}

async function resume(chat) {
  if (chat.loadingNewer) return;
  chat.loadingNewer = true;
  try {
    let after = Math.max(firstSeq(chat) - 1, lastSeq(chat) - 50);
    for (let i = 0; i < 20; i++) {
      const page = await history(chat.id, { after, limit: PAGE });
      if (!state.chats.has(chat.id)) return;
      mergePage(chat, page);
      emit('msgs', chat.id);
      if (page.length < PAGE) break;
      after = page[page.length - 1].seq;
    }
    chat.loaded = true;
    recountUnread(chat);
    emit('chats');
  } catch { /* the next reconnect resumes again */ } finally {
    chat.loadingNewer = false;
    emit('msgs', chat.id);
  }
}

function onMessage(ev) {
  const m = normalize(ev);
  queueAck(m.chat_id, 'message', m.seq);
  const chat = state.chats.get(m.chat_id);
  if (!chat) {
    scheduleRefresh(); // a chat we do not list yet (a new friend)
    return;
  }
  const fromPeer = m.from !== state.me?.id;
  const isNew = m.seq > chat.latestSeq;
  insertLive(chat, m);
  if (isNew) {
    chat.latestSeq = m.seq;
    chat.last_message = m;
    chat.last_activity = Math.max(chat.last_activity, m.sent_at);
  } else if (chat.last_message?.seq === m.seq) {
    updateMsg(chat.last_message, m);
  }
  if (!fromPeer && state.outbox.has(m.id)) dropOutboxItem(m.id); // another tab sent it
  if (fromPeer) {
    if (chat.typingUntil) {
      chat.typingUntil = 0;
      emit('typing', chat.id);
    }
    if (isNew && m.seq > chat.read_seq) {
      chat.unread++;
      chat.liveUnread.add(m.seq);
    }
  }
  emit('msgs', chat.id);
  emit('chats');
  if (fromPeer && isNew) {
    emit('incoming', { chat, msg: m });
    if (!ev.pending || document.visibilityState === 'hidden') notifyMessage(chat, m);
  }
}

function onReceipt(ev) {
  queueAck(ev.chat_id, ev.status, ev.seq);
  const chat = state.chats.get(ev.chat_id);
  if (!chat) return;
  const seen = ev.status === 'seen';
  if (seen) chat.peer_read_seq = Math.max(chat.peer_read_seq, ev.seq);
  else chat.peer_recv_seq = Math.max(chat.peer_recv_seq || 0, ev.seq);
  markOwn(chat, ev.seq, seen ? 'seen_at' : 'received_at', ev.at);
  if (seen) markOwn(chat, ev.seq, 'received_at', ev.at);
  const lm = chat.last_message;
  if (lm && lm.from === state.me.id && lm.seq <= ev.seq) {
    if (seen && !lm.seen_at) lm.seen_at = ev.at;
    if (!lm.received_at) lm.received_at = ev.at;
    touch(lm);
  }
  emit('msgs', chat.id);
  emit('chats');
}

// Sets field on my messages up to seq that do not have it yet.
function markOwn(chat, seq, field, at) {
  if (!chat.msgs.length) return;
  const top = Math.min(seq, lastSeq(chat));
  for (let s = top; s >= firstSeq(chat); s--) {
    const m = msgAt(chat, s);
    if (m.from !== state.me.id || m.deleted_at) continue;
    if (m[field]) break; // earlier ones are set too
    m[field] = at;
    touch(m);
  }
}

function onDeleted(ev) {
  queueAck(ev.chat_id, 'deleted', ev.seq);
  const chat = state.chats.get(ev.chat_id);
  if (!chat) return;
  const m = msgAt(chat, ev.seq);
  if (m) updateMsg(m, { deleted_at: ev.deleted_at || Date.now() });
  if (chat.last_message?.seq === ev.seq) updateMsg(chat.last_message, { deleted_at: ev.deleted_at || Date.now() });
  emit('msgs', chat.id);
  emit('chats');
}

function onRead(ev) {
  const chat = state.chats.get(ev.chat_id);
  if (!chat || ev.seq <= chat.read_seq) return;
  chat.read_seq = ev.seq;
  recountUnread(chat);
  if (chat.read_seq < chat.latestSeq && !(chat.msgs.length && atLatest(chat))) scheduleRefresh(300);
  emit('chats');
  emit('msgs', chat.id);
}

const typingTimers = new Map();
function onTyping(ev) {
  const chat = state.chats.get(ev.chat_id);
  if (!chat || ev.from !== chat.peer.id) return;
  chat.typingUntil = Date.now() + 5000;
  clearTimeout(typingTimers.get(chat.id));
  typingTimers.set(chat.id, setTimeout(() => {
    chat.typingUntil = 0;
    emit('typing', chat.id);
  }, 5000));
  emit('typing', chat.id);
}

function onPresence(ev) {
  const chat = chatByPeer(ev.user);
  if (!chat) return;
  chat.peer = { ...chat.peer, online: !!ev.online, last_seen: ev.last_seen || null };
  emit('chats');
  emit('peer', chat.id);
}

// A request I sent that became a friendship is worth a notice: the
// server says 'accepted' to both sides, and only the sender had it in
// their outgoing list.
function onFriendsChanged(ev) {
  const who = ev.user;
  if (ev.reason === 'accepted' && who && state.requests.outgoing.some((r) => r.user.id === who.id)) {
    emit('accepted', who);
    notifyAccepted(who);
  }
  emit('friends', ev);
  scheduleRefresh();
}

// ---- acks ---------------------------------------------------------------------

function queueAck(chatId, kind, seq) {
  if (kind === 'deleted') {
    ackDeleted.push([chatId, seq]);
  } else {
    const k = `${chatId}|${kind}`;
    if (!(ackMax.get(k) >= seq)) ackMax.set(k, seq);
  }
  if (!ackTimer) ackTimer = setTimeout(flushAcks, 25);
}

// Acks are cumulative per kind, so a burst (the backlog after a reconnect)
// needs one per chat and kind. A lost ack only means a replay, which we
// dedupe.
function flushAcks() {
  clearTimeout(ackTimer);
  ackTimer = 0;
  if (!socket) return;
  for (const [k, seq] of ackMax) {
    const [chat_id, kind] = k.split('|');
    socket.send({ type: 'ack', chat_id, kind, seq });
  }
  for (const [chat_id, seq] of ackDeleted) socket.send({ type: 'ack', chat_id, kind: 'deleted', seq });
  ackMax = new Map();
  ackDeleted = [];
}

// ---- reading -------------------------------------------------------------------

// The user has seen the chat up to seq (it is on screen in a visible tab).
export function markSeen(chat, seq) {
  if (!seq || seq <= chat.read_seq || !socket?.ready) return;
  if (!socket.send({ type: 'seen', chat_id: chat.id, seq })) return;
  chat.read_seq = seq;
  recountUnread(chat);
  emit('chats');
}

export function sendTyping(chat) {
  socket?.send({ type: 'typing', chat_id: chat.id });
}

async function history(chatId, params) {
  if (socket?.ready) {
    try {
      const ev = await socket.request({ type: 'history', chat_id: chatId, ...params });
      return ev.messages;
    } catch (e) {
      if (!['offline', 'disconnected', 'timeout'].includes(e.code)) throw e;
    }
  }
  const r = await api.history(chatId, params);
  return r.messages;
}

// The newest page (and back to the first unread message, within reason).
export async function loadInitial(chat) {
  if (chat.loadingNewer) return;
  chat.loadingNewer = true;
  try {
    const page = await history(chat.id, { limit: 50 });
    mergePage(chat, page);
    if (page.length) chat.latestSeq = Math.max(chat.latestSeq, page[page.length - 1].seq);
    else chat.latestSeq = 0; // the newest page is empty: so is the chat
    chat.loaded = true;
    for (let i = 0; i < 5 && chat.unread > 0 && firstSeq(chat) > chat.read_seq + 1 && firstSeq(chat) > 1; i++) {
      const older = await history(chat.id, { before: firstSeq(chat), limit: PAGE });
      if (!older.length) break;
      mergePage(chat, older);
    }
  } catch (e) {
    chat.loadError = e.code || 'network';
  } finally {
    chat.loadingNewer = false;
  }
  emit('msgs', chat.id);
}

export async function loadOlder(chat) {
  if (chat.loadingOlder || !chat.msgs.length || firstSeq(chat) <= 1) return false;
  chat.loadingOlder = true;
  try {
    const page = await history(chat.id, { before: firstSeq(chat), limit: PAGE });
    mergePage(chat, page);
    return page.length > 0;
  } catch {
    return false;
  } finally {
    chat.loadingOlder = false;
    emit('msgs', chat.id);
  }
}

export async function loadNewer(chat) {
  if (chat.loadingNewer || atLatest(chat)) return false;
  if (!chat.msgs.length) {
    // Loaded while empty, and messages came since that we never held
    // (say, the list told of them first): start from the newest page.
    chat.loaded = false;
    await loadInitial(chat);
    return chat.msgs.length > 0;
  }
  chat.loadingNewer = true;
  try {
    const page = await history(chat.id, { after: lastSeq(chat), limit: PAGE });
    mergePage(chat, page);
    if (page.length < PAGE) chat.latestSeq = Math.max(chat.latestSeq, lastSeq(chat));
    return page.length > 0;
  } catch {
    return false;
  } finally {
    chat.loadingNewer = false;
    emit('msgs', chat.id);
  }
}

export async function deleteForEveryone(chat, seq) {
  if (!socket?.ready) throw new Error('You are offline. Try again when connected.');
  try {
    await socket.request({ type: 'delete', chat_id: chat.id, seq });
  } catch (e) {
    const text = {
      delete_window_over: 'It is too late to delete this message for everyone.',
      already_deleted: 'This message is already deleted.',
      forbidden: 'You can only delete your own messages.',
    }[e.code] || 'The message could not be deleted. Try again.';
    throw new Error(text);
  }
}

// ---- outbox -------------------------------------------------------------------

// Items this tab added and has not seen leave: they stay shown even while
// their IndexedDB write is still on its way when another tab's change
// makes us re-read the store.
const ownItems = new Map();

async function loadOutbox(flush) {
  if (!state.me) return;
  const items = await outboxAll(state.me.id);
  const next = new Map();
  for (const it of items) next.set(it.id, it);
  for (const [id, it] of ownItems) if (!next.has(id)) next.set(id, it);
  state.outbox = next;
  emit('outbox', null);
  if (flush) flushOutbox(0);
}

function dropOutboxItem(id) {
  ownItems.delete(id);
  const it = state.outbox.get(id);
  state.outbox.delete(id);
  outboxRemove(id).catch(() => {});
  if (it) emit('outbox', it.chat_id);
}

export async function sendText(chat, text) {
  const item = {
    id: `c-${crypto.randomUUID()}`,
    user_id: state.me.id,
    chat_id: chat.id,
    text,
    created: Date.now(),
    failed: null,
  };
  state.outbox.set(item.id, item);
  ownItems.set(item.id, item);
  emit('outbox', chat.id);
  try {
    await outboxAdd(item); // durable before it goes out
  } catch (e) {
    console.warn('duet: the outbox could not store a message', e);
  }
  ownItems.delete(item.id);
  if (state.outbox.has(item.id)) trySend(item);
}

export function retryItem(id) {
  const it = state.outbox.get(id);
  if (!it) return;
  it.failed = null;
  outboxUpdate(id, { failed: null }).catch(() => {});
  emit('outbox', it.chat_id);
  trySend(it);
}

export function discardItem(id) {
  dropOutboxItem(id);
}

// Sends every queued item (older than minAge ms), oldest first, pipelined
// on one connection so the server numbers them in that order.
function flushOutbox(minAge) {
  const now = Date.now();
  const items = [...state.outbox.values()].filter((x) => !x.failed && now - x.created >= minAge).sort((a, b) => a.created - b.created);
  for (const it of items) trySend(it);
}

function trySend(item) {
  if (!socket?.ready || inflight.has(item.id) || item.failed) return;
  inflight.add(item.id);
  socket.request({ type: 'send', chat_id: item.chat_id, id: item.id, text: item.text }).then(
    (ev) => {
      inflight.delete(item.id);
      onSent(item, ev);
    },
    (e) => {
      inflight.delete(item.id);
      if (TRANSIENT.has(e.code)) return; // stays queued; sent again on reconnect
      item.failed = e.code || 'failed';
      outboxUpdate(item.id, { failed: item.failed }).catch(() => {});
      emit('outbox', item.chat_id);
    },
  );
}

function onSent(item, ev) {
  dropOutboxItem(item.id);
  const chat = state.chats.get(item.chat_id);
  if (!chat) return;
  const m = normalize({
    chat_id: ev.chat_id, seq: ev.seq, id: ev.id, from: state.me.id, to: chat.peer.id, type: 0,
    text: item.text, sent_at: ev.sent_at,
  });
  const joined = insertLive(chat, m);
  if (m.seq > chat.latestSeq) {
    chat.latestSeq = m.seq;
    chat.last_message = m;
    chat.last_activity = Math.max(chat.last_activity, m.sent_at);
  }
  if (ev.duplicate || (!joined && chat.msgs.length && !msgAt(chat, m.seq))) {
    // Sent before (a retry): its receipts may be further along than ours.
    history(chat.id, { after: m.seq - 1, limit: 1 }).then((p) => {
      mergePage(chat, p);
      emit('msgs', chat.id);
    }, () => {});
  }
  emit('msgs', chat.id);
  emit('chats');
}

export function findChat(id) {
  return state.chats.get(id) || null;
}

