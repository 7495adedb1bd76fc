// socket.js - the WebSocket: connecting, reconnecting with exponential
// backoff and jitter, liveness checks (a ping that must come back, also
// after the machine wakes from sleep), and request/answer matching by ref.
//
// Events (EventTarget): 'state' {state, retryAt, attempt}, 'event' (every
// server frame, detail = the parsed object), 'ended' {code, reason}: the
// server ended our session (close 1008) or the upgrade was refused.

const BASE_MS = 500;
// Low: an idle tab should not stay offline long after the server is back.
// The /healthz probe below finds it sooner still, for the price of one
// small GET every PROBE_EVERY_MS while we wait.
const MAX_MS = 8000;
const PROBE_EVERY_MS = 2000;
const PROBE_TIMEOUT_MS = 1500;
const PING_EVERY_MS = 25000;
const PONG_WITHIN_MS = 10000;
const HELLO_WITHIN_MS = 15000;
const REQUEST_TIMEOUT_MS = 20000;

export class SocketError extends Error {
  constructor(code, message, event) {
    super(message || code);
    this.code = code;
    this.event = event || null;
  }
}

// A reconnect delay: exponential in the attempt, with "equal jitter" (half
// fixed, half random) so that many clients do not come back in lockstep.
export function backoffDelay(attempt, rand = Math.random) {
  const cap = Math.min(MAX_MS, BASE_MS * 2 ** Math.min(attempt, 16));
  return Math.round(cap / 2 + (rand() * cap) / 2);
}

