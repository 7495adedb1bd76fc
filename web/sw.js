// sw.js - the service worker: the app shell (the page, its scripts and
// styles, the manifest and icons) from one cache per version, so duet opens
// with the server down, and a new version is taken whole or not at all.
//
// duetd replaces @V@ below with the web folder's version (a hash of its
// files), so this script's bytes change with any file and the browser sees
// an update. The new worker fills its own cache while the old one keeps
// serving; it waits until the page asks it to take over (the user clicked
// "Reload to update"), then deletes the old caches. The API, the WebSocket
// and /healthz never go through a cache.

const VERSION = '@V@';
const PREFIX = 'duet-shell-';
const CACHE = PREFIX + VERSION;
const PASS = /^\/(api\/|ws$|healthz$)/;
const VERSIONED = /\bv\/([0-9a-f]{16})\//;

// The version a page names in its v/<version>/ URLs.
function versionOf(html) {
  return VERSIONED.exec(html)?.[1] || '';
}

async function fetchOk(url) {
  const res = await fetch(url, { cache: 'no-cache', credentials: 'same-origin' });
  if (!res.ok) throw new Error(`duet sw: ${url} answered ${res.status}`);
  return res;
}

// Every file the shell needs: what the page names, the icons of the
// manifest, and the module graph from the page's scripts (static imports).
async function shellFiles(html, put) {
  const base = new URL('/', self.location.origin);
  const seen = new Set(['/']);
  const todo = [];
  const add = (ref, from) => {
    const u = new URL(ref, from);
    if (u.origin !== base.origin || seen.has(u.pathname)) return;
    seen.add(u.pathname);
    todo.push(u.pathname);
  };
  for (const m of html.matchAll(/\s(?:src|href)="([^"]+)"/g)) add(m[1], base);
  while (todo.length) {
    const path = todo.shift();
    const res = await fetchOk(path);
    const type = res.headers.get('Content-Type') || '';
    if (type.startsWith('text/javascript')) {
      const src = await res.clone().text();
      for (const m of src.matchAll(/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm))
        add(m[1] || m[2], new URL(path, base));
    } else if (type.startsWith('application/manifest+json')) {
      const man = await res.clone().json();
      for (const icon of man.icons || []) add(icon.src, new URL(path, base));
    }
    await put(path, res);
  }
}

async function install() {
  const page = await fetchOk('/');
  const html = await page.clone().text();
  // The folder changed again since this script was served: a newer worker
  // is coming; this one must not cache a mix of two versions.
  if (versionOf(html) !== VERSION) throw new Error('duet sw: the server has moved on to another version');
  await caches.delete(CACHE);
  const cache = await caches.open(CACHE);
  try {
    await cache.put('/', page);
    await shellFiles(html, (path, res) => cache.put(path, res));
    const again = await fetchOk('/');
    if (versionOf(await again.text()) !== VERSION) throw new Error('duet sw: the version changed while caching');
  } catch (e) {
    await caches.delete(CACHE);
    throw e;
  }
}

self.addEventListener('install', (e) => {
  e.waitUntil(install());
});

self.addEventListener('activate', (e) => {
  e.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
      // The first worker takes the open page at once (it was loaded from the
      // network, so nothing is mixed); later ones only come when asked.
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (e) => {
  if (e.data === 'skipWaiting') self.skipWaiting();
  else if (e.data === 'version') e.source?.postMessage({ version: VERSION });
});

async function fromShell(request, key) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  return hit || fetch(request);
}

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || PASS.test(url.pathname)) return;
  if (url.pathname === '/' || url.pathname === '/index.html') {
    // The page of this worker's version, even when the server has a newer
    // one: the page announces that, and the user chooses when to reload.
    e.respondWith(fromShell(req, '/'));
    return;
  }
  e.respondWith(fromShell(req, url.pathname + url.search));
});

// ---- Web Push (docs/protocol.md "Push notifications") ----
// The payload is {type: "message", chat_id, seq, from, text?},
// {type: "reaction", chat_id, seq, from, emoji} or {type: "clear", chat_id}. One notification per chat (tag), replaced by
// the next; a clear closes the chat's (it was read on another device).
const chatTag = (id) => `duet-chat-${id}`;

async function onPush(data) {
  if (!data || typeof data.chat_id !== 'string') return;
  const tag = chatTag(data.chat_id);
  if (data.type === 'clear') {
    for (const n of await self.registration.getNotifications({ tag })) n.close();
    return;
  }
  const body = data.type === 'reaction' ? `Reacted ${data.emoji || ''} to your message` : data.text || 'New message';
  await self.registration.showNotification(data.from || 'duet', {
    body,
    tag,
    renotify: true,
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
    data: { chat_id: data.chat_id, seq: data.seq },
  });
}

self.addEventListener('push', (e) => {
  let data = null;
  try {
    data = e.data?.json();
  } catch {
    data = null;
  }
  e.waitUntil(onPush(data));
});

// Opens duet on the chat: an open window is focused and told which chat
// (push.js), else a new one opens at the chat's address.
async function openChat(id) {
  const url = `/#/c/${encodeURIComponent(id)}`;
  const wins = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const win = wins.find((w) => new URL(w.url).origin === self.location.origin);
  if (win) {
    win.postMessage({ type: 'open-chat', chat_id: id });
    return win.focus();
  }
  return self.clients.openWindow(url);
}

self.addEventListener('notificationclick', (e) => {
  e.notification.close();
  const id = e.notification.data?.chat_id;
  if (typeof id === 'string') e.waitUntil(openChat(id));
});
