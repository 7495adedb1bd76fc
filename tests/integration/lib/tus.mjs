// tus.mjs - a small tus 1.0.0 client for duet's /api/uploads (issue 15),
// sample bytes of each media type, and helpers for media messages.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { expectStatus, nextAddr } from './client.mjs';

const TUS = { 'Tus-Resumable': '1.0.0' };

export const b64 = (s) => Buffer.from(s).toString('base64');

export function metadata({ filename, filetype } = {}) {
  const parts = [];
  if (filename !== undefined) parts.push(`filename ${b64(filename)}`);
  if (filetype !== undefined) parts.push(`filetype ${b64(filetype)}`);
  return parts.join(',');
}

// Sample bodies: the magic bytes of a type, then random bytes (the server
// never decodes, it only sniffs the first bytes).
const MAGIC = {
  jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
  png: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  gif: Buffer.from('GIF89a'),
  webp: Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 ')]),
  mp4: Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.alloc(4)]),
  m4a: Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypM4A '), Buffer.alloc(4)]),
  webm: Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01]),
  ogg: Buffer.from('OggS\0\x02'),
  mp3: Buffer.from('ID3\x04\0'),
  pdf: Buffer.from('%PDF-1.7\n'),
  html: Buffer.from('<!doctype html><script>alert(1)</script>'),
  svg: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
};

export function sample(kind, size = 4096) {
  const m = MAGIC[kind];
  assert.ok(m, `no sample for ${kind}`);
  if (kind === 'html' || kind === 'svg') return Buffer.concat([m, Buffer.alloc(Math.max(0, size - m.length), 0x20)]);
  return Buffer.concat([m, crypto.randomBytes(Math.max(0, size - m.length))]);
}

// A tiny valid-looking thumbnail data: URL (not decoded by the server).
export const THUMB = `data:image/jpeg;base64,${Buffer.concat([MAGIC.jpeg, crypto.randomBytes(200)]).toString('base64')}`;

export class Tus {
  constructor(user) {
    this.user = user;
    this.http = user.http;
  }

  create(length, { filename = 'file.bin', filetype = 'application/octet-stream', headers = {} } = {}) {
    return this.http.request('POST', '/api/uploads', {
      headers: { ...TUS, 'Upload-Length': String(length), 'Upload-Metadata': metadata({ filename, filetype }), ...headers },
    });
  }

  head(id, headers = {}) {
    return this.http.request('HEAD', `/api/uploads/${id}`, { headers: { ...TUS, ...headers } });
  }

  patch(id, offset, body, { headers = {}, chunked = false } = {}) {
    return this.http.request('PATCH', `/api/uploads/${id}`, {
      body,
      chunked,
      contentType: 'application/offset+octet-stream',
      headers: { ...TUS, 'Upload-Offset': String(offset), ...headers },
    });
  }

  del(id, headers = {}) {
    return this.http.request('DELETE', `/api/uploads/${id}`, { headers: { ...TUS, ...headers } });
  }

  // Creates and uploads buf in one PATCH (or in pieces of chunk bytes);
  // returns the upload id.
  async upload(buf, meta = {}, { chunk = buf.length } = {}) {
    const c = await this.create(buf.length, meta);
    expectStatus(c, 201, 'tus create:');
    const id = c.headers.location.split('/').pop();
    for (let off = 0; off < buf.length; off += chunk) {
      const p = await this.patch(id, off, buf.subarray(off, off + chunk));
      expectStatus(p, 204, `tus PATCH at ${off}:`);
      assert.equal(Number(p.headers['upload-offset']), Math.min(off + chunk, buf.length));
    }
    return id;
  }

  // Sends the start of a PATCH of `total` bytes over a raw socket, the first
  // `sent` bytes of body, then destroys the socket (a cut connection).
  cutPatch(server, id, offset, body, sent, { settleMs = 300 } = {}) {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: server.host, port: server.port, localAddress: this.user.addr || nextAddr() });
      sock.on('error', () => {});
      sock.on('connect', () => {
        sock.write(
          `PATCH /api/uploads/${id} HTTP/1.1\r\nHost: x\r\nCookie: duet_session=${this.http.session}\r\n` +
            `Tus-Resumable: 1.0.0\r\nUpload-Offset: ${offset}\r\n` +
            `Content-Type: application/offset+octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`,
        );
        sock.write(body.subarray(0, sent), () => {
          setTimeout(() => {
            sock.destroy();
            resolve();
          }, settleMs);
        });
      });
      sock.setTimeout(10000, () => reject(new Error('cutPatch: socket timed out')));
    });
  }
}

/** The head of a raw tus PATCH of upload id at offset, as user, ending
 * with the framing header given (Content-Length or Transfer-Encoding),
 * for tests that send a body no HTTP client would. */
export function rawPatchHead(user, id, offset, framing) {
  return (
    `PATCH /api/uploads/${id} HTTP/1.1\r\nHost: x\r\nCookie: duet_session=${user.http.session}\r\n` +
    `Tus-Resumable: 1.0.0\r\nUpload-Offset: ${offset}\r\nContent-Type: application/offset+octet-stream\r\n` +
    `${framing}\r\n\r\n`
  );
}

export function uploadIdOf(res) {
  return res.headers.location.split('/').pop();
}

// The media object of a send for an upload of buf.
export function mediaFor(id, type, buf, extra = {}) {
  const m = { upload: id, type, size: buf.length, name: `f-${type}`, mime: 'x/y' };
  if (type === 1 || type === 2) m.thumb = THUMB;
  if (type === 1 || type === 2) Object.assign(m, { width: 640, height: 480 });
  if (type === 2 || type === 3) m.duration_ms = 1500;
  if (type === 3) m.waveform = [0, 10, 255, 128];
  return { ...m, ...extra };
}

export function sendMedia(ws, chatId, media, { text = '', id = `m-${crypto.randomUUID()}` } = {}) {
  return ws.request({ type: 'send', chat_id: chatId, id, text, media });
}
