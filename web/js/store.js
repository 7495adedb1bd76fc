// store.js - the client's state and a tiny publish/subscribe.
//
// Messages of a chat are kept as one contiguous run of sequence numbers
// (chat.msgs[i].seq === chat.msgs[0].seq + i): sequence numbers have no
// gaps, so a run is cheap to index, merge and trim. Anything that would
// break the run replaces it instead.
//
// Topics: 'me', 'conn', 'chats' (list-level data), 'msgs' (detail: chat
// id), 'typing' (chat id), 'outbox' (chat id or null), 'requests',
// 'open' (the open chat changed), 'session' (logged in or out).

export const DEFAULT_LIMITS = { max_message_chars: 4000, delete_window_ms: 3600000 };

export const state = {
  me: null,
  limits: { ...DEFAULT_LIMITS },
  conn: { state: 'idle', retryAt: 0, attempt: 0 },
  synced: false,
  chats: new Map(),
  chatsLoaded: false,
  requests: { incoming: [], outgoing: [] },
  requestsLoaded: false, // the first list of a session notifies of nothing
  blocked: [],
  outbox: new Map(),
  openChatId: null,
};

const subs = new Map();

export function on(topic, fn) {
  if (!subs.has(topic)) subs.set(topic, new Set());
  subs.get(topic).add(fn);
  return () => subs.get(topic)?.delete(fn);
}

export function emit(topic, detail) {
  for (const fn of [...(subs.get(topic) || [])]) {
    try {
      fn(detail);
    } catch (e) {
      console.error(`duet: a '${topic}' listener failed`, e);
    }
  }
}

// Only this module writes state: everything else calls the named
// mutations below (issue 13), so a change to the state is found here.
// setMe tells its listeners; for the others the caller emits, once it has
// made all its changes.
export function setMe(user) {
  state.me = user;
  emit('me');
}

export function setLimits(limits) {
  state.limits = { ...DEFAULT_LIMITS, ...limits };
}

// The socket's state; offline, nothing is synced any more.
export function setConn(conn) {
  state.conn = conn;
  if (conn.state !== 'online') state.synced = false;
}

export function setSynced() {
  state.synced = true;
}

export function setRequests(requests, blocked) {
  state.requests = requests;
  state.blocked = blocked;
}

export function setRequestsLoaded() {
  state.requestsLoaded = true;
}

export function setOpenChat(id) {
  state.openChatId = id;
}

export function resetState() {
  state.me = null;
  state.synced = false;
  state.chats = new Map();
  state.chatsLoaded = false;
  state.requests = { incoming: [], outgoing: [] };
  state.requestsLoaded = false;
  state.blocked = [];
  state.outbox = new Map();
  state.openChatId = null;
}

// ---- chats ----------------------------------------------------------------

export function makeChat(c) {
  return {
    id: c.chat_id,
    peer: c.peer,
    last_message: c.last_message ? normalize(c.last_message) : null,
    unread: c.unread || 0,
    last_activity: c.last_activity || 0,
    read_seq: c.read_seq || 0,
    peer_read_seq: c.peer_read_seq || 0,
    blocked_by_me: !!c.blocked_by_me,
    friends: c.friends !== false, // false: a former friend, read-only
    latestSeq: c.last_message ? c.last_message.seq : 0,
    msgs: [],
    liveUnread: new Set(), // peer seqs that arrived live after the list was read
    typingUntil: 0,
    loadingOlder: false,
    loadingNewer: false,
    loaded: false, // the newest page was fetched at least once
    // issue 17: the user's own organisation of the chat
    pinned: !!c.pinned,
    archived: !!c.archived,
    muted_until: c.muted_until || 0,
  };
}

// Muted now (no notifications, a grey badge).
export function isMuted(chat) {
  return chat.muted_until > Date.now();
}

// A chat_state event or answer folded into the chat.
export function applyChatState(chat, st) {
  chat.pinned = !!st.pinned;
  chat.archived = !!st.archived;
  chat.muted_until = st.muted_until || 0;
}

export function setChatArchived(chat, archived) {
  chat.archived = archived;
}

