// 01 - the HTTP layer: health, errors as JSON, routing, content types,
// keep-alive, pipelining, chunked bodies, instance header.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { HttpClient, expectError, expectStatus, rawRequest, parseRawResponse } from './lib/client.mjs';

describe('01 http', { timeout: 120000 }, () => {
  let srv;
  let http;
  before(async () => {
    srv = await startServer();
    http = new HttpClient(srv);
  });
  after(async () => {
    await srv?.stop();
  });

  it('GET /healthz answers 200 with status, instance and uptime', async () => {
    const res = expectStatus(await http.get('/healthz'), 200);
    assert.match(res.headers['content-type'] || '', /^application\/json/);
    assert.equal(res.json.status, 'ok');
    assert.equal(res.json.instance, 'duet-1', 'default --instance is duet-1');
    assert.ok(Number.isInteger(res.json.uptime_ms) && res.json.uptime_ms >= 0, `uptime_ms: ${res.json.uptime_ms}`);
    const res2 = expectStatus(await http.get('/healthz'), 200);
    assert.ok(res2.json.uptime_ms >= res.json.uptime_ms, 'uptime_ms goes forward');
  });

  it('a query string does not change the route', async () => {
    const res = expectStatus(await http.get('/healthz?probe=1&x=%20'), 200);
    assert.equal(res.json.status, 'ok');
  });

  it('every response carries X-Duet-Instance (200, 401, 404, 405, 415, 400)', async () => {
    const responses = [
      await http.get('/healthz'),
      await http.get('/api/me'),
      await http.get('/api/no-such-route'),
      await http.get('/api/signup'),
      await http.post('/api/signup', undefined, { body: 'x', contentType: 'text/plain' }),
      await http.post('/api/signup', undefined, { body: '{', contentType: 'application/json' }),
      await http.get('/metrics'),
      await http.get('/'),
    ];
    for (const r of responses) {
      assert.equal(r.headers['x-duet-instance'], 'duet-1', `status ${r.status} response without X-Duet-Instance: ${JSON.stringify(r.headers)}`);
    }
  });

  it('unknown API route → 404 not_found as JSON', async () => {
    expectError(await http.get('/api/no-such-route'), 404, 'not_found');
    expectError(await http.post('/api/nope', { a: 1 }), 404, 'not_found');
    expectError(await http.get('/api/chats/x/y/z/w'), 404, 'not_found');
  });

  it('a route with other methods → 405 method_not_allowed', async () => {
    expectError(await http.get('/api/signup'), 405, 'method_not_allowed');
    expectError(await http.get('/api/login'), 405, 'method_not_allowed');
    expectError(await http.request('DELETE', '/api/me'), 405, 'method_not_allowed');
    expectError(await http.request('PUT', '/api/friends/requests', { json: {} }), 405, 'method_not_allowed');
  });

  it('a body that is not application/json → 415 unsupported_media_type', async () => {
    const body = JSON.stringify({ username: 'mediatype', password: 'long enough password' });
    expectError(await http.post('/api/signup', undefined, { body, contentType: 'text/plain' }), 415, 'unsupported_media_type');
    expectError(await http.post('/api/signup', undefined, { body, contentType: 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    expectError(await http.post('/api/signup', undefined, { body }), 415, 'unsupported_media_type', 'no Content-Type:');
    // Nothing was created by the refused requests.
    expectStatus(await http.post('/api/signup', { username: 'mediatype', password: 'long enough password' }), 201);
  });

  it('application/json with a charset parameter is accepted', async () => {
    const res = await http.post('/api/signup', undefined, {
      body: JSON.stringify({ username: 'charset_user', password: 'long enough password' }),
      contentType: 'application/json; charset=utf-8',
    });
    expectStatus(res, 201);
    assert.equal(res.json.user.username, 'charset_user');
  });

  it('invalid JSON, or JSON that is not an object → 400 bad_json', async () => {
    for (const body of ['{', '', 'null', '[]', '"str"', '42', '{"username": "x",}', "{'a': 1}", '{"a":1} trailing']) {
      expectError(await http.post('/api/signup', undefined, { body, contentType: 'application/json' }), 400, 'bad_json', `body ${JSON.stringify(body)}:`);
    }
  });

  it('a body over 64 KiB → 413 body_too_large, and the server stays up', async () => {
    const big = JSON.stringify({ username: 'big_body', password: 'x'.repeat(70 * 1024) });
    expectError(await http.post('/api/signup', undefined, { body: big, contentType: 'application/json' }), 413, 'body_too_large');
    expectStatus(await http.get('/healthz'), 200);
    // The refused body created nothing.
    const again = await http.post('/api/login', { username: 'big_body', password: 'whatever1' });
    expectError(again, 401, 'bad_credentials');
  });

  it('a chunked request body is decoded', async () => {
    const res = await http.post('/api/signup', { username: 'chunked_user', password: 'long enough password' }, { chunked: true });
    expectStatus(res, 201, 'chunked signup:');
    assert.equal(res.json.user.username, 'chunked_user');
  });

  it('keep-alive: several requests on one connection', async () => {
    const req = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    const res = await rawRequest(srv, req + req + req.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'), { untilResponse: false });
    const statuses = [...res.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [200, 200, 200], `pipelined responses: ${res.text.slice(0, 600)}`);
    assert.equal(res.end, 'close', 'the server closes after Connection: close');
  });

  it('pipelined requests are answered in order', async () => {
    const reqs = [
      'GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n',
      'GET /api/nothing-here HTTP/1.1\r\nHost: h\r\n\r\n',
      'GET /api/me HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n',
    ];
    const res = await rawRequest(srv, reqs.join(''), { untilResponse: false });
    const statuses = [...res.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [200, 404, 401], `responses: ${res.text.slice(0, 800)}`);
  });

  it('HTTP/1.0 request gets an answer and the connection closes', async () => {
    const res = await rawRequest(srv, 'GET /healthz HTTP/1.0\r\n\r\n', { untilResponse: false });
    const p = parseRawResponse(res.buffer);
    assert.equal(p.status, 200, res.text.slice(0, 300));
    assert.equal(res.end, 'close');
  });

  it('/api/me without a session → 401 unauthorized; with a made-up cookie too', async () => {
    expectError(await new HttpClient(srv).get('/api/me'), 401, 'unauthorized');
    const fake = new HttpClient(srv, { cookie: 'A'.repeat(43) });
    expectError(await fake.get('/api/me'), 401, 'unauthorized');
    const junk = new HttpClient(srv, { cookie: 'not base64 !!' });
    expectError(await junk.get('/api/me'), 401, 'unauthorized');
  });
});
