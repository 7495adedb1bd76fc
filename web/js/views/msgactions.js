// msgactions.js - issue 17 in the message list: the parts a bubble gains
// (quote, "Forwarded", "edited", reactions under it), the actions menu of a
// message (reply, react, edit, forward, delete for me), the quick reaction
// picker, the forward dialog, and jumping to a quoted message (paging
// history back when it is not in memory). messages.js calls convParts and
// openActions; chat.js owns the composer side (reply.js).
import { h } from '../dom.js';
import { QUICK_EMOJI, canEdit, forward, hideMessage, react } from '../conv.js';
import { firstSeq, lastSeq, msgAt, nameOf, sortedChats, state } from '../store.js';
import { loadOlder } from '../sync.js';
import { openDialog, openMenu, toast } from './dialogs.js';

function who(chat, userId) {
  return userId === state.me.id ? 'You' : nameOf(chat.peer);
}

// The parts of a bubble: {above: [nodes before the text], edited, below}.
export function convParts(chat, m, { onJump }) {
  const above = [];
  if (m.forwarded) above.push(h('div', { class: 'fwd-label' }, '↪ Forwarded'));
  const q = m.reply_to;
  if (q) {
    const text = q.deleted ? 'This message was deleted' : q.snippet || (q.type ? 'Media' : '…');
    above.push(
      h(
        'button',
        {
          type: 'button',
          class: ['quote', q.deleted && 'tombstone'],
          'aria-label': `Reply to ${who(chat, q.sender)}: ${text}. Show the original`,
          onclick: (e) => {
            e.stopPropagation();
            onJump(q.seq);
          },
        },
        h('span', { class: 'quote-who' }, who(chat, q.sender)),
        h('span', { class: 'quote-text', dir: 'auto' }, text),
      ),
    );
  }
  const edited = m.edited_at && !m.deleted_at ? h('span', { class: 'edited-label' }, 'edited') : null;
  return { above, edited, below: reactionsEl(chat, m) };
}

// The reactions under a bubble: one chip per emoji with its count; who
// reacted is in the chip's title (hover) and label (screen readers, long press).
function reactionsEl(chat, m) {
  const rs = m.reactions || [];
  if (!rs.length || m.deleted_at) return null;
  const by = new Map();
  for (const r of rs) by.set(r.emoji, [...(by.get(r.emoji) || []), who(chat, r.user)]);
  return h(
    'div',
    { class: 'reactions', role: 'group', 'aria-label': 'Reactions' },
    [...by].map(([emoji, people]) => {
      const mine = rs.some((r) => r.emoji === emoji && r.user === state.me.id);
      const names = people.join(', ');
      return h(
        'button',
        {
          type: 'button',
          class: ['reaction', mine && 'mine'],
          title: names,
          'aria-label': `${emoji} ${people.length}: ${names}${mine ? '. Remove yours' : ''}`,
          'aria-pressed': mine ? 'true' : 'false',
          onclick: (e) => {
            e.stopPropagation();
            if (!chat.friends || chat.blocked_by_me) return toast(names);
            react(chat, m.seq, mine ? null : emoji).catch((err) => toast(err.message, { error: true }));
          },
          // A long press shows who reacted (touch screens have no hover title).
          oncontextmenu: (e) => {
            e.preventDefault();
            e.stopPropagation();
            toast(`${emoji} ${names}`);
          },
        },
        h('span', { class: 'reaction-emoji' }, emoji),
        h('span', { class: 'reaction-count' }, String(people.length)),
      );
    }),
  );
}

