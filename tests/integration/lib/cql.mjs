// cql.mjs - the least CQL client the tests need: STARTUP, QUERY (with
// paging) and raw cell bytes back, over native protocol v4. The tests use it
// to look at what duetd stored in its Cassandra keyspace (the Cassandra
// counterpart of reading the SQLite file) and to drop a test's keyspace at
// the end. It is deliberately not duetd's driver: a bug there must not hide
// itself in the checks. No authentication, no prepared statements, no
// events, one request at a time per connection.
import net from 'node:net';

const OP = { ERROR: 0x00, STARTUP: 0x01, READY: 0x02, AUTHENTICATE: 0x03, QUERY: 0x07, RESULT: 0x08 };
export const CONSISTENCY = { ONE: 0x0001, QUORUM: 0x0004, ALL: 0x0005, LOCAL_QUORUM: 0x0006 };

function frame(stream, opcode, body) {
  const h = Buffer.alloc(9);
  h.writeUInt8(0x04, 0); // v4 request
  h.writeUInt8(0, 1);
  h.writeInt16BE(stream, 2);
  h.writeUInt8(opcode, 4);
  h.writeInt32BE(body.length, 5);
  return Buffer.concat([h, body]);
}

function str(s) {
  const b = Buffer.from(s, 'utf8');
  const l = Buffer.alloc(2);
  l.writeUInt16BE(b.length);
  return Buffer.concat([l, b]);
}

function longStr(s) {
  const b = Buffer.from(s, 'utf8');
  const l = Buffer.alloc(4);
  l.writeInt32BE(b.length);
  return Buffer.concat([l, b]);
}

// Reads protocol values from a response body.
class Reader {
  constructor(buf) {
    this.b = buf;
    this.o = 0;
  }
  need(n) {
    if (this.o + n > this.b.length) throw new Error('cql: truncated response');
  }
  int() {
    this.need(4);
    const v = this.b.readInt32BE(this.o);
    this.o += 4;
    return v;
  }
  short() {
    this.need(2);
    const v = this.b.readUInt16BE(this.o);
    this.o += 2;
    return v;
  }
  string() {
    const n = this.short();
    this.need(n);
    const s = this.b.toString('utf8', this.o, this.o + n);
    this.o += n;
    return s;
  }
  bytes() {
    const n = this.int();
    if (n < 0) return null;
    this.need(n);
    const v = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return v;
  }
  // A type [option]; only skipped, the tests look at raw bytes.
  option() {
    const id = this.short();
    if (id === 0x0000) this.string();
    else if (id === 0x0020 || id === 0x0022) this.option();
    else if (id === 0x0021) {
      this.option();
      this.option();
    } else if (id === 0x0030) {
      this.string();
      this.string();
      for (let n = this.short(); n > 0; n--) {
        this.string();
        this.option();
      }
    } else if (id === 0x0031) {
      for (let n = this.short(); n > 0; n--) this.option();
    }
    return id;
  }
}

