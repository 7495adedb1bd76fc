#!/bin/sh
# Round 8 (issue 19): the Cassandra store's cached blocks, A/B. Every round
# runs, for each build (the first rotating every round, bench/rounds.sh):
# the latency scenario over $PAIRS pairs (200 by default) at each rate of
# $RATES (500 1000 1500 msg/s offered), then one conversation with its
# receiver online (--pairs 1) at $RATE1 (1,000). Each build and shape has
# its own keyspace and data directory; the node is this run's own
# (scripts/cassandra.sh --dir /work/r9/cass-c8 --net 127.0.8, 127.0.8.1).
#   ab.sh OUT FIRST_ROUND LAST_ROUND name=BIN name=BIN ...
# Logs: OUT/m<rate>/<name>-r<round>-onepair.txt and OUT/p1/... (the names
# summary.sh and ratios.sh of round 6/7 read).
set -eu
. bench/rounds.sh
out=$1 first=$2 last=$3
shift 3
run=${RUN_DIR:-run/round8}
pairs=${PAIRS:-200}
rates=${RATES:-500 1000 1500}
rate1=${RATE1:-1000}
node=${NODE:-127.0.8.1}
one() { # ROUND NAME BIN
    for rate in $rates; do
        mkdir -p "$out/m$rate"
        export BENCH_DIR="$run/m-$2" BENCH_PORT=18190
        DUETD=$3 bench/run.sh start --store cassandra --cassandra "$node" \
            --cassandra-keyspace "ab8_m_$2" >/dev/null
        bench/run.sh bench --scenario latency --pairs "$pairs" --rate "$rate" --duration 10 \
            --runs 1 >"$out/m$rate/$2-r$1-onepair.txt" 2>&1 || true
        bench/run.sh stop
    done
    mkdir -p "$out/p1"
    export BENCH_DIR="$run/1p-$2" BENCH_PORT=18191
    DUETD=$3 bench/run.sh start --store cassandra --cassandra "$node" \
        --cassandra-keyspace "ab8_1p_$2" >/dev/null
    bench/run.sh bench --scenario latency --pairs 1 --rate "$rate1" --duration 10 --runs 1 \
        >"$out/p1/$2-r$1-onepair.txt" 2>&1 || true
    bench/run.sh stop
    echo "round $1 $2 done $(uptime)"
}
rounds "$first" "$last" one "$@"
