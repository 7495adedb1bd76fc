// lists.js - the lists over HTTP: conversations (merged into what we
// hold), friend requests and blocks.
import { api } from './api.js';
import { notifyRequest } from './notify.js';
import { session } from './session.js';
import { applyChatList, emit, setRequests, setRequestsLoaded, state } from './store.js';

export async function refreshChats() {
  let res;
  try {
    res = await api.chats();
  } catch (e) {
    if (e.status === 401) session()?.onLoggedOut();
    return;
  }
  const seen = applyChatList(res.chats);
  emit('chats');
  for (const id of seen) emit('msgs', id);
  if (state.openChatId && !state.chats.has(state.openChatId)) emit('open');
}

export async function refreshRequests() {
  try {
    const [r, b] = await Promise.all([api.requests(), api.blocks()]);
    const before = new Set(state.requests.incoming.map((x) => x.user.id));
    setRequests(r, b.blocked);
    emit('requests');
    for (const x of r.incoming) if (!before.has(x.user.id) && state.requestsLoaded) notifyRequest(x.user);
    setRequestsLoaded();
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
