// chat.js - the open conversation: header (presence, typing, actions),
// the message list, and the composer (Enter sends, Shift+Enter is a new
// line, the length limit shows as it nears).
import { api, errorText } from '../api.js';
import { avatar, h } from '../dom.js';
import { presence } from '../format.js';
import { icon } from '../icons.js';
import { loadDraft, onDraftChange, saveDraft } from '../drafts.js';
import { applyChatState, emit, isMuted, nameOf, on, peerOnline, shownPeer, state } from '../store.js';
import { refreshAll, sendTyping, sendText } from '../sync.js';
import { confirmDialog, openMenu, toast } from './dialogs.js';
import { showMessageInfo } from './info.js';
import { emojiButton } from './emoji.js';
import { MessagesView } from './messages.js';
import { composerModes } from './reply.js';
import { mountSearchResults } from './search.js';
import { mountAttach } from './attach.js';
import { mountRecorder } from './record.js';

const TYPING_EVERY_MS = 2000;
const SERVER_TYPING_GAP_MS = 1100; // the server forwards one typing a second

function charCount(s) {
  let n = 0;
  for (const _ of s) n++; // code points, as the server counts
  return n;
}

export function mountChat(el, chat, { onBack }) {
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
    h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Search in this conversation', onclick: () => toggleSearch() }, icon('search')),
    menuBtn,
  );
  // issue 17: search within this chat, in a bar under the header.
  const searchInput = h('input', {
    type: 'search',
    class: 'search-input chat-search-input',
    placeholder: 'Search this conversation',
    'aria-label': 'Search this conversation',
    autocomplete: 'off',
    spellcheck: false,
  });
  const searchBar = h('div', { class: 'chat-search', hidden: true }, searchInput);

  const body = h('div', { class: 'chat-body' });
  const input = h('textarea', {
    id: 'composer-input',
    class: 'composer-input',
    rows: 1,
    placeholder: 'Message',
    'aria-label': `Message`,
    'aria-describedby': 'composer-count',
    enterKeyHint: 'send',
    spellcheck: true,
  });
  const count = h('span', { id: 'composer-count', class: 'composer-count', hidden: true });
  const sendBtn = h('button', { type: 'submit', class: 'send-btn', 'aria-label': 'Send' }, icon('send', { size: 20 }));
  const composer = h(
    'form',
    { class: 'composer', 'aria-label': 'Write a message' },
    h('div', { class: 'composer-box' }, input, count),
    sendBtn,
  );
  const blockedBar = h('div', { class: 'blocked-bar', hidden: true, role: 'status' });
  // Reply and edit (issue 17): a bar above the composer.
  const modes = composerModes(chat, input, { onChange: () => (autosize(), updateCount()) });
  el.replaceChildren(
    h(
      'section',
      { class: 'chat', 'aria-label': `Conversation with ${nameOf(chat.peer)}` },
      header,
      searchBar,
      body,
      blockedBar,
      modes.bar,
      composer,
    ),
  );
  const emoji = emojiButton(input, composer);
  // After the text box: Shift+Tab from it still reaches the message list.
  composer.insertBefore(emoji.button, sendBtn);

  // Media (issue 15): the attach button and tray, the voice recorder.
  const section = composer.parentElement;
  const attach = mountAttach({ chat, section, composer, before: composer, onChange: () => updateCount() });
  const recorder = mountRecorder({ chat, composer, before: sendBtn });

  const view = new MessagesView(body, chat, {
    onInfo: (seq) => showMessageInfo(chat, seq),
    onEscape: () => input.focus(),
    onReply: (m) => modes.reply(m),
    onEdit: (m) => modes.edit(m),
  });
  const found = mountSearchResults(searchBar, { chatId: chat.id, onPick: (_, seq) => view.jumpTo(seq) });
  function toggleSearch(show = searchBar.hidden) {
    searchBar.hidden = !show;
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
      toggleSearch(false);
    } else if (e.key === 'ArrowDown') {
      e.preventDefault();
      found.first()?.focus();
    }
  });

  // issue 17: pin, archive, mute (the user's own; synced by chat_state).
  async function setState(body, done) {
    try {
      applyChatState(chat, await api.setChatState(chat.id, body));
      emit('chats');
      if (done) toast(done);
    } catch (e) {
      toast(e.code === 'pin_limit' ? 'You can pin up to 3 chats.' : errorText(e), { error: true });
    }
  }
  function muteMenu() {
    openMenu(
      menuBtn,
      [
        { label: 'For 8 hours', onSelect: () => setState({ mute: '8h' }, 'Muted for 8 hours.') },
        { label: 'For 1 week', onSelect: () => setState({ mute: '1w' }, 'Muted for a week.') },
        { label: 'Always', onSelect: () => setState({ mute: 'always' }, 'Muted.') },
      ],
      { label: 'Mute notifications' },
    );
  }

  function renderHeader() {
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
    composer.hidden = blocked;
    blockedBar.hidden = !blocked;
    if (chat.blocked_by_me) {
      blockedBar.replaceChildren(
        icon('block', { size: 18 }),
        h('span', null, 'You blocked ', h('bdi', null, nameOf(chat.peer)), '. Unblock them to send messages.'),
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => setBlocked(false) }, 'Unblock'),
      );
    } else if (!chat.friends) {
      blockedBar.replaceChildren(
        icon('userMinus', { size: 18 }),
        h('span', null, 'You are no longer friends with ', h('bdi', null, nameOf(chat.peer)), '.'),
        h('button', { type: 'button', class: 'btn btn-small', onclick: askAgain }, 'Send friend request'),
      );
    }
  }

  // A former friend: ask again from the conversation itself.
  async function askAgain() {
    const who = () => h('bdi', null, nameOf(chat.peer));
    try {
      const r = await api.sendRequest(chat.peer.username);
      toast(r.status === 'friends' ? ['You and ', who(), ' are friends again.'] : ['Request sent to ', who(), '.']);
      await refreshAll();
    } catch (e) {
      toast(errorText(e), { error: true });
    }
  }

  async function setBlocked(block) {
    // The name isolated (<bdi>), a fresh node for each place it shows.
    const who = () => h('bdi', null, nameOf(chat.peer));
    if (
      block &&
      !(await confirmDialog({
        title: ['Block ', who(), '?'],
        confirm: 'Block',
        danger: true,
        text: [
          who(),
          ' won’t be told. Their messages won’t reach you, not even after you unblock them, and they won’t see when you are online. Your conversation is kept, and you can unblock them any time.',
        ],
      }))
    )
      return;
    try {
      if (block) await api.block(chat.peer.username);
      else await api.unblock(chat.peer.username);
      toast([who(), block ? ' is blocked.' : ' is unblocked.']);
      await refreshAll();
    } catch (e) {
      toast(errorText(e), { error: true });
    }
  }

  async function removeFriend() {
    // The name isolated (<bdi>), a fresh node for each place it shows.
    const who = () => h('bdi', null, nameOf(chat.peer));
    if (
      !(await confirmDialog({
        title: ['Remove ', who(), '?'],
        confirm: 'Remove',
        danger: true,
        text: [
          who(),
          ' will no longer be your friend. The conversation stays in your list, read-only; to chat again, one of you sends a new friend request.',
        ],
      }))
    )
      return;
    try {
      await api.removeFriend(chat.peer.username);
      toast([who(), ' was removed from your friends.']);
      await refreshAll();
    } catch (e) {
      toast(errorText(e), { error: true });
    }
  }

  menuBtn.addEventListener('click', () => {
    openMenu(
      menuBtn,
      [
        chat.blocked_by_me
          ? { label: 'Unblock', icon: 'block', onSelect: () => setBlocked(false) }
          : { label: 'Block', icon: 'block', danger: true, onSelect: () => setBlocked(true) },
        chat.friends ? { label: 'Remove friend', icon: 'userMinus', danger: true, onSelect: removeFriend } : null,
        // issue 17: the user's own organisation of the chat
        { label: chat.pinned ? 'Unpin' : 'Pin', icon: 'pin', onSelect: () => setState({ pinned: !chat.pinned }) },
        {
          label: chat.archived ? 'Unarchive' : 'Archive',
          icon: 'archive',
          onSelect: () => setState({ archived: !chat.archived }, chat.archived ? 'Chat unarchived.' : 'Chat archived.'),
        },
        isMuted(chat)
          ? { label: 'Unmute', icon: 'bell', onSelect: () => setState({ mute: 'off' }, 'Unmuted.') }
          : { label: 'Mute…', icon: 'bell', onSelect: muteMenu },
      ].filter(Boolean),
      { label: 'Conversation options' },
    );
  });

  // ---- composer ----
  input.value = loadDraft(state.me.id, chat.id);
  let lastTypingSent = 0;
  let nextTypingAt = 0;
  let typingTimer = 0;

  // While the user types: one typing event every TYPING_EVERY_MS, and a
  // trailing one when a keystroke falls inside the gap.
  function noteTyping() {
    if (!input.value.trim()) return;
    const wait = nextTypingAt - Date.now();
    if (wait <= 0) {
      clearTimeout(typingTimer);
      typingTimer = 0;
      lastTypingSent = Date.now();
      nextTypingAt = lastTypingSent + TYPING_EVERY_MS;
      sendTyping(chat);
    } else if (!typingTimer) {
      typingTimer = setTimeout(() => {
        typingTimer = 0;
        if (document.activeElement === input) noteTyping();
      }, wait);
    }
  }

  function autosize() {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 180)}px`;
  }

  function updateCount() {
    const max = state.limits.max_message_chars;
    const n = charCount(input.value);
    const left = max - n;
    const near = left <= Math.max(10, Math.min(300, Math.round(max * 0.15)));
    count.hidden = !near;
    count.textContent = left >= 0 ? `${left} left` : `${-left} too many`;
    count.classList.toggle('over', left < 0);
    sendBtn.disabled = left < 0;
    composer.classList.toggle('has-text', input.value.trim().length > 0 || attach.count() > 0);
  }

  function submit() {
    const text = input.value;
    // The tray first (each attachment with its caption), then the text.
    if (attach.count()) {
      view.toLatest();
      attach.send();
    }
    if (!text.trim()) return;
    if (charCount(text) > state.limits.max_message_chars) {
      toast(`Messages can be at most ${state.limits.max_message_chars} characters.`, { error: true });
      return;
    }
    if (modes.intercept(text)) return; // Enter saved an edit
    input.value = '';
    // The peer stops showing "typing" when the message arrives; typing on
    // shows it again as soon as the server lets it through.
    clearTimeout(typingTimer);
    typingTimer = 0;
    nextTypingAt = lastTypingSent + SERVER_TYPING_GAP_MS;
    saveDraft(state.me.id, chat.id, '');
    autosize();
    updateCount();
    view.toLatest();
    sendText(chat, text, { reply_to: modes.take() });
  }

  composer.addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
    input.focus();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      submit();
    } else if (e.key === 'Escape' && modes.escape()) {
      e.preventDefault(); // only the reply or edit ends
    } else if (e.key === 'Escape' && state.openChatId) {
      onBack(); // on every screen size: back to the list, focus on this chat
    }
  });
  input.addEventListener('input', () => {
    saveDraft(state.me.id, chat.id, input.value);
    autosize();
    updateCount();
    noteTyping();
  });

  // Another tab edited this draft: follow it unless we are typing here.
  const offDraft = onDraftChange(state.me.id, chat.id, (text) => {
    if (document.activeElement === input && document.hasFocus()) return;
    input.value = text;
    autosize();
    updateCount();
  });

  renderHeader();
  autosize();
  updateCount();
  const tick = setInterval(renderHeader, 30000);
  const offs = [
    on('typing', (id) => id === chat.id && renderHeader()),
    on('peer', (id) => id === chat.id && renderHeader()),
    on('chats', renderHeader),
    on('me', updateCount),
    on('conn', renderHeader),
  ];
  return {
    chat,
    focusInput: () => (composer.hidden ? view.scroller.focus() : input.focus()),
    jumpTo: (seq) => view.jumpTo(seq),
    destroy() {
      found.destroy();
      emoji.close();
      clearInterval(tick);
      clearTimeout(typingTimer);
      offDraft();
      attach.destroy();
      recorder.destroy();
      offs.forEach((f) => f());
      view.destroy();
    },
  };
}
