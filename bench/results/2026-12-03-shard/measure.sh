#!/bin/sh
# After the fill: interleaved old/new search runs, the split time, delete timings.
# Run from the top of a checkout that has the 1M-message store in run/bench-shard
# (made by the search scenario's fill) and the old build in /tmp/s-shard-old.
set -u
cd "$(dirname "$0")/../../.." || exit 1
R=bench/results/2026-12-03-shard
export BENCH_PORT=18477
old() { BUILD=/tmp/s-shard-old/build BENCH_DIR=run/bench-shard bench/run.sh "$@"; }
new() { BUILD=build BENCH_DIR=run/bench-new bench/run.sh "$@"; }
old stop
rm -rf run/bench-new && cp -r run/bench-shard run/bench-new
rm -rf run/scratch-old && cp -r run/bench-shard/data run/scratch-old
echo "split at open: start $(date +%s.%N)" > $R/split.txt
new start
t0=$(date +%s.%N)
for i in $(seq 1 1200); do curl -fs "http://127.0.0.1:$BENCH_PORT/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
{
  echo "healthz answered: $(date +%s.%N) (start script returned $t0)"
  tail -5 run/bench-new/duetd.log
  sqlite3 run/bench-new/data/duet.db "SELECT count(*), min(first_id), max(first_id) FROM msg_fts_shards"
} >> $R/split.txt
new bench --scenario search --history-pages 600 --runs 1 --out $R/new-1.json > $R/new-1.txt 2>&1
new stop
rm -rf run/scratch-new && cp -r run/bench-new/data run/scratch-new
for i in 2 3; do
  old start; sleep 1
  old bench --scenario search --history-pages 600 --runs 1 --out $R/old-$i.json > $R/old-$i.txt 2>&1
  old stop
  new start; sleep 1
  new bench --scenario search --history-pages 600 --runs 1 --out $R/new-$i.json > $R/new-$i.txt 2>&1
  new stop
done
for id in 700000 700001 700002; do
  uptime
  bench/results/2026-12-03-shard/delete-timing.sh run/scratch-old/duet.db run/scratch-new/duet.db $id
done > $R/delete-timing.txt 2>&1
echo finished
