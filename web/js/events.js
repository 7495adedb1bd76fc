// events.js - the server's WebSocket events folded into the store:
// messages, receipts, deletions, reads, typing, presence, friendship
// changes, and what to do once a (re)connection is synced.
import { flushAcks, queueAck } from './acks.js';
import { loadNewer, resume } from './history.js';
import { refreshAll, scheduleRefresh } from './lists.js';
import { onConvEvent } from './conv.js';
import { notifyAccepted, notifyMessage } from './notify.js';
import { dropOutboxItem, flushOutbox } from './send.js';
import { session } from './session.js';
import {
  applyChatState,
  applyReceipt,
  atLatest,
  chatByPeer,
  countLiveUnread,
  emit,
  insertLive,
  msgAt,
  normalize,
  setChatArchived,
  setLatestMessage,
  setLatestSeq,
  setLimits,
  setMe,
  setPeer,
  setReadSeq,
  setSynced,
  setTypingUntil,
  state,
  updateMsg,
} from './store.js';

function onChatState(ev) {
  if (ev.pending) queueAck(ev.chat_id, 'chat_state', 0);
  const chat = state.chats.get(ev.chat_id);
  if (!chat) return;
  applyChatState(chat, ev);
  emit('chats');
}

export function onEvent(ev) {
  switch (ev.type) {
    case 'hello':
      setLimits(ev.limits || {});
      try {
        localStorage.setItem('duet.limits', JSON.stringify(state.limits));
      } catch {
        /* private mode */
      }
      setMe(ev.user);
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
    case 'chat_state': // issue 17: pin/archive/mute from another device
      onChatState(ev);
      break;
    case 'error':
      if (ev.request !== 'typing') console.warn('duet: server error', ev.request, ev.code, ev.message);
      break;
    default:
      onConvEvent(ev); // issue 17: reaction, edited, hidden
      break;
  }
}

async function onSynced() {
  setSynced();
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
  if (fromPeer && isNew && !m.withheld) setChatArchived(chat, false); // as the server does
  insertLive(chat, m);
  if (m.withheld) {
    // Only a placeholder (a message from someone we block): it fills the
    // run; no preview, no unread, no notice.
    if (isNew) setLatestSeq(chat, m.seq);
    emit('msgs', chat.id);
    return;
  }
  if (isNew) {
    setLatestMessage(chat, m);
  } else if (chat.last_message?.seq === m.seq) {
    updateMsg(chat.last_message, m);
  }
  if (!fromPeer && state.outbox.has(m.id)) dropOutboxItem(m.id); // another tab sent it
  if (fromPeer) {
    if (chat.typingUntil) {
      setTypingUntil(chat, 0);
      emit('typing', chat.id);
    }
    if (isNew && m.seq > chat.read_seq) {
      countLiveUnread(chat, m.seq);
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
  applyReceipt(chat, ev.seq, ev.status === 'seen', ev.at);
  emit('msgs', chat.id);
  emit('chats');
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
  setReadSeq(chat, ev.seq);
  if (chat.read_seq < chat.latestSeq && !(chat.msgs.length && atLatest(chat))) scheduleRefresh(300);
  emit('chats');
  emit('msgs', chat.id);
}

function onTyping(ev) {
  const typingTimers = session()?.typingTimers;
  if (!typingTimers) return;
  const chat = state.chats.get(ev.chat_id);
  if (!chat || ev.from !== chat.peer.id) return;
  setTypingUntil(chat, Date.now() + 5000);
  clearTimeout(typingTimers.get(chat.id));
  typingTimers.set(
    chat.id,
    setTimeout(() => {
      setTypingUntil(chat, 0);
      emit('typing', chat.id);
    }, 5000),
  );
  emit('typing', chat.id);
}

function onPresence(ev) {
  const chat = chatByPeer(ev.user);
  if (!chat) return;
  setPeer(chat, { ...chat.peer, online: !!ev.online, last_seen: ev.last_seen || null });
  emit('chats');
  emit('peer', chat.id);
}

// A request I sent that became a friendship is worth a notice: the
// server says 'accepted' to both sides, and only the sender had it in
// their outgoing list.
function onFriendsChanged(ev) {
  const who = ev.user;
  // A friend's new name shows at once in the list, header and info panel.
  const renamed = ev.reason === 'renamed' && who ? chatByPeer(who.id) : null;
  if (renamed) {
    setPeer(renamed, { ...renamed.peer, display_name: who.display_name });
    emit('chats');
    emit('peer', renamed.id);
  }
  if (ev.reason === 'accepted' && who && state.requests.outgoing.some((r) => r.user.id === who.id)) {
    emit('accepted', who);
    notifyAccepted(who);
  }
  emit('friends', ev);
  scheduleRefresh();
}
