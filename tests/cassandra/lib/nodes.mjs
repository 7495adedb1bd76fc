// nodes.mjs - a local Cassandra cluster of the tests' own, through
// scripts/cassandra.sh: nodes on PREFIX.1..N (default 127.0.1.x, so the
// development node on 127.0.0.1 is never touched) in a directory of its own.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../integration/lib/server.mjs';

const script = path.join(repoRoot, 'scripts', 'cassandra.sh');

// Runs scripts/cassandra.sh; rejects with its output when it fails.
function run(args, timeoutMs) {
  return new Promise((resolve, reject) => {
    execFile(script, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (process.env.DUET_TEST_VERBOSE) process.stderr.write(`[cassandra.sh ${args.join(' ')}]\n${stdout}${stderr}`);
      if (err) reject(new Error(`scripts/cassandra.sh ${args.join(' ')} failed (${err.code ?? err.signal}):\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

export class Nodes {
  constructor({ net = '127.0.1', dir = path.join(repoRoot, 'run', `cassandra-test-${net}`), count = 3 } = {}) {
    this.net = net;
    this.dir = dir;
    this.count = count;
  }

  get hosts() {
    return Array.from({ length: this.count }, (_, i) => this.addr(i + 1));
  }

  addr(n) {
    return `${this.net}.${n}`;
  }

  cmd(args, timeoutMs = 900000) {
    return run(['--dir', this.dir, '--net', this.net, ...args], timeoutMs);
  }

  // A fresh cluster: whatever an earlier run left is stopped and removed.
  async fresh() {
    await this.cmd(['wipe']);
    await this.cmd(['start', '--nodes', String(this.count)]);
  }

  pid(n) {
    try {
      const pid = Number(fs.readFileSync(path.join(this.dir, `node${n}`, 'pid'), 'utf8'));
      process.kill(pid, 0);
      return pid;
    } catch {
      return null;
    }
  }

  kill(n) {
    return this.cmd(['kill', String(n)]);
  }

  // Restarts node n and waits until every node sees every other one Up.
  async restart(n) {
    await this.cmd(['restart', String(n)]);
    await this.waitRing();
  }

  waitRing() {
    return this.cmd(['wait', '--nodes', String(this.count)]);
  }

  // SIGSTOP / SIGCONT: the node's process freezes with its sockets open, so
  // requests to it neither fail nor finish: a timeout, not a refusal.
  pause(n) {
    const pid = this.pid(n);
    if (!pid) throw new Error(`node ${n} is not running`);
    process.kill(pid, 'SIGSTOP');
  }

  resume(n) {
    const pid = this.pid(n);
    if (!pid) throw new Error(`node ${n} is not running`);
    process.kill(pid, 'SIGCONT');
  }

  nodetool(n, ...args) {
    return this.cmd(['nodetool', String(n), ...args]);
  }

  logPath(n) {
    return path.join(this.dir, `node${n}`, 'logs', 'system.log');
  }

  // Stops every node and removes the directory (kept with DUET_KEEP_TMP).
  async remove() {
    for (let n = 1; n <= this.count; n++) {
      try {
        if (this.pid(n)) this.resume(n);
      } catch {}
    }
    if (process.env.DUET_KEEP_TMP) await this.cmd(['stop']);
    else await this.cmd(['wipe']);
  }
}
