#!/usr/bin/env bash
# run.sh - the first delete's scrub after a clean stop (B) and after kill -9 (C),
# on a conversation of 300,000 messages (sqlite_scrub_state.c). From the
# repository root: bench/results/2026-12-05-scrub-state/run.sh (logs and
# JSON land in the current folder).
set -u
B=${B:-build}
D=${D:-run/scrub-state/data}
mkdir -p "$D"
P=18610
start() { setsid nohup "$B"/duetd --listen 127.0.0.1:$P --data "$D" --web web --msg-rate 1000000 --msg-burst 1000000 --signup-rate 0 > "$1" 2>&1 < /dev/null & echo $! > pid; for _ in $(seq 100); do curl -sf http://127.0.0.1:$P/healthz >/dev/null && return; sleep 0.1; done; }
stopit() { kill -TERM "$(cat pid)"; while kill -0 "$(cat pid)" 2>/dev/null; do sleep 0.1; done; }
start fill.log
"$B"/duet-bench --server 127.0.0.1:$P --scenario history --history-msgs 300000 --history-pages 10 --users-file users-h.txt --out fill.json > fill.out 2>&1
stopit
lat() { "$B"/duet-bench --server 127.0.0.1:$P --scenario latency --pairs 2 --rate 20 --warmup 0 --duration 2 --delete-every 5 --users-file users-l.txt --out "$1.json" > "$1.out" 2>&1; }
start A.log; lat A; stopit
start B.log; lat B; stopit
start K.log; kill -9 "$(cat pid)"; sleep 0.5
start C.log; lat C; stopit
grep -h "scrubs after" A.log B.log C.log
