// session.js - the signed-in session's connection state in one object,
// created by startSession and dropped by endSession (sync.js). The sync
// modules (acks, lists, history, events, send) reach it through session();
// null between sessions, so late callbacks of an old one do nothing.
//
// Ownership: the object is this module's; the socket in it is stopped by
// endSession.

let current = null;

export function session() {
  return current;
}

export function sock() {
  return current?.socket || null;
}

export function openSession({ socket, onLoggedOut }) {
  current = {
    socket,
    onLoggedOut,
    ackMax: new Map(), // "chat|kind" -> seq (cumulative kinds)
    ackDeleted: [],
    ackTimer: 0,
    inflight: new Set(), // outbox ids sent on this connection, not yet answered
    ownItems: new Map(), // outbox items this tab added, until stored
    typingTimers: new Map(), // chat id -> the timer that ends "typing"
    refreshTimer: 0,
    // Each list fetch takes a number; an answer older than one already
    // applied is dropped (two fetches can overlap and answer out of order).
    listGen: { chats: 0, chatsApplied: 0, requests: 0, requestsApplied: 0 },
    // A list fetch that failed for a passing reason is tried again later
    // (lists.js): failures in a row, and the timer, per list.
    listRetry: { chats: 0, requests: 0 },
    listRetryTimer: { chats: 0, requests: 0 },
    flushTimer: 0,
    stopOutboxWatch: null,
    checking: false,
  };
  return current;
}

export function closeSession() {
  const s = current;
  current = null;
  if (!s) return;
  s.socket?.stop();
  clearInterval(s.flushTimer);
  clearTimeout(s.refreshTimer);
  clearTimeout(s.listRetryTimer.chats);
  clearTimeout(s.listRetryTimer.requests);
  clearTimeout(s.ackTimer);
  for (const t of s.typingTimers.values()) clearTimeout(t);
  s.stopOutboxWatch?.();
}
