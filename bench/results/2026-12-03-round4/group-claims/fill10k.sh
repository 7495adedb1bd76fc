#!/bin/sh
# The one-conversation fill at BENCHMARKS.md's size (10,000, window 64),
# interleaved A/B on the node of ab.sh: fill10k.sh OUT ROUNDS old=BIN new=BIN
set -eu
out=$1 rounds=$2 a=$3 b=$4
mkdir -p "$out"
for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then x=$a y=$b; else x=$b y=$a; fi
    for v in $x $y; do
        name=${v%%=*} bin=${v#*=}
        export BENCH_DIR="/tmp/cg-ab-$name" BENCH_PORT=18293
        DUETD=$bin bench/run.sh start --store cassandra --cassandra 127.0.6.1 \
            --cassandra-keyspace "cg_ab_$name" >/dev/null
        bench/run.sh bench --scenario backlog --backlog 10000 --window 64 --runs 1 \
            >"$out/$name-r$r-fill10k.txt" 2>&1 || true
        bench/run.sh stop
    done
    echo "round $r done $(uptime)"
done