// Folds the server's list of chats into ours; returns the ids it listed.
// Chats it no longer lists go (a removed friend).
export function applyChatList(list) {
  const seen = new Set();
  for (const c of list) {
    seen.add(c.chat_id);
    const old = state.chats.get(c.chat_id);
    if (old) mergeListed(old, c);
    else state.chats.set(c.chat_id, makeChat(c));
  }
  for (const id of [...state.chats.keys()]) if (!seen.has(id)) state.chats.delete(id);
  state.chatsLoaded = true;
  return seen;
}

// A listed chat over the one we hold: the list's peer and flags win; the
// preview and unread count only when we hold nothing newer.
function mergeListed(old, c) {
  const srvLatest = c.last_message ? c.last_message.seq : 0;
  old.peer = c.peer;
  old.blocked_by_me = !!c.blocked_by_me;
  old.friends = c.friends !== false;
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

// A chat as app-cache.js saved it, with the newest messages it kept.
export function addSavedChat(c) {
  const chat = makeChat(c);
  if (Array.isArray(c.msgs) && c.msgs.length) {
    chat.msgs = c.msgs.map(normalize);
    chat.latestSeq = Math.max(chat.latestSeq, chat.msgs[chat.msgs.length - 1].seq);
    chat.loaded = true; // a run up to the newest message: resuming fills in the rest
  }
  state.chats.set(chat.id, chat);
}

export function setChatsLoaded() {
  state.chatsLoaded = true;
}

export function setPeer(chat, peer) {
  chat.peer = peer;
}

export function setTypingUntil(chat, until) {
  chat.typingUntil = until;
}

// m is the chat's newest message now: the preview and the list's order.
export function setLatestMessage(chat, m) {
  chat.latestSeq = m.seq;
  chat.last_message = m;
  chat.last_activity = Math.max(chat.last_activity, m.sent_at);
}

export function setLatestSeq(chat, seq) {
  chat.latestSeq = seq;
}

// A message of the peer that arrived live and is unread.
export function countLiveUnread(chat, seq) {
  chat.unread++;
  chat.liveUnread.add(seq);
}

// We read the chat up to seq (here or on another device).
export function setReadSeq(chat, seq) {
  chat.read_seq = seq;
  recountUnread(chat);
}

// The peer received (or saw) my messages up to seq at time at.
export function applyReceipt(chat, seq, seen, at) {
  if (seen) chat.peer_read_seq = Math.max(chat.peer_read_seq, seq);
  else chat.peer_recv_seq = Math.max(chat.peer_recv_seq || 0, seq);
  markOwn(chat, seq, seen ? 'seen_at' : 'received_at', at);
  if (seen) markOwn(chat, seq, 'received_at', at);
  const lm = chat.last_message;
  if (lm && lm.from === state.me.id && lm.seq <= seq) {
    if (seen && !lm.seen_at) lm.seen_at = at;
    if (!lm.received_at) lm.received_at = at;
    touch(lm);
  }
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

// Paging (history.js): what is on its way, and whether the newest page came.
export function setLoadingNewer(chat, on) {
  chat.loadingNewer = on;
}

export function setLoadingOlder(chat, on) {
  chat.loadingOlder = on;
}

export function setLoaded(chat, loaded) {
  chat.loaded = loaded;
}

export function setLoadError(chat, code) {
  chat.loadError = code;
}

// Chats newest activity first, as the list shows them.
export function sortedChats() {
  // Pinned chats first (issue 17), then newest activity.
  return [...state.chats.values()].sort(
    (a, b) => b.pinned - a.pinned || activity(b) - activity(a) || nameOf(a.peer).localeCompare(nameOf(b.peer)),
  );
}

export function activity(chat) {
  return Math.max(chat.last_activity || 0, chat.last_message?.sent_at || 0);
}

export function nameOf(user) {
  return user?.display_name || user?.username || '';
}

// Presence is only known while connected: offline, "online" would be a
// guess, so the peer shows as we last saw them without it.
export function peerOnline(chat) {
  return !!chat.peer.online && state.conn.state === 'online';
}

export function shownPeer(chat) {
  return peerOnline(chat) || !chat.peer.online ? chat.peer : { ...chat.peer, online: false };
}

export function totalUnread() {
  let n = 0;
  for (const c of state.chats.values()) n += c.unread;
  return n;
}

export function chatByPeer(userId) {
  for (const c of state.chats.values()) if (c.peer.id === userId) return c;
  return null;
}

export function outboxFor(chatId) {
  return [...state.outbox.values()].filter((x) => x.chat_id === chatId).sort((a, b) => a.created - b.created);
}

// ---- the outbox (its copy of outbox.js's IndexedDB store) --------------------

export function setOutbox(items) {
  state.outbox = items;
}

export function putOutboxItem(item) {
  state.outbox.set(item.id, item);
}

// Removes an item; returns it, or undefined.
export function takeOutboxItem(id) {
  const it = state.outbox.get(id);
  state.outbox.delete(id);
  return it;
}

export function patchOutboxItem(item, patch) {
  Object.assign(item, patch);
}

// ---- messages ---------------------------------------------------------------

let version = 0;

// A message from the API or an event, as the store keeps it.
export function normalize(m) {
  return {
    chat_id: m.chat_id,
    seq: m.seq,
    id: m.id,
    from: m.from,
    to: m.to,
    // An event's own "type" is "message": the message type is msg_type there.
    type: typeof m.msg_type === 'number' ? m.msg_type : typeof m.type === 'number' ? m.type : 0,
    text: m.deleted_at ? '' : (m.text ?? ''),
    // Media (issue 15): {id, mime, size, name, width, height, duration_ms,
    // waveform, thumb}; gone with a deletion.
    media: m.deleted_at ? null : m.media || null,
    sent_at: m.sent_at || 0,
    received_at: m.received_at || 0,
    seen_at: m.seen_at || 0,
    deleted_at: m.deleted_at || 0,
    // A placeholder for a message withheld from us (we block its sender):
    // it keeps the run of sequence numbers whole and is never shown.
    withheld: !!m.withheld,
    // Issue 17: a quote, a forwarded copy, the last edit, delete for me, reactions.
    reply_to: m.reply_to || null,
    forwarded: !!m.forwarded,
    edited_at: m.edited_at || 0,
    hidden: !!m.hidden,
    reactions: m.reactions || [],
    _v: ++version,
  };
}

// Folds what we learnt about a message into the copy we keep; true when it
// changed. Times only ever get set (a receipt never un-delivers).
export function updateMsg(m, n) {
  let changed = false;
  for (const k of ['received_at', 'seen_at', 'deleted_at']) {
    const v = n[k] || 0;
    if (v && !m[k]) {
      m[k] = v;
      changed = true;
    }
  }
  if (m.deleted_at && (m.text !== '' || m.media)) {
    m.text = '';
    m.media = null;
    changed = true;
  }
  if (foldConv(m, n)) changed = true;
  if (changed) m._v = ++version;
  return changed;
}

// Issue 17's fields from a history page or an event: the newer edit wins,
// hidden and forwarded only get set, reactions and the quote are the page's.
function foldConv(m, n) {
  let changed = false;
  if (n.edited_at && n.edited_at > (m.edited_at || 0) && !m.deleted_at) {
    m.edited_at = n.edited_at;
    m.text = n.text ?? m.text;
    changed = true;
  }
  if (n.hidden && !m.hidden) m.hidden = changed = true;
  if (n.forwarded && !m.forwarded) m.forwarded = changed = true;
  if (Array.isArray(n.reactions) && JSON.stringify(n.reactions) !== JSON.stringify(m.reactions || [])) {
    m.reactions = n.reactions;
    changed = true;
  }
  if (n.reply_to && JSON.stringify(n.reply_to) !== JSON.stringify(m.reply_to)) {
    m.reply_to = n.reply_to;
    changed = true;
  }
  return changed;
}

export function touch(m) {
  m._v = ++version;
}

// Issue 17's events on a message we hold: a reaction set or taken back,
// an edit, delete for me.
export function setReactions(m, reactions) {
  m.reactions = reactions;
  touch(m);
}

export function applyEdit(m, text, editedAt) {
  m.text = text;
  m.edited_at = editedAt;
  touch(m);
}

export function hideMsg(m) {
  m.hidden = true;
  touch(m);
}

export function firstSeq(chat) {
  return chat.msgs.length ? chat.msgs[0].seq : 0;
}

export function lastSeq(chat) {
  return chat.msgs.length ? chat.msgs[chat.msgs.length - 1].seq : 0;
}

export function msgAt(chat, seq) {
  const i = seq - firstSeq(chat);
  return chat.msgs.length && i >= 0 && i < chat.msgs.length ? chat.msgs[i] : null;
}

// The loaded run reaches the newest message of the chat.
export function atLatest(chat) {
  return chat.loaded && lastSeq(chat) >= chat.latestSeq;
}

// Merges a contiguous, ascending page into the run. Returns 'none',
// 'update', 'older', 'newer', 'both' or 'reset' (the run was replaced).
export function mergePage(chat, page) {
  if (!page.length) return 'none';
  for (let i = 1; i < page.length; i++) {
    if (page[i].seq !== page[i - 1].seq + 1) {
      // Never expected (sequence numbers have no gaps); keep the run whole.
      console.warn('duet: a history page with a gap', page[i - 1].seq, page[i].seq);
      page = page.slice(0, i);
      break;
    }
  }
  const b0 = page[0].seq;
  const b1 = page[page.length - 1].seq;
  if (b1 > chat.latestSeq) chat.latestSeq = b1;
  const msgs = chat.msgs;
  if (!msgs.length || b1 < firstSeq(chat) - 1 || b0 > lastSeq(chat) + 1) {
    chat.msgs = page.map(normalize);
    return 'reset';
  }
  const a0 = firstSeq(chat);
  const a1 = lastSeq(chat);
  let result = 'none';
  for (const m of page) if (m.seq >= a0 && m.seq <= a1 && updateMsg(msgs[m.seq - a0], m)) result = 'update';
  const older = page.filter((m) => m.seq < a0).map(normalize);
  const newer = page.filter((m) => m.seq > a1).map(normalize);
  if (older.length) chat.msgs = older.concat(chat.msgs);
  if (newer.length) chat.msgs.push(...newer);
  if (older.length && newer.length) return 'both';
  if (older.length) return 'older';
  if (newer.length) return 'newer';
  return result;
}

// Adds one live message; true if it joined the run or changed a copy.
// Call it before moving chat.latestSeq past m.
export function insertLive(chat, m) {
  if (!chat.msgs.length) {
    // An empty chat we have loaded: the first message starts the run.
    if (chat.loaded && m.seq === chat.latestSeq + 1) {
      chat.msgs.push(normalize(m));
      return true;
    }
    return false;
  }
  const a0 = firstSeq(chat);
  const a1 = lastSeq(chat);
  if (m.seq >= a0 && m.seq <= a1) return updateMsg(chat.msgs[m.seq - a0], m);
  if (m.seq === a1 + 1) {
    chat.msgs.push(normalize(m));
    return true;
  }
  return false; // older than the run, or after a gap: history fills it in
}

// Forgets the run (a jump far away, or back to the end): the next page
// starts a new one.
export function dropRun(chat) {
  chat.msgs = [];
  chat.loaded = false;
}

// Keeps only seqs [lo, hi] in memory (the view calls this for long chats).
export function trimRun(chat, lo, hi) {
  const a0 = firstSeq(chat);
  const from = Math.max(0, lo - a0);
  const to = Math.min(chat.msgs.length, hi - a0 + 1);
  if (from === 0 && to === chat.msgs.length) return;
  chat.msgs = chat.msgs.slice(from, to);
}

// Unread = the peer's messages after read_seq, counted from what we hold
// when we hold all of them; otherwise the server's count stands.
export function recountUnread(chat) {
  if (chat.read_seq >= chat.latestSeq) {
    chat.unread = 0;
  } else if (chat.msgs.length && firstSeq(chat) <= chat.read_seq + 1 && atLatest(chat)) {
    let n = 0;
    for (let s = chat.read_seq + 1; s <= chat.latestSeq; s++) {
      const m = msgAt(chat, s);
      if (m && m.from === chat.peer.id && !m.withheld) n++;
    }
    chat.unread = n;
  }
  for (const s of chat.liveUnread) if (s <= chat.read_seq) chat.liveUnread.delete(s);
}
