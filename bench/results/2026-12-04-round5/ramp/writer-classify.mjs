// writer-classify.mjs SCRIPT: classifies `perf script -F tid,ip,sym` samples
// of the writer thread (dwarf call graphs) by the functions on their stacks.
import { printShares, readSamples } from '../../../perf-samples.mjs';

function cat(st) {
  const s = new Set(st);
  if (s.has('sqlite3PagerCommitPhaseOne')) {
    if (st.some((f) => f.includes('fdatasync'))) return 'COMMIT phase one: fdatasync';
    if (st.some((f) => f.includes('pwrite'))) return 'COMMIT phase one: WAL pwrite';
    return 'COMMIT phase one: other (frame headers, checksums, dirty list)';
  }
  if (s.has('sqlite3PagerCommitPhaseTwo')) return 'COMMIT phase two (end of transaction)';
  if (s.has('sq_defer_flush')) return 'deferred ack flush (per batch and slot)';
  if (s.has('sq_search_flush')) return 'search flush (FTS5, per batch)';
  if (s.has('sq_run_op')) {
    const op = st.filter((f) => f.startsWith('sq_msg_') || ['sq_pending_list', 'sq_chats_list', 'sq_history'].includes(f));
    return 'request: ' + (op.length ? op[op.length - 1] : 'other (savepoints etc.)');
  }
  if (s.has('sq_ctl')) return 'BEGIN and other control';
  if (s.has('sq_wait_window') || s.has('uv_cond_wait') || s.has('uv_cond_timedwait')) return 'waiting (futex)';
  if (s.has('sq_writer_main')) return 'writer, other';
  return 'other: ' + st[0];
}

const samples = readSamples(process.argv[2]);
console.log('writer samples', samples.length);
const c = new Map();
for (const st of samples) c.set(cat(st), (c.get(cat(st)) || 0) + 1);
printShares(c, samples.length);
