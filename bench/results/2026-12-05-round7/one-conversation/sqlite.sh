#!/bin/sh
# The SQLite backend with the new bounds: duet-bench's latency scenario at
# 1,000 msg/s over 500 pairs, the builds interleaved (the first one rotates
# every round), each with its own data directory:
#   sqlite.sh OUT FIRST_ROUND LAST_ROUND name=BIN name=BIN ...
set -eu
out=$1 first=$2 last=$3
shift 3
run=${RUN_DIR:-run/one-conversation}
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
        export BENCH_DIR="$run/sqlite-$name" BENCH_PORT=18391
        DUETD=$bin bench/run.sh start >/dev/null
        bench/run.sh bench --scenario latency --pairs 500 --rate 1000 --duration 10 --runs 1 \
            >"$out/$name-r$r-sqlite.txt" 2>&1 || true
        bench/run.sh stop
        echo "round $r $name done $(uptime)"
        i=$((i + 1))
    done
done
