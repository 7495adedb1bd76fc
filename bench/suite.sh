#!/bin/sh
# bench/suite.sh OUTDIR [RUNS] - every scenario RUNS times (default 3) with
# bench/run.sh: the server pinned to core 0, the bench to core 1. The idle
# scenario gets a freshly started server each run (its memory baseline must
# not include heap left over from earlier connections). JSON and logs go to
# OUTDIR. Set SCENARIOS to run fewer.
set -u
out=${1:?usage: bench/suite.sh OUTDIR [RUNS]}
runs=${2:-3}
SCENARIOS=${SCENARIOS:-"idle storm backlog latency throughput history"}
mkdir -p "$out"
here=$(dirname "$0")
status=0
for s in $SCENARIOS; do
    if [ "$s" = idle ]; then
        for i in $(seq 1 "$runs"); do
            "$here/run.sh" start
            "$here/run.sh" bench --scenario idle --out "$out/idle-$i.json" \
                >"$out/idle-$i.log" 2>&1 || status=1
            tail -n 3 "$out/idle-$i.log"
        done
        "$here/run.sh" start
        continue
    fi
    "$here/run.sh" bench --scenario "$s" --runs "$runs" --out "$out/$s.json" \
        ${BENCH_ARGS:-} >"$out/$s.log" 2>&1 || status=1
    grep '^\*\*' "$out/$s.log"
done
exit $status
