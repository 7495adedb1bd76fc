#!/bin/sh
# runs.sh - the script that made this folder: three interleaved rounds of
# 8 x 1 MiB and 4 x 50 MiB uploads under 200 msg/s of chat (a fresh duetd
# before each run, the per-user upload quota lifted), then the disk's dd
# figures. Not niced: these are measured runs. From the repository root.
# (Tidied for shellcheck after the runs; the steps are the same.)
set -u
cd "$(dirname "$0")/../../.." || exit 1
export BENCH_PORT=18473
OUT=bench/results/2026-12-03-upload
for i in 1 2 3; do
    for cfg in 1M:8 50M:4; do
        size=${cfg%:*}
        n=${cfg#*:}
        bench/run.sh start --upload-quota-bytes 1000000000000 >/dev/null
        sleep 1
        bench/run.sh bench --scenario upload --upload-size "$size" --uploads "$n" \
            --out "$OUT/upload-${size}x$n-run$i.json" >"$OUT/upload-${size}x$n-run$i.txt" 2>&1
        echo "${size}x$n run $i rc=$?"
    done
    bench/disk.sh run/bench/data >"$OUT/dd-run$i.txt" 2>&1
    cat "$OUT/dd-run$i.txt"
done
bench/run.sh stop
