// 14 - what the web client relies on: security headers (a strict CSP) on the
// page and every static file, gzip where it helps, ETag revalidation that
// picks up a new version at once, the real web/ folder being servable under
// that CSP, and the limits in the hello.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { mkTempDir, repoRoot, rmDir, startServer } from './lib/server.mjs';
import { HttpClient, User, expectError, expectStatus, rawRequest } from './lib/client.mjs';

// Parses a CSP header into Map(directive -> [sources]).
function parseCsp(v) {
  assert.ok(v, 'a Content-Security-Policy header');
  const m = new Map();
  for (const part of v.split(';')) {
    const [name, ...vals] = part.trim().split(/\s+/);
    if (name) m.set(name.toLowerCase(), vals);
  }
  return m;
}

function assertSecurityHeaders(r, what) {
  const csp = parseCsp(r.headers['content-security-policy']);
  assert.deepEqual(csp.get('default-src'), ["'self'"], `${what}: default-src`);
  assert.deepEqual(csp.get('script-src'), ["'self'"], `${what}: script-src (no inline, no eval)`);
  assert.deepEqual(csp.get('style-src'), ["'self'"], `${what}: style-src (no inline styles)`);
  assert.deepEqual(csp.get('connect-src'), ["'self'"], `${what}: connect-src`);
  assert.deepEqual(csp.get('worker-src'), ["'self'"], `${what}: worker-src (the service worker)`);
  assert.deepEqual(csp.get('manifest-src'), ["'self'"], `${what}: manifest-src`);
  assert.deepEqual(csp.get('object-src'), ["'none'"], `${what}: object-src`);
  assert.deepEqual(csp.get('base-uri'), ["'none'"], `${what}: base-uri`);
  assert.deepEqual(csp.get('frame-ancestors'), ["'none'"], `${what}: frame-ancestors`);
  assert.ok(csp.has('form-action'), `${what}: form-action`);
  // Media: the client's own previews (object URLs of files about to be
  // sent) and the thumbnails; blob: nowhere else (not for scripts).
  assert.deepEqual(csp.get('img-src'), ["'self'", 'data:', 'blob:'], `${what}: img-src`);
  assert.deepEqual(csp.get('media-src'), ["'self'", 'blob:'], `${what}: media-src`);
  for (const [d, vals] of csp) {
    for (const v of vals) {
      assert.ok(!/unsafe|\*|^https?:|^data:$/.test(v) || (d === 'img-src' && v === 'data:'), `${what}: ${d} allows ${v}`);
      assert.ok(v !== 'blob:' || d === 'img-src' || d === 'media-src', `${what}: ${d} allows blob:`);
    }
  }
  assert.equal(r.headers['x-content-type-options'], 'nosniff', `${what}: nosniff`);
  assert.equal(r.headers['x-frame-options'], 'DENY', `${what}: X-Frame-Options`);
  assert.equal(r.headers['referrer-policy'], 'no-referrer', `${what}: Referrer-Policy`);
  assert.match(r.headers['permissions-policy'] || '', /camera=\(\)/, `${what}: Permissions-Policy`);
  // Voice notes: the microphone for this origin only.
  assert.match(r.headers['permissions-policy'] || '', /microphone=\(self\)/, `${what}: Permissions-Policy microphone`);
}

