#!/bin/sh
# Rounds 4 and 5 (ports from PAIR_PORT [18490] + 1, 2; data in PAIR_PREFIX1, 2).
# Paired A/B on bench/compare.sh's work (BENCHMARKS.md, section 14): two
# duetd at the same time, both on core 0, each driven by its own
# bench/peer/load.mjs on core 1 (PAIRS pairs, INFLIGHT in flight, every
# message and receipt acknowledged one by one), fresh data each round,
# sides swapped every round. Per server: the client's JSON line and the CPU
# of each duetd thread over the measured window (schedstat, ns, read after
# WARMUP and at the end), so CPU per message = cpu / msgs.
#   bench/pair-load.sh OUT ROUNDS old=BIN new=BIN   (after npm ci in bench/peer;
#   then: node bench/pairs-load.mjs OUT old new)
# LOAD_ARGS adds options to load.mjs (round 7: --seen).
set -eu
out=$1 rounds=$2 a=$3 b=$4
PAIRS=${PAIRS:-50} INFLIGHT=${INFLIGHT:-4} DURATION=${DURATION:-20} WARMUP=${WARMUP:-5}
base=${PAIR_PREFIX:-/tmp/put4-load}
mkdir -p "$out"
cpu() { for t in /proc/"$1"/task/*; do echo "$(basename "$t") $(cut -d' ' -f1 "$t/schedstat")"; done; }
for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then x=$a y=$b; else x=$b y=$a; fi
    i=0
    for v in $x $y; do
        i=$((i + 1)); d=$base$i; port=$((${PAIR_PORT:-18490} + i))
        rm -rf "$d"; mkdir -p "$d/data" "$d/web"
        echo '<!doctype html><title>bench</title>' >"$d/web/index.html"
        taskset -c 0 "${v#*=}" --listen "127.0.0.1:$port" --data "$d/data" --web "$d/web" \
            --sync full --argon2-mem 8192 --argon2-ops 1 --msg-rate 1000000 --msg-burst 1000000 \
            --log-level warn 2>>"$d/duetd.log" &
        echo $! >"$d/pid"
        for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    done
    i=0 waits=
    for v in $x $y; do
        i=$((i + 1)); d=$base$i; port=$((${PAIR_PORT:-18490} + i)); name=${v%%=*}; pid=$(cat "$d/pid")
        (
            # shellcheck disable=SC2086 # LOAD_ARGS: words
            LOAD_MARKS=1 taskset -c 1 node bench/peer/load.mjs --target duet --port "$port" --pairs "$PAIRS" \
                --inflight "$INFLIGHT" --seconds "$DURATION" --warmup "$WARMUP" ${LOAD_ARGS:-} \
                >"$out/$name-r$r.json" 2>"$d/load.err" &
            lp=$!
            # load.mjs says when its measured window opens and closes
            until grep -q 'load: measuring' "$d/load.err" 2>/dev/null; do sleep 0.05; done
            cpu "$pid" >"$out/$name-r$r.cpu0"
            until grep -q 'load: measured' "$d/load.err" 2>/dev/null; do sleep 0.05; done
            cpu "$pid" >"$out/$name-r$r.cpu1"
            wait $lp
        ) &
        waits="$waits $!"
    done
    # shellcheck disable=SC2086
    wait $waits # not the servers
    for i in 1 2; do kill "$(cat "$base$i/pid")"; done
    sleep 1
    echo "round $r done $(uptime)"
done
