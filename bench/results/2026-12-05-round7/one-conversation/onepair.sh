#!/bin/sh
# One conversation with its receiver online (it gets every message live and
# acks each one): latency scenario, 1 pair, $RATE msg/s offered (1,500 by
# default), the builds interleaved (the first one rotates every round,
# bench/rounds.sh) on a Cassandra node of this run's own (127.0.8.1), each
# build with its own keyspace and data directory:
#   onepair.sh OUT FIRST_ROUND LAST_ROUND name=BIN name=BIN ...
# (round 6's onepair.sh with this round's directories and keyspaces)
set -eu
. bench/rounds.sh
out=$1 first=$2 last=$3
shift 3
run=${RUN_DIR:-run/one-conversation}
rate=${RATE:-1500}
mkdir -p "$out"
one() { # ROUND NAME BIN
    export BENCH_DIR="$run/1p-$2" BENCH_PORT=18390
    DUETD=$3 bench/run.sh start --store cassandra --cassandra 127.0.8.1 \
        --cassandra-keyspace "ab7_1p_$2" >/dev/null
    bench/run.sh bench --scenario latency --pairs 1 --rate "$rate" --duration 10 --runs 1 \
        >"$out/$2-r$1-onepair.txt" 2>&1 || true
    bench/run.sh stop
    echo "round $1 $2 done $(uptime)"
}
rounds "$first" "$last" one "$@"
