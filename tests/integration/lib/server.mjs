// server.mjs - start and stop a real duetd for a test file.
//
// Every server gets a fresh temporary data dir (unless one is given, to
// restart on the same data), listens on 127.0.0.1 with port 0, and collects
// its stderr. stop() fails when duetd exited on its own, did not exit 0 on
// SIGTERM, or printed a sanitizer report.
//
// The store: SQLite in the data dir, or with DUET_TEST_BACKEND=cassandra a
// Cassandra keyspace of its own per data dir (see storeArgs()).
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropKeyspace, keyspaceBytes } from './cql.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..', '..');
export const duetdPath = path.resolve(repoRoot, process.env.DUETD || 'build/duetd');
export const isSanitized = /asan|san/i.test(path.basename(path.dirname(duetdPath))) ||
  !!process.env.ASAN_OPTIONS;

// DUET_TEST_WRAPPER runs every duetd under a command, e.g.
//   DUET_TEST_WRAPPER="valgrind --error-exitcode=99 --leak-check=full"
// (make test-valgrind). Split on spaces; duetd and its arguments follow.
export const wrapper = (process.env.DUET_TEST_WRAPPER || '').split(' ').filter(Boolean);
export const isValgrind = wrapper.some((w) => /valgrind/.test(w));

// The store every DuetServer uses: DUET_TEST_BACKEND=sqlite (the default) or
// cassandra, then on the nodes in DUET_TEST_CASSANDRA (comma-separated,
// default 127.0.0.1; `make test-cassandra`). Each data dir gets a keyspace of
// its own, created by duetd with DUET_TEST_CASSANDRA_REPLICATION (default
// SimpleStrategy, RF 1) and dropped again by cleanup().
export const BACKEND = process.env.DUET_TEST_BACKEND || 'sqlite';
if (BACKEND !== 'sqlite' && BACKEND !== 'cassandra') {
  throw new Error(`DUET_TEST_BACKEND must be sqlite or cassandra, not "${BACKEND}"`);
}
export const isCassandra = BACKEND === 'cassandra';
export const CASSANDRA_HOSTS = (process.env.DUET_TEST_CASSANDRA || '127.0.0.1').split(',').map((h) => h.trim()).filter(Boolean);
export const CASSANDRA_REPLICATION = process.env.DUET_TEST_CASSANDRA_REPLICATION || "{'class':'SimpleStrategy','replication_factor':1}";
const KEYSPACE_FILE = 'test-cassandra-keyspace';

// Timeouts scale up for sanitizer builds, which are several times slower,
// and more under valgrind, which is slower still.
export const SLOW = isValgrind ? 8 : isSanitized ? 3 : 1;

// The command line that runs duetd with args (under the wrapper, if any).
function command(args) {
  return wrapper.length ? [wrapper[0], [...wrapper.slice(1), duetdPath, ...args]] : [duetdPath, args];
}
// On Cassandra, duetd's first start creates a keyspace and its tables: schema
// changes that take seconds each on a busy machine.
export const START_TIMEOUT_MS = 20000 * SLOW * (isCassandra ? 3 : 1);
export const STOP_TIMEOUT_MS = 15000 * SLOW;

// Arguments that keep sign-ups fast (Argon2id with 8 MiB, 1 pass).
export const FAST_HASH = ['--argon2-mem', '8192', '--argon2-ops', '1'];

// Test traffic runs far above a person's message and sign-up rates; the
// limiters themselves are tested in 15-limits, which passes its own (later,
// so winning) values.
export const NO_RATE_LIMIT = ['--msg-rate', '1000000', '--msg-burst', '1000000', '--signup-rate', '0', '--delete-rate', '0'];

// Sanitizer reports, and valgrind memcheck's (its lines start with ==pid==;
// leaks are errors only for the kinds --errors-for-leak-kinds names, which
// the exit code 99 of --error-exitcode reports at exit).
const SANITIZER_RE = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|ThreadSanitizer|MemorySanitizer|==\d+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap|Process terminating)|==\d+== ERROR SUMMARY: [1-9]/;

