// chat.js - the open conversation: header (presence, typing, actions),
// the message list, and the composer (composer.js).
import { avatar, h } from '../dom.js';
import { presence } from '../format.js';
import { icon } from '../icons.js';
import { nameOf, on, peerOnline, shownPeer } from '../store.js';
import { showMessageInfo } from './info.js';
import { emojiButton } from './emoji.js';
import { MessagesView } from './messages.js';
import { composerModes } from './reply.js';
import { mountSearchResults } from './search.js';
import { mountAttach } from './attach.js';
import { mountRecorder } from './record.js';
import { chatActions } from './chat-actions.js';
import { composerBox, mountComposer } from './composer.js';

export function mountChat(el, chat, { onBack }) {
  const head = chatHeader({ onBack, onSearch: () => search.toggle() });
  const box = composerBox();
  const body = h('div', { class: 'chat-body' });
  const blockedBar = h('div', { class: 'blocked-bar', hidden: true, role: 'status' });
  // issue 17: search within this chat, in a bar under the header.
  const searchBar = chatSearchBar();
  // Reply and edit (issue 17): a bar above the composer.
  const modes = composerModes(chat, box.input, { onChange: () => (composer.autosize(), composer.updateCount()) });
  const section = h(
    'section',
    { class: 'chat', 'aria-label': `Conversation with ${nameOf(chat.peer)}` },
    head.header,
    searchBar.bar,
    body,
    blockedBar,
    modes.bar,
    box.form,
  );
  el.replaceChildren(section);
  const emoji = emojiButton(box.input, box.form);
  // After the text box: Shift+Tab from it still reaches the message list.
  box.form.insertBefore(emoji.button, box.sendBtn);

  // Media (issue 15): the attach button and tray, the voice recorder.
  const attach = mountAttach({ chat, section, composer: box.form, before: box.form, onChange: () => composer.updateCount() });
  const recorder = mountRecorder({ chat, composer: box.form, before: box.sendBtn });

  const view = new MessagesView(body, chat, {
    onInfo: (seq) => showMessageInfo(chat, seq),
    onEscape: () => box.input.focus(),
    onReply: (m) => modes.reply(m),
    onEdit: (m) => modes.edit(m),
  });
  const search = chatSearch(searchBar, { chat, view, input: box.input });
  const actions = chatActions(chat, head.menuBtn);
  const composer = mountComposer(chat, box, { view, modes, attach, onBack });

  const renderHeader = () => renderChatHeader(chat, { ...head, form: box.form, blockedBar, actions });
  renderHeader();
  composer.autosize();
  composer.updateCount();
  const tick = setInterval(renderHeader, 30000);
  const offs = [
    on('typing', (id) => id === chat.id && renderHeader()),
    on('peer', (id) => id === chat.id && renderHeader()),
    on('chats', renderHeader),
    on('me', composer.updateCount),
    on('conn', renderHeader),
  ];
  return {
    chat,
    focusInput: () => (box.form.hidden ? view.scroller.focus() : box.input.focus()),
    jumpTo: (seq) => view.jumpTo(seq),
    destroy() {
      search.destroy();
      emoji.close();
      clearInterval(tick);
      composer.destroy();
      attach.destroy();
      recorder.destroy();
      offs.forEach((f) => f());
      view.destroy();
    },
  };
}

function chatHeader({ onBack, onSearch }) {
  const name = h('h2', { class: 'ch-name' });
  const sub = h('p', { class: 'ch-sub', 'aria-live': 'polite' });
  const av = h('span', { class: 'ch-avatar' });
  const menuBtn = h(
    'button',
    { type: 'button', class: 'icon-btn', 'aria-label': 'Conversation options', 'aria-haspopup': 'menu', 'aria-expanded': 'false' },
    icon('more'),
  );
  const header = h(
    'header',
    { class: 'chat-head' },
    h('button', { type: 'button', class: 'icon-btn back', 'aria-label': 'Back to conversations', onclick: onBack }, icon('back')),
    av,
    h('div', { class: 'ch-title' }, name, sub),
    h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Search in this conversation', onclick: onSearch }, icon('search')),
    menuBtn,
  );
  return { header, name, sub, av, menuBtn };
}

function chatSearchBar() {
  const input = h('input', {
    type: 'search',
    class: 'search-input chat-search-input',
    placeholder: 'Search this conversation',
    'aria-label': 'Search this conversation',
    autocomplete: 'off',
    spellcheck: false,
  });
  return { input, bar: h('div', { class: 'chat-search', hidden: true }, input) };
}

// The search bar's results (search.js) and keys; toggle() shows or hides it.
function chatSearch({ bar, input: searchInput }, { chat, view, input }) {
  const found = mountSearchResults(bar, { chatId: chat.id, onPick: (_, seq) => view.jumpTo(seq) });
  function toggle(show = bar.hidden) {
    bar.hidden = !show;
    if (show) searchInput.focus();
    else {
      searchInput.value = '';
      found.set('');
      input.focus();
    }
  }
  searchInput.addEventListener('input', () => found.set(searchInput.value));
  searchInput.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      toggle(false);
    } else if (e.key === 'ArrowDown') {
      e.preventDefault();
      found.first()?.focus();
    }
  });
  return { toggle, destroy: () => found.destroy() };
}

function renderChatHeader(chat, { name, sub, av, form, blockedBar, actions }) {
  // Whether the peer blocks us is never known here (the server does not
  // say): only our own block and an ended friendship make it read-only.
  const blocked = chat.blocked_by_me || !chat.friends;
  name.textContent = nameOf(chat.peer);
  const online = peerOnline(chat) && !blocked;
  av.replaceChildren(avatar(chat.peer, { online }));
  const typing = chat.typingUntil > Date.now() && !blocked;
  sub.classList.toggle('typing', typing);
  sub.classList.toggle('online', !typing && online);
  sub.textContent = typing ? 'typing…' : blocked ? `@${chat.peer.username}` : presence(shownPeer(chat)) || `@${chat.peer.username}`;
  form.hidden = blocked;
  blockedBar.hidden = !blocked;
  if (chat.blocked_by_me) {
    blockedBar.replaceChildren(
      icon('block', { size: 18 }),
      h('span', null, 'You blocked ', h('bdi', null, nameOf(chat.peer)), '. Unblock them to send messages.'),
      h('button', { type: 'button', class: 'btn btn-small', onclick: () => actions.setBlocked(false) }, 'Unblock'),
    );
  } else if (!chat.friends) {
    blockedBar.replaceChildren(
      icon('userMinus', { size: 18 }),
      h('span', null, 'You are no longer friends with ', h('bdi', null, nameOf(chat.peer)), '.'),
      h('button', { type: 'button', class: 'btn btn-small', onclick: actions.askAgain }, 'Send friend request'),
    );
  }
}
