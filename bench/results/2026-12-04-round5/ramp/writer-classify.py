# writer-classify.py SCRIPT: classifies `perf script -F tid,ip,sym` samples of the writer thread (dwarf call graphs) by the functions on their stacks.
import collections, sys
samples=[]; cur=[]
for line in open(sys.argv[1]):
    line=line.rstrip('\n')
    if not line.strip():
        if cur: samples.append(cur); cur=[]
        continue
    if len(line.split())==1 and line.strip().isdigit():
        if cur: samples.append(cur)
        cur=[]; continue
    parts=line.split(None,1)
    if len(parts)==2: cur.append(parts[1].split('+')[0])
if cur: samples.append(cur)
n=len(samples); print('writer samples',n)
def cat(st):
    s=set(st)
    if 'sqlite3PagerCommitPhaseOne' in s:
        if any('fdatasync' in f for f in st): return 'COMMIT phase one: fdatasync'
        if any('pwrite' in f for f in st): return 'COMMIT phase one: WAL pwrite'
        return 'COMMIT phase one: other (frame headers, checksums, dirty list)'
    if 'sqlite3PagerCommitPhaseTwo' in s: return 'COMMIT phase two (end of transaction)'
    if 'sq_defer_flush' in s: return 'deferred ack flush (per batch and slot)'
    if 'sq_search_flush' in s: return 'search flush (FTS5, per batch)'
    if 'sq_run_op' in s:
        op=[f for f in st if f.startswith('sq_msg_') or f in ('sq_pending_list','sq_chats_list','sq_history')]
        return 'request: '+(op[-1] if op else 'other (savepoints etc.)')
    if 'sq_ctl' in s: return 'BEGIN and other control'
    if 'sq_wait_window' in s or 'uv_cond_wait' in s or 'uv_cond_timedwait' in s: return 'waiting (futex)'
    if 'sq_writer_main' in s: return 'writer, other'
    return 'other: '+st[0]
c=collections.Counter(cat(s) for s in samples)
for k,v in c.most_common(): print(f'{100*v/n:5.1f}%  {k}')