export function mkTempDir(prefix = 'duet-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function rmDir(dir) {
  if (!dir || process.env.DUET_KEEP_TMP) return;
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}

function tail(s, n = 4000) {
  return s.length > n ? '…' + s.slice(-n) : s;
}

export class DuetServer {
  constructor(opts = {}) {
    this.opts = opts;
    this.ownsData = !opts.dataDir;
    this.dataDir = opts.dataDir || mkTempDir('duet-data-');
    this.webDir = opts.webDir || null;
    this.stderr = '';
    this.stdout = '';
    this.proc = null;
    this.exit = null; // {code, signal} once exited
    this.expectExit = false;
    this.host = '127.0.0.1';
    this.port = 0;
  }

  get url() {
    return `http://${this.host}:${this.port}`;
  }

  get wsUrl() {
    return `ws://${this.host}:${this.port}/ws`;
  }

  get dbPath() {
    return path.join(this.dataDir, 'duet.db');
  }

  // The Cassandra keyspace of this data dir: made up on first use and kept
  // in a file there, so a restart on the same data dir finds its data.
  get keyspace() {
    if (!this._keyspace) {
      const f = path.join(this.dataDir, KEYSPACE_FILE);
      if (fs.existsSync(f)) {
        this._keyspace = fs.readFileSync(f, 'utf8').trim();
      } else {
        // t_<unix seconds, base 36>_<random>: scripts/cassandra.sh
        // drop-test-keyspaces sweeps the ones a crashed run left behind by age.
        this._keyspace = `t_${Math.floor(Date.now() / 1000).toString(36)}_${crypto.randomBytes(6).toString('hex')}`;
        fs.writeFileSync(f, `${this._keyspace}\n`);
      }
    }
    return this._keyspace;
  }

  get cassandraHosts() {
    return this.opts.cassandra?.hosts || CASSANDRA_HOSTS;
  }

  // duetd's store options for the backend under test. opts.cassandra
  // ({hosts, replication, consistency}) overrides the defaults (the cluster
  // tests in tests/cassandra use RF 3 and QUORUM).
  storeArgs() {
    if (!isCassandra && !this.opts.cassandra) return [];
    const c = this.opts.cassandra || {};
    const a = ['--store', 'cassandra', '--cassandra', this.cassandraHosts.join(','), '--cassandra-keyspace', this.keyspace];
    a.push('--cassandra-replication', c.replication || CASSANDRA_REPLICATION);
    const cl = c.consistency || process.env.DUET_TEST_CASSANDRA_CONSISTENCY;
    if (cl) a.push('--cassandra-consistency', cl);
    this.usedKeyspace = true;
    return a;
  }

  // Every byte the store holds: the files of the data dir (SQLite), or every
  // cell of every table in the keyspace (Cassandra), for checks like "the
  // password is not stored in clear". On Cassandra this is what a read can
  // see: a deleted cell leaves the SSTables only at compaction after
  // gc_grace_seconds, which the tests do not wait for.
  async storeBytes() {
    if (!this.usedKeyspace) return readDataDirBytes(this.dataDir);
    return keyspaceBytes(this.cassandraHosts, this.keyspace);
  }

  args() {
    const a = [];
    if (!this.opts.noListen) a.push('--listen', `127.0.0.1:${this.opts.port || 0}`);
    if (!this.opts.noData) a.push('--data', this.dataDir);
    if (!this.opts.noStore) a.push(...this.storeArgs());
    if (!this.opts.noWeb) {
      if (!this.webDir) {
        this.webDir = mkTempDir('duet-web-');
        this.ownsWeb = true;
        fs.writeFileSync(path.join(this.webDir, 'index.html'), '<!doctype html><title>duet test</title>\n');
      }
      a.push('--web', this.webDir);
    }
    if (this.opts.fastHash !== false) a.push(...FAST_HASH);
    a.push(...NO_RATE_LIMIT);
    a.push(...(this.opts.args || []));
    return a;
  }

