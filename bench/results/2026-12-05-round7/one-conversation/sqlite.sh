#!/bin/sh
# The SQLite backend with the new bounds: duet-bench's latency scenario at
# 1,000 msg/s over 500 pairs, the builds interleaved (the first one rotates
# every round, bench/rounds.sh), each with its own data directory:
#   sqlite.sh OUT FIRST_ROUND LAST_ROUND name=BIN name=BIN ...
set -eu
. bench/rounds.sh
out=$1 first=$2 last=$3
shift 3
run=${RUN_DIR:-run/one-conversation}
mkdir -p "$out"
one() { # ROUND NAME BIN
    export BENCH_DIR="$run/sqlite-$2" BENCH_PORT=18391
    DUETD=$3 bench/run.sh start >/dev/null
    bench/run.sh bench --scenario latency --pairs 500 --rate 1000 --duration 10 --runs 1 \
        >"$out/$2-r$1-sqlite.txt" 2>&1 || true
    bench/run.sh stop
    echo "round $1 $2 done $(uptime)"
}
rounds "$first" "$last" one "$@"
