// composer.js - the open chat's composer (chat.js): Enter sends,
// Shift+Enter is a new line, the length limit shows as it nears, the draft
// is kept per chat (and follows other tabs), and typing is told to the peer.
import { h } from '../dom.js';
import { icon } from '../icons.js';
import { loadDraft, onDraftChange, saveDraft } from '../drafts.js';
import { state } from '../store.js';
import { sendTyping, sendText } from '../sync.js';
import { toast } from './dialogs.js';

const TYPING_EVERY_MS = 2000;
const SERVER_TYPING_GAP_MS = 1100; // the server forwards one typing a second

function charCount(s) {
  let n = 0;
  for (const _ of s) n++; // code points, as the server counts
  return n;
}

// The form and its parts, not yet wired.
export function composerBox() {
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
  const form = h(
    'form',
    { class: 'composer', 'aria-label': 'Write a message' },
    h('div', { class: 'composer-box' }, input, count),
    sendBtn,
  );
  return { input, count, sendBtn, form };
}

// While the user types: one typing event every TYPING_EVERY_MS, and a
// trailing one when a keystroke falls inside the gap.
function typingNotifier(chat, input) {
  let lastTypingSent = 0;
  let nextTypingAt = 0;
  let typingTimer = 0;
  function note() {
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
        if (document.activeElement === input) note();
      }, wait);
    }
  }
  // The peer stops showing "typing" when the message arrives; typing on
  // shows it again as soon as the server lets it through.
  function sent() {
    clearTimeout(typingTimer);
    typingTimer = 0;
    nextTypingAt = lastTypingSent + SERVER_TYPING_GAP_MS;
  }
  return { note, sent, stop: () => clearTimeout(typingTimer) };
}

// Wires the box: sending (the attachment tray first), the count, the draft.
export function mountComposer(chat, box, { view, modes, attach, onBack }) {
  const { input, count, sendBtn, form } = box;
  const typing = typingNotifier(chat, input);
  input.value = loadDraft(state.me.id, chat.id);

  function autosize() {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 180)}px`;
  }

  function updateCount() {
    const max = state.limits.max_message_chars;
    const left = max - charCount(input.value);
    const near = left <= Math.max(10, Math.min(300, Math.round(max * 0.15)));
    count.hidden = !near;
    count.textContent = left >= 0 ? `${left} left` : `${-left} too many`;
    count.classList.toggle('over', left < 0);
    sendBtn.disabled = left < 0;
    form.classList.toggle('has-text', input.value.trim().length > 0 || attach.count() > 0);
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
    typing.sent();
    saveDraft(state.me.id, chat.id, '');
    autosize();
    updateCount();
    view.toLatest();
    sendText(chat, text, { reply_to: modes.take() });
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
    input.focus();
  });
  input.addEventListener('keydown', (e) => onComposerKey(e, { submit, modes, onBack }));
  input.addEventListener('input', () => {
    saveDraft(state.me.id, chat.id, input.value);
    autosize();
    updateCount();
    typing.note();
  });
  // Another tab edited this draft: follow it unless we are typing here.
  const offDraft = onDraftChange(state.me.id, chat.id, (text) => {
    if (document.activeElement === input && document.hasFocus()) return;
    input.value = text;
    autosize();
    updateCount();
  });
  return {
    autosize,
    updateCount,
    destroy() {
      typing.stop();
      offDraft();
    },
  };
}

function onComposerKey(e, { submit, modes, onBack }) {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
    e.preventDefault();
    submit();
  } else if (e.key === 'Escape' && modes.escape()) {
    e.preventDefault(); // only the reply or edit ends
  } else if (e.key === 'Escape' && state.openChatId) {
    onBack(); // on every screen size: back to the list, focus on this chat
  }
}
