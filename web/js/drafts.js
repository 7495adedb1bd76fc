// drafts.js - what the user typed and did not send, per chat, kept in
// localStorage: it survives a reload, and every tab of the browser sees it.
// Keys are "duet.draft.<user id>.<chat id>"; logging out removes them.

const PREFIX = 'duet.draft.';

function key(userId, chatId) {
  return `${PREFIX}${userId}.${chatId}`;
}

export function loadDraft(userId, chatId) {
  try {
    return localStorage.getItem(key(userId, chatId)) || '';
  } catch {
    return ''; // storage disabled: drafts live as long as the chat view
  }
}

export function saveDraft(userId, chatId, text) {
  try {
    if (text.trim()) localStorage.setItem(key(userId, chatId), text);
    else localStorage.removeItem(key(userId, chatId));
  } catch {
    /* full or disabled: the draft is only lost on reload */
  }
}

// Calls fn(text) when another tab changes this chat's draft.
export function onDraftChange(userId, chatId, fn) {
  const k = key(userId, chatId);
  const listener = (e) => {
    if (e.key === k) fn(e.newValue || '');
  };
  window.addEventListener('storage', listener);
  return () => window.removeEventListener('storage', listener);
}

export function clearDrafts(userId) {
  try {
    const mine = `${PREFIX}${userId}.`;
    const keys = [];
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (k?.startsWith(mine)) keys.push(k);
    }
    keys.forEach((k) => localStorage.removeItem(k));
  } catch {
    /* nothing stored */
  }
}
