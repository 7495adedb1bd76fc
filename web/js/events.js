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
  DEFAULT_LIMITS,
  applyChatState,
  atLatest,
  chatByPeer,
  emit,
  firstSeq,
  insertLive,
  lastSeq,
  msgAt,
  normalize,
  recountUnread,
  state,
  touch,
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
      state.me = ev.user;
      state.limits = { ...DEFAULT_LIMITS, ...(ev.limits || {}) };
      try {
        localStorage.setItem('duet.limits', JSON.stringify(state.limits));
      } catch {
        /* private mode */
      }
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
  if (fromPeer && isNew && !m.withheld) chat.archived = false; // as the server does
  insertLive(chat, m);
  if (m.withheld) {
    // Only a placeholder (a message from someone we block): it fills the
    // run; no preview, no unread, no notice.
    if (isNew) chat.latestSeq = m.seq;
    emit('msgs', chat.id);
    return;
  }
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

function onTyping(ev) {
  const typingTimers = session()?.typingTimers;
  if (!typingTimers) return;
  const chat = state.chats.get(ev.chat_id);
  if (!chat || ev.from !== chat.peer.id) return;
  chat.typingUntil = Date.now() + 5000;
  clearTimeout(typingTimers.get(chat.id));
  typingTimers.set(
    chat.id,
    setTimeout(() => {
      chat.typingUntil = 0;
      emit('typing', chat.id);
    }, 5000),
  );
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
  // A friend's new name shows at once in the list, header and info panel.
  const renamed = ev.reason === 'renamed' && who ? chatByPeer(who.id) : null;
  if (renamed) {
    renamed.peer = { ...renamed.peer, display_name: who.display_name };
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
