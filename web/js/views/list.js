// list.js - the conversation list: newest activity first, presence, last
// message preview with ticks, unread badges, a typing hint, and a search
// box that filters it.
import { avatar, h } from '../dom.js';
import { listTime, plural, presenceShort } from '../format.js';
import { icon } from '../icons.js';
import { plain } from '../markup.js';
import { activity, isMuted, nameOf, on, outboxFor, peerOnline, shownPeer, sortedChats, state } from '../store.js';
import { mountSearchResults } from './search.js';
import { mediaLabel } from '../media/labels.js';

function fold(s) {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

export function tickFor(chat, m) {
  if (m.from !== state.me?.id || m.deleted_at) return null;
  if (m.seen_at || (chat.peer_read_seq && m.seq <= chat.peer_read_seq)) return 'seen';
  if (m.received_at) return 'delivered';
  return 'sent';
}

export function tickIcon(status) {
  const labels = { pending: 'Sending', sent: 'Sent', delivered: 'Delivered', seen: 'Seen', failed: 'Not sent' };
  const name = { pending: 'clock', sent: 'check', delivered: 'checks', seen: 'checks', failed: 'alert' }[status];
  return h(
    'span',
    { class: ['tick', `tick-${status}`], role: 'img', 'aria-label': labels[status], title: labels[status] },
    icon(name, { size: status === 'pending' || status === 'failed' ? 14 : 16 }),
  );
}

function preview(chat) {
  const out = [];
  const me = state.me?.id;
  if (chat.typingUntil > Date.now() && !chat.blocked_by_me && chat.friends) {
    return [h('span', { class: 'typing-hint' }, 'typing…')];
  }
  const queued = outboxFor(chat.id);
  if (queued.length) {
    const last = queued[queued.length - 1];
    const failed = queued.some((x) => x.failed);
    out.push(tickIcon(failed ? 'failed' : 'pending'), h('span', { class: 'pv-text' }, mediaLabel(last)));
    return out;
  }
  const m = chat.last_message;
  if (!m) return [h('span', { class: 'pv-text muted' }, chat.blocked_by_me ? 'Blocked' : 'No messages yet. Say hi!')];
  if (m.from === me) {
    const t = tickFor(chat, m);
    if (t) out.push(tickIcon(t));
  }
  if (m.deleted_at) {
    out.push(h('span', { class: 'pv-text deleted' }, m.from === me ? 'You deleted this message' : 'This message was deleted'));
  } else {
    out.push(
      h(
        'span',
        { class: 'pv-text' },
        m.from === me ? h('span', { class: 'pv-you' }, 'You: ') : null,
        plain(mediaLabel(m)).replace(/\s+/g, ' '),
      ),
    );
  }
  return out;
}

// One row of the list: avatar, name, flags, time, preview, unread, presence.
function chatItem(chat, onOpen) {
  const active = chat.id === state.openChatId;
  const name = nameOf(chat.peer);
  const blocked = chat.blocked_by_me;
  const online = peerOnline(chat) && !blocked;
  const seen = blocked ? '' : presenceShort(shownPeer(chat));
  const label = [name, seen, chat.unread ? plural(chat.unread, 'unread message', 'unread messages') : ''].filter(Boolean).join(', ');
  const btn = h(
    'button',
    {
      type: 'button',
      class: ['chat-item', active && 'active', chat.unread && 'has-unread', chat.pinned && 'pinned', isMuted(chat) && 'muted'],
      dataset: { chatId: chat.id, username: chat.peer.username },
      'aria-current': active ? 'true' : undefined,
      'aria-label': label,
      onclick: () => onOpen(chat.id),
    },
    avatar(chat.peer, { online }),
    h(
      'span',
      { class: 'ci-body' },
      h(
        'span',
        { class: 'ci-top' },
        h('span', { class: 'ci-name' }, name),
        blocked ? h('span', { class: 'ci-flag' }, 'Blocked') : null,
        chat.pinned ? h('span', { class: 'ci-pin', title: 'Pinned', 'aria-label': 'Pinned' }, icon('pin', { size: 14 })) : null,
        isMuted(chat) ? h('span', { class: 'ci-muted', title: 'Muted', 'aria-label': 'Muted' }, icon('bell', { size: 14 })) : null,
        h('time', { class: 'ci-time' }, listTime(activity(chat))),
      ),
      h(
        'span',
        { class: 'ci-bottom' },
        h('span', { class: 'ci-preview' }, preview(chat)),
        chat.unread
          ? h(
              'span',
              { class: ['badge', isMuted(chat) && 'badge-muted'], 'aria-hidden': 'true' },
              chat.unread > 999 ? '999+' : String(chat.unread),
            )
          : null,
      ),
      seen ? h('span', { class: ['ci-presence', online && 'online'] }, seen) : null,
    ),
  );
  return h('li', null, btn);
}

// What an empty list says: nothing matches, all archived, or no friends yet.
function emptyContent(query, nArchived, onAddFriend) {
  return query
    ? [h('p', null, `No conversations match “${query}”.`)]
    : nArchived
      ? [h('p', { class: 'muted' }, 'Every chat is archived. A new message brings its chat back here.')]
      : [
          h('div', { class: 'empty-art', 'aria-hidden': 'true' }, icon('users', { size: 40 })),
          h('p', { class: 'empty-title' }, 'No conversations yet'),
          h('p', { class: 'muted' }, 'Add a friend by their username to start chatting.'),
          h('button', { type: 'button', class: 'btn btn-primary', onclick: onAddFriend }, icon('userPlus', { size: 18 }), 'Add a friend'),
        ];
}

// Arrow keys, Home and End move between the rows.
function moveFocus(list, e) {
  if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp' && e.key !== 'Home' && e.key !== 'End') return;
  const buttons = [...list.querySelectorAll('.chat-item')];
  const i = buttons.indexOf(document.activeElement);
  if (i < 0) return;
  e.preventDefault();
  const j =
    e.key === 'Home'
      ? 0
      : e.key === 'End'
        ? buttons.length - 1
        : e.key === 'ArrowDown'
          ? Math.min(buttons.length - 1, i + 1)
          : Math.max(0, i - 1);
  buttons[j].focus();
}

function searchInput() {
  return h('input', {
    type: 'search',
    class: 'search-input',
    placeholder: 'Search',
    'aria-label': 'Search conversations',
    autocomplete: 'off',
    spellcheck: false,
  });
}

// The row that enters the archived chats' view, or leaves it.
function drawArchivedRow(row, nArchived, showArchived) {
  row.replaceChildren(
    icon(showArchived ? 'back' : 'archive', { size: 18 }),
    h('span', null, showArchived ? 'Back to chats' : `Archived (${nArchived})`),
  );
  row.setAttribute('aria-expanded', String(showArchived));
}

// The list's parts, in el: the search box, the archived row, the list and
// what an empty list says.
function mountParts(el) {
  const search = searchInput();
  const list = h('ul', { class: 'chat-list', 'aria-label': 'Conversations' });
  const empty = h('div', { class: 'list-empty', hidden: true });
  const archivedRow = h('button', { type: 'button', class: 'archived-row', hidden: true });
  el.append(
    h('div', { class: 'search' }, h('span', { class: 'search-icon', 'aria-hidden': 'true' }, icon('search', { size: 18 })), search),
    archivedRow,
    list,
    empty,
  );
  return { search, list, empty, archivedRow };
}

// The chats a query shows; a search looks through every chat, archived
// ones too.
function shownChats(all, q, showArchived) {
  return all.filter((c) => (q ? fold(nameOf(c.peer)).includes(q) || fold(c.peer.username).includes(q) : c.archived === showArchived));
}

export function mountList(el, { onOpen, onAddFriend }) {
  const { search, list, empty, archivedRow } = mountParts(el);
  // issue 17: the archived chats' view, entered from a row above the list.
  let showArchived = false;
  archivedRow.addEventListener('click', () => {
    showArchived = !showArchived;
    schedule();
  });
  // Messages that match the search box, under the conversations.
  const results = mountSearchResults(el, { onPick: (id, seq) => onOpen(id, seq), label: 'Messages found' });

  let frame = 0;
  // An Enter in Search pressed before the list loaded (issue 12).
  let openAfterLoad = false;
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(render);
  };

  function render() {
    frame = 0;
    const q = fold(search.value.trim());
    const focusedId = document.activeElement?.closest?.('.chat-item')?.dataset.chatId;
    const all = sortedChats();
    const nArchived = all.filter((c) => c.archived).length;
    if (!nArchived) showArchived = false;
    archivedRow.hidden = !nArchived || !!q;
    drawArchivedRow(archivedRow, nArchived, showArchived);
    const chats = shownChats(all, q, showArchived);
    const items = chats.map((chat) => chatItem(chat, onOpen));
    list.replaceChildren(...items);
    if (focusedId) list.querySelector(`[data-chat-id="${CSS.escape(focusedId)}"]`)?.focus();
    empty.hidden = chats.length > 0 || !state.chatsLoaded || (showArchived && !q);
    list.hidden = !empty.hidden;
    if (!empty.hidden) {
      empty.replaceChildren(...emptyContent(q && search.value.trim(), nArchived, onAddFriend));
    }
    if (openAfterLoad && state.chatsLoaded) {
      openAfterLoad = false;
      if (document.activeElement === search) openFirst();
    }
  }

  function openFirst() {
    const first = list.querySelector('.chat-item');
    if (first) onOpen(first.dataset.chatId);
  }

  list.addEventListener('keydown', (e) => moveFocus(list, e));
  search.addEventListener('input', () => {
    openAfterLoad = false;
    schedule();
    results.set(search.value);
  });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && search.value) {
      search.value = '';
      results.set('');
      schedule();
    } else if (e.key === 'ArrowDown') {
      e.preventDefault();
      list.querySelector('.chat-item')?.focus();
    } else if (e.key === 'Enter') {
      // The key opens the chat and moves focus to its composer: without
      // this, the same Enter would also land there as a new line.
      e.preventDefault();
      // The filter renders on the next frame: a quick Enter must not open
      // the first chat of the list before it was filtered.
      if (frame) {
        cancelAnimationFrame(frame);
        render();
      }
      // Before the list has loaded, the Enter waits for it: a user who
      // types a name at once expects that chat, not nothing.
      openAfterLoad = !state.chatsLoaded;
      if (!openAfterLoad) openFirst();
    }
  });
  const offs = [
    on('chats', schedule),
    on('typing', schedule),
    on('outbox', schedule),
    on('open', schedule),
    on('me', schedule),
    on('conn', schedule),
  ];
  const timer = setInterval(schedule, 30000);
  render();
  return {
    focusSearch: () => search.focus(),
    destroy() {
      offs.forEach((f) => f());
      results.destroy();
      clearInterval(timer);
      cancelAnimationFrame(frame);
    },
  };
}