// The quick picker: six emoji in a row, arrow keys and Escape.
export function reactionPicker(anchor, chat, m) {
  const mineNow = (m.reactions || []).find((r) => r.user === state.me.id)?.emoji;
  const box = h('div', { class: 'menu reaction-picker', role: 'menu', 'aria-label': 'React' });
  const buttons = QUICK_EMOJI.map((e) =>
    h(
      'button',
      {
        type: 'button',
        class: ['menu-item', 'pick', e === mineNow && 'mine'],
        role: 'menuitem',
        tabIndex: -1,
        'aria-label': e === mineNow ? `Remove ${e}` : `React ${e}`,
        onclick: () => {
          close();
          react(chat, m.seq, e === mineNow ? null : e).catch((err) => toast(err.message, { error: true }));
        },
      },
      e,
    ),
  );
  box.append(...buttons);
  const onDoc = (ev) => !box.contains(ev.target) && close(false);
  function close(refocus = true) {
    box.remove();
    document.removeEventListener('mousedown', onDoc, true);
    if (refocus && anchor.isConnected) anchor.focus();
  }
  box.addEventListener('keydown', (ev) => {
    const i = buttons.indexOf(document.activeElement);
    if (ev.key === 'Escape') {
      ev.preventDefault();
      ev.stopPropagation();
      close();
    } else if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') {
      ev.preventDefault();
      buttons[(i + 1) % buttons.length].focus();
    } else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      buttons[(i - 1 + buttons.length) % buttons.length].focus();
    } else if (ev.key === 'Tab') close(false);
  });
  document.addEventListener('mousedown', onDoc, true);
  document.body.append(box);
  const r = anchor.getBoundingClientRect();
  box.style.top = `${Math.round(Math.max(8, r.top - box.offsetHeight - 6))}px`;
  box.style.left = `${Math.round(Math.max(8, Math.min(window.innerWidth - box.offsetWidth - 8, r.left)))}px`;
  buttons[0].focus();
}

// The actions menu of message m. hooks: onReply(m), onEdit(m), onInfo(seq).
export function openActions(anchor, chat, m, hooks) {
  const writable = chat.friends && !chat.blocked_by_me;
  const items = [
    writable && !m.deleted_at ? { label: 'Reply', icon: 'reply', onSelect: () => hooks.onReply(m) } : null,
    writable && !m.deleted_at ? { label: 'React', icon: 'smile', onSelect: () => reactionPicker(anchor, chat, m) } : null,
    canEdit(chat, m) ? { label: 'Edit', icon: 'edit', onSelect: () => hooks.onEdit(m) } : null,
    !m.deleted_at ? { label: 'Forward', icon: 'forward', onSelect: () => forwardDialog(chat, m) } : null,
    { label: 'Message info', icon: 'info', onSelect: () => hooks.onInfo(m.seq) },
    {
      label: 'Delete for me',
      icon: 'trash',
      danger: true,
      onSelect: () => hideMessage(chat, m.seq).catch((e) => toast(e.message, { error: true })),
    },
  ].filter(Boolean);
  openMenu(anchor, items, { label: 'Message actions' });
}

// Forward: pick one of the friends' chats.
export function forwardDialog(chat, m) {
  const targets = sortedChats().filter((c) => c.friends && !c.blocked_by_me);
  openDialog({
    title: 'Forward to…',
    className: 'dialog-small forward-dialog',
    build(body, close) {
      if (!targets.length) body.append(h('p', { class: 'muted' }, 'No friends to forward to.'));
      body.append(
        h(
          'div',
          { class: 'forward-list' },
          targets.map((c) =>
            h(
              'button',
              {
                type: 'button',
                class: 'btn forward-to',
                onclick: async () => {
                  close();
                  try {
                    await forward(chat, m.seq, c);
                    toast(['Forwarded to ', h('bdi', null, nameOf(c.peer)), '.']);
                  } catch (e) {
                    toast(e.message, { error: true });
                  }
                },
              },
              nameOf(c.peer),
            ),
          ),
        ),
      );
    },
  });
}

// Scrolls view to seq and highlights it, paging history back first when
// memory does not reach that far (at most 50 pages).
export async function jumpTo(view, seq) {
  const chat = view.chat;
  for (let i = 0; i < 50 && firstSeq(chat) > seq; i++) {
    if (chat.loadingOlder)
      await new Promise((r) => setTimeout(r, 100)); // a scroll's page first
    else if (!(await loadOlder(chat))) break;
  }
  if (!msgAt(chat, seq)) return toast('The original message is not available.', { error: true });
  view.pinned = false;
  view.clearRows();
  view.wLo = Math.max(firstSeq(chat), seq - 20);
  view.wHi = Math.min(lastSeq(chat), seq + 40);
  view.trimSide = 'top';
  view.sync();
  const el = view.rows.get(seq)?.el;
  if (!el) return;
  el.scrollIntoView({ block: 'center' });
  el.focus({ preventScroll: true });
  el.classList.add('flash');
  setTimeout(() => el.classList.remove('flash'), 1600);
}
