// 06 - deploy/cluster.sh itself (issue 12 item 5, issue 14 item 11): a
// 2-instance cluster on free ports in a temporary run directory.
// - settings given to `start` are kept in the run directory: `status` and
//   `stop` with only DUET_RUN_DIR find nginx and Redis on their ports;
// - a Redis that exited but was not reaped (a zombie: kill -0 still works)
//   or that is frozen (SIGSTOP) is not "already running": `start` probes
//   with PING and starts a fresh one;
// - nginx denies /metrics while each instance's own port serves it, and a
//   burst over the per-address request limit gets 429 from nginx.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { duetdPath, repoRoot, sleep, waitFor } from '../integration/lib/server.mjs';
import { freePort, httpGet } from './lib/cluster.mjs';

const script = path.join(repoRoot, 'deploy', 'cluster.sh');

// Two consecutive free ports for the instances (cluster.sh uses BASE, BASE+1).
async function freePair() {
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    const q = await freePort();
    if (q === p + 1 || p > 65000) continue;
    // p + 1 is free unless something listens there; a failed connect proves it.
    const r = spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${p + 1}`], { timeout: 2000 });
    if (r.status !== 0) return p;
  }
  throw new Error('no two consecutive free ports');
}

// The environment without any DUET_* setting, plus `extra`.
function env(extra) {
  const e = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^DUET/.test(k)));
  return { ...e, ...extra };
}

function run(args, extra) {
  const r = spawnSync(script, args, { env: env(extra), encoding: 'utf8', timeout: 120000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function redisPing(port) {
  const r = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8', timeout: 3000 });
  return (r.stdout || '').trim() === 'PONG';
}

describe('06 deploy/cluster.sh', { timeout: 300000 }, () => {
  let dir, base, http, rport, runEnv, zombieParent;
  const get = (port, p, from) => httpGet('127.0.0.1', port, p, from);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-cluster-sh-'));
    base = await freePair();
    http = await freePort();
    rport = await freePort();
    runEnv = { DUET_RUN_DIR: dir };
    const r = run(['start'], {
      ...runEnv, DUET_INSTANCES: '2', DUET_BASE_PORT: String(base), DUET_HTTP: `127.0.0.1:${http}`,
      DUET_REDIS_PORT: String(rport), DUETD: duetdPath, DUET_ARGS: '--argon2-mem 8192 --argon2-ops 1',
      DUET_NGINX_LIMIT_RATE: '5', DUET_NGINX_LIMIT_BURST: '10',
    });
    assert.equal(r.status, 0, r.out);
  });

  after(async () => {
    if (zombieParent) zombieParent.kill('SIGKILL');
    if (!dir) return;
    const r = run(['stop'], runEnv);
    if (r.status !== 0) console.error(r.out);
    // Whatever is left (stop failed): the pids this test's cluster wrote.
    for (const f of ['pids/redis.pid', 'pids/duetd-1.pid', 'pids/duetd-2.pid', 'nginx.pid']) {
      try {
        process.kill(Number(fs.readFileSync(path.join(dir, f), 'utf8')), 'SIGKILL');
      } catch {}
    }
    if (!process.env.DUET_KEEP_TMP) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('status needs only the run directory: the settings of start are remembered', () => {
    const r = run(['status'], runEnv);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /redis: up/);
    assert.match(r.out, /duet-1: up/);
    assert.match(r.out, /duet-2: up/);
    assert.match(r.out, new RegExp(`nginx: up \\(http://127\\.0\\.0\\.1:${http}\\)`));
    assert.doesNotMatch(r.out, /duet-3/);
  });

  it('nginx denies /metrics; each instance still serves it on its own port', async () => {
    for (const p of ['/metrics', '/metrics?x=1', '/%6detrics', '//metrics']) {
      const r = await get(http, p, '127.0.70.1');
      assert.equal(r.status, 403, `${p} through nginx`);
    }
    for (const port of [base, base + 1]) {
      const r = await get(port, '/metrics');
      assert.equal(r.status, 200, `/metrics on 127.0.0.1:${port}`);
      assert.match(r.text, /duet/);
    }
    assert.equal((await get(http, '/healthz', '127.0.70.1')).status, 200);
  });

  it('a burst over the per-address request limit gets 429 from nginx, other addresses do not', async () => {
    // rate 5/s, burst 10: 40 requests at once from one address.
    const rs = await Promise.all(Array.from({ length: 40 }, () => get(http, '/healthz', '127.0.71.1')));
    const codes = rs.map((r) => r.status);
    const limited = codes.filter((c) => c === 429).length;
    console.log(`# burst of 40: ${codes.filter((c) => c === 200).length} x 200, ${limited} x 429`);
    assert.ok(limited >= 20, `expected most of the burst refused, got ${codes.join(',')}`);
    assert.ok(codes.every((c) => c === 200 || c === 429), codes.join(','));
    assert.equal((await get(http, '/healthz', '127.0.72.1')).status, 200);
  });

  it('a Redis that exited but is not reaped yet (zombie) is started again', async () => {
    const pidFile = path.join(dir, 'pids', 'redis.pid');
    const old = Number(fs.readFileSync(pidFile, 'utf8'));
    process.kill(old, 'SIGKILL');
    await waitFor(() => !redisPing(rport), 'redis gone', 5000);
    // Redis daemonizes, so init reaps it at once here; a parent that does not
    // reap (as after kill -9 on some hosts) leaves a zombie with a pid that
    // kill -0 accepts. Make one and point redis.pid at it.
    zombieParent = spawn('bash', ['-c', 'sleep 600 & echo $!; exec sleep 600'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const zpid = await new Promise((resolve) => zombieParent.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
    // Only once bash has become the sleep that never reaps: killed before
    // its exec, bash itself would reap the child and leave no zombie.
    const comm = (pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        return '';
      }
    };
    await waitFor(() => comm(zombieParent.pid) === 'sleep', 'the parent exec', 5000);
    process.kill(zpid, 'SIGKILL');
    await waitFor(() => /^Z/.test(fs.readFileSync(`/proc/${zpid}/stat`, 'utf8').replace(/^.*\) /, '')), 'zombie', 5000);
    fs.writeFileSync(pidFile, `${zpid}\n`);

    const r = run(['start'], runEnv);
    assert.equal(r.status, 0, r.out);
    assert.doesNotMatch(r.out, /redis already running/);
    assert.ok(redisPing(rport), `redis answers PING after start\n${r.out}`);
    zombieParent.kill('SIGKILL');
    zombieParent = null;
  });

  it('a frozen Redis (SIGSTOP) is killed and started afresh', async () => {
    const pidFile = path.join(dir, 'pids', 'redis.pid');
    const frozen = Number(fs.readFileSync(pidFile, 'utf8'));
    process.kill(frozen, 'SIGSTOP');
    try {
      const r = run(['start'], runEnv);
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /redis .*does not answer; killing it/);
      assert.ok(redisPing(rport), `redis answers PING after start\n${r.out}`);
      assert.notEqual(Number(fs.readFileSync(pidFile, 'utf8')), frozen);
    } finally {
      try {
        process.kill(frozen, 'SIGKILL');
      } catch {}
    }
    const s = run(['status'], runEnv);
    assert.equal(s.status, 0, s.out);
  });

  it('stop needs only the run directory and stops Redis, the instances and nginx', async () => {
    const r = run(['stop'], runEnv);
    assert.equal(r.status, 0, r.out);
    assert.ok(!redisPing(rport), 'redis still answers after stop');
    for (const port of [http, base, base + 1]) {
      await assert.rejects(get(port, '/healthz'), `127.0.0.1:${port} still answers after stop`);
    }
    await sleep(10);
  });
});
