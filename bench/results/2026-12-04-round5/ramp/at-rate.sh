#!/bin/sh
# at-rate.sh RATE MODE TAG [duet-bench options]: duet-bench's latency
# scenario (500 pairs) at RATE for 14 s after 3 s warm-up against the
# server of BENCH_DIR/BENCH_PORT, with measure.sh's window (8 s) opening 5 s in.
set -eu
rate=$1 mode=$2 tag=$3; shift 3
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../../../.."
pid=$(cat "$BENCH_DIR/duetd.pid")
bench/run.sh bench --scenario latency --rate "$rate" --pairs 500 --duration 14 --warmup 3 \
    --out "$here/$tag.json" "$@" >"$here/$tag.log" 2>&1 &
bp=$!
sleep 5
"$here/measure.sh" "$pid" "$BENCH_PORT" 8 "$here/$tag" "$mode"
wait $bp || echo "bench failed: see $here/$tag.log"
grep -E 'PASS|FAIL|step 1:|send -> receive' "$here/$tag.log" | tail -3
node "$here/cpu.mjs" "$here/$tag"
