#!/bin/sh
# Interleaved sequential ramps (BENCHMARKS.md, section 14): for each round,
# each binary in turn, fresh server on the same data (/tmp/put4-prof),
# duet-bench --scenario throughput --ramp 1000:1000:20000 --duration 5.
#   ramp.sh OUT ROUNDS name=BIN name=BIN
set -eu
out=$1 rounds=$2; shift 2
export BENCH_DIR="${BENCH_DIR:-/tmp/put4-prof}" BENCH_PORT="${BENCH_PORT:-18291}"
mkdir -p "$out"
for r in $(seq 1 "$rounds"); do
    for v in "$@"; do
        DUETD=${v#*=} bench/run.sh start >/dev/null
        bench/run.sh bench --scenario throughput --ramp 1000:1000:20000 --duration 5 --runs 1 \
            --out "$out/${v%%=*}-r$r.json" >"$out/${v%%=*}-r$r.log" 2>&1 || true
        bench/run.sh stop
        echo "round $r ${v%%=*} done $(uptime)"
    done
done
