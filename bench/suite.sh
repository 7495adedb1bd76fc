#!/bin/sh
# bench/suite.sh OUTDIR [RUNS] - the measurements of BENCHMARKS.md: every
# scenario RUNS times (default 3) through bench/run.sh (duetd pinned to core
# 0, duet-bench to core 1). The idle scenario gets a freshly started server
# each run (its memory baseline must not include heap left by earlier
# connections). JSON and logs go to OUTDIR; bench/summarize.mjs OUTDIR makes
# the table. Set SCENARIOS to run fewer, DUETD for another binary.
set -u
out=${1:?usage: bench/suite.sh OUTDIR [RUNS]}
runs=${2:-3}
SCENARIOS=${SCENARIOS:-"idle storm backlog latency latency-1k throughput history"}
mkdir -p "$out"
here=$(dirname "$0")
status=0
bench() { # name, duet-bench args...
    name=$1
    shift
    "$here/run.sh" bench --runs "$runs" --out "$out/$name.json" "$@" >"$out/$name.log" 2>&1 ||
        status=1
    grep '^\*\*' "$out/$name.log"
}
for s in $SCENARIOS; do
    case $s in
    idle)
        for i in $(seq 1 "$runs"); do
            "$here/run.sh" start >/dev/null
            "$here/run.sh" bench --scenario idle --out "$out/idle-$i.json" \
                >"$out/idle-$i.log" 2>&1 || status=1
            grep '^\*\*' "$out/idle-$i.log"
        done
        "$here/run.sh" start >/dev/null
        ;;
    latency-1k) bench latency-1k --scenario latency --rate 1000 ;;
    throughput) bench throughput --scenario throughput --ramp 1000:1000:20000 --duration 5 ;;
    *) bench "$s" --scenario "$s" ;;
    esac
done
exit $status
