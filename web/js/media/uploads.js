// uploads.js - media in the outbox: an item holds the file's Blob, its
// metadata and, once created, its tus upload URL, all in IndexedDB, so an
// upload survives a dropped connection, a reload and a server restart (on
// start it HEADs and goes on from the server's offset). The message is
// sent (send.js) once the upload is complete.
//
// A media item: the text item's fields (text = caption) plus
//   media: {type, mime, size, name, width, height, duration_ms, waveform, thumb},
//   blob: Blob, upload_url: '/api/uploads/<id>' | null, uploaded: bool.
// One tab runs an item's upload at a time (a Web Lock per item).
import { outboxAdd, outboxUpdate } from '../outbox.js';
import { session } from '../session.js';
import { dropOutboxItem, flushOutbox } from '../send.js';
import { emit, on, patchOutboxItem, putOutboxItem, state } from '../store.js';
import { clipName } from './labels.js';
import { TusError, transientTus, tusCreate, tusDelete, tusOffset, tusPatch } from './tus.js';

// Upload failures a retry cannot fix; the item shows "Not sent".
const PERMANENT = new Set([400, 403, 413, 415]);
const running = new Map(); // item id -> {abort(), cancelled}
const progress = new Map(); // item id -> bytes the server has (or is getting)
// Object URLs of what this tab sent, by message id: our own photo shows at
// once from the bytes we have, without downloading it back.
const sentBlobs = new Map();
const SENT_KEEP = 24;
const SENT_MAX_BYTES = 16 * 1024 * 1024; // bigger ones are not kept in memory
const wakers = new Set(); // uploads waiting to retry: woken when we are back online

// Back online (the socket synced): waiting uploads try again at once.
on('conn', () => {
  if (state.conn.state !== 'online') return;
  for (const w of [...wakers]) w();
});
// Logged out: every transfer stops (the outbox is being cleared).
on('session', () => {
  if (state.me) return;
  for (const ctl of running.values()) {
    ctl.cancelled = true;
    ctl.abort();
  }
  for (const w of [...wakers]) w();
});

// At most SLOTS uploads transfer at once (the server allows a few
// unfinished uploads per user; the rest wait here, in order).
const SLOTS = 2;
let busySlots = 0;
const slotQueue = [];

function takeSlot(ctl) {
  if (busySlots < SLOTS) {
    busySlots++;
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const entry = { resolve, reject };
    slotQueue.push(entry);
    // Cancelled while waiting: leave the queue.
    ctl.abort = () => {
      const i = slotQueue.indexOf(entry);
      if (i >= 0) slotQueue.splice(i, 1);
      reject(new TusError(0, 'aborted'));
    };
  });
}

function giveSlot() {
  const next = slotQueue.shift();
  if (next) next.resolve();
  else busySlots--;
}

function pause(ms) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      wakers.delete(done);
      resolve();
    };
    const t = setTimeout(done, ms);
    wakers.add(done);
  });
}

export function uploadProgress(id) {
  return progress.get(id) || 0;
}

export function sentBlobUrl(msgId) {
  return sentBlobs.get(msgId) || null;
}

function setProgress(id, n) {
  progress.set(id, n);
  emit('upload', id);
}

// The metadata the server's send takes (docs/protocol.md).
export function mediaOf(item) {
  const m = item.media;
  const out = { upload: uploadId(item.upload_url), type: m.type, mime: m.mime, size: m.size, name: clipName(m.name) };
  for (const k of ['width', 'height', 'duration_ms', 'thumb']) if (m[k]) out[k] = m[k];
  if (m.waveform?.length) out.waveform = m.waveform;
  return out;
}

function uploadId(url) {
  return String(url || '')
    .split('/')
    .pop();
}

// The media of the message we just sent, as the store keeps it.
export function localMedia(item, ev) {
  const { type, ...meta } = mediaOf(item);
  const id = ev.media?.id || meta.upload;
  if (item.blob && item.blob.size <= SENT_MAX_BYTES && !sentBlobs.has(item.id)) {
    sentBlobs.set(item.id, URL.createObjectURL(item.blob));
    if (sentBlobs.size > SENT_KEEP) {
      const [k, u] = sentBlobs.entries().next().value;
      sentBlobs.delete(k);
      URL.revokeObjectURL(u);
    }
  }
  delete meta.upload;
  return { ...meta, ...(ev.media || {}), id };
}

// Queues media for a chat: durable first, then uploaded, then sent.
export async function sendMedia(chat, draft, caption = '') {
  const ownItems = session()?.ownItems;
  if (!ownItems || !state.me) return;
  const { blob, type, mime, size, name, width, height, duration_ms, waveform, thumb } = draft;
  const item = {
    id: `c-${crypto.randomUUID()}`,
    user_id: state.me.id,
    chat_id: chat.id,
    text: caption,
    created: Date.now(),
    failed: null,
    media: { type, mime, size, name, width, height, duration_ms, waveform, thumb },
    blob,
    upload_url: null,
    uploaded: false,
  };
  putOutboxItem(item);
  ownItems.set(item.id, item);
  emit('outbox', chat.id);
  try {
    await outboxAdd(item);
  } catch (e) {
    console.warn('duet: the outbox could not store a file', e);
  }
  ownItems.delete(item.id);
  if (state.outbox.has(item.id)) startUpload(item);
}

