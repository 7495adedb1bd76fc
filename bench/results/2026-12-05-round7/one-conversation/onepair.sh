#!/bin/sh
# One conversation with its receiver online (it gets every message live and
# acks each one): latency scenario, 1 pair, $RATE msg/s offered (1,500 by
# default), the builds
# interleaved (the first one rotates every round) on a Cassandra node of
# this run's own (127.0.8.1), each build with its own keyspace and data
# directory:
#   onepair.sh OUT FIRST_ROUND LAST_ROUND name=BIN name=BIN ...
# (round 6's onepair.sh with this round's directories and keyspaces)
set -eu
out=$1 first=$2 last=$3
shift 3
run=${RUN_DIR:-run/one-conversation}
rate=${RATE:-1500}
mkdir -p "$out"
for r in $(seq "$first" "$last"); do
    i=0
    n=$#
    while [ $i -lt $n ]; do
        k=$(( (i + r) % n + 1 )) j=0
        for v in "$@"; do
            j=$((j + 1))
            [ "$j" -eq "$k" ] && break
        done
        name=${v%%=*} bin=${v#*=}
        export BENCH_DIR="$run/1p-$name" BENCH_PORT=18390
        DUETD=$bin bench/run.sh start --store cassandra --cassandra 127.0.8.1 \
            --cassandra-keyspace "ab7_1p_$name" >/dev/null
        bench/run.sh bench --scenario latency --pairs 1 --rate "$rate" --duration 10 --runs 1 \
            >"$out/$name-r$r-onepair.txt" 2>&1 || true
        bench/run.sh stop
        echo "round $r $name done $(uptime)"
        i=$((i + 1))
    done
done
