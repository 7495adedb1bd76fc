// api.js - the HTTP API (docs/protocol.md), as promises. Failures are
// ApiError with the server's stable code ('network' when unreachable).

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = 0) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

async function call(method, path, body) {
  const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    throw new ApiError(0, 'network', 'The server cannot be reached.');
  }
  let json = null;
  if (res.status !== 204) {
    try {
      json = await res.json();
    } catch {
      json = null;
    }
  }
  if (!res.ok) {
    const retry = Number(json?.retry_after || res.headers.get('Retry-After') || 0);
    throw new ApiError(res.status, json?.error || 'http_' + res.status, json?.message || res.statusText, retry);
  }
  return json;
}

const u = encodeURIComponent;

export const api = {
  signup: (username, password, display_name) =>
    call('POST', '/api/signup', display_name ? { username, password, display_name } : { username, password }),
  login: (username, password) => call('POST', '/api/login', { username, password }),
  logout: () => call('POST', '/api/logout'),
  me: () => call('GET', '/api/me'),
  updateMe: (fields) => call('PATCH', '/api/me', fields),
  changePassword: (old_password, new_password) => call('POST', '/api/me/password', { old_password, new_password }),
  requests: () => call('GET', '/api/friends/requests'),
  sendRequest: (username) => call('POST', '/api/friends/requests', { username }),
  accept: (username) => call('POST', `/api/friends/requests/${u(username)}/accept`),
  decline: (username) => call('POST', `/api/friends/requests/${u(username)}/decline`),
  cancel: (username) => call('DELETE', `/api/friends/requests/${u(username)}`),
  removeFriend: (username) => call('DELETE', `/api/friends/${u(username)}`),
  blocks: () => call('GET', '/api/blocks'),
  block: (username) => call('PUT', `/api/blocks/${u(username)}`),
  unblock: (username) => call('DELETE', `/api/blocks/${u(username)}`),
  chats: () => call('GET', '/api/chats'),
  history: (chatId, params = {}) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) q.set(k, String(v));
    const qs = q.toString();
    return call('GET', `/api/chats/${u(chatId)}/messages${qs ? '?' + qs : ''}`);
  },
  // issue 17: search and organise
  search: (params) => call('GET', `/api/search?${new URLSearchParams(params).toString()}`),
  setChatState: (chatId, body) => call('PUT', `/api/chats/${u(chatId)}/state`, body),
};

// A sentence for a person, for the codes a form can meet.
export function errorText(e) {
  switch (e?.code) {
    case 'network':
      return 'The server cannot be reached. Check your connection and try again.';
    case 'bad_username':
      return 'Usernames are 3–32 characters: a–z, 0–9, “_” and “.”.';
    case 'weak_password':
      return 'Use at least 8 characters.';
    case 'bad_display_name':
      return 'Names are 1–64 characters, without control characters.';
    case 'username_taken':
      return 'That username is taken. Try another one.';
    case 'bad_credentials':
      return 'Wrong username or password.';
    case 'rate_limited': {
      const s = e.retryAfter || 60;
      const wait = s >= 90 ? `${Math.ceil(s / 60)} minutes` : `${s} seconds`;
      return `Too many attempts. Try again in ${wait}.`;
    }
    case 'busy':
      return 'The server is busy. Try again in a moment.';
    case 'daily_limit':
      return 'You have sent too many friend requests today. Try again tomorrow.';
    case 'not_found':
      return 'There is no user with that name.';
    case 'self':
      return 'That is you.';
    case 'already_friends':
      return 'You are already friends.';
    case 'blocked':
      // Only ever about your own block (the server never says that someone blocks you).
      return 'You blocked this user. Unblock them first.';
    case 'not_friends':
      return 'You are not friends with this user.';
    case 'unauthorized':
      return 'Your session has ended. Log in again.';
    case 'store_failed':
      return 'The change could not be saved. Try again.';
    default:
      return e?.message || 'Something went wrong.';
  }
}