describe('14 web: headers, compression, caching', { timeout: 60000 }, () => {
  let srv;
  let web;
  const big = 'function duet() { return "hello, duet"; }\n'.repeat(200); // ~8 KiB, compressible
  before(async () => {
    web = mkTempDir('duet-web14-');
    fs.writeFileSync(path.join(web, 'index.html'), `<!doctype html><title>duet</title>${'<p>page</p>\n'.repeat(150)}`);
    fs.writeFileSync(path.join(web, 'big.js'), big);
    fs.writeFileSync(path.join(web, 'small.css'), 'body { color: red }\n');
    fs.writeFileSync(path.join(web, 'icon.png'), Buffer.alloc(4096, 7)); // compressible bytes, but not a text type
    srv = await startServer({ webDir: web });
  });
  after(async () => {
    await srv?.stop();
    rmDir(web);
  });

  it('the page and every static answer carry the security headers', async () => {
    const h = new HttpClient(srv);
    for (const p of ['/', '/index.html', '/big.js', '/small.css', '/icon.png']) {
      const r = expectStatus(await h.get(p), 200, p);
      assertSecurityHeaders(r, p);
    }
    const nf = await h.get('/missing.js');
    expectError(nf, 404, 'not_found');
    assertSecurityHeaders(nf, '404');
  });

  it('text over 1 KiB is gzip\'d for clients that accept it, with Vary', async () => {
    const h = new HttpClient(srv);
    const gz = expectStatus(await h.get('/big.js', { headers: { 'Accept-Encoding': 'gzip, deflate, br' } }), 200);
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.match(gz.headers.vary || '', /accept-encoding/i);
    assert.match(gz.headers['content-type'], /^text\/javascript/);
    assert.equal(Number(gz.headers['content-length']), gz.buffer.length);
    assert.ok(gz.buffer.length < big.length / 4, `compressed to ${gz.buffer.length} of ${big.length} bytes`);
    assert.equal(zlib.gunzipSync(gz.buffer).toString('utf8'), big);

    const plain = expectStatus(await h.get('/big.js'), 200);
    assert.equal(plain.headers['content-encoding'], undefined, 'no Accept-Encoding: identity');
    assert.equal(plain.text, big);
    assert.match(plain.headers.vary || '', /accept-encoding/i);
    assert.notEqual(plain.headers.etag, gz.headers.etag, 'each representation has its own ETag');

    const refused = expectStatus(await h.get('/big.js', { headers: { 'Accept-Encoding': 'gzip;q=0, br' } }), 200);
    assert.equal(refused.headers['content-encoding'], undefined, 'gzip;q=0 is a refusal');
    assert.equal(refused.text, big);

    const small = expectStatus(await h.get('/small.css', { headers: { 'Accept-Encoding': 'gzip' } }), 200);
    assert.equal(small.headers['content-encoding'], undefined, 'tiny files are sent as they are');
    assert.equal(small.text, 'body { color: red }\n');
    const png = expectStatus(await h.get('/icon.png', { headers: { 'Accept-Encoding': 'gzip' } }), 200);
    assert.equal(png.headers['content-encoding'], undefined, 'images are not re-compressed');
    assert.equal(png.buffer.length, 4096);

    const head = await h.request('HEAD', '/big.js', { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-encoding'], 'gzip');
    assert.equal(Number(head.headers['content-length']), gz.buffer.length, 'HEAD tells the size GET would send');
    assert.equal(head.buffer.length, 0);
  });

  it('ETag + no-cache: 304 while unchanged, the new version at once after a change', async () => {
    const h = new HttpClient(srv);
    const file = path.join(web, 'app.js');
    fs.writeFileSync(file, 'export const version = 1;\n');
    const r1 = expectStatus(await h.get('/app.js'), 200);
    assert.equal(r1.headers['cache-control'], 'no-cache');
    const tag1 = r1.headers.etag;
    assert.match(tag1 || '', /^"[^"]+"$/, 'a strong, quoted ETag');

    const nm = await h.get('/app.js', { headers: { 'If-None-Match': tag1 } });
    assert.equal(nm.status, 304);
    assert.equal(nm.buffer.length, 0);
    assert.equal(nm.headers.etag, tag1);
    assert.equal(nm.headers['cache-control'], 'no-cache');
    assertSecurityHeaders(nm, '304');
    assert.equal((await h.get('/app.js', { headers: { 'If-None-Match': `"nope", W/${tag1}` } })).status, 304, 'weak match in a list');
    assert.equal((await h.get('/app.js', { headers: { 'If-None-Match': '"something-else"' } })).status, 200);

    // A raw 304 has no Content-Length (it would have to be the 200's) and keeps the connection usable.
    const raw = await rawRequest(srv, `GET /app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: ${tag1}\r\n\r\nGET /app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, { untilResponse: false });
    assert.match(raw.text, /^HTTP\/1\.1 304 /);
    const first = raw.text.slice(0, raw.text.indexOf('\r\n\r\n'));
    assert.doesNotMatch(first, /content-length/i);
    assert.match(raw.text, /\r\n\r\nHTTP\/1\.1 200 OK\r\n[\s\S]*export const version = 1;/, 'the next request on the connection is answered');

    // A new version (same size, so only the content differs).
    fs.writeFileSync(file, 'export const version = 2;\n');
    const r2 = await h.get('/app.js', { headers: { 'If-None-Match': tag1 } });
    assert.equal(r2.status, 200, 'the old ETag no longer matches');
    assert.equal(r2.text, 'export const version = 2;\n');
    assert.notEqual(r2.headers.etag, tag1);
    fs.unlinkSync(file);
    expectError(await h.get('/app.js'), 404, 'not_found');
  });

  it('versioned URLs: a page names v/<version>/ files, served immutable while the version is current', async () => {
    const h = new HttpClient(srv);
    fs.writeFileSync(path.join(web, 'v.html'), '<!doctype html><script src="v/@V@/big.js"></script><link rel="stylesheet" href="v/@V@/small.css">');
    const p1 = expectStatus(await h.get('/v.html'), 200);
    assert.equal(p1.headers['cache-control'], 'no-cache', 'the page itself is revalidated');
    assertSecurityHeaders(p1, 'a versioned page');
    assert.doesNotMatch(p1.text, /@V@/);
    const vers = [...p1.text.matchAll(/"v\/([0-9a-f]{16})\//g)].map((m) => m[1]);
    assert.equal(vers.length, 2);
    assert.equal(vers[0], vers[1], 'one version for the folder');
    const ver = vers[0];
    assert.equal((await h.get('/v.html', { headers: { 'If-None-Match': p1.headers.etag } })).status, 304);

    const js = expectStatus(await h.get(`/v/${ver}/big.js`), 200);
    assert.equal(js.text, big);
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assertSecurityHeaders(js, 'a versioned file');
    const stale = expectStatus(await h.get('/v/0123456789abcdef/big.js'), 200, 'an old version still loads');
    assert.equal(stale.headers['cache-control'], 'no-cache', '...but is not cached for good');
    expectError(await h.get(`/v/${ver}/nothing.js`), 404, 'not_found');
    expectError(await h.get(`/v/${ver}/`), 404, 'not_found');
    expectError(await h.get(`/v/${ver}/../big.js`), 404, 'not_found');

    // Any file changing changes the version.
    fs.writeFileSync(path.join(web, 'small.css'), 'body { color: blue; margin: 0 }\n');
    const p2 = expectStatus(await h.get('/v.html'), 200);
    const ver2 = /"v\/([0-9a-f]{16})\//.exec(p2.text)[1];
    assert.notEqual(ver2, ver, 'a new version after a change');
    assert.notEqual(p2.headers.etag, p1.headers.etag);
    assert.equal((await h.get(`/v/${ver}/big.js`)).headers['cache-control'], 'no-cache', 'the old version is no longer immutable');
    assert.equal((await h.get(`/v/${ver2}/small.css`)).text, 'body { color: blue; margin: 0 }\n');
    fs.unlinkSync(path.join(web, 'v.html'));
  });

  it('the service worker at the root names the version, is revalidated, and changes with any file', async () => {
    const h = new HttpClient(srv);
    fs.writeFileSync(path.join(web, 'v.html'), '<!doctype html><script src="v/@V@/big.js"></script>');
    fs.writeFileSync(path.join(web, 'sw.js'), "const VERSION = '@V@';\n");
    fs.mkdirSync(path.join(web, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(web, 'sub', 'sw.js'), "const VERSION = '@V@';\n");
    fs.writeFileSync(path.join(web, 'app.webmanifest'), '{"name":"duet"}\n');
    const ver = /"v\/([0-9a-f]{16})\//.exec(expectStatus(await h.get('/v.html'), 200).text)[1];
    const sw = expectStatus(await h.get('/sw.js'), 200);
    assert.equal(sw.text, `const VERSION = '${ver}';\n`, 'the worker names the version of the page');
    assert.match(sw.headers['content-type'], /^text\/javascript/);
    assert.equal(sw.headers['cache-control'], 'no-cache', 'the worker is always revalidated');
    assertSecurityHeaders(sw, '/sw.js');
    assert.equal((await h.get('/sw.js', { headers: { 'If-None-Match': sw.headers.etag } })).status, 304);
    // Only the page and the root worker are rewritten: other scripts are served as they are.
    assert.equal(expectStatus(await h.get('/sub/sw.js'), 200).text, "const VERSION = '@V@';\n");
    const man = expectStatus(await h.get('/app.webmanifest'), 200);
    assert.match(man.headers['content-type'], /^application\/manifest\+json/);
    assertSecurityHeaders(man, 'a manifest');

    fs.writeFileSync(path.join(web, 'small.css'), 'body { color: green }\n');
    const sw2 = expectStatus(await h.get('/sw.js', { headers: { 'If-None-Match': sw.headers.etag } }), 200, 'a new worker after any change');
    assert.notEqual(sw2.text, sw.text);
    assert.notEqual(sw2.headers.etag, sw.headers.etag);
    const ver2 = /"v\/([0-9a-f]{16})\//.exec(expectStatus(await h.get('/v.html'), 200).text)[1];
    assert.equal(sw2.text, `const VERSION = '${ver2}';\n`);
    for (const f of ['v.html', 'sw.js', 'app.webmanifest']) fs.unlinkSync(path.join(web, f));
    rmDir(path.join(web, 'sub'));
  });
});

describe('14 web: the real web client under that policy', { timeout: 60000 }, () => {
  const webDir = path.join(repoRoot, 'web');
  let srv;
  before(async () => {
    srv = await startServer({ webDir });
  });
  after(async () => {
    await srv?.stop();
  });

  function walk(dir) {
    const out = [];
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) out.push(...walk(p));
      else out.push(p);
    }
    return out;
  }

  it('index.html has no inline script or style, and loads only same-origin files', async () => {
    const h = new HttpClient(srv);
    const page = expectStatus(await h.get('/', { headers: { 'Accept-Encoding': 'gzip' } }), 200);
    const html = page.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(page.buffer).toString('utf8') : page.text;
    assert.match(html, /<script type="module" src="[^"]+"><\/script>/, 'the app is one module script');
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      assert.match(m[1], /\bsrc=/, 'no inline <script>');
      assert.equal(m[2].trim(), '');
    }
    assert.doesNotMatch(html, /<style\b/i, 'no inline <style>');
    assert.doesNotMatch(html, /\sstyle=/i, 'no style attributes');
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handlers');
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i, 'nothing from another origin');
  });

  it('every file of web/ is served with its type and the headers; the module graph resolves', async () => {
    const h = new HttpClient(srv);
    const files = walk(webDir);
    assert.ok(files.length >= 5, 'the client has its files');
    const types = { '.html': /^text\/html/, '.js': /^text\/javascript/, '.css': /^text\/css/, '.svg': /^image\/svg\+xml/, '.png': /^image\/png/, '.webmanifest': /^application\/manifest\+json/ };
    for (const f of files) {
      const rel = '/' + path.relative(webDir, f).split(path.sep).join('/');
      const r = expectStatus(await h.get(rel), 200, rel);
      const want = types[path.extname(f)];
      assert.ok(want, `${rel}: an unexpected kind of file in web/`);
      assert.match(r.headers['content-type'], want, rel);
      assertSecurityHeaders(r, rel);
      assert.ok(fs.statSync(f).size < 800 * 120, `${rel} is reasonably small`);
    }
    // Every relative import of every module exists.
    for (const f of files.filter((x) => x.endsWith('.js'))) {
      const src = fs.readFileSync(f, 'utf8');
      for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
        const target = path.resolve(path.dirname(f), m[1] || m[2]);
        assert.ok(fs.existsSync(target), `${path.relative(webDir, f)} imports ${m[1] || m[2]}, which does not exist`);
      }
    }
  });

  it('no client code builds HTML from strings', () => {
    for (const f of walk(webDir).filter((x) => x.endsWith('.js'))) {
      const src = fs.readFileSync(f, 'utf8');
      for (const bad of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function']) {
        assert.ok(!src.includes(bad), `${path.relative(webDir, f)} uses ${bad}`);
      }
    }
  });

  it('the hello tells the client the server\'s limits', async () => {
    const s2 = await startServer({ args: ['--max-message-chars', '123', '--delete-window', '60'] });
    try {
      const u = await User.signup(s2, 'limits_user');
      const ws = await u.connect();
      assert.deepEqual(ws.hello.limits, { max_message_chars: 123, delete_window_ms: 60000, edit_window_ms: 900000 });
      await ws.close();
    } finally {
      await s2.stop();
    }
  });
});
