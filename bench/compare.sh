#!/usr/bin/env bash
# bench/compare.sh - duet against the seed's stack done right (issue 18):
# the socket.io + better-sqlite3 reference in bench/peer/server.mjs and
# duetd, each driven by the same Node load client (bench/peer/load.mjs), on
# the same work: PAIRS pairs, INFLIGHT messages in flight per pair, every
# message durable (synchronous=FULL / --sync full) with delivered receipts.
# The server runs on core SERVER_CPU, the client on CLIENT_CPU; each server
# is measured RUNS times and the medians are printed with their ratio.
#
#   bench/compare.sh            (after make; npm ci in bench/peer once)
# Settings (environment): PAIRS [50] INFLIGHT [4] DURATION [20] (seconds
# measured) WARMUP [5]
#   RUNS [3] SERVER_CPU [0] CLIENT_CPU [1] OUT [run/compare]
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${PAIRS:-50}
INFLIGHT=${INFLIGHT:-4}
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-5}
RUNS=${RUNS:-3}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
OUT=${OUT:-run/compare}
DUETD=${DUETD:-build/duetd}
PORT_DUET=${PORT_DUET:-18180}
PORT_PEER=${PORT_PEER:-18190}

[ -x "$DUETD" ] || { echo "compare: build duetd first (make)" >&2; exit 1; }
[ -d bench/peer/node_modules ] || (cd bench/peer && npm ci --no-audit --no-fund)
# npm once skipped better-sqlite3's native build (no prebuilt binary for this
# Node): build it when the module does not load, rather than fail mid-run.
if ! (cd bench/peer && node -e "new (require('better-sqlite3'))(':memory:')" 2>/dev/null); then
    (cd bench/peer && npm rebuild better-sqlite3) ||
        { echo "compare: better-sqlite3 does not build in bench/peer" >&2; exit 1; }
fi
mkdir -p "$OUT"
results="$OUT/results.jsonl"
: >"$results"
server_pid=

stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid"
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=
}
trap stop_server EXIT

wait_healthy() {
    for _ in $(seq 1 100); do
        curl -fs "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "compare: the server on port $1 did not start" >&2
    exit 1
}

# One measured run: start the server, drive it, record the client's JSON
# line plus the server's peak RSS (VmHWM, KiB).
one_run() {
    local target=$1 port
    rm -rf "$OUT/data"
    mkdir -p "$OUT/data" "$OUT/web"
    echo '<!doctype html><title>bench</title>' >"$OUT/web/index.html"
    if [ "$target" = duet ]; then
        port=$PORT_DUET
        taskset -c "$SERVER_CPU" "$DUETD" --listen "127.0.0.1:$port" --data "$OUT/data" \
            --web "$OUT/web" --sync full --argon2-mem 8192 --argon2-ops 1 \
            --msg-rate 1000000 --msg-burst 1000000 --log-level warn 2>>"$OUT/duetd.log" &
    else
        port=$PORT_PEER
        taskset -c "$SERVER_CPU" node bench/peer/server.mjs --port "$port" --data "$OUT/data" \
            >>"$OUT/peer.log" 2>&1 &
    fi
    server_pid=$!
    wait_healthy "$port"
    local line
    line=$(taskset -c "$CLIENT_CPU" node bench/peer/load.mjs --target "$target" --port "$port" \
        --pairs "$PAIRS" --inflight "$INFLIGHT" --seconds "$DURATION" --warmup "$WARMUP")
    local rss
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
    stop_server
    echo "${line%\}},\"rss_kib\":$rss}" | tee -a "$results"
}

for _ in $(seq 1 "$RUNS"); do
    one_run duet
    one_run peer
done

node - "$results" <<'JS'
const fs = require('node:fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };
const by = (t) => rows.filter((r) => r.target === t);
const sum = (t) => ({ rate: med(by(t).map((r) => r.rate)), p50: med(by(t).map((r) => r.p50_ms)),
  p99: med(by(t).map((r) => r.p99_ms)), rss: Math.round(med(by(t).map((r) => r.rss_kib)) / 1024) });
const d = sum('duet'), p = sum('peer');
console.log(`\n| server | delivered msg/s | p50 ms | p99 ms | peak RSS MB |  (medians of ${by('duet').length} runs)`);
console.log('|---|---|---|---|---|');
console.log(`| duet | ${d.rate} | ${d.p50} | ${d.p99} | ${d.rss} |`);
console.log(`| socket.io + better-sqlite3 | ${p.rate} | ${p.p50} | ${p.p99} | ${p.rss} |`);
console.log(`\nduet / peer throughput: ${(d.rate / p.rate).toFixed(2)}x`);
JS
