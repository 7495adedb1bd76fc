// sync.js - keeps the store in step with the server for one signed-in
// session: it starts and ends the session (session.js holds its state) and
// is what the views call. The work is split by concern: lists.js (the HTTP
// lists), events.js (WebSocket events), acks.js, history.js (paging) and
// send.js (the outbox going out).
import { api, ApiError } from './api.js';
import { onEvent } from './events.js';
import { refreshAll } from './lists.js';
import { loadOutbox, flushOutbox } from './send.js';
import { onOutboxChange } from './outbox.js';
import { closeSession, openSession, session, sock } from './session.js';
import { Socket } from './socket.js';
import { emit, setConn, setLimits, setMe, setReadSeq, state } from './store.js';

export { refreshAll, refreshChats, refreshRequests } from './lists.js';
export { loadInitial, loadNewer, loadOlder } from './history.js';
export { discardItem, retryItem, sendText } from './send.js';

export function currentSocket() {
  return sock();
}

export function startSession(me, { loggedOut }) {
  closeSession();
  try {
    const saved = JSON.parse(localStorage.getItem('duet.limits') || 'null');
    if (saved) setLimits(saved);
  } catch {
    /* defaults */
  }
  setMe(me);
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new Socket(`${proto}//${location.host}/ws`);
  const s = openSession({ socket, onLoggedOut: loggedOut });
  socket.addEventListener('state', (e) => {
    setConn(e.detail);
    emit('conn');
  });
  socket.addEventListener('event', (e) => onEvent(e.detail));
  socket.addEventListener('ended', () => checkSession());
  socket.addEventListener('closed', () => s.inflight.clear());
  s.stopOutboxWatch = onOutboxChange(() => loadOutbox(false));
  loadOutbox(false);
  refreshAll();
  socket.start();
  s.flushTimer = setInterval(() => {
    if (sock()?.ready) flushOutbox(10000);
  }, 15000);
}

export function endSession() {
  closeSession();
}

// A closed socket may mean the session ended: ask, and log out on 401.
async function checkSession() {
  const s = session();
  if (!s || s.checking) return;
  s.checking = true;
  try {
    const r = await api.me();
    if (r?.user && state.me) setMe(r.user);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) s.onLoggedOut();
  } finally {
    s.checking = false;
  }
}

export function retryNow() {
  sock()?.retryNow();
}

// The user has seen the chat up to seq (it is on screen in a visible tab).
export function markSeen(chat, seq) {
  if (!seq || seq <= chat.read_seq || !sock()?.ready) return;
  if (!sock().send({ type: 'seen', chat_id: chat.id, seq })) return;
  setReadSeq(chat, seq);
  emit('chats');
}

export function sendTyping(chat) {
  sock()?.send({ type: 'typing', chat_id: chat.id });
}

export async function deleteForEveryone(chat, seq) {
  if (!sock()?.ready) throw new Error('You are offline. Try again when connected.');
  try {
    await sock().request({ type: 'delete', chat_id: chat.id, seq });
  } catch (e) {
    const text =
      {
        delete_window_over: 'It is too late to delete this message for everyone.',
        already_deleted: 'This message is already deleted.',
        forbidden: 'You can only delete your own messages.',
      }[e.code] || 'The message could not be deleted. Try again.';
    throw new Error(text);
  }
}

export function findChat(id) {
  return state.chats.get(id) || null;
}
