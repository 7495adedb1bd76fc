// lib.mjs - what the S3 tests share: the S3 server they run against (from
// the environment `scripts/s3proxy.sh env` prints; `make test-s3` sets it),
// the selftest binary, and plain HTTP fetches of presigned URLs.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { expectStatus } from '../integration/lib/client.mjs';
import { duetdPath } from '../integration/lib/server.mjs';

// No silent skips: without an S3 server these tests fail, and say why.
export function s3Env() {
  const need = ['DUET_S3_ENDPOINT', 'DUET_S3_BUCKET', 'DUET_S3_ACCESS_KEY_FILE',
    'DUET_S3_SECRET_KEY_FILE', 'DUET_S3_DATA'];
  for (const k of need) {
    assert.ok(process.env[k], `${k} is not set: run these tests with \`make test-s3\` ` +
      '(or eval "$(scripts/s3proxy.sh env)" after scripts/s3proxy.sh start)');
  }
  return {
    endpoint: process.env.DUET_S3_ENDPOINT,
    bucket: process.env.DUET_S3_BUCKET,
    accessKeyFile: process.env.DUET_S3_ACCESS_KEY_FILE,
    secretKeyFile: process.env.DUET_S3_SECRET_KEY_FILE,
    data: process.env.DUET_S3_DATA,
  };
}

// Where S3Proxy's filesystem provider keeps an object.
export function objectPath(env, key) {
  return path.join(env.data, env.bucket, ...key.split('/'));
}

export const selftest = path.join(path.dirname(duetdPath), 's3-selftest');

// Runs the selftest; resolves {code, lines (parsed JSON or raw), stderr}.
export function runSelftest(args, extraEnv = {}) {
  return new Promise((resolve) => {
    execFile(selftest, args, { timeout: 120000, env: { ...process.env, ...extraEnv } },
      (err, stdout, stderr) => {
        const lines = stdout.split('\n').filter(Boolean).map((l) => {
          try { return JSON.parse(l); } catch { return l; }
        });
        resolve({ code: err ? err.code : 0, lines, stderr });
      });
  });
}

// GET a URL with Node's plain HTTP client; resolves {status, headers, body}.
export function httpGet(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(60000, () => req.destroy(new Error('timeout')));
  });
}

export function fileExists(p) {
  return fs.existsSync(p);
}

const b64 = (s) => Buffer.from(s).toString('base64');

// duetd's arguments for --media s3 on the test's S3 server.
export function s3Args(env, extra = []) {
  return ['--media', 's3', '--s3-endpoint', env.endpoint, '--s3-bucket', env.bucket,
    '--s3-access-key-file', env.accessKeyFile, '--s3-secret-key-file', env.secretKeyFile, ...extra];
}

// A whole tus upload: create, then one PATCH; resolves the upload id.
export async function upload(user, bytes, name = 'file.bin') {
  const c = await user.http.request('POST', '/api/uploads', {
    headers: {
      'Tus-Resumable': '1.0.0',
      'Upload-Length': String(bytes.length),
      'Upload-Metadata': `filename ${b64(name)},filetype ${b64('application/octet-stream')}`,
    },
  });
  expectStatus(c, 201, 'tus create:');
  const loc = c.headers.location;
  assert.match(loc, /^\/api\/uploads\/[0-9a-f]{32}$/);
  const p = await user.http.request('PATCH', loc, {
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0' },
    body: bytes,
    contentType: 'application/offset+octet-stream',
    timeoutMs: 120000,
  });
  expectStatus(p, 204, 'tus PATCH:');
  assert.equal(p.headers['upload-offset'], String(bytes.length));
  return loc.slice('/api/uploads/'.length);
}

export async function sendFile(ws, chatId, id, size, name = 'file.bin') {
  const mid = `m-${crypto.randomUUID()}`;
  const ev = await ws.request({
    type: 'send', chat_id: chatId, id: mid, text: '',
    media: { upload: id, type: 4, size, mime: 'application/octet-stream', name },
  });
  assert.equal(ev.type, 'sent', JSON.stringify(ev));
  return { id: mid, seq: ev.seq };
}

