// chat-actions.js - what the open chat's header offers (chat.js): block
// and unblock, remove a friend or ask again, and the user's own pin,
// archive and mute (issue 17, synced by chat_state).
import { api, errorText } from '../api.js';
import { h } from '../dom.js';
import { applyChatState, emit, isMuted, nameOf } from '../store.js';
import { refreshAll } from '../sync.js';
import { confirmDialog, openMenu, toast } from './dialogs.js';

// issue 17: pin, archive, mute (the user's own; synced by chat_state).
async function setState(chat, body, done) {
  try {
    applyChatState(chat, await api.setChatState(chat.id, body));
    emit('chats');
    if (done) toast(done);
  } catch (e) {
    toast(e.code === 'pin_limit' ? 'You can pin up to 3 chats.' : errorText(e), { error: true });
  }
}

function muteMenu(chat, menuBtn) {
  openMenu(
    menuBtn,
    [
      { label: 'For 8 hours', onSelect: () => setState(chat, { mute: '8h' }, 'Muted for 8 hours.') },
      { label: 'For 1 week', onSelect: () => setState(chat, { mute: '1w' }, 'Muted for a week.') },
      { label: 'Always', onSelect: () => setState(chat, { mute: 'always' }, 'Muted.') },
    ],
    { label: 'Mute notifications' },
  );
}

// A former friend: ask again from the conversation itself.
async function askAgain(chat) {
  const who = () => h('bdi', null, nameOf(chat.peer));
  try {
    const r = await api.sendRequest(chat.peer.username);
    toast(r.status === 'friends' ? ['You and ', who(), ' are friends again.'] : ['Request sent to ', who(), '.']);
    await refreshAll();
  } catch (e) {
    toast(errorText(e), { error: true });
  }
}

async function setBlocked(chat, block) {
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

async function removeFriend(chat) {
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

function chatMenu(chat, menuBtn) {
  openMenu(
    menuBtn,
    [
      chat.blocked_by_me
        ? { label: 'Unblock', icon: 'block', onSelect: () => setBlocked(chat, false) }
        : { label: 'Block', icon: 'block', danger: true, onSelect: () => setBlocked(chat, true) },
      chat.friends ? { label: 'Remove friend', icon: 'userMinus', danger: true, onSelect: () => removeFriend(chat) } : null,
      // issue 17: the user's own organisation of the chat
      { label: chat.pinned ? 'Unpin' : 'Pin', icon: 'pin', onSelect: () => setState(chat, { pinned: !chat.pinned }) },
      {
        label: chat.archived ? 'Unarchive' : 'Archive',
        icon: 'archive',
        onSelect: () => setState(chat, { archived: !chat.archived }, chat.archived ? 'Chat unarchived.' : 'Chat archived.'),
      },
      isMuted(chat)
        ? { label: 'Unmute', icon: 'bell', onSelect: () => setState(chat, { mute: 'off' }, 'Unmuted.') }
        : { label: 'Mute…', icon: 'bell', onSelect: () => muteMenu(chat, menuBtn) },
    ].filter(Boolean),
    { label: 'Conversation options' },
  );
}

// Wires menuBtn to the chat's options menu; returns the actions the
// header's bar offers too.
export function chatActions(chat, menuBtn) {
  menuBtn.addEventListener('click', () => chatMenu(chat, menuBtn));
  return { askAgain: () => askAgain(chat), setBlocked: (block) => setBlocked(chat, block) };
}
