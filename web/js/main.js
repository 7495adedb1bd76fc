// main.js - start-up: ask who we are, then show the login screen or the
// app; and go back to the login screen when the session ends. With the
// server down, the app opens on the last user's saved chats (app-cache.js).
import { api } from './api.js';
import { cachedSession, clearChatCache, clearLastChatCache, restoreChats, startChatCache } from './app-cache.js';
import { initApp } from './app-install.js';
import { h } from './dom.js';
import { clearDrafts } from './drafts.js';
import { initNotify } from './notify.js';
import { initPush, pushLoggedOut } from './push.js';
import { offerPush } from './views/push-settings.js';
import { outboxClear } from './outbox.js';
import { applyTheme } from './theme.js';
import { emit, resetState, setMe, state } from './store.js';
import { endSession, startSession } from './sync.js';
import { renderAuth } from './views/auth.js';
import { mountShell } from './views/shell.js';

const root = document.getElementById('app');
const session = 'BroadcastChannel' in window ? new BroadcastChannel('duet-session') : null;
let shell = null;
let stopChatCache = null;

function showAuth() {
  root.removeAttribute('aria-busy');
  renderAuth(root, {
    onLoggedIn(me) {
      session?.postMessage('login');
      enter(me);
    },
  });
}

// saved: the chats to show until the server answers (the offline start).
function enter(me, saved = null) {
  shell?.destroy();
  stopChatCache?.();
  resetState();
  setMe(me);
  if (saved) restoreChats(saved);
  stopChatCache = startChatCache();
  shell = mountShell(root, { onLogout: logout });
  root.removeAttribute('aria-busy');
  startSession(me, { loggedOut: leave });
  emit('session');
  // Keyboard users start in the list (or the chat the address names), not
  // on the page body.
  if (!root.contains(document.activeElement) || document.activeElement === document.body) shell.focusStart();
}

function leave() {
  if (!state.me && !shell) return;
  endSession();
  stopChatCache?.();
  stopChatCache = null;
  // The session is over (logout here, in another tab, or a 401): no copy
  // of the chats stays behind.
  if (state.me) clearChatCache(state.me.id);
  shell?.destroy();
  shell = null;
  document.querySelectorAll('dialog').forEach((d) => d.remove());
  resetState();
  emit('session');
  emit('chats');
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  showAuth();
}

async function logout() {
  const me = state.me;
  await pushLoggedOut(); // the server drops this session's subscriptions
  try {
    await api.logout();
  } catch {
    /* the cookie is gone or the server is; either way we leave */
  }
  // Unsent messages and drafts are the user's text: none stays behind.
  endSession(); // no send of the outbox while it is being cleared
  if (me) {
    clearDrafts(me.id);
    await outboxClear(me.id).catch((e) => console.warn('duet: the outbox could not be cleared', e));
  }
  session?.postMessage('logout');
  leave();
}

// Another tab logged in or out: follow it.
if (session) {
  session.onmessage = (e) => {
    if (e.data === 'logout' && shell) leave();
    else if (e.data === 'login' && !shell) boot();
  };
}

let bootDelay = 1000;
async function boot() {
  try {
    const r = await api.me();
    enter(r.user);
  } catch (e) {
    if (e.status === 401) {
      clearLastChatCache();
      showAuth();
      return;
    }
    // Unreachable, with chats saved: the app, its offline banner and the
    // saved chats; the socket reconnects (and a 401 then logs out).
    const saved = e.code === 'network' && !shell ? cachedSession() : null;
    if (saved) {
      enter(saved.me, saved);
      return;
    }
    root.replaceChildren(
      h(
        'div',
        { class: 'boot-error', role: 'alert' },
        h('p', null, 'The duet server cannot be reached. Retrying…'),
        h('button', { type: 'button', class: 'btn btn-primary', onclick: () => boot() }, 'Retry now'),
      ),
    );
    setTimeout(boot, bootDelay);
    bootDelay = Math.min(bootDelay * 2, 30000);
  }
}

applyTheme();
initNotify((id) => {
  location.hash = `#/c/${id}`;
});
initPush({ offer: offerPush });
boot();
initApp();
