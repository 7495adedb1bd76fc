#!/bin/sh
# cmp.sh BIN MODE TAG: bench/compare.sh's work (bench/peer/load.mjs: 50 pairs,
# 4 in flight, every message and receipt acknowledged one by one; 5 s warm-up,
# 20 s) against a fresh duetd (BIN) on core 0, port 18192, data in
# run/cmp; measure.sh's window (12 s) opens 8 s in.
set -eu
bin=$1 mode=$2 tag=$3
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../../../.."
d=$PWD/run/cmp port=18192
rm -rf "$d"; mkdir -p "$d/data" "$d/web"
echo '<!doctype html><title>bench</title>' >"$d/web/index.html"
taskset -c 0 "$bin" --listen "127.0.0.1:$port" --data "$d/data" --web "$d/web" \
    --sync full --argon2-mem 8192 --argon2-ops 1 --msg-rate 1000000 --msg-burst 1000000 \
    --log-level warn 2>>"$d/duetd.log" &
pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
uptime >"$here/$tag.uptime0"
taskset -c 1 node bench/peer/load.mjs --target duet --port "$port" --pairs 50 --inflight 4 \
    --seconds 20 --warmup 5 >"$here/$tag.json" 2>"$here/$tag.err" &
lp=$!
sleep 8
"$here/measure.sh" "$pid" "$port" 12 "$here/$tag" "$mode"
wait $lp || true
grep wstat "$d/duetd.log" | sed 's/.*wstat: //' >"$here/$tag.wstat" || true
kill "$pid"; wait "$pid" 2>/dev/null || true
cat "$here/$tag.json"
node "$here/cpu.mjs" "$here/$tag"
