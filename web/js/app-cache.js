// app-cache.js - a copy of the chat list (and of the open chat's newest
// messages) in localStorage, per user, so that the app opened while the
// server is down shows the chats rather than an error. Written shortly after
// the list or the open chat changes; removed on logout.
//
// Ownership: the saved copy belongs to the signed-in user; this module's
// timer and subscriptions live from startChatCache to its stop function.
import { addSavedChat, atLatest, emit, on, setChatsLoaded, state } from './store.js';

const LAST = 'duet.app.last'; // the id of the user whose copy opens offline
const keyOf = (id) => `duet.app.chats.${id}`;
const KEEP_MSGS = 50;
const SAVE_AFTER_MS = 400;

function read(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || 'null');
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* full or private mode: the app still works online */
  }
}

// One chat as saved: what the list shows, and the newest messages of the
// open chat when we hold a run that reaches its newest message.
function savedChat(chat) {
  const c = {
    chat_id: chat.id,
    peer: { ...chat.peer, online: false },
    last_message: chat.last_message,
    unread: chat.unread,
    last_activity: chat.last_activity,
    read_seq: chat.read_seq,
    peer_read_seq: chat.peer_read_seq,
    blocked_by_me: chat.blocked_by_me,
    blocked_me: chat.blocked_me,
  };
  if (chat.id === state.openChatId && chat.msgs.length && atLatest(chat)) c.msgs = chat.msgs.slice(-KEEP_MSGS);
  return c;
}

function save() {
  const me = state.me;
  if (!me || !state.chatsLoaded) return;
  write(keyOf(me.id), { me, saved_at: Date.now(), chats: [...state.chats.values()].map(savedChat) });
  write(LAST, me.id);
}

// Keeps the copy up to date for this session; returns the function that stops.
export function startChatCache() {
  let timer = 0;
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(save, SAVE_AFTER_MS);
  };
  const offs = ['chats', 'msgs', 'open'].map((t) => on(t, later));
  const onHide = () => {
    if (document.visibilityState === 'hidden' && timer) save();
  };
  document.addEventListener('visibilitychange', onHide);
  return () => {
    clearTimeout(timer);
    offs.forEach((off) => off());
    document.removeEventListener('visibilitychange', onHide);
  };
}

// The last user's saved copy ({me, saved_at, chats}), or null.
export function cachedSession() {
  const id = read(LAST);
  if (typeof id !== 'string') return null;
  const saved = read(keyOf(id));
  return saved?.me?.id === id && Array.isArray(saved.chats) ? saved : null;
}

// Puts a saved copy into the (freshly reset) store.
export function restoreChats(saved) {
  for (const c of saved.chats) addSavedChat(c);
  setChatsLoaded();
  emit('chats');
}

// Forgets the copy of this user (logging out, or the session ended).
export function clearChatCache(userId) {
  try {
    localStorage.removeItem(keyOf(userId));
    if (read(LAST) === userId) localStorage.removeItem(LAST);
  } catch {
    /* nothing was stored */
  }
}

// Forgets the copy of whoever used the app last (the server said 401).
export function clearLastChatCache() {
  const id = read(LAST);
  if (typeof id === 'string') clearChatCache(id);
}
