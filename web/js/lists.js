// lists.js - the lists over HTTP: conversations (merged into what we
// hold), friend requests and blocks.
import { api } from './api.js';
import { notifyRequest } from './notify.js';
import { session } from './session.js';
import { makeChat, emit, normalize, recountUnread, state } from './store.js';

export async function refreshChats() {
  let res;
  try {
    res = await api.chats();
  } catch (e) {
    if (e.status === 401) session()?.onLoggedOut();
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
    if (e.status === 401) session()?.onLoggedOut();
  }
}

export function refreshAll() {
  return Promise.all([refreshChats(), refreshRequests()]);
}

export function scheduleRefresh(ms = 150) {
  const s = session();
  if (!s) return;
  clearTimeout(s.refreshTimer);
  s.refreshTimer = setTimeout(refreshAll, ms);
}
