#!/bin/sh
# One conversation with its receiver online (the receiver gets every message
# live and acks it, so no backlog grows): latency scenario, 1 pair, 1,500
# msg/s offered, interleaved A/B on the node of ab.sh:
#   onepair.sh OUT ROUNDS old=BIN new=BIN
set -eu
out=$1 rounds=$2 a=$3 b=$4
mkdir -p "$out"
for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then x=$a y=$b; else x=$b y=$a; fi
    for v in $x $y; do
        name=${v%%=*} bin=${v#*=}
        export BENCH_DIR="/tmp/cg-1p-$name" BENCH_PORT=18293
        DUETD=$bin bench/run.sh start --store cassandra --cassandra 127.0.6.1 \
            --cassandra-keyspace "cg_1p_$name" >/dev/null
        bench/run.sh bench --scenario latency --pairs 1 --rate 1500 --duration 10 --runs 1 \
            >"$out/$name-r$r-onepair.txt" 2>&1 || true
        bench/run.sh stop
    done
    echo "round $r done $(uptime)"
done
