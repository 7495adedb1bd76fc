#!/bin/sh
# Paired A/B (BENCHMARKS.md, section 13): both binaries run at the same time,
# both duetd on core 0 and both duet-bench on core 1 (bench/run.sh), so both
# see the same neighbours; they swap data folders and ports every round.
# Run from the checkout's root after `make bench`; each folder
# /tmp/tput-pair1 and /tmp/tput-pair2 needs its users created once (any
# short bench/run.sh bench run with BENCH_DIR set).
#   PAIR_PREFIX=/tmp/put4-pair PAIR_PORT=18390 (defaults: round 3's)
#   BENCH_ARGS="--scenario latency --rate 1000" bench/pair.sh OUT ROUNDS old=BIN new=BIN
set -eu
out=$1
rounds=$2
a=$3
b=$4
mkdir -p "$out"
for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then x=$a y=$b; else x=$b y=$a; fi
    i=0
    for v in $x $y; do
        i=$((i + 1))
        DUETD=${v#*=} BENCH_DIR="${PAIR_PREFIX:-/tmp/tput-pair}$i" BENCH_PORT=$((${PAIR_PORT:-18190} + i)) bench/run.sh start >/dev/null
    done
    i=0
    for v in $x $y; do
        i=$((i + 1))
        name=${v%%=*}
        pid=$(cat "${PAIR_PREFIX:-/tmp/tput-pair}$i/duetd.pid")
        (
            wb0=$(awk '/^write_bytes/ {print $2}' "/proc/$pid/io")
            # shellcheck disable=SC2086
            BENCH_DIR="${PAIR_PREFIX:-/tmp/tput-pair}$i" BENCH_PORT=$((${PAIR_PORT:-18190} + i)) bench/run.sh bench $BENCH_ARGS \
                --runs 1 --out "$out/$name-r$r.json" >"$out/$name-r$r.log" 2>&1 || true
            wb1=$(awk '/^write_bytes/ {print $2}' "/proc/$pid/io")
            echo "$((wb1 - wb0))" >"$out/$name-r$r.write_bytes"
        ) &
    done
    wait
    for i in 1 2; do BENCH_DIR="${PAIR_PREFIX:-/tmp/tput-pair}$i" BENCH_PORT=$((${PAIR_PORT:-18190} + i)) bench/run.sh stop; done
    echo "round $r done $(uptime)"
done
