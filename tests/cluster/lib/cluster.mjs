// cluster.mjs - a real cluster on loopback for one test file: redis-server,
// N duetd instances on one SQLite data dir, and nginx (ip_hash) in front,
// its config rendered by deploy/render-nginx.sh.
//
// Clients reach an instance through nginx by binding a source address in a
// /24 that ip_hash sends there: probe() asks /healthz from 127.X.0.1 for many
// X and remembers which instance answered.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import {
  DuetServer,
  SLOW,
  mkTempDir,
  repoRoot,
  rmDir,
  waitFor,
  within,
} from '../../integration/lib/server.mjs';

export const TTL_S = 4; // --presence-ttl of the test clusters (fast reaping)

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function tail(s, n = 3000) {
  return s.length > n ? '…' + s.slice(-n) : s;
}

// GET through a given source address; resolves {status, json, headers}.
export function httpGet(host, port, p, localAddress, timeoutMs = 5000 * SLOW) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path: p, localAddress, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode, json, text, headers: res.headers });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${p} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

// A child process with its output collected.
class Proc {
  constructor(name, cmd, args, opts = {}) {
    this.name = name;
    this.out = '';
    this.proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stderr.setEncoding('utf8');
    const verbose = !!process.env.DUET_TEST_VERBOSE;
    const onData = (d) => {
      this.out += d;
      if (verbose) process.stderr.write(`[${name}] ${d}`);
    };
    this.proc.stdout.on('data', onData);
    this.proc.stderr.on('data', onData);
    this.exit = null;
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    this.proc.on('error', (e) => {
      this.out += `spawn error: ${e.message}\n`;
    });
  }

  async stop(sig = 'SIGTERM', timeoutMs = 15000 * SLOW) {
    if (this.exit) return this.exit;
    this.proc.kill(sig);
    const r = await within(this.exited, timeoutMs);
    if (!r) {
      this.proc.kill('SIGKILL');
      await this.exited;
      throw new Error(`${this.name} did not exit within ${timeoutMs} ms of ${sig}:\n${tail(this.out)}`);
    }
    return r;
  }
}

export class Redis {
  constructor(port, dir) {
    this.port = port;
    this.dir = dir;
    this.proc = null;
  }

