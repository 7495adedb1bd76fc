// lists.js - the lists over HTTP: conversations (merged into what we
// hold), friend requests and blocks.
import { api } from './api.js';
import { notifyRequest } from './notify.js';
import { session } from './session.js';
import { applyChatList, emit, setRequests, setRequestsLoaded, state } from './store.js';

// A fetch's number; fresh(s, kind, n) says whether its answer is newer than
// every one applied so far, and marks it applied.
function ticket(kind) {
  const s = session();
  return s ? { s, n: ++s.listGen[kind] } : null;
}

function fresh(t, kind) {
  if (!t || session() !== t.s || t.n <= t.s.listGen[`${kind}Applied`]) return false;
  t.s.listGen[`${kind}Applied`] = t.n;
  return true;
}

// A list the server could not give for a passing reason (busy, rate
// limited, restarting, unreachable) is fetched again, backing off from 1 s
// to a minute (or after the server's Retry-After), with jitter so that the
// clients of a restarted server do not come back in step. Without it the
// list stayed as it was, empty on a first load, until the next reconnect.
function retryLater(kind, e) {
  const s = session();
  if (!s || !(e.status === 0 || e.status === 429 || e.status >= 500)) return;
  const n = (s.listRetry[kind] = Math.min(s.listRetry[kind] + 1, 7));
  const base = e.retryAfter > 0 ? e.retryAfter * 1000 : 1000 * 2 ** (n - 1);
  const ms = Math.min(base, 60000) * (0.75 + Math.random() / 2);
  clearTimeout(s.listRetryTimer[kind]);
  s.listRetryTimer[kind] = setTimeout(kind === 'chats' ? refreshChats : refreshRequests, ms);
}

function fetched(kind) {
  const s = session();
  if (!s) return;
  s.listRetry[kind] = 0;
  clearTimeout(s.listRetryTimer[kind]);
}

export async function refreshChats() {
  const t = ticket('chats');
  let res;
  try {
    res = await api.chats();
  } catch (e) {
    if (e.status === 401) session()?.onLoggedOut();
    else retryLater('chats', e);
    return;
  }
  fetched('chats');
  if (!fresh(t, 'chats')) return; // a later fetch already answered
  const seen = applyChatList(res.chats);
  emit('chats');
  for (const id of seen) emit('msgs', id);
  if (state.openChatId && !state.chats.has(state.openChatId)) emit('open');
}

export async function refreshRequests() {
  const t = ticket('requests');
  try {
    const [r, b] = await Promise.all([api.requests(), api.blocks()]);
    fetched('requests');
    if (!fresh(t, 'requests')) return;
    const before = new Set(state.requests.incoming.map((x) => x.user.id));
    setRequests(r, b.blocked);
    emit('requests');
    for (const x of r.incoming) if (!before.has(x.user.id) && state.requestsLoaded) notifyRequest(x.user);
    setRequestsLoaded();
  } catch (e) {
    if (e.status === 401) session()?.onLoggedOut();
    else retryLater('requests', e);
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
