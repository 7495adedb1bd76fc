#!/bin/sh
# Round 8 (issue 18): the loop thread under duet-bench, 500 pairs (the
# latency scenario at RATE msg/s, 14 s after 3 s), one duetd (BIN) through
# bench/run.sh (core 0; users made once in $DIR by a short first run, not
# kept); `perf record -F 999 --call-graph dwarf` of the loop thread for 5 s
# from 6 s in. Port 18402.
#   BIN=/work/r9/t8-old/build/duetd RATE=2000 bench/results/2026-12-05-round8/profile-bench.sh OUT-PREFIX
set -eu
BIN=${BIN:?} out=$1 RATE=${RATE:-2000}
export BENCH_DIR="${DIR:-/tmp/put8-bench}" BENCH_PORT=18402
DUETD=$BIN bench/run.sh start >/dev/null
pid=$(cat "$BENCH_DIR/duetd.pid")
[ -s "$BENCH_DIR/users.txt" ] ||
    bench/run.sh bench --scenario latency --rate 1000 --duration 2 --warmup 1 \
        --out "$BENCH_DIR/setup.json" >"$BENCH_DIR/setup.log" 2>&1
bench/run.sh bench --scenario latency --rate "$RATE" --duration 14 --warmup 3 \
    --out "$out.json" >"$out.log" 2>&1 &
bp=$!
sleep 6
perf record -F 999 --call-graph dwarf,16384 -t "$pid" -o "$BENCH_DIR/perf.data" -- sleep 5 2>/dev/null
wait $bp
bench/run.sh stop
echo "# $(uptime)" >"$out.txt"
perf report -i "$BENCH_DIR/perf.data" --children --stdio --no-demangle -g none --percent-limit 1.5 2>/dev/null \
    | grep -v '^$' >>"$out.txt"
