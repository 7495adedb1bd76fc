// conv.js - issue 17's conversation features on the client: reactions,
// edits, delete for me and forward as requests, and their events
// (reaction, edited, hidden) folded into the store. Reply goes out with the
// outbox item (send.js); its quote comes back from the server.
import { queueAck } from './acks.js';
import { history } from './history.js';
import { scheduleRefresh } from './lists.js';
import { sock } from './session.js';
import { applyEdit, emit, hideMsg, mergePage, msgAt, setReactions, state } from './store.js';

// The quick picker's emoji (the full picker is the composer's, c-org).
export const QUICK_EMOJI = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

const ERRORS = {
  not_sender: 'You can only edit your own messages.',
  edit_window_over: 'It is too late to edit this message.',
  already_deleted: 'This message was deleted.',
  not_editable: 'Only text messages can be edited.',
  not_friends: 'You are no longer friends.',
  blocked: 'You blocked them.',
  not_found: 'That message is not available.',
  bad_emoji: 'That is not an emoji.',
  rate_limited: 'Too many changes in a short time. Wait a moment and try again.',
};

function fail(e, what) {
  return new Error(ERRORS[e?.code] || `${what} failed. Try again.`);
}

async function request(obj, what) {
  if (!sock()?.ready) throw new Error('You are offline. Try again when connected.');
  try {
    return await sock().request(obj);
  } catch (e) {
    throw fail(e, what);
  }
}

// Applies a reaction {chat_id, seq, user, emoji, at} to the copy we hold.
function applyReaction(ev) {
  const chat = state.chats.get(ev.chat_id);
  const m = chat && msgAt(chat, ev.seq);
  if (!m) return;
  const rest = (m.reactions || []).filter((r) => r.user !== ev.user);
  setReactions(m, ev.emoji ? [...rest, { user: ev.user, emoji: ev.emoji, at: ev.at }] : rest);
  emit('msgs', chat.id);
}

function applyEdited(ev) {
  const chat = state.chats.get(ev.chat_id);
  if (!chat) return;
  for (const m of [msgAt(chat, ev.seq), chat.last_message?.seq === ev.seq ? chat.last_message : null]) {
    if (!m || m.deleted_at || (m.edited_at || 0) > ev.edited_at) continue;
    applyEdit(m, ev.text, ev.edited_at);
  }
  emit('msgs', chat.id);
  emit('chats');
}

function applyHidden(ev) {
  const chat = state.chats.get(ev.chat_id);
  const m = chat && msgAt(chat, ev.seq);
  if (m && !m.hidden) hideMsg(m);
  if (!chat) return;
  emit('msgs', chat.id);
  // The list's preview and unread skip hidden messages: ask the server.
  if (chat.last_message?.seq === ev.seq || ev.seq > chat.read_seq) scheduleRefresh(300);
}

// events.js hands these three over; each is acked once applied.
export function onConvEvent(ev) {
  if (ev.type === 'reaction') applyReaction(ev);
  else if (ev.type === 'edited') applyEdited(ev);
  else if (ev.type === 'hidden') applyHidden(ev);
  else return false;
  // Live or replayed: the row may be pending either way (acks are idempotent).
  queueAck(ev.chat_id, ev.type, ev.seq);
  return true;
}

export async function react(chat, seq, emoji) {
  const ev = await request({ type: 'react', chat_id: chat.id, seq, emoji: emoji || null }, 'The reaction');
  applyReaction(ev);
}

export async function editMessage(chat, seq, text) {
  const ev = await request({ type: 'edit', chat_id: chat.id, seq, text }, 'The edit');
  applyEdited(ev);
}

export async function hideMessage(chat, seq) {
  const ev = await request({ type: 'hide', chat_id: chat.id, seq }, 'Deleting');
  applyHidden(ev);
}

// The message as the server stored it (quote, forwarded): one history row.
export function refreshOne(chat, seq) {
  history(chat.id, { after: seq - 1, limit: 1 }).then(
    (p) => {
      mergePage(chat, p);
      emit('msgs', chat.id);
    },
    () => {},
  );
}

export async function forward(from, seq, to) {
  const id = `f-${crypto.randomUUID()}`;
  const ev = await request({ type: 'send', chat_id: to.id, id, forward: { chat_id: from.id, seq } }, 'Forwarding');
  if (to.msgs.length) refreshOne(to, ev.seq);
  return ev;
}

// Whether my message can still be edited (text, not deleted, in the window).
export function canEdit(chat, m) {
  const win = state.limits.edit_window_ms ?? 15 * 60 * 1000;
  const mine = m.from === state.me.id && !m.deleted_at && m.type === 0;
  return mine && win > 0 && Date.now() - m.sent_at < win && chat.friends && !chat.blocked_by_me;
}
