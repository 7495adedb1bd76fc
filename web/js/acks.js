// acks.js - acknowledging what we processed: messages, receipts and
// deletions, batched per chat and kind (acks are cumulative), sent on the
// session's socket.
import { session } from './session.js';

export function queueAck(chatId, kind, seq) {
  const s = session();
  if (!s) return;
  if (kind === 'deleted' || kind === 'reaction' || kind === 'edited' || kind === 'hidden') {
    s.ackDeleted.push([chatId, seq, kind]); // per message, not cumulative
  } else {
    const k = `${chatId}|${kind}`;
    if (!(s.ackMax.get(k) >= seq)) s.ackMax.set(k, seq);
  }
  if (!s.ackTimer) s.ackTimer = setTimeout(flushAcks, 25);
}

// Acks are cumulative per kind, so a burst (the backlog after a reconnect)
// needs one per chat and kind. A lost ack only means a replay, which we
// dedupe.
export function flushAcks() {
  const s = session();
  if (!s) return;
  clearTimeout(s.ackTimer);
  s.ackTimer = 0;
  const socket = s.socket;
  if (!socket) return;
  for (const [k, seq] of s.ackMax) {
    const [chat_id, kind] = k.split('|');
    socket.send({ type: 'ack', chat_id, kind, seq });
  }
  for (const [chat_id, seq, kind] of s.ackDeleted) socket.send({ type: 'ack', chat_id, kind, seq });
  s.ackMax = new Map();
  s.ackDeleted = [];
}
