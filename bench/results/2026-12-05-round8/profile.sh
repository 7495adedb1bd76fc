#!/bin/sh
# Round 8 (issue 18): where the loop thread's time goes, before any change.
# One duetd (BIN) on core 0 under bench/compare.sh's work (bench/peer/load.mjs
# on core 1, 50 pairs, 4 in flight, 20 s after 5 s) on fresh data; 8 s into
# the run, `perf record -F 999 --call-graph dwarf` of the loop thread (the
# process's first thread) for 5 s, and schedstat of every thread over the
# measured window. Port 18401, data in $DIR.
#   BIN=/work/r9/t8-old/build/duetd bench/results/2026-12-05-round8/profile.sh OUT-PREFIX
set -eu
BIN=${BIN:?} out=$1 DIR=${DIR:-/tmp/put8-prof} port=18401
rm -rf "$DIR"; mkdir -p "$DIR/data" "$DIR/web"
echo '<!doctype html><title>bench</title>' >"$DIR/web/index.html"
taskset -c 0 "$BIN" --listen "127.0.0.1:$port" --data "$DIR/data" --web "$DIR/web" \
    --sync full --argon2-mem 8192 --argon2-ops 1 --msg-rate 1000000 --msg-burst 1000000 \
    --log-level warn 2>>"$DIR/duetd.log" &
pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
cpu() { for t in /proc/"$pid"/task/*; do echo "$(basename "$t") $(cut -d' ' -f1 "$t/schedstat")"; done; }
LOAD_MARKS=1 taskset -c 1 node bench/peer/load.mjs --target duet --port "$port" --pairs 50 \
    --inflight 4 --seconds 20 --warmup 5 >"$out.json" 2>"$DIR/load.err" &
lp=$!
until grep -q 'load: measuring' "$DIR/load.err" 2>/dev/null; do sleep 0.05; done
cpu >"$out.cpu0"
sleep 3
perf record -F 999 --call-graph dwarf,16384 -t "$pid" -o "$DIR/perf.data" -- sleep 5 2>/dev/null
until grep -q 'load: measured' "$DIR/load.err" 2>/dev/null; do sleep 0.05; done
cpu >"$out.cpu1"
wait $lp
kill "$pid"; wait "$pid" || true
echo "# $(uptime)" >"$out.txt"
perf report -i "$DIR/perf.data" --children --stdio --no-demangle -g none --percent-limit 1.5 2>/dev/null \
    | grep -v '^$' >>"$out.txt"
