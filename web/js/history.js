// history.js - pages of a chat's history: the newest page on opening,
// older and newer pages while scrolling, and resuming after a reconnect
// from the last sequence number we hold. Over the WebSocket when it is up,
// else over HTTP.
import { api } from './api.js';
import { sock } from './session.js';
import {
  atLatest,
  emit,
  firstSeq,
  lastSeq,
  mergePage,
  recountUnread,
  setLatestSeq,
  setLoaded,
  setLoadError,
  setLoadingNewer,
  setLoadingOlder,
  state,
} from './store.js';

export const PAGE = 100;

export async function history(chatId, params) {
  if (sock()?.ready) {
    try {
      const ev = await sock().request({ type: 'history', chat_id: chatId, ...params });
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
  setLoadingNewer(chat, true);
  try {
    const page = await history(chat.id, { limit: 50 });
    mergePage(chat, page);
    if (page.length) setLatestSeq(chat, Math.max(chat.latestSeq, page[page.length - 1].seq));
    else setLatestSeq(chat, 0); // the newest page is empty: so is the chat
    setLoaded(chat, true);
    for (let i = 0; i < 5 && chat.unread > 0 && firstSeq(chat) > chat.read_seq + 1 && firstSeq(chat) > 1; i++) {
      const older = await history(chat.id, { before: firstSeq(chat), limit: PAGE });
      if (!older.length) break;
      mergePage(chat, older);
    }
  } catch (e) {
    setLoadError(chat, e.code || 'network');
  } finally {
    setLoadingNewer(chat, false);
  }
  emit('msgs', chat.id);
}

export async function loadOlder(chat) {
  if (chat.loadingOlder || !chat.msgs.length || firstSeq(chat) <= 1) return false;
  setLoadingOlder(chat, true);
  try {
    const page = await history(chat.id, { before: firstSeq(chat), limit: PAGE });
    mergePage(chat, page);
    return page.length > 0;
  } catch {
    return false;
  } finally {
    setLoadingOlder(chat, false);
    emit('msgs', chat.id);
  }
}

export async function loadNewer(chat) {
  if (chat.loadingNewer || atLatest(chat)) return false;
  if (!chat.msgs.length) {
    // Loaded while empty, and messages came since that we never held
    // (say, the list told of them first): start from the newest page.
    setLoaded(chat, false);
    await loadInitial(chat);
    return chat.msgs.length > 0;
  }
  setLoadingNewer(chat, true);
  try {
    const page = await history(chat.id, { after: lastSeq(chat), limit: PAGE });
    mergePage(chat, page);
    if (page.length < PAGE) setLatestSeq(chat, Math.max(chat.latestSeq, lastSeq(chat)));
    return page.length > 0;
  } catch {
    return false;
  } finally {
    setLoadingNewer(chat, false);
    emit('msgs', chat.id);
  }
}

export async function resume(chat) {
  if (chat.loadingNewer) return;
  setLoadingNewer(chat, true);
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
    setLoaded(chat, true);
    recountUnread(chat);
    emit('chats');
  } catch {
    /* the next reconnect resumes again */
  } finally {
    setLoadingNewer(chat, false);
    emit('msgs', chat.id);
  }
}
