// 09 - media on S3 in a cluster (issue 15): two instances with --media s3 on
// one bucket (S3Proxy, `make test-s3` starts it) behind nginx. Alice's
// requests land on instance 1, Bob's on instance 2 (ip_hash, addrFor): the
// upload is stored in the bucket through instance 1, sent there, and Bob
// downloads it through instance 2's presigned redirect; delete for
// everyone through instance 1 removes the object, and instance 2 then
// answers 404.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { User, befriend } from '../integration/lib/client.mjs';
import { waitFor } from '../integration/lib/server.mjs';
import { httpGet, objectPath, s3Args, s3Env, sendFile, upload } from '../s3/lib.mjs';
import { startCluster } from './lib/cluster.mjs';

describe('09 media on S3 across instances', { timeout: 300000 }, () => {
  let env;
  let cl;
  before(async () => {
    env = s3Env();
    cl = await startCluster({ instances: 2, args: s3Args(env) });
  });
  after(async () => {
    await cl?.stop();
  });

  it('uploaded and sent on one instance, downloaded through the other', async () => {
    const alice = await User.signup(cl.endpoint, `s3a_${process.pid}`, { localAddress: cl.addrFor(1) });
    const bob = await User.signup(cl.endpoint, `s3b_${process.pid}`, { localAddress: cl.addrFor(2) });
    const chatId = await befriend(alice, bob);

    const bytes = crypto.randomBytes(200000);
    const id = await upload(alice, bytes, 'both.bin');
    const obj = objectPath(env, `media/${id}`);
    assert.deepEqual(fs.readFileSync(obj), bytes, 'in the shared bucket');

    const wa = await alice.connect();
    const wb = await bob.connect();
    assert.equal(wa.hello.instance, 'duet-1');
    assert.equal(wb.hello.instance, 'duet-2');
    const sent = await sendFile(wa, chatId, id, bytes.length, 'both.bin');
    const ev = await wb.next('message', (e) => e.id === sent.id);
    assert.equal(ev.media.id, id);

    const res = await bob.http.get(`/api/media/${id}`);
    assert.equal(res.headers['x-duet-instance'], 'duet-2', 'answered by the other instance');
    assert.equal(res.status, 302);
    assert.equal(res.headers['cache-control'], 'private, no-store');
    const got = await httpGet(res.headers.location);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, bytes);

    const del = await wa.request({ type: 'delete', chat_id: chatId, seq: sent.seq });
    assert.equal(del.type, 'deleted', JSON.stringify(del));
    await waitFor(() => !fs.existsSync(obj), 'the object leaves the bucket', 20000);
    const gone = await bob.http.get(`/api/media/${id}`);
    assert.equal(gone.headers['x-duet-instance'], 'duet-2');
    assert.equal(gone.status, 404);
    await alice.closeAll();
    await bob.closeAll();
  });
});
