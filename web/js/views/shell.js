// shell.js - the signed-in layout: the connection banner, the sidebar
// (me, friends, settings, the conversation list) and the open chat.
// Routes are hashes (#/c/<chat id>) so that Back works on phones, where the
// list and the chat are separate screens.
import { announce, avatar, h } from '../dom.js';
import { clip, iso } from '../format.js';
import { icon } from '../icons.js';
import { emit, nameOf, on, setOpenChat, state } from '../store.js';
import { retryNow } from '../sync.js';
import { mountChat } from './chat.js';
import { mountList } from './list.js';
import { openPeople } from './people.js';
import { openSettings } from './settings.js';
import { toast } from './dialogs.js';

const ROUTE_RE = /^#\/c\/([0-9a-fA-F-]{36})$/;

export function mountShell(root, { onLogout }) {
  const ui = shellDom();
  root.replaceChildren(ui.shell);
  const people = () => openPeople({ onOpenChat: router.openChat });
  const router = chatRouter(ui, { onAddFriend: people });
  const list = mountList(ui.listHost, { onOpen: router.openAt, onAddFriend: people });
  const banner = connectionBanner(ui);
  ui.peopleBtn.addEventListener('click', people);
  ui.settingsBtn.addEventListener('click', () => openSettings({ onLogout }));

  const offs = [
    on('me', () => renderMe(ui)),
    on('requests', () => renderRequests(ui)),
    on('conn', banner.render),
    on('chats', router.onChats),
    on('accepted', (user) => {
      toast(['', h('bdi', null, nameOf(user)), ' accepted your friend request.']);
    }),
    on('incoming', ({ chat, msg }) => {
      if (chat.id !== state.openChatId) announce(`New message from ${iso(nameOf(chat.peer))}: ${iso(clip(msg.text, 100))}`);
    }),
  ];
  window.addEventListener('hashchange', router.route);
  const onGlobalKey = (e) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName) || document.querySelector('dialog[open]');
    if (e.key === '/' && !typing) {
      e.preventDefault();
      list.focusSearch();
    }
  };
  document.addEventListener('keydown', onGlobalKey);
  renderMe(ui);
  renderRequests(ui);
  router.route();
  if (!ui.main.firstChild) renderWelcome(ui.main, people);
  return {
    focusStart() {
      if (window.matchMedia('(hover: none)').matches) return; // no keyboard popping up
      if (router.current()) router.current().focusInput();
      else list.focusSearch();
    },
    destroy() {
      offs.forEach((f) => f());
      window.removeEventListener('hashchange', router.route);
      document.removeEventListener('keydown', onGlobalKey);
      banner.stop();
      router.destroy();
      list.destroy();
    },
  };
}

function shellDom() {
  const banner = h('div', { class: 'banner', role: 'status', 'aria-live': 'polite', hidden: true });
  const meAvatar = h('span', { class: 'me-avatar' });
  const meName = h('span', { class: 'me-name' });
  const meUser = h('span', { class: 'me-user' });
  const reqBadge = h('span', { class: 'badge badge-dot', hidden: true, 'aria-hidden': 'true' });
  const peopleBtn = h(
    'button',
    { type: 'button', class: 'icon-btn', 'aria-label': 'Friends and requests', title: 'Friends and requests' },
    icon('userPlus'),
    reqBadge,
  );
  const settingsBtn = h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Settings', title: 'Settings' }, icon('settings'));
  const sideHead = h(
    'header',
    { class: 'side-head' },
    h('div', { class: 'me' }, meAvatar, h('div', { class: 'me-text' }, meName, meUser)),
    peopleBtn,
    settingsBtn,
  );
  const listHost = h('nav', { class: 'list-host', 'aria-label': 'Conversations' });
  const sidebar = h('aside', { class: 'sidebar' }, h('h1', { class: 'sr-only' }, 'duet'), sideHead, listHost);
  const main = h('main', { class: 'main' });
  const shell = h('div', { class: 'shell' }, banner, sidebar, main);
  return { shell, banner, main, listHost, meAvatar, meName, meUser, reqBadge, peopleBtn, settingsBtn };
}

function renderMe({ meAvatar, meName, meUser }) {
  if (!state.me) return;
  meAvatar.replaceChildren(avatar(state.me));
  meName.textContent = nameOf(state.me);
  meUser.textContent = `@${state.me.username}`;
}

function renderRequests({ reqBadge, peopleBtn }) {
  const n = state.requests.incoming.length;
  reqBadge.hidden = n === 0;
  reqBadge.textContent = n ? String(n) : '';
  peopleBtn.setAttribute('aria-label', n ? `Friends and requests, ${n} new ${n === 1 ? 'request' : 'requests'}` : 'Friends and requests');
}

