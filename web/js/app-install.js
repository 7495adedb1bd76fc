// app-install.js - duet as an installed app: the service worker (sw.js) is
// registered, a new version it finds is announced ("Reload to update") and
// taken only on the user's click, and the unread count goes on the app icon
// (Badging API) where the browser has one.
import { h } from './dom.js';

const UPDATE_CHECK_MS = 60 * 60 * 1000;

let bar = null;
let lastBadge = -1;

// The bar that offers the new version; one per page.
function showUpdate(worker) {
  if (bar?.isConnected) return;
  const btn = h('button', { type: 'button', class: 'btn btn-primary update-btn' }, 'Reload to update');
  btn.addEventListener('click', () => {
    btn.disabled = true;
    // The page reloads on controllerchange, once the new worker is in charge.
    worker.postMessage('skipWaiting');
  });
  bar = h(
    'div',
    { class: 'update-bar', role: 'status', 'aria-live': 'polite' },
    h('span', { class: 'update-text' }, 'A new version of duet is ready.'),
    btn,
  );
  document.body.append(bar);
}

// Announces reg's waiting worker now, or an installing one once installed.
function watch(reg) {
  const track = (w) => {
    if (!w) return;
    const check = () => {
      if (w.state === 'installed' && navigator.serviceWorker.controller) showUpdate(w);
    };
    w.addEventListener('statechange', check);
    check();
  };
  if (reg.waiting) track(reg.waiting);
  track(reg.installing);
  reg.addEventListener('updatefound', () => track(reg.installing));
}

export async function initApp() {
  if (!('serviceWorker' in navigator)) return;
  const sw = navigator.serviceWorker;
  // A page that had a worker reloads when another one takes over (this tab's
  // click or another tab's), so that it never runs old code over the new
  // cache. The first worker taking an uncontrolled page changes nothing.
  const hadController = !!sw.controller;
  let reloading = false;
  sw.addEventListener('controllerchange', () => {
    if (!hadController || reloading) return;
    reloading = true;
    location.reload();
  });
  let reg;
  try {
    reg = await sw.register('/sw.js', { scope: '/' });
  } catch (e) {
    console.warn('duet: the service worker could not be registered', e);
    return;
  }
  watch(reg);
  const check = () => reg.update().catch(() => {}); // offline: the next check
  setInterval(check, UPDATE_CHECK_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') check();
  });
}

// The unread total on the app icon; a no-op where there is no badge.
export function setBadge(n) {
  if (n === lastBadge || typeof navigator.setAppBadge !== 'function') return;
  lastBadge = n;
  const p = n > 0 ? navigator.setAppBadge(n) : navigator.clearAppBadge();
  p?.catch?.(() => {}); // not installed, or not allowed: the title still shows it
}
