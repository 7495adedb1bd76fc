// reply.js - the composer's issue 17 modes: replying (the quote above the
// composer, with cancel) and editing (the message's text in the composer;
// Enter saves it). chat.js asks take() for the quote of the next send and
// intercept() whether Enter saves an edit instead.
import { h } from '../dom.js';
import { editMessage } from '../conv.js';
import { clip } from '../format.js';
import { icon } from '../icons.js';
import { nameOf, state } from '../store.js';
import { toast } from './dialogs.js';

export function composerModes(chat, input, { onChange }) {
  let mode = null; // {kind: 'reply' | 'edit', m}
  const label = h('span', { class: 'cbar-who' });
  const text = h('span', { class: 'cbar-text', dir: 'auto' });
  const cancel = h('button', { type: 'button', class: 'icon-btn cbar-cancel', 'aria-label': 'Cancel' }, icon('close', { size: 18 }));
  const bar = h('div', { class: 'composer-bar', hidden: true, role: 'status' }, h('div', { class: 'cbar-quote' }, label, text), cancel);
  let draft = '';

  function clear(restore = true) {
    if (mode?.kind === 'edit' && restore) input.value = draft;
    mode = null;
    bar.hidden = true;
    onChange();
  }
  cancel.addEventListener('click', () => {
    clear();
    input.focus();
  });

  function show(kind, m) {
    if (mode?.kind === 'edit') clear();
    mode = { kind, m };
    const who = m.from === state.me.id ? 'You' : nameOf(chat.peer);
    label.textContent = kind === 'edit' ? 'Editing' : `Replying to ${who}`;
    text.textContent = clip((m.text || '').split('\n')[0], 100);
    bar.hidden = false;
    bar.dataset.mode = kind;
    onChange();
    input.focus();
  }

  return {
    bar,
    reply: (m) => show('reply', m),
    edit(m) {
      draft = input.value;
      show('edit', m);
      input.value = m.text;
      onChange();
    },
    // Escape in the composer: true when it only cancelled a mode.
    escape() {
      if (!mode) return false;
      clear();
      return true;
    },
    // The quote for the message being sent (and the mode ends).
    take() {
      if (mode?.kind !== 'reply') return null;
      const seq = mode.m.seq;
      clear();
      return seq;
    },
    // Enter while editing: saves the edit; true when it did.
    intercept(value) {
      if (mode?.kind !== 'edit') return false;
      const m = mode.m;
      clear(false);
      input.value = draft;
      onChange();
      if (value !== m.text) editMessage(chat, m.seq, value).catch((e) => toast(e.message, { error: true }));
      return true;
    },
  };
}