function renderWelcome(main, onAddFriend) {
  main.replaceChildren(
    h(
      'div',
      { class: 'welcome' },
      h('div', { class: 'empty-art big', 'aria-hidden': 'true' }, icon('chat', { size: 44 })),
      h('h2', null, state.me ? ['Hi, ', h('bdi', null, nameOf(state.me))] : 'Welcome'),
      h('p', { class: 'muted' }, 'Pick a conversation on the left, or add a friend by their username.'),
      h('button', { type: 'button', class: 'btn btn-primary', onclick: onAddFriend }, icon('userPlus', { size: 18 }), 'Add a friend'),
    ),
  );
}

// The open chat, following the hash: openChat() pushes a history entry
// (Back returns to the list), back() leaves the chat.
function chatRouter({ shell, main, listHost }, { onAddFriend }) {
  let current = null;
  let pushed = 0; // chats we opened with a new history entry (Back returns to the list)
  let opening = false;

  function setOpen(id) {
    if (id && !state.chats.has(id)) id = null;
    if (opening || (current && current.chat.id === id)) return;
    if (!current && !id && state.openChatId === null && main.firstChild) return;
    opening = true;
    try {
      current?.destroy();
      current = null;
      setOpenChat(id);
      if (id) {
        current = mountChat(main, state.chats.get(id), { onBack: back });
        shell.classList.add('chat-open');
      } else {
        renderWelcome(main, onAddFriend);
        shell.classList.remove('chat-open');
      }
    } finally {
      opening = false;
    }
    emit('open');
  }

  function route() {
    const m = ROUTE_RE.exec(location.hash);
    const id = m ? m[1].toLowerCase() : null;
    if (id && !state.chatsLoaded) return; // after the list loads
    setOpen(id);
  }

  function openChat(id) {
    const hash = `#/c/${id}`;
    if (location.hash !== hash) {
      pushed++;
      location.hash = hash; // its hashchange finds the chat open already
    }
    setOpen(id);
    // Straight to typing; not on touch screens, where that pops a keyboard up.
    if (!window.matchMedia('(hover: none)').matches) current?.focusInput();
  }

  function back() {
    const fromId = state.openChatId;
    if (pushed > 0) {
      pushed--;
      history.back();
    } else {
      history.replaceState(null, '', location.pathname + location.search);
      setOpen(null);
    }
    setTimeout(() => listHost.querySelector(`[data-chat-id="${fromId}"]`)?.focus(), 50);
  }

  // The list changed: open the chat the hash names once it is there, or
  // leave one that went (the friend was removed).
  function onChats() {
    if (opening) return;
    if (!state.openChatId) {
      const m = ROUTE_RE.exec(location.hash);
      if (m && state.chats.has(m[1].toLowerCase())) route();
    } else if (!state.chats.has(state.openChatId)) {
      route();
    }
  }

  return {
    route,
    openChat,
    onChats,
    // A search result opens its chat at the message (issue 17).
    openAt(id, seq) {
      openChat(id);
      if (seq) current?.jumpTo(seq);
    },
    current: () => current,
    destroy: () => current?.destroy(),
  };
}

// The connection banner: shown after a moment offline (a blink of a
// reconnect is not worth one), with a countdown to the next try.
function connectionBanner({ banner, shell }) {
  let bannerTimer = 0;
  let countdown = 0;
  function show() {
    const c = state.conn;
    bannerTimer = 0;
    banner.hidden = false;
    shell.classList.add('has-banner');
    if (c.state === 'waiting') {
      countdown = drawOffline(banner, c);
    } else {
      banner.className = 'banner banner-connecting';
      banner.replaceChildren(
        h('span', { class: 'spinner small', 'aria-hidden': 'true' }),
        h('span', { class: 'banner-text' }, 'Connecting…'),
      );
    }
  }
  function render() {
    clearInterval(countdown);
    if (['online', 'stopped', 'idle'].includes(state.conn.state)) {
      clearTimeout(bannerTimer);
      bannerTimer = 0;
      banner.hidden = true;
      shell.classList.remove('has-banner');
      return;
    }
    if (banner.hidden && !bannerTimer) bannerTimer = setTimeout(show, state.conn.attempt > 1 ? 0 : 1200);
    else if (!banner.hidden) show();
  }
  return {
    render,
    stop() {
      clearTimeout(bannerTimer);
      clearInterval(countdown);
    },
  };
}

// "Offline", a Retry button and the seconds to the next try; returns the
// countdown's interval.
function drawOffline(banner, c) {
  const when = h('span', { class: 'banner-when' });
  const draw = () => {
    const s = Math.max(0, Math.ceil((c.retryAt - Date.now()) / 1000));
    when.textContent = s > 0 ? `Retrying in ${s} s.` : 'Retrying…';
  };
  banner.className = 'banner banner-offline';
  banner.replaceChildren(
    h('span', { class: 'banner-dot', 'aria-hidden': 'true' }),
    h(
      'span',
      { class: 'banner-text' },
      navigator.onLine === false ? 'You are offline.' : 'Offline: the server cannot be reached.',
      ' ',
      h('span', { class: 'banner-sub' }, when, ' Messages you write are sent when you are back.'),
    ),
    h('button', { type: 'button', class: 'banner-btn', onclick: retryNow }, 'Retry now'),
  );
  draw();
  return setInterval(draw, 1000);
}
