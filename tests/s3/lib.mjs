// lib.mjs - what the S3 tests share: the S3 server they run against (from
// the environment `scripts/s3proxy.sh env` prints; `make test-s3` sets it),
// the selftest binary, and plain HTTP fetches of presigned URLs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
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
