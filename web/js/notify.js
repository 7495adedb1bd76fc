// notify.js - browser notifications while the tab is hidden, and the unread
// count in the title and on the app icon.
import { setBadge } from './app-install.js';
import { clip, iso } from './format.js';
import { mediaLabel } from './media/labels.js';
import { nameOf, on, state, totalUnread } from './store.js';

let openChat = () => {};

export function initNotify(open) {
  openChat = open;
  const update = () => {
    const n = totalUnread();
    const base = 'duet';
    document.title = n > 0 ? `(${n > 99 ? '99+' : n}) ${base}` : base;
    setBadge(n);
  };
  on('chats', update);
  on('session', update);
  update();
}

export function notificationsSupported() {
  return 'Notification' in window;
}

export function permission() {
  return notificationsSupported() ? Notification.permission : 'unsupported';
}

export async function askPermission() {
  if (!notificationsSupported()) return 'unsupported';
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}

function show(title, body, tag, onclick) {
  if (!notificationsSupported() || Notification.permission !== 'granted') return;
  if (document.visibilityState !== 'hidden') return;
  try {
    // One tag per event: every tab raises the same one, and they collapse.
    const n = new Notification(title, { body, tag, icon: 'icon.svg', lang: 'en' });
    n.onclick = () => {
      window.focus();
      onclick?.();
      n.close();
    };
  } catch {
    /* some platforms only allow notifications from a service worker */
  }
}

export function notifyMessage(chat, m) {
  if (chat.muted_until > Date.now()) return; // issue 17: a muted chat is silent
  const text = mediaLabel(m);
  const body = text.length > 140 ? clip(text, 139) + '…' : text;
  show(iso(nameOf(chat.peer)), iso(body), `duet-${m.chat_id}-${m.seq}`, () => openChat(chat.id));
}

export function notifyAccepted(user) {
  show('Friend request accepted', `${iso(nameOf(user))} (@${user.username}) accepted your friend request`, `duet-acc-${user.id}`, null);
}

export function notifyRequest(user) {
  show('New friend request', `${iso(nameOf(user))} (@${user.username}) wants to be friends`, `duet-req-${user.id}`, null);
}
