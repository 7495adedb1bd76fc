// push-service.mjs - a loopback Web Push service for the tests: what the
// browser vendors' services do with an application server's push.
//
//   const svc = await startPushService();            // or { tls: { key, cert } }
//   const sub = svc.subscribe({ applicationServerKey }); // like pushManager.subscribe()
//   sub.endpoint, sub.p256dh, sub.auth              // what the browser hands the app
//   svc.answer(sub, 410)                            // what the next pushes get
//   svc.received                                    // every push, verified or not
//
// For each POST to an endpoint it checks, in order, and answers the first
// failure: the subscription exists (404), the body is at most 4096 bytes
// (413), `Authorization: vapid t=<JWT>, k=<key>` carries an ES256 JWT whose
// signature verifies with k, k is the subscription's applicationServerKey
// (403), and whose claims are right: aud the service's origin, exp in the
// future and at most 24 h ahead, sub a mailto: or https: URL (401); a TTL
// header and Content-Encoding: aes128gcm (400); the body decrypts (RFC 8291
// with the subscription's private key, RFC 8188 record, 0x02 delimiter)
// (400). Then it answers what the test asked (201 by default; 429 with
// Retry-After). node:crypto only: ECDH, HKDF, AES-GCM, ECDSA.
import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

const MAX_BODY = 4096;
const MAX_EXP_S = 24 * 3600;

export const b64u = (buf) => Buffer.from(buf).toString('base64url');
const unb64u = (s) => {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s)) throw new Error('not base64url');
  return Buffer.from(s, 'base64url');
};

// A P-256 public key object from an uncompressed point (65 bytes).
export function p256PublicKey(raw) {
  if (raw.length !== 65 || raw[0] !== 4) throw new Error('not an uncompressed P-256 point');
  return crypto.createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64u(raw.subarray(1, 33)), y: b64u(raw.subarray(33)) },
    format: 'jwk',
  });
}

class Fail extends Error {
  constructor(status, code, detail) {
    super(`${code}: ${detail}`);
    this.status = status;
    this.code = code;
  }
}

