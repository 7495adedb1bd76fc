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
        echo "### round $r $name ($bin $opts)"
        # shellcheck disable=SC2086
        bench/run.sh bench $BENCH_ARGS --runs 1 --out "$out/$name-r$r.json" 2>&1 |
            grep -vE '^duet-bench: (connecting|worker)' || true
        bench/run.sh stop
    done
done
