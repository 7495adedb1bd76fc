// 51 - media access (issue 15): GET /api/media/<id> is for the two
// participants of the message's chat (and the uploader before sending);
// strangers, other chats, another user's upload id, a message withheld by
// a block and unknown ids all get the same 404. A former friend gets what
// their history shows them: the media of messages sent while friends.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from './lib/server.mjs';
import { User, befriend, expectError, expectStatus } from './lib/client.mjs';
import { Tus, mediaFor, sample, sendMedia } from './lib/tus.mjs';

async function notFound(user, id, what) {
  const r = await user.http.get(`/api/media/${id}`);
  expectError(r, 404, 'not_found', `${what}:`);
  assert.equal(r.json.message, 'no such media', `${what}: one answer for every refusal`);
  const h = await user.http.request('HEAD', `/api/media/${id}`);
  assert.equal(h.status, 404, `${what}: HEAD`);
}

describe('51 media access', { timeout: 180000 }, () => {
  let srv, alice, bob, carol, dave, chatAB, chatAC, chatAD, A;
  before(async () => {
    srv = await startServer();
    [alice, bob, carol, dave] = await User.all(srv, ['alice', 'bob', 'carol', 'dave']);
    chatAB = await befriend(alice, bob);
    chatAC = await befriend(alice, carol);
    chatAD = await befriend(alice, dave);
    A = await alice.connect();
  });
  after(async () => {
    await srv?.stop();
  });

  it('lets the uploader alone read an upload before it is sent', async () => {
    const body = sample('png', 3000);
    const id = await new Tus(alice).upload(body);
    expectStatus(await alice.http.get(`/api/media/${id}`), 200);
    await notFound(bob, id, 'a friend, before the send');
    await notFound(carol, id, 'another friend');
    // Bob cannot send Alice's upload as his own.
    const B = await bob.connect();
    await B.expectError({ type: 'send', chat_id: chatAB, id: 'steal', text: '', media: mediaFor(id, 1, body) }, 'upload_not_found');
    await B.close();
    await notFound(alice, '0123456789abcdef0123456789abcdef', 'an unknown id');
    await notFound(alice, 'not-an-id', 'a malformed id');
  });

  it('serves the two participants only: not a stranger, not the other chat', async () => {
    const body = sample('jpeg', 5000);
    const id = await new Tus(alice).upload(body);
    const s = await sendMedia(A, chatAB, mediaFor(id, 1, body));
    assert.equal(s.type, 'sent', JSON.stringify(s));
    expectStatus(await alice.http.get(`/api/media/${id}`), 200);
    expectStatus(await bob.http.get(`/api/media/${id}`), 200);
    await notFound(carol, id, 'alice\'s friend in another chat');
    const [eve] = await User.all(srv, ['eve']);
    await notFound(eve, id, 'a stranger');
    const anon = await new (alice.http.constructor)(srv).get(`/api/media/${id}`);
    expectError(anon, 401, 'unauthorized');
  });

  it('withholds the media of a message sent while the receiver blocked the sender', async () => {
    expectStatus(await carol.http.put(`/api/blocks/${alice.username}`), 204);
    const body = sample('jpeg', 4000);
    const id = await new Tus(alice).upload(body);
    const s = await sendMedia(A, chatAC, mediaFor(id, 1, body));
    assert.equal(s.type, 'sent', 'the block does not show to the sender');
    expectStatus(await alice.http.get(`/api/media/${id}`), 200);
    await notFound(carol, id, 'the blocker, for a withheld message');
    expectStatus(await carol.http.del(`/api/blocks/${alice.username}`), 204);
    await notFound(carol, id, 'still withheld after the unblock');
  });

  it('keeps a former friend\'s access to what their history shows, and no new sends', async () => {
    const body = sample('jpeg', 4000);
    const id = await new Tus(alice).upload(body);
    assert.equal((await sendMedia(A, chatAD, mediaFor(id, 1, body))).type, 'sent');
    expectStatus(await dave.http.del(`/api/friends/${alice.username}`), 204);
    const r = await dave.http.get(`/api/media/${id}`);
    expectStatus(r, 200, 'a removed friend keeps the history and its media:');
    assert.ok(r.buffer.equals(body));
    const id2 = await new Tus(alice).upload(body);
    await A.expectError({ type: 'send', chat_id: chatAD, id: 'after-removal', text: '', media: mediaFor(id2, 1, body) }, 'not_friends');
    await notFound(dave, id2, 'an upload never sent to them');
  });
});
