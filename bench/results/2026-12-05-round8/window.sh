#!/bin/sh
# Round 8 (issue 18): the paired A/B of BENCHMARKS.md section 18, run from
# the checkout's root after `make bench` and `npm ci` in bench/peer (OLD:
# main e086967 built from git archive in its own folder; NEW: this branch's
# duetd, copied so a rebuild cannot move it). Ports 18411-18412 (pair) and
# 18415-18416 (load).
#   OLD=/work/r9/t8-old/build/duetd NEW=/tmp/put8-new/duetd ROUNDS=6 \
#     bench/results/2026-12-05-round8/window.sh [setup] [load] [pair]
# SERIES=-2 writes a second series beside the first (pair-load-2, ...).
set -eu
OLD=${OLD:-/work/r9/t8-old/build/duetd}
NEW=${NEW:-/tmp/put8-new/duetd}
ROUNDS=${ROUNDS:-6}
OUT=bench/results/2026-12-05-round8
S=${SERIES:-}
PAIR=${PAIR_PREFIX:-/tmp/put8-pair}
for step in "$@"; do
    echo "== $step $(date -u +%T) $(uptime)"
    case $step in
    setup) # each pair folder gets its users once (a short run, not kept)
        for i in 1 2; do
            DUETD=$NEW BENCH_DIR=$PAIR$i BENCH_PORT=$((18410 + i)) bench/run.sh start >/dev/null
        done
        for i in 1 2; do
            BENCH_DIR=$PAIR$i BENCH_PORT=$((18410 + i)) bench/run.sh bench --scenario latency \
                --rate 1000 --duration 2 --warmup 1 --out "$PAIR$i-setup.json" >"$PAIR$i-setup.log" 2>&1 &
        done
        wait
        for i in 1 2; do BENCH_DIR=$PAIR$i BENCH_PORT=$((18410 + i)) bench/run.sh stop; done
        ;;
    pair) # duet-bench latency, 500 pairs at 1,000 msg/s each
        PAIR_PREFIX=$PAIR PAIR_PORT=18410 BENCH_ARGS="--scenario latency --rate 1000" \
            bench/pair.sh "$OUT/pair$S" "$ROUNDS" "old=$OLD" "new=$NEW"
        node bench/pairs.mjs "$OUT/pair$S" old new | tee "$OUT/pair$S/summary.txt"
        ;;
    load) # the compare work (bench/peer/load.mjs: 50 pairs, 4 in flight)
        PAIR_PREFIX=$PAIR-load PAIR_PORT=18414 \
            bench/pair-load.sh "$OUT/pair-load$S" "$ROUNDS" "old=$OLD" "new=$NEW"
        node bench/pairs-load.mjs "$OUT/pair-load$S" old new | tee "$OUT/pair-load$S/summary.txt"
        ;;
    *)
        echo "unknown step $step" >&2
        exit 2
        ;;
    esac
done
