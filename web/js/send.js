// send.js - sending from the outbox: a message is stored (outbox.js)
// before it goes out, sent with its client id, pipelined oldest first, and
// kept for a retry on transient errors. Items this tab added and has not
// seen leave (session().ownItems) stay shown even while their IndexedDB
// write is on its way when another tab's change makes us re-read the store.
import { history } from './history.js';
import { localMedia, mediaOf, recoverMedia, resumeUploads, startUpload } from './media/uploads.js';
import { outboxAdd, outboxAll, outboxRemove, outboxUpdate } from './outbox.js';
import { session, sock } from './session.js';
import {
  emit,
  insertLive,
  mergePage,
  msgAt,
  normalize,
  patchOutboxItem,
  putOutboxItem,
  setLatestMessage,
  setOutbox,
  state,
  takeOutboxItem,
} from './store.js';

// Errors after which a queued message is worth sending again later.
const TRANSIENT = new Set(['offline', 'disconnected', 'timeout', 'store_failed', 'internal', 'busy']);

export async function loadOutbox(flush) {
  const ownItems = session()?.ownItems;
  if (!state.me || !ownItems) return;
  const items = await outboxAll(state.me.id);
  const next = new Map();
  for (const it of items) next.set(it.id, it);
  for (const [id, it] of ownItems) if (!next.has(id)) next.set(id, it);
  setOutbox(next);
  emit('outbox', null);
  resumeUploads();
  if (flush) flushOutbox(0);
}

export function dropOutboxItem(id) {
  session()?.ownItems.delete(id);
  const it = takeOutboxItem(id);
  outboxRemove(id).catch(() => {});
  if (it) emit('outbox', it.chat_id);
}

export async function sendText(chat, text, { reply_to = null } = {}) {
  const item = {
    id: `c-${crypto.randomUUID()}`,
    user_id: state.me.id,
    chat_id: chat.id,
    text,
    created: Date.now(),
    failed: null,
    reply_to, // issue 17: the quoted seq, or null
  };
  const ownItems = session()?.ownItems;
  if (!ownItems) return;
  putOutboxItem(item);
  ownItems.set(item.id, item);
  emit('outbox', chat.id);
  try {
    await outboxAdd(item); // durable before it goes out
  } catch (e) {
    console.warn('duet: the outbox could not store a message', e);
  }
  ownItems.delete(item.id);
  if (state.outbox.has(item.id)) trySend(item);
}

export function retryItem(id) {
  const it = state.outbox.get(id);
  if (!it) return;
  patchOutboxItem(it, { failed: null });
  outboxUpdate(id, { failed: null }).catch(() => {});
  emit('outbox', it.chat_id);
  trySend(it);
}

export function discardItem(id) {
  dropOutboxItem(id);
}

// Sends every queued item (older than minAge ms), oldest first, pipelined
// on one connection so the server numbers them in that order.
export function flushOutbox(minAge) {
  const now = Date.now();
  const items = [...state.outbox.values()].filter((x) => !x.failed && now - x.created >= minAge).sort((a, b) => a.created - b.created);
  for (const it of items) trySend(it);
}

function trySend(item) {
  // Media goes out once its upload is complete (media/uploads.js).
  if (item.media && !item.uploaded) {
    if (!item.failed) startUpload(item);
    return;
  }
  const inflight = session()?.inflight;
  if (!sock()?.ready || !inflight || inflight.has(item.id) || item.failed) return;
  inflight.add(item.id);
  sock()
    .request({
      type: 'send',
      chat_id: item.chat_id,
      id: item.id,
      text: item.text,
      ...(item.media ? { media: mediaOf(item) } : {}),
      ...(item.reply_to ? { reply_to: item.reply_to } : {}),
    })
    .then(
      (ev) => {
        inflight.delete(item.id);
        onSent(item, ev);
      },
      (e) => {
        inflight.delete(item.id);
        if (TRANSIENT.has(e.code)) return; // stays queued; sent again on reconnect
        if (item.media && recoverMedia(item, e.code)) return;
        patchOutboxItem(item, { failed: e.code || 'failed' });
        outboxUpdate(item.id, { failed: item.failed }).catch(() => {});
        emit('outbox', item.chat_id);
      },
    );
}

function onSent(item, ev) {
  dropOutboxItem(item.id);
  const chat = state.chats.get(item.chat_id);
  if (!chat) return;
  const m = normalize({
    chat_id: ev.chat_id,
    seq: ev.seq,
    id: ev.id,
    from: state.me.id,
    to: chat.peer.id,
    type: item.media?.type || 0,
    text: item.text,
    media: item.media ? localMedia(item, ev) : null,
    sent_at: ev.sent_at,
  });
  const joined = insertLive(chat, m);
  if (m.seq > chat.latestSeq) setLatestMessage(chat, m);
  // A retry, or a reply (its quote is the server's): read it back.
  if (ev.duplicate || item.reply_to || (!joined && chat.msgs.length && !msgAt(chat, m.seq))) {
    // Sent before (a retry): its receipts may be further along than ours.
    history(chat.id, { after: m.seq - 1, limit: 1 }).then(
      (p) => {
        mergePage(chat, p);
        emit('msgs', chat.id);
      },
      () => {},
    );
  }
  emit('msgs', chat.id);
  emit('chats');
}
