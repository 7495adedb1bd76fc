import json, sys, os, re, statistics
def med(a): 
    s=sorted(a); return s[(len(s)-1)//2] if s else float('nan')
def rng(a, d=2): return f"{med(a):.{d}f} ({min(a):.{d}f}–{max(a):.{d}f})" if a else "-"
for d in sys.argv[1:]:
    rows={}
    for f in sorted(os.listdir(d)):
        if not f.endswith('.json'): continue
        name=re.sub(r'-r\d+\.json$','',f)
        j=json.load(open(os.path.join(d,f)))
        for res in j['results']:
            for r in res['runs']:
                rows.setdefault(name,[]).append(r)
    print(f"## {d}")
    for name, rs in rows.items():
        last=[r['steps'][-1] for r in rs]
        p50=[s['send_to_receive']['p50_ms'] for s in last]
        p99=[s['send_to_receive']['p99_ms'] for s in last]
        cpu=[r.get('server_cpu_us_per_message',0) for r in rs]
        mcpu=[r.get('server_main_cpu_s',r.get('server_cpu_s',0))*1e6/r['received'] for r in rs]
        load=[r['load1'] for r in rs]
        wait=[r.get('server_runqueue_wait_s',0) for r in rs]
        key=[r['value'] for r in rs]
        ok=all(r['pass'] and r['lost']==0 and r['duplicates']==0 and r['errors']==0 for r in rs)
        extra=''
        if rs[0]['scenario']=='throughput':
            extra=' steps='+str([[round(s['target_rate']), s['sustained'], round(s['send_to_receive']['p99_ms'],1)] for s in rs[0]['steps']])
        print(f"{name:8} n={len(rs)} key {rng(key,1)} | last step p50 {rng(p50)} p99 {rng(p99)} | cpu/msg {rng(cpu,0)} us, main {rng(mcpu,0)} us | wait {rng(wait,1)} s | load {rng(load)} | exactly-once {ok}{extra}")
