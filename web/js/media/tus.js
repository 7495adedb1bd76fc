// tus.js - the resumable upload protocol (tus 1.0.0: core, creation,
// termination) against /api/uploads, with the session cookie. PATCHes go
// out in chunks so that what the server has stored is never more than one
// chunk behind what we sent: a cut connection or a server restart costs at
// most a chunk, and HEAD tells where to go on.

import { clipName } from './labels.js';

const TUS = { 'Tus-Resumable': '1.0.0' };
export const CHUNK = 4 * 1024 * 1024;

export class TusError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

// Errors worth trying again (the network, the server restarting or busy).
export function transientTus(e) {
  if (e?.code === 'quota') return false; // the day's bytes: not a matter of seconds
  return !e || e.code === 'network' || e.status === 0 || e.status >= 500 || e.status === 429 || e.code === 'busy';
}

function b64(s) {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

async function fail(res) {
  let j = null;
  try {
    j = await res.json();
  } catch {
    /* not JSON */
  }
  const err = j?.error;
  const code = typeof err === 'string' ? err : err?.code || `http_${res.status}`;
  return new TusError(res.status, code, (typeof err === 'object' && err?.message) || j?.message || res.statusText);
}

async function req(method, url, headers = {}) {
  let res;
  try {
    res = await fetch(url, { method, credentials: 'same-origin', headers: { ...TUS, ...headers }, cache: 'no-store' });
  } catch {
    throw new TusError(0, 'network', 'The server cannot be reached.');
  }
  if (!res.ok) throw await fail(res);
  return res;
}

// Creates an upload; resolves to its URL (/api/uploads/<id>).
export async function tusCreate(size, name, mime) {
  const meta = `filename ${b64(clipName(name))},filetype ${b64(mime || 'application/octet-stream')}`;
  const res = await req('POST', '/api/uploads', { 'Upload-Length': String(size), 'Upload-Metadata': meta });
  const loc = res.headers.get('Location');
  if (!loc) throw new TusError(res.status, 'bad_answer', 'The server gave no upload address.');
  return new URL(loc, location.origin).pathname;
}

// The server's offset, or null when the upload is gone (404/410).
export async function tusOffset(url) {
  try {
    const res = await req('HEAD', url);
    return Number(res.headers.get('Upload-Offset') || 0);
  } catch (e) {
    if (e.status === 404 || e.status === 410) return null;
    throw e;
  }
}

// Termination. Right after a cancelled PATCH the server may not have seen
// the connection go yet (upload_busy): ask again a few times.
export async function tusDelete(url) {
  for (let i = 0; ; i++) {
    try {
      await req('DELETE', url);
      return;
    } catch (e) {
      if (e.status === 404 || e.status === 410) return;
      if (e.code !== 'upload_busy' || i >= 20) throw e;
      await new Promise((r) => setTimeout(r, 250 + i * 100));
    }
  }
}

// One PATCH of blob.slice(offset, offset + CHUNK) with upload progress.
// Resolves to the new offset. ctl.abort() cancels it.
export function tusPatch(url, blob, offset, onProgress, ctl) {
  const chunk = blob.slice(offset, Math.min(blob.size, offset + CHUNK));
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('PATCH', url);
    x.withCredentials = true;
    x.setRequestHeader('Tus-Resumable', '1.0.0');
    x.setRequestHeader('Upload-Offset', String(offset));
    x.setRequestHeader('Content-Type', 'application/offset+octet-stream');
    x.upload.onprogress = (e) => onProgress?.(offset + e.loaded);
    x.onload = () => {
      if (x.status === 204 || x.status === 200) {
        resolve(Number(x.getResponseHeader('Upload-Offset') || offset + chunk.size));
        return;
      }
      let j = null;
      try {
        j = JSON.parse(x.responseText);
      } catch {
        /* not JSON */
      }
      const err = j?.error;
      reject(new TusError(x.status, typeof err === 'string' ? err : err?.code || `http_${x.status}`, err?.message));
    };
    x.onerror = () => reject(new TusError(0, 'network', 'The upload was cut.'));
    x.onabort = () => reject(new TusError(0, 'aborted', 'Cancelled.'));
    if (ctl) ctl.abort = () => x.abort();
    x.send(chunk);
  });
}

// Downloads url with progress (for files over ~200 KB); resolves to a Blob.
// ctl.abort() cancels it. Redirects (a presigned S3 URL) are followed.
export function download(url, onProgress, ctl) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('GET', url);
    // Same-origin requests carry the cookie anyway; a redirect to a
    // presigned URL elsewhere must not (it needs no credentials).
    x.withCredentials = false;
    x.responseType = 'blob';
    x.onprogress = (e) => onProgress?.(e.loaded, e.lengthComputable ? e.total : 0);
    x.onload = () => (x.status === 200 ? resolve(x.response) : reject(new TusError(x.status, `http_${x.status}`)));
    x.onerror = () => reject(new TusError(0, 'network', 'The download was cut.'));
    x.onabort = () => reject(new TusError(0, 'aborted', 'Cancelled.'));
    if (ctl) ctl.abort = () => x.abort();
    x.send();
  });
}
