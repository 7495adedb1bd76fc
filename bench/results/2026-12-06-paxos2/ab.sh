#!/bin/sh
# Paxos v2 (issue 19), A/B. One duetd build against two Cassandra 5.0.6
# nodes of this run's own that differ only in paxos_variant: v1 (the stock
# setting, main's deploy/cassandra/cassandra.yaml.in) on 127.0.8.1 and v2
# (this change) on 127.0.9.1; both stay up for the whole run, so an idle
# node's background work weighs on both sides alike. Every round runs, for
# each node (the first rotating every round, bench/rounds.sh): the latency
# scenario over $PAIRS pairs (200) at each rate of $RATES (500 1000 2000
# msg/s offered), then one conversation with its receiver online
# (--pairs 1) at $RATE1 (1,000). Each node and shape has its own keyspace.
#   ab.sh OUT FIRST_ROUND LAST_ROUND name=NODE_ADDR name=NODE_ADDR ...
# Logs: OUT/m<rate>/<name>-r<round>-onepair.txt and OUT/p1/... (the names
# summary.sh of round 8 reads).
set -eu
. bench/rounds.sh
out=$1 first=$2 last=$3
shift 3
run=${RUN_DIR:-run/paxos2}
pairs=${PAIRS:-200}
rates=${RATES:-500 1000 2000}
rate1=${RATE1:-1000}
one() { # ROUND NAME NODE
    for rate in $rates; do
        mkdir -p "$out/m$rate"
        export BENCH_DIR="$run/m-$2" BENCH_PORT=18190
        bench/run.sh start --store cassandra --cassandra "$3" \
            --cassandra-keyspace "px_m_$2" >/dev/null
        bench/run.sh bench --scenario latency --pairs "$pairs" --rate "$rate" --duration 10 \
            --runs 1 >"$out/m$rate/$2-r$1-onepair.txt" 2>&1 || true
        bench/run.sh stop
    done
    mkdir -p "$out/p1"
    export BENCH_DIR="$run/1p-$2" BENCH_PORT=18191
    bench/run.sh start --store cassandra --cassandra "$3" \
        --cassandra-keyspace "px_1p_$2" >/dev/null
    bench/run.sh bench --scenario latency --pairs 1 --rate "$rate1" --duration 10 --runs 1 \
        >"$out/p1/$2-r$1-onepair.txt" 2>&1 || true
    bench/run.sh stop
    echo "round $1 $2 done $(uptime)"
}
rounds "$first" "$last" one "$@"
