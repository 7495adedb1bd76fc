// labels.js - a media message in words, where only text fits: the chat
// list ("📷 Photo"), notifications, screen-reader labels. A caption, when
// there is one, follows the emoji instead of the word.

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
      return `📎 ${caption || m.media?.name || 'File'}`;
  }
}