// Checks the VAPID Authorization header; returns { claims, k } or throws Fail.
export function verifyVapid(header, { origin, applicationServerKey, nowS = Date.now() / 1000 }) {
  const m = /^vapid\s+(.*)$/i.exec(header || '');
  if (!m) throw new Fail(401, 'no_vapid', `Authorization: ${header}`);
  const params = {};
  for (const part of m[1].split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  if (!params.t || !params.k) throw new Fail(401, 'no_vapid', 't= and k= are required');
  let key;
  try {
    key = unb64u(params.k);
    p256PublicKey(key);
  } catch (e) {
    throw new Fail(401, 'bad_k', e.message);
  }
  const parts = params.t.split('.');
  if (parts.length !== 3) throw new Fail(401, 'bad_jwt', 'three parts');
  let head, claims, sig;
  try {
    head = JSON.parse(unb64u(parts[0]).toString());
    claims = JSON.parse(unb64u(parts[1]).toString());
    sig = unb64u(parts[2]);
  } catch (e) {
    throw new Fail(401, 'bad_jwt', e.message);
  }
  if (head.typ !== 'JWT' || head.alg !== 'ES256') throw new Fail(401, 'bad_jwt', JSON.stringify(head));
  // JOSE's ES256 signature is r||s, 64 bytes (ieee-p1363), not DER.
  const ok = sig.length === 64 && crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`),
    { key: p256PublicKey(key), dsaEncoding: 'ieee-p1363' }, sig);
  if (!ok) throw new Fail(401, 'bad_signature', 'the ES256 signature does not verify with k');
  if (applicationServerKey && !key.equals(unb64u(applicationServerKey))) {
    throw new Fail(403, 'wrong_key', 'k is not the key this subscription was made with');
  }
  if (claims.aud !== origin) throw new Fail(401, 'bad_aud', `aud ${claims.aud}, want ${origin}`);
  if (!Number.isInteger(claims.exp) || claims.exp <= nowS || claims.exp > nowS + MAX_EXP_S + 60) {
    throw new Fail(401, 'bad_exp', `exp ${claims.exp}, now ${Math.floor(nowS)}`);
  }
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) {
    throw new Fail(401, 'bad_sub', `sub ${claims.sub}`);
  }
  return { claims, k: params.k };
}

// Decrypts an aes128gcm body (one record) for a subscription; the plaintext
// Buffer, or throws Fail.
export function decryptPush(body, { ecdh, auth }) {
  try {
    if (body.length < 21 + 65 + 17) throw new Error(`body of ${body.length} bytes`);
    const salt = body.subarray(0, 16);
    const rs = body.readUInt32BE(16);
    const idlen = body[20];
    if (idlen !== 65 || rs < 18) throw new Error(`idlen ${idlen}, rs ${rs}`);
    const asPub = body.subarray(21, 86);
    const record = body.subarray(86);
    if (record.length > rs) throw new Error('more than one record');
    const uaPub = ecdh.getPublicKey();
    const secret = ecdh.computeSecret(asPub);
    const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPub, asPub]);
    const ikm = Buffer.from(crypto.hkdfSync('sha256', secret, auth, keyInfo, 32));
    const cek = Buffer.from(crypto.hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
    const nonce = Buffer.from(crypto.hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
    const d = crypto.createDecipheriv('aes-128-gcm', cek, nonce);
    d.setAuthTag(record.subarray(record.length - 16));
    const padded = Buffer.concat([d.update(record.subarray(0, record.length - 16)), d.final()]);
    let end = padded.length - 1;
    while (end >= 0 && padded[end] === 0) end--;
    if (end < 0 || padded[end] !== 2) throw new Error('no 0x02 delimiter of a last record');
    return padded.subarray(0, end);
  } catch (e) {
    throw new Fail(400, 'decrypt', e.message);
  }
}

export async function startPushService({ host = '127.0.0.1', tls } = {}) {
  const subs = new Map();
  const received = [];
  let nextId = 1;
  let origin;

  function handle(req, res, body) {
    const entry = { path: req.url, headers: req.headers, status: 0, code: null };
    received.push(entry);
    const reply = (status, json, extra = {}) => {
      entry.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...extra });
      res.end(JSON.stringify(json));
    };
    try {
      const m = /^\/push\/([a-z0-9]+)$/.exec(req.url);
      const sub = m && subs.get(m[1]);
      if (req.method !== 'POST' || !sub) throw new Fail(404, 'no_subscription', req.url);
      entry.subscription = sub.id;
      if (body.length > MAX_BODY) throw new Fail(413, 'too_big', `${body.length} bytes`);
      const v = verifyVapid(req.headers.authorization, { origin, applicationServerKey: sub.applicationServerKey });
      entry.claims = v.claims;
      if (!/^\d+$/.test(req.headers.ttl || '')) throw new Fail(400, 'no_ttl', `TTL: ${req.headers.ttl}`);
      if (req.headers['content-encoding'] !== 'aes128gcm') {
        throw new Fail(400, 'encoding', `Content-Encoding: ${req.headers['content-encoding']}`);
      }
      entry.bodyLength = body.length;
      entry.plaintext = decryptPush(body, sub).toString('utf8');
      const status = sub.answer;
      if (status === 201) return reply(201, { id: `msg-${received.length}` }, { location: `${origin}/m/${received.length}` });
      entry.code = `asked_${status}`;
      return reply(status, { error: entry.code }, status === 429 ? { 'retry-after': '1' } : {});
    } catch (e) {
      if (!(e instanceof Fail)) throw e;
      entry.code = e.code;
      entry.detail = e.message;
      return reply(e.status, { error: e.code, detail: e.message });
    }
  }

  const onRequest = (req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= MAX_BODY + 1) chunks.push(c);
    });
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  };
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, onRequest) : http.createServer(onRequest);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  origin = `${tls ? 'https' : 'http'}://${host}:${server.address().port}`;

  return {
    origin,
    received,
    // A subscription as pushManager.subscribe() makes one: a fresh P-256
    // key pair and auth secret; applicationServerKey (base64url) binds it
    // to one VAPID key, as browsers do.
    subscribe({ applicationServerKey } = {}) {
      const ecdh = crypto.createECDH('prime256v1');
      ecdh.generateKeys();
      const id = String(nextId++);
      const sub = { id, ecdh, auth: crypto.randomBytes(16), applicationServerKey, answer: 201 };
      subs.set(id, sub);
      return {
        id,
        endpoint: `${origin}/push/${id}`,
        p256dh: b64u(ecdh.getPublicKey()),
        auth: b64u(sub.auth),
      };
    },
    // What the next pushes to this subscription get: 201, 404, 410, 429, ...
    answer(s, status) {
      subs.get(s.id).answer = status;
    },
    // Forgets a subscription: later pushes get 404.
    unsubscribe(s) {
      subs.delete(s.id);
    },
    forSubscription(s) {
      return received.filter((r) => r.subscription === s.id);
    },
    close() {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
