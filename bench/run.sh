#!/bin/sh
# bench/run.sh - run duet-bench the way BENCHMARKS.md describes: duetd pinned
# to core 0, duet-bench to core 1, data kept in $BENCH_DIR between runs (so
# users and the long conversation are created once).
#
#   bench/run.sh start [duetd options...]   start duetd (stops a running one)
#   bench/run.sh stop
#   bench/run.sh bench [duet-bench options...]
set -eu
BUILD=${BUILD:-build}
BENCH_DIR=${BENCH_DIR:-run/bench}
PORT=${BENCH_PORT:-18080}
DUETD_CPU=${DUETD_CPU:-0}
BENCH_CPU=${BENCH_CPU:-1}
mkdir -p "$BENCH_DIR/data" "$BENCH_DIR/web"
pidfile="$BENCH_DIR/duetd.pid"

stop() {
    if [ -f "$pidfile" ]; then
        pid=$(cat "$pidfile")
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
        fi
        rm -f "$pidfile"
    fi
}

case "${1:-}" in
start)
    shift
    stop
    [ -f "$BENCH_DIR/web/index.html" ] || echo '<!doctype html><title>bench</title>' >"$BENCH_DIR/web/index.html"
    # Fast hashing (sign-up of thousands of users), no per-user message rate,
    # room for 15,000+ connections; BENCHMARKS.md explains each.
    taskset -c "$DUETD_CPU" "${DUETD:-$BUILD/duetd}" --listen "127.0.0.1:$PORT" \
        --data "$BENCH_DIR/data" --web "$BENCH_DIR/web" \
        --argon2-mem 8192 --argon2-ops 1 --msg-rate 1000000 --msg-burst 1000000 --delete-rate 0 \
        --max-conns 40000 --log-level warn "$@" 2>>"$BENCH_DIR/duetd.log" &
    echo $! >"$pidfile"
    for _ in $(seq 1 100); do
        curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    echo "duetd pid $(cat "$pidfile") on port $PORT (core $DUETD_CPU)"
    ;;
stop)
    stop
    ;;
bench)
    shift
    echo "uptime: $(uptime)"
    exec taskset -c "$BENCH_CPU" "$BUILD/duet-bench" --server "127.0.0.1:$PORT" \
        --server-pid "$(cat "$pidfile")" --users-file "$BENCH_DIR/users.txt" "$@"
    ;;
*)
    echo "usage: bench/run.sh start [duetd options] | stop | bench [duet-bench options]" >&2
    exit 2
    ;;
esac