export class CqlConnection {
  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.waiter = null;
    this.error = null;
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.pump();
    });
    const fail = (e) => {
      this.error = e;
      if (this.waiter) this.waiter.reject(e);
      this.waiter = null;
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('cql: connection closed')));
  }

  static async connect(host, { port = 9042, timeoutMs = 10000 } = {}) {
    const sock = await new Promise((resolve, reject) => {
      const s = net.connect({ host, port });
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error(`cql: connecting to ${host}:${port} timed out`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(new Error(`cql: connecting to ${host}:${port}: ${e.message}`));
      });
    });
    const c = new CqlConnection(sock);
    c.timeoutMs = timeoutMs;
    const body = Buffer.concat([Buffer.from([0, 1]), str('CQL_VERSION'), str('3.0.0')]);
    const r = await c.request(OP.STARTUP, body);
    if (r.opcode === OP.AUTHENTICATE) {
      c.close();
      throw new Error('cql: the node wants authentication, which this test client does not do');
    }
    if (r.opcode !== OP.READY) {
      c.close();
      throw new Error(`cql: STARTUP answered with opcode ${r.opcode}`);
    }
    return c;
  }

  pump() {
    if (this.buf.length < 9) return;
    const len = this.buf.readInt32BE(5);
    if (this.buf.length < 9 + len) return;
    const opcode = this.buf.readUInt8(4);
    const body = this.buf.subarray(9, 9 + len);
    this.buf = this.buf.subarray(9 + len);
    const w = this.waiter;
    this.waiter = null;
    if (w) {
      if (opcode === OP.ERROR) {
        const r = new Reader(body);
        const code = r.int();
        const e = new Error(`cql: error 0x${code.toString(16)}: ${r.string()}`);
        e.code = code;
        w.reject(e);
      } else w.resolve({ opcode, body });
    }
    this.pump();
  }

  request(opcode, body) {
    if (this.error) return Promise.reject(this.error);
    if (this.waiter) return Promise.reject(new Error('cql: one request at a time'));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`cql: no answer within ${this.timeoutMs} ms`));
        this.close();
      }, this.timeoutMs);
      this.waiter = {
        resolve: (v) => {
          clearTimeout(t);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      };
      this.sock.write(frame(0, opcode, body));
    });
  }

  // One QUERY; returns {kind, columns, rows, pagingState}. rows holds each
  // cell's raw bytes (Buffer or null).
  async queryPage(q, { consistency = CONSISTENCY.ONE, pageSize = 1000, pagingState = null } = {}) {
    let flags = 0x04;
    const parts = [longStr(q), Buffer.alloc(3)];
    parts[1].writeUInt16BE(consistency, 0);
    const ps = Buffer.alloc(4);
    ps.writeInt32BE(pageSize);
    const tail = [ps];
    if (pagingState) {
      flags |= 0x08;
      const l = Buffer.alloc(4);
      l.writeInt32BE(pagingState.length);
      tail.push(l, pagingState);
    }
    parts[1].writeUInt8(flags, 2);
    const r = await this.request(OP.QUERY, Buffer.concat([...parts, ...tail]));
    if (r.opcode !== OP.RESULT) throw new Error(`cql: QUERY answered with opcode ${r.opcode}`);
    const rd = new Reader(r.body);
    const kind = rd.int();
    if (kind !== 0x0002) return { kind, columns: [], rows: [], pagingState: null };
    const mflags = rd.int();
    const ncols = rd.int();
    const next = mflags & 0x0002 ? rd.bytes() : null;
    const columns = [];
    if (!(mflags & 0x0004)) {
      const global = mflags & 0x0001;
      if (global) {
        rd.string();
        rd.string();
      }
      for (let i = 0; i < ncols; i++) {
        if (!global) {
          rd.string();
          rd.string();
        }
        const name = rd.string();
        rd.option();
        columns.push(name);
      }
    }
    const rows = [];
    for (let n = rd.int(); n > 0; n--) {
      const row = [];
      for (let i = 0; i < ncols; i++) row.push(rd.bytes());
      rows.push(row);
    }
    return { kind, columns, rows, pagingState: next && Buffer.from(next) };
  }

  // Every row of q, following the paging state.
  async query(q, opts = {}) {
    let page = await this.queryPage(q, opts);
    const rows = [...page.rows];
    while (page.pagingState) {
      page = await this.queryPage(q, { ...opts, pagingState: page.pagingState });
      rows.push(...page.rows);
    }
    return { kind: page.kind, columns: page.columns, rows };
  }

  close() {
    this.sock.destroy();
  }
}

// Runs fn(conn) on a connection to the first of hosts that answers.
export async function withCql(hosts, fn, opts = {}) {
  let last;
  for (const h of hosts) {
    let c;
    try {
      c = await CqlConnection.connect(h, opts);
    } catch (e) {
      last = e;
      continue;
    }
    try {
      return await fn(c);
    } finally {
      c.close();
    }
  }
  throw last || new Error('cql: no hosts');
}

// Every cell of every table in keyspace ks, concatenated: what the store
// holds, for checks like "the password is not stored in clear".
export async function keyspaceBytes(hosts, ks) {
  return withCql(hosts, async (c) => {
    const t = await c.query(`SELECT table_name FROM system_schema.tables WHERE keyspace_name = '${ks}'`);
    const bufs = [];
    for (const [name] of t.rows) {
      const r = await c.query(`SELECT * FROM "${ks}"."${name.toString('utf8')}"`);
      for (const row of r.rows) for (const cell of row) if (cell) bufs.push(cell);
    }
    return Buffer.concat(bufs);
  });
}

// Names of the keyspaces that exist, as strings.
export async function listKeyspaces(hosts) {
  return withCql(hosts, async (c) => {
    const r = await c.query('SELECT keyspace_name FROM system_schema.keyspaces');
    return r.rows.map(([n]) => n.toString('utf8'));
  });
}

export async function dropKeyspace(hosts, ks) {
  if (!/^[a-z_][a-z0-9_]{0,47}$/.test(ks)) throw new Error(`cql: refusing to drop odd keyspace name ${ks}`);
  return withCql(hosts, (c) => c.query(`DROP KEYSPACE IF EXISTS ${ks}`), { timeoutMs: 60000 });
}
