// push-env.mjs - what the push suites (41-43) start with: a duetd that may
// push to loopback endpoints, the loopback push service, and duetd's VAPID
// key; and a user's subscription with it.
import { startPushService } from './push-service.mjs';
import { startServer } from './server.mjs';
import { User, expectStatus, uniqueName } from './client.mjs';

// { server, svc, key }; args are more duetd arguments.
export async function startPushEnv(args = []) {
  const server = await startServer({ args: ['--push-test-loopback', ...args] });
  let svc;
  try {
    svc = await startPushService();
    const u = await User.signup(server, uniqueName('k'));
    const res = await u.http.get('/api/push/key');
    expectStatus(res, 200, 'GET /api/push/key:');
    return { server, svc, key: res.json.key };
  } catch (e) {
    await svc?.close();
    await server.stop();
    throw e;
  }
}

// A new subscription of svc that user hands duet (201): the service's side,
// with subId the id duet gave it.
export async function subscribe({ svc, key }, user, device) {
  const s = svc.subscribe({ applicationServerKey: key });
  const body = { endpoint: s.endpoint, keys: { p256dh: s.p256dh, auth: s.auth } };
  if (device !== undefined) body.device = device;
  const r = await user.http.post('/api/push/subscriptions', body);
  expectStatus(r, 201, 'subscribe:');
  s.subId = r.json.subscription.id;
  return s;
}