export class Socket extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.ws = null;
    this.state = 'idle'; // idle | connecting | syncing | online | waiting | stopped
    this.attempt = 0;
    this.retryAt = 0;
    this.retryTimer = 0;
    this.pingTimer = 0;
    this.pongTimer = 0;
    this.helloTimer = 0;
    this.refSeq = 0;
    this.waiting = new Map(); // ref -> {resolve, reject, timer, type}
    this.lastTick = Date.now();
    this.opened = false;
    this.probeTimer = 0;
    this.probing = false;
    this.onlineListener = () => {
      this.attempt = 0; // the network came back: start the backoff over
      this.kick('online');
    };
    this.visibleListener = () => {
      if (document.visibilityState === 'visible') this.kick('visible');
    };
    window.addEventListener('online', this.onlineListener);
    window.addEventListener('offline', () => this.checkAlive());
    document.addEventListener('visibilitychange', this.visibleListener);
    // A timer that fires far too late means the machine slept: the socket
    // may be dead without knowing it.
    this.tickTimer = setInterval(() => {
      const now = Date.now();
      if (now - this.lastTick > 15000) this.kick('wake');
      this.lastTick = now;
    }, 5000);
  }

  setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, retryAt: this.retryAt, attempt: this.attempt } }));
  }

  start() {
    if (this.state === 'stopped') return;
    if (this.ws) return;
    clearTimeout(this.retryTimer);
    clearTimeout(this.probeTimer);
    this.retryTimer = 0;
    this.probeTimer = 0;
    this.opened = false;
    this.setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.opened = true;
      this.helloTimer = setTimeout(() => this.drop('no hello'), HELLO_WITHIN_MS);
    };
    ws.onmessage = (e) => this.onFrame(e.data);
    ws.onclose = (e) => this.onClose(ws, e);
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  // Reconnect now if we are waiting; verify the socket if we think it is up.
  kick(why) {
    if (this.state === 'stopped') return;
    if (this.state === 'waiting') {
      this.attempt = Math.max(0, this.attempt - 1);
      this.start();
    } else if (this.state === 'online') {
      this.checkAlive();
    }
  }

  retryNow() {
    if (this.state === 'waiting' || this.state === 'idle') this.start();
  }

  stop() {
    this.setState('stopped');
    clearTimeout(this.retryTimer);
    clearTimeout(this.probeTimer);
    clearInterval(this.tickTimer);
    window.removeEventListener('online', this.onlineListener);
    document.removeEventListener('visibilitychange', this.visibleListener);
    this.drop('stopped');
  }

  // Closes the current socket (if any); onClose schedules the retry.
  drop(reason) {
    const ws = this.ws;
    if (!ws) return;
    try {
      ws.close(4000, reason.slice(0, 60));
    } catch {
      /* already closing */
    }
    // Do not wait for a close handshake that a dead network never finishes.
    this.onClose(ws, { code: 4000, reason, wasClean: false });
  }

  onClose(ws, e) {
    if (ws !== this.ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    this.ws = null;
    clearTimeout(this.helloTimer);
    clearTimeout(this.pingTimer);
    clearTimeout(this.pongTimer);
    for (const [, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(new SocketError('disconnected', 'the connection closed'));
    }
    this.waiting.clear();
    const wasOpen = this.opened;
    this.opened = false;
    if (this.state === 'stopped') return;
    if (e.code === 1008 || !wasOpen) {
      // 1008: the session ended. A refused upgrade looks like a close before
      // open; the app checks which it was (401 or a server that is down).
      this.dispatchEvent(new CustomEvent('ended', { detail: { code: e.code, reason: e.reason, opened: wasOpen } }));
      if (this.state === 'stopped') return;
    }
    this.dispatchEvent(new CustomEvent('closed', { detail: { code: e.code } }));
    this.scheduleRetry();
  }

  scheduleRetry() {
    if (this.state === 'stopped') return;
    const delay = backoffDelay(this.attempt);
    this.attempt++;
    this.retryAt = Date.now() + delay;
    this.setState('waiting');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.start(), delay);
    this.scheduleProbe();
  }

  // While waiting long, ask /healthz now and then: when it answers, the
  // server is back and we connect without waiting out the backoff.
  scheduleProbe() {
    clearTimeout(this.probeTimer);
    this.probeTimer = 0;
    if (this.state !== 'waiting' || this.retryAt - Date.now() <= PROBE_EVERY_MS) return;
    this.probeTimer = setTimeout(() => this.probe(), PROBE_EVERY_MS);
  }

  async probe() {
    this.probeTimer = 0;
    if (this.state !== 'waiting' || this.probing) return;
    this.probing = true;
    let up = false;
    try {
      const ctl = new AbortController();
      const t = setTimeout(() => ctl.abort(), PROBE_TIMEOUT_MS);
      const res = await fetch('/healthz', { cache: 'no-store', signal: ctl.signal, credentials: 'omit' });
      clearTimeout(t);
      up = res.ok;
    } catch {
      /* still down */
    } finally {
      this.probing = false;
    }
    if (this.state !== 'waiting') return;
    if (up) this.start();
    else this.scheduleProbe();
  }

  onFrame(data) {
    let ev;
    try {
      ev = JSON.parse(data);
    } catch {
      return;
    }
    if (!ev || typeof ev.type !== 'string') return;
    if (ev.type === 'hello') {
      clearTimeout(this.helloTimer);
      this.setState('syncing');
    } else if (ev.type === 'synced') {
      this.attempt = 0; // a good connection resets the backoff
      this.setState('online');
      this.schedulePing();
    }
    if (ev.ref !== undefined && ev.ref !== null && this.waiting.has(ev.ref)) {
      const w = this.waiting.get(ev.ref);
      this.waiting.delete(ev.ref);
      clearTimeout(w.timer);
      if (ev.type === 'error') w.reject(new SocketError(ev.code, ev.message, ev));
      else w.resolve(ev);
      if (ev.type === 'pong') return;
    }
    this.dispatchEvent(new CustomEvent('event', { detail: ev }));
  }

  schedulePing() {
    clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(() => this.checkAlive(), PING_EVERY_MS);
  }

  // A ping that must be answered in time, else the socket is dropped.
  checkAlive() {
    if (!this.ws || this.state !== 'online' || this.pongTimer) return;
    clearTimeout(this.pingTimer);
    this.pongTimer = setTimeout(() => {
      this.pongTimer = 0;
      this.drop('ping timeout');
    }, PONG_WITHIN_MS);
    this.request({ type: 'ping' }, PONG_WITHIN_MS + 1000).then(
      () => {
        clearTimeout(this.pongTimer);
        this.pongTimer = 0;
        this.schedulePing();
      },
      () => {
        /* the timer or the close handles it */
      },
    );
  }

  get ready() {
    return this.state === 'online' && this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  // Fire and forget; false when not connected.
  send(obj) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    try {
      this.ws.send(JSON.stringify(obj));
      return true;
    } catch {
      return false;
    }
  }

  // Sends a request with a fresh ref; resolves with the answer, rejects with
  // SocketError (the server's error code, 'offline', 'disconnected', 'timeout').
  request(obj, timeoutMs = REQUEST_TIMEOUT_MS) {
    const ref = `r${++this.refSeq}`;
    return new Promise((resolve, reject) => {
      if (!this.send({ ...obj, ref })) {
        reject(new SocketError('offline', 'not connected'));
        return;
      }
      const timer = setTimeout(() => {
        this.waiting.delete(ref);
        reject(new SocketError('timeout', 'no answer in time'));
      }, timeoutMs);
      this.waiting.set(ref, { resolve, reject, timer, type: obj.type });
    });
  }
}
