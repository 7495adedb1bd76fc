#!/bin/sh
# A/B of delete for everyone's erasing checkpoint: the binary before it (OLD)
# and after it (NEW), each with one in N acknowledged messages deleted for N in
# DELS (0: none; default "0 50"), interleaved, ROUNDS times. Latency
# scenario, 100 pairs, 1,000 msg/s, 10 s measured after 3 s of warm-up.
set -eu
OLD=${OLD:?path of the old duetd}
NEW=${NEW:-build/duetd}
ROUNDS=${ROUNDS:-3}
OUT=${OUT:-bench/results/2026-12-03-delete}
export BENCH_DIR="${BENCH_DIR:-run/bench-h2}" BENCH_PORT="${BENCH_PORT:-18731}"
for r in $(seq 1 "$ROUNDS"); do
    for bin in old new; do
        for del in ${DELS:-0 50}; do
            if [ "$bin" = old ]; then d=$OLD; else d=$NEW; fi
            DUETD=$d bench/run.sh start >/dev/null
            bench/run.sh bench --scenario latency --pairs 100 --rate 1000 --duration 10 \
                --warmup 3 --delete-every "$del" --out "$OUT/$bin-del$del-r$r.json" \
                >"$OUT/$bin-del$del-r$r.txt" 2>&1 || echo "run $bin del $del round $r failed"
            bench/run.sh stop
        done
    done
done
