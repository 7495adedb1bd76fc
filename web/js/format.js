// format.js - times and dates as people read them: "14:05", "Yesterday",
// "last seen today at 14:05", day separators.

const DAY = 86400000;
// 12-hour locales get 'numeric' hours ("7:02 AM", not "07:02 AM");
// 24-hour ones keep their padded "07:02".
const HOUR = ['h11', 'h12'].includes(new Intl.DateTimeFormat(undefined, { hour: 'numeric' }).resolvedOptions().hourCycle)
  ? 'numeric'
  : '2-digit';
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: HOUR, minute: '2-digit' });
const weekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long' });
const shortWeekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const dateFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'long' });
const dateYearFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'long', year: 'numeric' });
const shortDateFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const shortDateYearFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const fullFmt = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: HOUR,
  minute: '2-digit',
  second: '2-digit',
});

export function startOfDay(ms) {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

// Whole calendar days between ms and now (0 today, 1 yesterday).
export function daysAgo(ms, now = Date.now()) {
  return Math.round((startOfDay(now) - startOfDay(ms)) / DAY);
}

function sameYear(ms, now) {
  return new Date(ms).getFullYear() === new Date(now).getFullYear();
}

export function time(ms) {
  return timeFmt.format(ms);
}

// The separator between days in a chat.
export function dayLabel(ms, now = Date.now()) {
  const d = daysAgo(ms, now);
  if (d === 0) return 'Today';
  if (d === 1) return 'Yesterday';
  if (d > 1 && d < 7) return weekdayFmt.format(ms);
  return (sameYear(ms, now) ? dateFmt : dateYearFmt).format(ms);
}

// The time beside a conversation in the list.
export function listTime(ms, now = Date.now()) {
  if (!ms) return '';
  const d = daysAgo(ms, now);
  if (d <= 0) return time(ms);
  if (d === 1) return 'Yesterday';
  if (d < 7) return shortWeekdayFmt.format(ms);
  return (sameYear(ms, now) ? shortDateFmt : shortDateYearFmt).format(ms);
}

// "online", "last seen today at 14:05", "last seen yesterday at 09:12",
// "last seen 3 March", or '' when hidden.
export function presence(peer, now = Date.now()) {
  if (!peer) return '';
  if (peer.online) return 'online';
  if (!peer.last_seen) return '';
  const ms = peer.last_seen;
  const d = daysAgo(ms, now);
  if (d <= 0) return `last seen today at ${time(ms)}`;
  if (d === 1) return `last seen yesterday at ${time(ms)}`;
  return `last seen ${(sameYear(ms, now) ? dateFmt : dateYearFmt).format(ms)}`;
}

// The same, shorter, for the conversation list: "last seen yesterday".
export function presenceShort(peer, now = Date.now()) {
  if (!peer || peer.online || !peer.last_seen) return presence(peer, now);
  const d = daysAgo(peer.last_seen, now);
  if (d === 1) return 'last seen yesterday';
  return presence(peer, now);
}

export function fullTime(ms) {
  return ms ? fullFmt.format(ms) : '';
}

// User text inside a plain string (a notification, a toast, a label):
// first-strong isolates keep a bidi override in it from reordering the
// words around it.
export function iso(s) {
  return `\u2068${s}\u2069`;
}

// The first n UTF-16 units of s at most, never cutting a surrogate pair
// (an emoji): a lone half would show as U+FFFD.
export function clip(s, n) {
  if (s.length <= n) return s;
  const c = s.charCodeAt(n - 1);
  return s.slice(0, c >= 0xd800 && c <= 0xdbff ? n - 1 : n);
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}
