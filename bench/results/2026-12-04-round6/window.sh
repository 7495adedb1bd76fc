#!/bin/sh
# Round 6 (issue 18): the paired A/B of BENCHMARKS.md section 16, run from
# the checkout's root after `make bench` (OLD: main ae06d2b built from
# git archive; NEW: this branch's duetd, copied so a rebuild cannot move it).
#   OLD=/tmp/t6-old/build/duetd NEW=/tmp/t6-new/duetd ROUNDS=6 \
#     bench/results/2026-12-04-round6/window.sh [setup] [pair] [load]
set -eu
OLD=${OLD:-/tmp/t6-old/build/duetd}
NEW=${NEW:-/tmp/t6-new/duetd}
ROUNDS=${ROUNDS:-6}
OUT=bench/results/2026-12-04-round6
PAIR=${PAIR_PREFIX:-/tmp/t6-pair}
for step in "$@"; do
    echo "== $step $(date -u +%T) $(uptime)"
    case $step in
    setup) # each pair folder gets its users once (a short run, not kept)
        for i in 1 2; do
            DUETD=$NEW BENCH_DIR=$PAIR$i BENCH_PORT=$((18190 + i)) bench/run.sh start >/dev/null
        done
        for i in 1 2; do
            BENCH_DIR=$PAIR$i BENCH_PORT=$((18190 + i)) bench/run.sh bench --scenario latency \
                --rate 1000 --duration 2 --warmup 1 --out "$PAIR$i-setup.json" >"$PAIR$i-setup.log" 2>&1 &
        done
        wait
        for i in 1 2; do BENCH_DIR=$PAIR$i BENCH_PORT=$((18190 + i)) bench/run.sh stop; done
        ;;
    pair) # duet-bench latency, 500 pairs at 1,000 msg/s each
        PAIR_PREFIX=$PAIR BENCH_ARGS="--scenario latency --rate 1000" \
            bench/pair.sh "$OUT/pair" "$ROUNDS" "old=$OLD" "new=$NEW"
        node bench/pairs.mjs "$OUT/pair" old new | tee "$OUT/pair/summary.txt"
        ;;
    load) # the compare work (bench/peer/load.mjs), fresh data each round
        PAIR_PREFIX=/tmp/t6-load bench/pair-load.sh "$OUT/pair-load" "$ROUNDS" "old=$OLD" "new=$NEW"
        node bench/pairs-load.mjs "$OUT/pair-load" old new | tee "$OUT/pair-load/summary.txt"
        ;;
    *)
        echo "unknown step $step" >&2
        exit 2
        ;;
    esac
done
echo "== done $(date -u +%T) $(uptime)"
