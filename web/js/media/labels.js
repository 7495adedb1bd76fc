// labels.js - a media message in words, where only text fits: the chat
// list ("📷 Photo"), notifications, screen-reader labels. A caption, when
// there is one, follows the emoji instead of the word.

import { showControls } from '../dom.js';

// m: a message ({type, text, media}) or an outbox item ({text, media: {type}}).
export function mediaLabel(m) {
  const type = m?.media?.type ?? m?.type ?? 0;
  const caption = (m?.text || '').replace(/\s+/g, ' ').trim();
  if (typeof type !== 'number' || type < 1) return m?.text || '';
  switch (type) {
    case 1:
      return `📷 ${caption || 'Photo'}`;
    case 2:
      return `🎥 ${caption || 'Video'}`;
    case 3:
      return `🎤 ${caption || 'Voice message'}`;
    default:
      return `📎 ${caption || showControls(m.media?.name || '') || 'File'}`;
  }
}

// The server takes names of at most 255 UTF-8 bytes: a longer one loses the
// end of its stem, and keeps its extension.
export function clipName(name, max = 255) {
  const enc = new TextEncoder();
  const s = String(name || 'file');
  if (enc.encode(s).length <= max) return s;
  const dot = s.lastIndexOf('.');
  const ext = dot > 0 && s.length - dot <= 16 ? s.slice(dot) : '';
  let stem = [...s.slice(0, s.length - ext.length)];
  while (stem.length && enc.encode(stem.join('') + '…' + ext).length > max) stem.pop();
  return stem.join('') + '…' + ext;
}
