#!/bin/sh
# Interleaved A/B on one Cassandra node (issue 19, group claims): each round
# runs every scenario on one binary, then on the other (the order swaps every
# round), each binary with its own data folder, port and keyspace, so users
# and chats are created once. Not paired: both duetd would share the one
# node, and the faster one would take the node from the slower.
# Run from the checkout's root after `make bench`; the node:
#   CASSANDRA_DIR=$PWD/run/cass6 CASSANDRA_NET=127.0.6 scripts/cassandra.sh start
#   [FIRST=N] ab.sh OUT ROUNDS old=BIN new=BIN   (rounds FIRST.., default 1)
set -eu
out=$1
rounds=$2
a=$3
b=$4
mkdir -p "$out"
run() { # name bin scenario-tag args...
    name=$1 bin=$2 tag=$3
    shift 3
    export BENCH_DIR="/tmp/cg-ab-$name" BENCH_PORT=$((18290 + ${#name}))
    DUETD=$bin bench/run.sh start --store cassandra --cassandra 127.0.6.1 \
        --cassandra-keyspace "cg_ab_$name" >/dev/null
    bench/run.sh bench "$@" --runs 1 >"$out/$name-r$r-$tag.txt" 2>&1 || true
    bench/run.sh stop
}
first=${FIRST:-1}
for r in $(seq "$first" $((first + rounds - 1))); do
    if [ $((r % 2)) -eq 1 ]; then x=$a y=$b; else x=$b y=$a; fi
    for v in $x $y; do
        name=${v%%=*} bin=${v#*=}
        run "$name" "$bin" fill --scenario backlog --backlog 2000 --window 64
        run "$name" "$bin" lat200 --scenario latency --rate 200 --pairs 100 --duration 10
        run "$name" "$bin" lat1000 --scenario latency --rate 1000 --pairs 100 --duration 10
        run "$name" "$bin" lat3000 --scenario latency --rate 3000 --pairs 100 --duration 10
    done
    echo "round $r done $(uptime)"
done