  async start() {
    if (!fs.existsSync(duetdPath)) {
      throw new Error(`duetd not found at ${duetdPath} (build it with make, or set DUETD)`);
    }
    const env = { ...process.env, ...(this.opts.env || {}) };
    for (const k of Object.keys(env)) {
      // Never let the caller's environment configure duetd behind a test's back.
      if (k.startsWith('DUET_') && !(this.opts.env && k in this.opts.env)) delete env[k];
    }
    // stderr accumulates over restarts; this run's part starts at base.
    if (this.stderr) this.stderr += `--- restart ---\n`;
    const base = this.stderr.length;
    this.exit = null;
    this.expectExit = false;
    const [cmd, argv] = command(this.args());
    const proc = spawn(cmd, argv, {
      cwd: this.opts.cwd || this.dataDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    this.pid = proc.pid;
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      this.stdout += d;
    });
    const verbose = !!process.env.DUET_TEST_VERBOSE;
    // A Cassandra store (this run's backend, or one given to this server) starts
    // slower: the schema's tables and indexes are agreed on by every node.
    const startTimeout = this.opts.startTimeoutMs || (this.opts.cassandra ? 3 * START_TIMEOUT_MS : START_TIMEOUT_MS);
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    proc.on('error', () => {});
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        try {
          proc.kill('SIGKILL');
        } catch {}
        reject(new Error(`duetd did not log "listening on" within ${startTimeout} ms; stderr:\n${tail(this.stderr.slice(base))}`));
      }, startTimeout);
      const onData = (d) => {
        this.stderr += d;
        if (verbose) process.stderr.write(`[duetd ${proc.pid}] ${d}`);
        const m = /listening on http:\/\/([0-9.]+|\[[0-9a-f:]+\]):(\d+)/.exec(this.stderr.slice(base));
        if (m) {
          this.host = m[1];
          this.port = Number(m[2]);
          cleanup();
          resolve();
        }
      };
      const onExit = (code, signal) => {
        cleanup();
        reject(new Error(`duetd exited during start-up (code ${code}, signal ${signal}); args ${this.args().join(' ')}; stderr:\n${tail(this.stderr.slice(base))}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        proc.removeListener('exit', onExit);
        proc.stderr.removeListener('data', onData);
        proc.stderr.on('data', (d) => {
          this.stderr += d;
          if (verbose) process.stderr.write(`[duetd ${proc.pid}] ${d}`);
        });
      };
      proc.stderr.on('data', onData);
      proc.on('exit', onExit);
    });
    return this;
  }

  isRunning() {
    return this.proc && !this.exit;
  }

  // Problems that make a test fail whatever else happened.
  sanitizerReport() {
    const m = SANITIZER_RE.exec(this.stderr);
    if (!m) return null;
    return this.stderr.slice(Math.max(0, m.index - 200), m.index + 6000);
  }

  assertHealthy() {
    const rep = this.sanitizerReport();
    if (rep) throw new Error(`duetd printed a sanitizer report:\n${rep}`);
    if (this.exit && !this.expectExit) {
      throw new Error(`duetd exited unexpectedly (code ${this.exit.code}, signal ${this.exit.signal}); stderr:\n${tail(this.stderr)}`);
    }
  }

  // Sends a signal and waits for the exit. Returns {code, signal}.
  async signal(sig, timeoutMs = STOP_TIMEOUT_MS) {
    this.assertHealthy();
    this.expectExit = true;
    this.proc.kill(sig);
    const res = await within(this.exited, timeoutMs);
    if (!res) {
      this.proc.kill('SIGKILL');
      await this.exited;
      throw new Error(`duetd did not exit within ${timeoutMs} ms of ${sig}; stderr:\n${tail(this.stderr)}`);
    }
    return res;
  }

  // kill -9: no cleanup at all. Used by the crash tests.
  async crash() {
    this.assertHealthy();
    this.expectExit = true;
    this.proc.kill('SIGKILL');
    return this.exited;
  }

  // Graceful stop with checks: exit status 0 and a clean stderr. Safe to call
  // twice and after crash(). Keeps the data dir if keepData.
  async stop({ keepData = false } = {}) {
    const problems = [];
    if (this.proc && !this.exit) {
      try {
        const res = await this.signal('SIGTERM');
        if (res.code === 99 && isValgrind) problems.push('valgrind found errors (exit code 99; see its report in stderr)');
        else if (res.code !== 0) problems.push(`duetd exited with code ${res.code}, signal ${res.signal} after SIGTERM`);
      } catch (e) {
        problems.push(e.message);
      }
    } else if (this.proc && this.exit && !this.expectExit) {
      problems.push(`duetd exited unexpectedly (code ${this.exit.code}, signal ${this.exit.signal})`);
    }
    const rep = this.sanitizerReport();
    if (rep) problems.push(`sanitizer report:\n${rep}`);
    this.expectExit = true;
    if (!keepData) this.cleanup();
    if (problems.length) {
      throw new Error(`${problems.join('\n')}\n--- duetd stderr (tail) ---\n${tail(this.stderr)}`);
    }
  }

  cleanup() {
    if (this.proc && !this.exit) {
      try {
        this.proc.kill('SIGKILL');
      } catch {}
    }
    if (this.ownsData && this.usedKeyspace && !process.env.DUET_KEEP_TMP) {
      // Best effort and in the background (cleanup is synchronous): a
      // keyspace left over is dropped by scripts/cassandra.sh
      // drop-test-keyspaces before the next run.
      const ks = this.keyspace;
      const p = dropKeyspace(this.cassandraHosts, ks)
        .catch((e) => process.stderr.write(`note: could not drop test keyspace ${ks}: ${e.message}\n`))
        .finally(() => pendingDrops.delete(p));
      pendingDrops.add(p);
      this.usedKeyspace = false;
    }
    if (this.ownsData) rmDir(this.dataDir);
    if (this.ownsWeb) rmDir(this.webDir);
  }

  // Starts a new process on the same data dir, after stop({keepData: true}),
  // signal() or crash(). The object (and so every client bound to it) stays;
  // only the port changes. Returns this.
  async restart(extra = {}) {
    if (this.proc && !this.exit) throw new Error('restart: duetd is still running');
    const rep = this.sanitizerReport();
    if (rep) throw new Error(`duetd printed a sanitizer report before the restart:\n${rep}`);
    this.opts = { ...this.opts, ...extra };
    this.stopped = false;
    await this.start();
    return this;
  }
}

const pendingDrops = new Set();

// Waits for the keyspace drops cleanup() started.
export async function settleDrops() {
  while (pendingDrops.size) await Promise.all([...pendingDrops]);
}

export async function startServer(opts = {}) {
  const s = new DuetServer(opts);
  try {
    await s.start();
  } catch (e) {
    s.expectExit = true;
    s.cleanup();
    throw e;
  }
  return s;
}

// Runs duetd to completion (for --help and bad options).
export function runDuetd(args, { env = {}, timeoutMs = 10000 * SLOW } = {}) {
  return new Promise((resolve, reject) => {
    const cleanEnv = { ...process.env };
    for (const k of Object.keys(cleanEnv)) if (k.startsWith('DUET_')) delete cleanEnv[k];
    const [cmd, argv] = command(args);
    const p = spawn(cmd, argv, { env: { ...cleanEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`duetd ${args.join(' ')} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
}

// Every byte of every file in the data dir (the db, its WAL, ...).
export function readDataDirBytes(dir) {
  const bufs = [];
  for (const f of fs.readdirSync(dir)) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isFile()) bufs.push(fs.readFileSync(p));
  }
  return Buffer.concat(bufs);
}

// Resolves to p's value, or to null after ms; the timer never outlives the race.
export async function within(p, ms) {
  let t;
  try {
    return await Promise.race([p, new Promise((r) => (t = setTimeout(() => r(null), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Polls cond() until it returns a truthy value; fails with msg after timeoutMs.
export async function waitFor(cond, msg, timeoutMs = 5000 * SLOW, intervalMs = 25) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await cond();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${msg}${last instanceof Error ? ': ' + last.message : ''}`);
    }
    await sleep(intervalMs);
  }
}
