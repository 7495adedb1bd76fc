#!/usr/bin/env python3
"""bench/summarize.py DIR... - one markdown table of duet-bench JSON results:
per scenario file, each run's headline value with the machine's load, and the
median, min and max (BENCHMARKS.md is written from these)."""
import json, statistics, sys, glob, os

def runs_of(path):
    with open(path) as f:
        doc = json.load(f)
    for res in doc["results"]:
        for r in res["runs"]:
            yield res["scenario"], r

rows = {}
for d in sys.argv[1:]:
    for path in sorted(glob.glob(os.path.join(d, "*.json"))):
        name = os.path.basename(path)[:-5]
        name = name.split("-")[0] if name.startswith("idle-") else name
        for sc, r in runs_of(path):
            rows.setdefault((d, name), []).append(r)

print("| results | scenario | key | runs (load) | median | min | max | pass | server CPU us/msg |")
print("|---|---|---|---|---|---|---|---|---|")
for (d, name), rs in rows.items():
    vals = [r["value"] for r in rs]
    cpu = [r.get("server_cpu_us_per_message") for r in rs if r.get("server_cpu_us_per_message")]
    runs = ", ".join("%.3g (%.1f)" % (r["value"], r["load1"]) for r in rs)
    print("| %s | %s | %s | %s | %.3g | %.3g | %.3g | %s | %s |" % (
        os.path.basename(d.rstrip("/")), name, rs[0]["key"], runs, statistics.median(vals),
        min(vals), max(vals), "yes" if all(r["pass"] for r in rs) else "NO",
        "%.0f" % statistics.median(cpu) if cpu else "-"))
