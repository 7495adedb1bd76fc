#!/bin/sh
# the script that made this folder (run from the worktree root)
# interleaved measured runs (not niced); a fresh duetd before each run
set -u
cd /work/wt/b-upload
export BENCH_PORT=18473
OUT=bench/results/2026-12-03-upload
for i in 1 2 3; do
  for cfg in "1M 8" "50M 4"; do
    set -- $cfg
    bench/run.sh start --upload-quota-bytes 1000000000000 >/dev/null
    sleep 1
    bench/run.sh bench --scenario upload --upload-size $1 --uploads $2 --out $OUT/upload-$1x$2-run$i.json > $OUT/upload-$1x$2-run$i.txt 2>&1
    echo "$1x$2 run $i rc=$?"
  done
  bench/disk.sh run/bench/data > $OUT/dd-run$i.txt 2>&1
  cat $OUT/dd-run$i.txt
done
bench/run.sh stop
