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

// The views and main.js change state only through these setters (the
// sync modules are the other writers); each tells its listeners.
export function setMe(user) {
  state.me = user;
  emit('me');
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