// Starts (or resumes) every queued upload: at start and on reconnect.
export function resumeUploads() {
  for (const it of state.outbox.values()) if (it.media && !it.uploaded && !it.failed) startUpload(it);
}

export function isUploading(id) {
  return running.has(id);
}

export function startUpload(item) {
  if (running.has(item.id) || !item.blob) return;
  const ctl = { abort() {}, cancelled: false };
  running.set(item.id, ctl);
  const run = () => uploadLoop(item.id, ctl);
  const locked = navigator.locks
    ? navigator.locks.request(`duet-upload-${item.id}`, { ifAvailable: true }, (l) => (l ? run() : null))
    : run();
  Promise.resolve(locked)
    .catch((e) => console.warn('duet: upload', e))
    .finally(() => {
      running.delete(item.id);
      emit('upload', item.id);
    });
}

// The item as it is now (another tab's change replaces the object).
function current(id) {
  return state.outbox.get(id) || null;
}

async function patchItem(id, patch) {
  const it = current(id);
  if (it) patchOutboxItem(it, patch);
  await outboxUpdate(id, patch).catch(() => {});
}

async function uploadLoop(id, ctl) {
  let delay = 1000;
  for (;;) {
    const it = current(id);
    if (!it || ctl.cancelled || it.failed || it.uploaded) return;
    try {
      await takeSlot(ctl);
      try {
        await uploadOnce(it, ctl);
      } finally {
        giveSlot();
      }
      if (ctl.cancelled) return;
      await patchItem(id, { uploaded: true });
      emit('outbox', it.chat_id);
      flushOutbox(0);
      return;
    } catch (e) {
      if (ctl.cancelled || e.code === 'aborted') return;
      if (e.code === 'upload_busy') {
        await pause(500); // a cut PATCH is still being stored: then HEAD again
        continue;
      }
      if (e.status === 409 && e.code !== 'type_mismatch') continue; // our offset was stale: ask again
      if (e.code === 'type_mismatch' && it.media.type !== 4) {
        // The bytes are not what the browser called them: a file, then.
        await patchItem(id, { media: asFile(it.media), upload_url: null });
        continue;
      }
      if (!transientTus(e) || PERMANENT.has(e.status)) {
        await patchItem(id, { failed: `upload:${e.code || 'failed'}` });
        emit('outbox', it.chat_id);
        return;
      }
      // Offline or the server restarting: wait and go on from HEAD.
      await pause(delay);
      delay = Math.min(delay * 2, 15000);
    }
  }
}

// `it` may be replaced in the outbox meanwhile (another tab's change is
// read back as new objects): the URL is kept here, and patched there.
async function uploadOnce(it, ctl) {
  const size = it.blob.size;
  let url = it.upload_url;
  let offset = null;
  if (url) offset = await tusOffset(url);
  if (offset === null) {
    // New, or the server no longer knows it (expired): start over.
    url = await tusCreate(size, it.media.name, it.media.mime);
    if (ctl.cancelled) {
      tusDelete(url).catch(() => {});
      throw new TusError(0, 'aborted');
    }
    patchOutboxItem(it, { upload_url: url });
    await patchItem(it.id, { upload_url: url });
    offset = 0;
  }
  setProgress(it.id, offset);
  while (offset < size) {
    offset = await tusPatch(url, it.blob, offset, (n) => setProgress(it.id, n), ctl);
    setProgress(it.id, offset);
    if (ctl.cancelled) throw new TusError(0, 'aborted');
  }
}

function asFile(media) {
  return { ...media, type: 4, mime: 'application/octet-stream', thumb: undefined, waveform: undefined };
}

// A send that failed because of its upload (send.js asks): true when it is
// being dealt with here. The upload vanished (expired): upload it again
// from the bytes we hold; not complete after all: go on with it; the
// server's sniffing disagrees with the type: send it as a file.
const recovered = new Map(); // item id -> recoveries so far (a bound: no loop)

export function recoverMedia(item, code) {
  if (!item.media || !state.outbox.has(item.id)) return false;
  const n = recovered.get(item.id) || 0;
  if (n >= 2) return false;
  recovered.set(item.id, n + 1);
  if (code === 'upload_not_found' || code === 'upload_incomplete') {
    const patch = code === 'upload_not_found' ? { upload_url: null, uploaded: false } : { uploaded: false };
    patchItem(item.id, patch).then(() => startUpload(current(item.id) || item));
    return true;
  }
  if (code === 'type_mismatch' && item.media.type !== 4) {
    patchItem(item.id, { media: asFile(item.media) }).then(() => flushOutbox(0));
    return true;
  }
  return false;
}

// Cancel: the transfer stops, the server forgets the upload (tus DELETE),
// the item leaves the outbox.
export function cancelUpload(id) {
  const it = current(id);
  const ctl = running.get(id);
  if (ctl) {
    ctl.cancelled = true;
    ctl.abort();
  }
  if (it?.upload_url && !it.uploaded) tusDelete(it.upload_url).catch(() => {});
  progress.delete(id);
  dropOutboxItem(id);
}