  async start() {
    this.proc = new Proc('redis', 'redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', this.dir, '--daemonize', 'no', '--loglevel', 'warning',
    ]);
    await waitFor(async () => (await this.cli('PING')).trim() === 'PONG', 'redis to answer PING', 10000 * SLOW);
    return this;
  }

  cli(...args) {
    const r = spawnSync('redis-cli', ['-p', String(this.port), ...args], { encoding: 'utf8', timeout: 5000 });
    if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${r.stderr || r.error}`);
    return r.stdout;
  }

  kill() {
    return this.proc.stop('SIGKILL');
  }

  pause() {
    this.proc.proc.kill('SIGSTOP');
  }

  resume() {
    this.proc.proc.kill('SIGCONT');
  }

  stop() {
    return this.proc?.stop('SIGTERM');
  }
}

export class Cluster {
  constructor({ instances = 4, ttl = TTL_S, args = [] } = {}) {
    this.n = instances;
    this.ttl = ttl;
    this.extraArgs = args;
    this.dir = mkTempDir('duet-cluster-');
    fs.chmodSync(this.dir, 0o755); // nginx workers run as www-data
    this.dataDir = path.join(this.dir, 'data');
    fs.mkdirSync(this.dataDir);
    this.servers = [];
    this.byInstance = new Map(); // instance id -> [addresses]
    this.host = '127.0.0.1';
  }

  get wsUrl() {
    return `ws://${this.host}:${this.port}/ws`;
  }

  // What the integration helpers (User, HttpClient) take as a "server".
  get endpoint() {
    return { host: this.host, port: this.port, wsUrl: this.wsUrl };
  }

  serverArgs(i) {
    return [
      '--instance', `duet-${i + 1}`, '--redis', `127.0.0.1:${this.redis.port}`, '--trust-proxy',
      '--presence-ttl', String(this.ttl), '--sync', 'normal', ...this.extraArgs,
    ];
  }

  async start() {
    fs.mkdirSync(path.join(this.dir, 'redis'));
    this.redis = await new Redis(await freePort(), path.join(this.dir, 'redis')).start();
    for (let i = 0; i < this.n; i++) {
      this.servers.push(new DuetServer({ dataDir: this.dataDir, args: this.serverArgs(i) }));
    }
    // One at a time: the first creates the schema.
    for (const s of this.servers) await s.start();
    for (const s of this.servers) {
      await waitFor(() => /redis: connected/.test(s.stderr), `${s.opts.args[1]} to connect to redis`, 10000 * SLOW);
    }
    this.port = await freePort();
    await this.startNginx();
    await this.probe();
    return this;
  }

  async startNginx() {
    const ports = this.servers.map((s) => s.port).join(',');
    const render = spawnSync('bash', [
      path.join(repoRoot, 'deploy', 'render-nginx.sh'), '--mode', 'full', '--ports', ports,
      '--listen', `127.0.0.1:${this.port}`, '--run-dir', this.dir, '--workers', '1',
      '--fail-timeout', '3s',
    ], { encoding: 'utf8' });
    if (render.status !== 0) throw new Error(`render-nginx.sh failed: ${render.stderr}`);
    this.nginxConf = path.join(this.dir, 'nginx.conf');
    fs.writeFileSync(this.nginxConf, render.stdout);
    fs.mkdirSync(path.join(this.dir, 'logs'), { recursive: true });
    fs.mkdirSync(path.join(this.dir, 'nginx-tmp'), { recursive: true });
    this.nginx = new Proc('nginx', 'nginx', ['-p', this.dir, '-c', this.nginxConf, '-e', path.join(this.dir, 'logs', 'nginx-error.log'), '-g', 'daemon off;']);
    await waitFor(async () => {
      const r = await httpGet(this.host, this.port, '/healthz', '127.0.0.1');
      return r.status === 200;
    }, 'nginx to proxy /healthz', 10000 * SLOW);
  }

  // Which instance each 127.X.0.0/24 reaches through nginx.
  async probe() {
    this.byInstance.clear();
    for (let x = 1; x <= 120; x++) {
      const addr = `127.${x}.0.1`;
      const r = await httpGet(this.host, this.port, '/healthz', addr);
      if (r.status !== 200) throw new Error(`probe from ${addr}: HTTP ${r.status}`);
      const id = r.json.instance;
      if (r.headers['x-duet-instance'] !== id) throw new Error('X-Duet-Instance and /healthz disagree');
      if (!this.byInstance.has(id)) this.byInstance.set(id, []);
      this.byInstance.get(id).push(x);
    }
    for (let i = 1; i <= this.n; i++) {
      if (!this.byInstance.has(`duet-${i}`)) throw new Error(`no /24 reaches duet-${i}: ${JSON.stringify([...this.byInstance])}`);
    }
  }

  // A fresh source address that ip_hash sends to instance i (1-based).
  addrFor(i) {
    const nets = this.byInstance.get(`duet-${i}`);
    this.counters ??= new Map();
    const k = this.counters.get(i) || 0;
    this.counters.set(i, k + 1);
    const x = nets[k % nets.length];
    const host = 2 + Math.floor(k / nets.length);
    return `127.${x}.${Math.floor(host / 250)}.${1 + (host % 250)}`;
  }

  server(i) {
    return this.servers[i - 1];
  }

  // kill -9 of instance i.
  async crash(i) {
    await this.server(i).crash();
  }

  async stop() {
    const problems = [];
    try {
      await this.nginx?.stop('SIGTERM');
    } catch (e) {
      problems.push(e.message);
    }
    // All at once, as a deployment would stop them.
    const results = await Promise.allSettled(this.servers.map((s) => s.stop({ keepData: true })));
    for (const r of results) if (r.status === 'rejected') problems.push(r.reason.message);
    try {
      await this.redis?.stop();
    } catch (e) {
      problems.push(e.message);
    }
    if (!problems.length) rmDir(this.dir);
    else if (!process.env.DUET_KEEP_TMP) rmDir(this.dir);
    if (problems.length) throw new Error(problems.join('\n'));
  }
}

export async function startCluster(opts) {
  const c = new Cluster(opts);
  try {
    await c.start();
  } catch (e) {
    await c.stop().catch(() => {});
    throw e;
  }
  return c;
}
