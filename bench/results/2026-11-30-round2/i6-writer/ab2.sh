#!/bin/sh
# Interleaved A/B of duetd variants on the same data (bench/notes-i6-writer.md).
#   BENCH_ARGS="--scenario latency --rate 1000" ab.sh OUTDIR ROUNDS name=binary[:opt,opt] ...
# Each round starts every variant in turn (the order rotated each round),
# runs duet-bench once with $BENCH_ARGS (--runs 1) and stops the server.
set -eu
out=$1
rounds=$2
shift 2
mkdir -p "$out"
n=$#
for r in $(seq 1 "$rounds"); do
    k=$(((r - 1) % n))
    order="$*"
    i=0
    while [ $i -lt $k ]; do
        order="$(echo "$order" | cut -d' ' -f2-) $(echo "$order" | cut -d' ' -f1)"
        i=$((i + 1))
    done
    for v in $order; do
        name=${v%%=*}
        rest=${v#*=}
        bin=${rest%%:*}
        opts=""
        [ "$rest" != "$bin" ] && opts=$(echo "${rest#*:}" | tr ',' ' ')
        # shellcheck disable=SC2086
        DUETD=$bin bench/run.sh start $opts >/dev/null
        pid=$(cat "${BENCH_DIR:-run/bench}/duetd.pid")
        echo "### round $r $name ($bin $opts) pid $pid"
        # The machine is shared: make sure the port is ours, not another
        # engineer's server that took it while ours was stopped.
        if ! ss -ltnpH "sport = :${BENCH_PORT:-18080}" | grep -q "pid=$pid,"; then
            echo "!!! port ${BENCH_PORT:-18080} is not served by our duetd $pid: round skipped"
            bench/run.sh stop
            continue
        fi
        wb0=$(awk '/^write_bytes/ {print $2}' "/proc/$pid/io")
        # shellcheck disable=SC2086
        bench/run.sh bench $BENCH_ARGS --runs 1 --out "$out/$name-r$r.json" 2>&1 |
            grep -vE '^duet-bench: (connecting|worker)' || true
        wb1=$(awk '/^write_bytes/ {print $2}' "/proc/$pid/io")
        echo "    duetd write_bytes (to the block layer, connect to end): $((wb1 - wb0))"
        echo "$((wb1 - wb0))" >"$out/$name-r$r.write_bytes"
        bench/run.sh stop
    done
done
