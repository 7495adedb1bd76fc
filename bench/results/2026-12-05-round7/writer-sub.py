# writer-sub.py SCRIPT FUNC...: of the samples of `perf script -F tid,ip,sym` (dwarf call graphs) with FUNC on the stack, the two frames FUNC calls ("a > b": FUNC calls a, which calls b), by share of all samples.
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
n=len(samples)
for target in sys.argv[2:]:
    c=collections.Counter()
    for st in samples:
        if target in st:
            i=st.index(target)
            c[' > '.join(st[max(0,i-2):i][::-1]) if i>0 else '(self)']+=1
    tot=sum(c.values())
    print(f'== {target}: {tot} samples, {100*tot/n:.1f}% of {n}')
    for k,v in c.most_common(25): print(f'  {100*v/n:5.1f}%  {k}')
