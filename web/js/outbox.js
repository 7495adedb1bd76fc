// outbox.js - messages not yet acknowledged by the server, kept in
// IndexedDB so that they survive a reload or a crash, and re-sent with
// their original client ids (the server dedupes by id: a retry never
// creates a second message). Tabs tell each other about changes through a
// BroadcastChannel.
//
// An item: {id, user_id, chat_id, text, created, failed: null | code}.

const DB_NAME = 'duet';
const STORE = 'outbox';

let dbPromise = null;
const memory = new Map(); // fallback when IndexedDB is unavailable (private modes)
const channel = 'BroadcastChannel' in window ? new BroadcastChannel('duet-outbox') : null;
const listeners = new Set();

if (channel) channel.onmessage = () => listeners.forEach((fn) => fn());

function open() {
  if (dbPromise) return dbPromise;
  dbPromise = new Promise((resolve) => {
    let req;
    try {
      req = indexedDB.open(DB_NAME, 1);
    } catch {
      resolve(null);
      return;
    }
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(STORE)) {
        const st = db.createObjectStore(STORE, { keyPath: 'id' });
        st.createIndex('user', 'user_id');
      }
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => resolve(null);
    req.onblocked = () => resolve(null);
  });
  return dbPromise;
}

function tx(db, mode, fn) {
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    let result;
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('aborted'));
    result = fn(t.objectStore(STORE));
  });
}

function changed() {
  if (channel) channel.postMessage('changed');
}

export function onOutboxChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export async function outboxAdd(item) {
  const db = await open();
  if (!db) memory.set(item.id, item);
  else await tx(db, 'readwrite', (st) => st.put(item));
  changed();
}

export async function outboxUpdate(id, patch) {
  const db = await open();
  if (!db) {
    const it = memory.get(id);
    if (it) memory.set(id, { ...it, ...patch });
  } else {
    await tx(db, 'readwrite', (st) => {
      const r = st.get(id);
      r.onsuccess = () => {
        if (r.result) st.put({ ...r.result, ...patch });
      };
    });
  }
  changed();
}

export async function outboxRemove(id) {
  const db = await open();
  if (!db) memory.delete(id);
  else await tx(db, 'readwrite', (st) => st.delete(id));
  changed();
}

// Forgets every item of this user (logging out: unsent text must not stay
// behind in the browser).
export async function outboxClear(userId) {
  const db = await open();
  if (!db) {
    for (const [id, it] of memory) if (it.user_id === userId) memory.delete(id);
  } else {
    await tx(db, 'readwrite', (st) => {
      const r = st.index('user').openCursor(IDBKeyRange.only(userId));
      r.onsuccess = () => {
        const c = r.result;
        if (c) {
          c.delete();
          c.continue();
        }
      };
    });
  }
  changed();
}

// Every item of this user, oldest first.
export async function outboxAll(userId) {
  const db = await open();
  let items;
  if (!db) {
    items = [...memory.values()].filter((x) => x.user_id === userId);
  } else {
    items = await tx(db, 'readonly', (st) => {
      const out = [];
      const r = st.index('user').openCursor(IDBKeyRange.only(userId));
      r.onsuccess = () => {
        const c = r.result;
        if (c) {
          out.push(c.value);
          c.continue();
        }
      };
      return out;
    });
  }
  return items.sort((a, b) => a.created - b.created || (a.id < b.id ? -1 : 1));
}
