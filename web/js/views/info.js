// info.js - the message info panel: when a message was sent, delivered
// and seen, and delete for everyone for your own messages while the
// server's window is open.
import { h, linkify } from '../dom.js';
import { fullTime } from '../format.js';
import { icon } from '../icons.js';
import { mediaLabel } from '../media/labels.js';
import { msgAt, nameOf, on, state } from '../store.js';
import { deleteForEveryone } from '../sync.js';
import { openDialog, toast } from './dialogs.js';
import { bubbleEl } from './msgrows.js';

export function showMessageInfo(chat, seq) {
  openDialog({
    title: 'Message info',
    className: 'dialog-info',
    build(body, close, onCleanup) {
      let confirming = false;
      const confirm = (yes) => {
        confirming = yes;
        render();
      };
      const render = () => {
        const m = msgAt(chat, seq);
        if (!m) {
          close();
          return;
        }
        const mine = m.from === state.me.id;
        const deleted = !!m.deleted_at;
        const canDelete = mine && !deleted && Date.now() - m.sent_at < state.limits.delete_window_ms;
        const parts = [infoPreview(m, mine, deleted), infoList(infoRows(chat, m, mine, deleted))];
        if (canDelete && confirming) {
          parts.push(confirmBox(chat, seq, { close, onCancel: () => confirm(false) }));
        } else {
          const actions = infoActions(m, {
            deleted,
            canDelete: canDelete && !confirming,
            onDelete: () => {
              confirm(true);
              body.querySelector('.btn-danger')?.focus();
            },
          });
          if (actions.childNodes.length) parts.push(actions);
        }
        body.replaceChildren(...parts);
      };
      render();
      onCleanup(on('msgs', (id) => id === chat.id && !confirming && render()));
    },
  });
}

// [label, value, icon] for each line: sent, delivered and seen (mine) or from.
function infoRows(chat, m, mine, deleted) {
  const seenAt = m.seen_at || 0;
  const seenKnown = seenAt || (chat.peer_read_seq && m.seq <= chat.peer_read_seq);
  const rows = [['Sent', fullTime(m.sent_at), 'check']];
  if (mine) {
    rows.push(['Delivered', m.received_at ? fullTime(m.received_at) : 'Not yet', 'checks']);
    rows.push([
      'Seen',
      seenAt
        ? fullTime(seenAt)
        : seenKnown
          ? 'Yes'
          : state.me.settings?.read_receipts === false
            ? 'Unknown: your read receipts are off'
            : 'Not yet',
      'checks',
    ]);
  } else {
    rows.push(['From', [h('bdi', null, nameOf(chat.peer)), ` (@${chat.peer.username})`], 'info']);
  }
  if (deleted) rows.push(['Deleted', fullTime(m.deleted_at), 'trash']);
  return rows;
}

function infoPreview(m, mine, deleted) {
  return h(
    'div',
    { class: ['info-preview', mine ? 'mine' : 'theirs'] },
    bubbleEl(
      deleted
        ? [icon('block', { size: 15 }), h('span', null, mine ? 'You deleted this message' : 'This message was deleted')]
        : m.media
          ? mediaLabel(m)
          : linkify(m.text),
      { deleted, at: m.sent_at },
    ),
  );
}

function infoList(rows) {
  return h(
    'dl',
    { class: 'info-list' },
    rows.map(([k, v, ic]) =>
      h('div', { class: ['info-row', `info-${k.toLowerCase()}`] }, h('dt', null, icon(ic, { size: 16 }), k), h('dd', null, v)),
    ),
  );
}

// Copy text, and "Delete for everyone" (which asks first) while it may.
function infoActions(m, { deleted, canDelete, onDelete }) {
  const actions = h('div', { class: 'dialog-actions' });
  if (!deleted && navigator.clipboard) {
    const copy = async () => {
      try {
        await navigator.clipboard.writeText(m.text);
        toast('Copied.');
      } catch {
        toast('Copying is not allowed here.', { error: true });
      }
    };
    actions.append(h('button', { type: 'button', class: 'btn btn-ghost', onclick: copy }, 'Copy text'));
  }
  if (canDelete) {
    actions.append(
      h('button', { type: 'button', class: 'btn btn-danger-ghost', onclick: onDelete }, icon('trash', { size: 18 }), 'Delete for everyone'),
    );
  }
  return actions;
}

function confirmBox(chat, seq, { close, onCancel }) {
  const remove = async (e) => {
    e.currentTarget.disabled = true;
    try {
      await deleteForEveryone(chat, seq);
      close();
    } catch (err) {
      toast(err.message, { error: true });
      onCancel();
    }
  };
  return h(
    'div',
    { class: 'confirm-box', role: 'group', 'aria-label': 'Confirm deletion' },
    h('p', null, `Delete this message for you and ${nameOf(chat.peer)}? Both of you will see that a message was deleted.`),
    h(
      'div',
      { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn btn-ghost', onclick: onCancel }, 'Cancel'),
      h('button', { type: 'button', class: 'btn btn-danger', onclick: remove }, 'Delete'),
    ),
  );
}
