#!/bin/sh
# Round 5: idle memory, base and the 120 KiB statement-journal spill interleaved (binaries in run/bin).
cd "$(dirname "$0")/../../../../.." || exit 1
export BENCH_DIR=run/bench BENCH_PORT=18190
out=bench/results/2026-12-04-round5/ramp/idle
mkdir -p "$out"
for r in 1 2; do
for b in base sj120; do
  DUETD=run/bin/duetd-$b bench/run.sh start >/dev/null
  bench/run.sh bench --scenario idle --conns 5000 --out $out/$b-r$r.json > $out/$b-r$r.log 2>&1
  bench/run.sh stop
  echo "$b r$r $(grep -E '^\*\*' $out/$b-r$r.log) $(uptime)"
done
done
echo "done"
