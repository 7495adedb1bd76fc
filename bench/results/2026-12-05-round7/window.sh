#!/bin/sh
# Round 7 (issue 18): the paired A/B of BENCHMARKS.md section 17, run from
# the checkout's root after `make bench` and `npm ci` in bench/peer (OLD:
# main 184299c built from git archive; NEW: this branch's duetd, copied so a
# rebuild cannot move it). Ports 18191-18192 (pair) and 18195-18196 (load).
#   OLD=/work/r8/t7-old/build/duetd NEW=/work/r8/t7-new/duetd ROUNDS=6 \
#     bench/results/2026-12-05-round7/window.sh [setup] [pair] [seen] [load]
# SERIES=-2 writes a second series beside the first (pair-seen-2, ...).
set -eu
OLD=${OLD:-/work/r8/t7-old/build/duetd}
NEW=${NEW:-/work/r8/t7-new/duetd}
ROUNDS=${ROUNDS:-6}
OUT=bench/results/2026-12-05-round7
S=${SERIES:-}
PAIR=${PAIR_PREFIX:-/work/r8/t7-pair}
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
    pair) # duet-bench latency, 500 pairs at 1,000 msg/s each (no seen)
        PAIR_PREFIX=$PAIR PAIR_PORT=18190 BENCH_ARGS="--scenario latency --rate 1000" \
            bench/pair.sh "$OUT/pair$S" "$ROUNDS" "old=$OLD" "new=$NEW"
        node bench/pairs.mjs "$OUT/pair$S" old new | tee "$OUT/pair$S/summary.txt"
        ;;
    seen) # the compare work with a seen after every ack (load.mjs --seen)
        PAIR_PREFIX=$PAIR-seen PAIR_PORT=18194 LOAD_ARGS=--seen \
            bench/pair-load.sh "$OUT/pair-seen$S" "$ROUNDS" "old=$OLD" "new=$NEW"
        node bench/pairs-load.mjs "$OUT/pair-seen$S" old new | tee "$OUT/pair-seen$S/summary.txt"
        ;;
    load) # the compare work as in rounds 4-6 (no seen)
        PAIR_PREFIX=$PAIR-load PAIR_PORT=18194 \
            bench/pair-load.sh "$OUT/pair-load$S" "$ROUNDS" "old=$OLD" "new=$NEW"
        node bench/pairs-load.mjs "$OUT/pair-load$S" old new | tee "$OUT/pair-load$S/summary.txt"
        ;;
    *)
        echo "unknown step $step" >&2
        exit 2
        ;;
    esac
done
echo "== done $(date -u +%T) $(uptime)"
