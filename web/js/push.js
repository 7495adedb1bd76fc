// push.js - Web Push in the page: subscribing this browser (the service
// worker's pushManager with the server's VAPID key), the devices list, the
// preview setting, the one-time offer after the first message you send
// (never on page load), telling the server whether this tab is visible, and
// opening the chat a clicked notification names (sw.js posts it here).
import { on, state } from './store.js';
import { currentSocket } from './sync.js';

const SUB_KEY = 'duet.push.sub'; // this browser's subscription id on the server
const OFFERED_KEY = 'duet.push.offered';

async function call(method, path, body) {
  const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  const json = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const e = new Error(json?.message || res.statusText);
    e.code = json?.error || `http_${res.status}`;
    e.status = res.status;
    throw e;
  }
  return json;
}

export const pushApi = {
  key: () => call('GET', '/api/push/key'),
  subscribe: (sub) => call('POST', '/api/push/subscriptions', sub),
  devices: () => call('GET', '/api/push/subscriptions'),
  remove: (id) => call('DELETE', `/api/push/subscriptions/${encodeURIComponent(id)}`),
  settings: () => call('GET', '/api/push/settings'),
  setPreview: (on) => call('PATCH', '/api/push/settings', { push_preview: !!on }),
};

export function pushSupported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

export function currentSubId() {
  try {
    return localStorage.getItem(SUB_KEY);
  } catch {
    return null;
  }
}

function setSubId(id) {
  try {
    if (id) localStorage.setItem(SUB_KEY, id);
    else localStorage.removeItem(SUB_KEY);
  } catch {
    /* private mode */
  }
}

// A short label for the devices list ("Chrome on Android").
function deviceLabel() {
  const ua = navigator.userAgent;
  const pick = (pairs, none) => pairs.find(([re]) => re.test(ua))?.[1] || none;
  const browser = pick(
    [
      [/Edg\//, 'Edge'],
      [/Firefox\//, 'Firefox'],
      [/Chrom(e|ium)\//, 'Chrome'],
      [/Safari\//, 'Safari'],
    ],
    'Browser',
  );
  const os = pick(
    [
      [/Android/, 'Android'],
      [/iPhone|iPad/, 'iOS'],
      [/Mac OS X/, 'macOS'],
      [/Windows/, 'Windows'],
      [/Linux/, 'Linux'],
    ],
    'a device',
  );
  return `${browser} on ${os}`;
}

// Subscribes this browser and registers it; the subscription's server id.
export async function enablePush() {
  if (!pushSupported()) throw Object.assign(new Error('Push is not supported by this browser.'), { code: 'unsupported' });
  const perm = await Notification.requestPermission();
  if (perm !== 'granted') throw Object.assign(new Error('Notifications are blocked for duet in this browser.'), { code: 'denied' });
  const { key } = await pushApi.key();
  const reg = await navigator.serviceWorker.ready;
  let sub = await reg.pushManager.getSubscription();
  if (!sub) sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  const j = sub.toJSON();
  const r = await pushApi.subscribe({ endpoint: j.endpoint, keys: { p256dh: j.keys.p256dh, auth: j.keys.auth }, device: deviceLabel() });
  setSubId(r.subscription.id);
  return r.subscription.id;
}

export async function disablePush() {
  const id = currentSubId();
  setSubId(null);
  if (id) await pushApi.remove(id).catch(() => {});
  const reg = await navigator.serviceWorker?.getRegistration();
  const sub = await reg?.pushManager?.getSubscription();
  await sub?.unsubscribe().catch(() => {});
}

// Logout: the server drops this session's subscriptions; forget ours too.
export async function pushLoggedOut() {
  setSubId(null);
  try {
    const reg = await navigator.serviceWorker?.getRegistration();
    const sub = await reg?.pushManager?.getSubscription();
    await sub?.unsubscribe();
  } catch {
    /* nothing subscribed */
  }
}

function sendVisibility() {
  currentSocket()?.send({ type: 'visibility', visible: document.visibilityState === 'visible' });
}

// The one-time offer, after the first message this user sends here.
function maybeOffer(offer) {
  try {
    if (localStorage.getItem(OFFERED_KEY) || !pushSupported() || Notification.permission === 'denied' || currentSubId()) return;
    localStorage.setItem(OFFERED_KEY, '1');
  } catch {
    return;
  }
  offer();
}

// offer(): shows the offer (views/push-settings.js), called at most once.
export function initPush({ offer }) {
  document.addEventListener('visibilitychange', sendVisibility);
  on('conn', () => {
    if (state.conn?.state === 'online') sendVisibility();
  });
  let watched = null;
  on('session', () => {
    const s = currentSocket();
    if (!s || s === watched) return;
    watched = s;
    s.addEventListener('event', (e) => {
      if (e.detail?.type === 'sent' && !e.detail.duplicate) maybeOffer(offer);
    });
  });
  navigator.serviceWorker?.addEventListener('message', (e) => {
    if (e.data?.type === 'open-chat' && typeof e.data.chat_id === 'string') location.hash = `#/c/${e.data.chat_id}`;
  });
}
