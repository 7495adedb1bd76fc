#!/bin/sh
# bench/smoke.sh - `make bench-smoke`: a tiny run of every duet-bench scenario
# (upload included: 3 concurrent tus uploads of 3 MiB in 1 MiB PATCHes)
# against a fresh duetd. It proves that the bench works and that delivery is
# exactly once and in order; duet-bench exits nonzero on any loss, duplicate,
# reordering or error. No timing is asserted.
set -eu
DUETD=${DUETD:-build/duetd}
BENCH=${BENCH:-build/duet-bench}
tmp=$(mktemp -d)
pid=
# shellcheck disable=SC2317 # reached through the trap below, not a call
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir -p "$tmp/data" "$tmp/web"
echo '<!doctype html><title>bench</title>' >"$tmp/web/index.html"
# Fast password hashing and no per-user message rate: see BENCHMARKS.md.
"$DUETD" --listen 127.0.0.1:0 --data "$tmp/data" --web "$tmp/web" \
    --argon2-mem 8192 --argon2-ops 1 --msg-rate 1000000 --msg-burst 1000000 --delete-rate 0 \
    2>"$tmp/duetd.log" &
pid=$!
port=
for _ in $(seq 1 200); do
    port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/duetd.log")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/duetd.log"; exit 1; }
    sleep 0.1
done
[ -n "$port" ] || { echo "bench-smoke: duetd did not start"; cat "$tmp/duetd.log"; exit 1; }
status=0
"$BENCH" --smoke --server "127.0.0.1:$port" --server-pid "$pid" \
    --users-file "$tmp/users.txt" --out "$tmp/result.json" || status=$?
# the users file is reused: a second, shorter run must skip sign-up
if [ "$status" = 0 ]; then
    "$BENCH" --smoke --scenario latency --server "127.0.0.1:$port" \
        --users-file "$tmp/users.txt" | tail -n 3 || status=$?
fi
kill -TERM "$pid"
wait "$pid" || { echo "bench-smoke: duetd exited badly"; tail -n 20 "$tmp/duetd.log"; status=1; }
pid=
if grep -E 'AddressSanitizer|runtime error' "$tmp/duetd.log"; then status=1; fi
[ "$status" = 0 ] && echo "bench-smoke: ok" || echo "bench-smoke: FAILED"
exit "$status"
