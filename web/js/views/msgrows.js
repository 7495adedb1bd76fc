// msgrows.js - the rows of the message list (MessagesView, messages.js):
// a message's row with its bubble and buttons, and a row of the outbox.
import { h, linkify } from '../dom.js';
import { dayLabel, time } from '../format.js';
import { icon } from '../icons.js';
import { state, nameOf } from '../store.js';
import { markup } from '../markup.js';
import { discardItem, retryItem } from '../sync.js';
import { tickIcon } from './list.js';
import { mediaLabel } from '../media/labels.js';
import { decorateBubble, decoratePending } from './media.js';
import { convParts, jumpTo } from './msgactions.js';

const FAIL_TEXT = {
  blocked: 'Not sent: you blocked them.',
  not_friends: 'Not sent: you are no longer friends.',
  too_long: 'Not sent: the message is too long.',
  empty: 'Not sent: the message is empty.',
  forbidden: 'Not sent: this is not your chat.',
  id_conflict: 'Not sent: try again.',
  recipient_backlog_full: 'Not sent: they have too many messages waiting. Try again later.',
  // Media (issue 15): upload failures (media/uploads.js prefixes them).
  'upload:too_large': 'Not sent: the file is too big.',
  'upload:quota': 'Not sent: you have uploaded too much for now. Try again later.',
  'upload:type_mismatch': 'Not sent: the file is not what its type says.',
  'upload:not_found': 'Not sent: the upload was lost. Try again.',
};

// A bubble: the text, then the time and ticks in the bottom corner. An
// invisible copy of the time ends the text so that the last line leaves
// room for it (or wraps, when the line is full).
// above: nodes before the text (a quote, "Forwarded"); edited: a label by the time.
export function bubbleEl(content, { deleted = false, at, tick = null, above = null, edited = null }) {
  const when = time(at);
  return h(
    'div',
    { class: 'bubble' },
    h(
      'div',
      { class: 'content' },
      above,
      h('span', { class: ['text', deleted && 'tombstone'], dir: deleted ? undefined : 'auto' }, content),
      h('span', { class: 'meta-space', 'aria-hidden': 'true' }, when, tick ? h('span', { class: 'tick-space' }) : null),
    ),
    h('span', { class: 'meta' }, edited, h('time', { dateTime: new Date(at).toISOString() }, when), tick),
  );
}

function pendingBubble(it, failed) {
  const b = bubbleEl(linkify(it.text), { at: it.created, tick: tickIcon(failed ? 'failed' : 'pending') });
  return it.media ? decoratePending(b, it) : b;
}

export function messageRow(view, info) {
  const { m, day, grouped, divider, status } = info;
  // A withheld placeholder keeps its place in the run, unseen.
  // So does a message deleted for me (issue 17).
  if (m.withheld || m.hidden) return h('div', { class: 'row withheld', hidden: true, dataset: { seq: String(m.seq) } });
  const mine = m.from === state.me.id;
  const who = mine ? 'You' : nameOf(view.chat.peer);
  const deleted = !!m.deleted_at;
  const text = deleted ? (mine ? 'You deleted this message' : 'This message was deleted') : mediaLabel(m);
  const statusText = { sent: 'Sent', delivered: 'Delivered', seen: 'Seen' }[status] || '';
  const parts = convParts(view.chat, m, { onJump: (seq) => jumpTo(view, seq) });
  const bubble = bubbleEl(deleted ? [icon('block', { size: 15 }), h('span', null, text)] : markup(m.text), {
    deleted,
    at: m.sent_at,
    tick: status ? tickIcon(status) : null,
    above: deleted ? null : parts.above,
    edited: parts.edited,
  });
  if (m.media && !deleted) decorateBubble(bubble, m, view.chat);
  const row = h(
    'div',
    {
      class: ['row', mine ? 'mine' : 'theirs', grouped && 'grouped', deleted && 'deleted'],
      role: 'listitem',
      tabIndex: -1,
      dataset: { seq: String(m.seq), id: m.id, status: deleted ? 'deleted' : status || 'received' },
      'aria-label': `${who}, ${time(m.sent_at)}: ${text}${statusText ? `. ${statusText}` : ''}`,
    },
    day ? h('div', { class: 'day-sep', role: 'separator' }, h('span', null, dayLabel(m.sent_at))) : null,
    divider ? h('div', { class: 'unread-sep', role: 'separator' }, h('span', null, 'New messages')) : null,
    h(
      'div',
      { class: 'bubble-line' },
      bubble,
      h(
        'button',
        {
          type: 'button',
          class: 'msg-more msg-act',
          tabIndex: -1,
          'aria-label': 'Message actions',
          'aria-haspopup': 'menu',
          onclick: (e) => {
            e.stopPropagation();
            view.openActions(m.seq, e.currentTarget);
          },
        },
        icon('more', { size: 16 }),
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'msg-more',
          tabIndex: -1,
          'aria-label': 'Message info',
          onclick: (e) => {
            e.stopPropagation();
            view.onInfo(m.seq);
          },
        },
        icon('info', { size: 16 }),
      ),
    ),
    parts.below,
  );
  return row;
}

// A row of the outbox: sending, or failed with Retry and Delete.
export function pendingRow(it) {
  const failed = !!it.failed;
  return h(
    'div',
    {
      class: ['row', 'mine', 'pending', failed && 'failed'],
      role: 'listitem',
      tabIndex: -1,
      dataset: { id: it.id, status: failed ? 'failed' : 'pending' },
      'aria-label': `You: ${mediaLabel(it)}. ${failed ? 'Not sent' : 'Sending'}`,
    },
    h('div', { class: 'bubble-line' }, pendingBubble(it, failed)),
    failed
      ? h(
          'div',
          { class: 'fail-line' },
          h('span', null, FAIL_TEXT[it.failed] || 'Not sent.'),
          h('button', { type: 'button', class: 'link-btn', onclick: () => retryItem(it.id) }, 'Retry'),
          h('button', { type: 'button', class: 'link-btn', onclick: () => discardItem(it.id) }, 'Delete'),
        )
      : null,
  );
}
