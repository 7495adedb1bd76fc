#!/usr/bin/env bash
# cluster.sh - the whole local cluster in one command: Redis, N duetd
# instances sharing one SQLite data folder (or a Cassandra keyspace), and
# nginx in front.
#
#   deploy/cluster.sh [--store sqlite|cassandra] start|stop|status|restart
#
# --store cassandra (or DUET_STORE=cassandra): the instances share a keyspace
# on Cassandra instead of the SQLite file. Unless DUET_CASSANDRA_HOSTS names
# running nodes, scripts/cassandra.sh starts DUET_CASSANDRA_NODES local nodes
# [1] on PREFIX.1.. in <run>/cassandra (stop stops them; their data stays).
#   DUET_CASSANDRA_HOSTS     nodes to use, comma-separated (start none)
#   DUET_CASSANDRA_NODES     local nodes to start             [1]
#   DUET_CASSANDRA_NET       their address prefix [127.0.0]; another one
#                            (e.g. 127.0.3) next to a development node
#   DUET_CASSANDRA_KEYSPACE  keyspace                         [duet]
#   DUET_CASSANDRA_RF        replication factor   [min(3, nodes)]
#
# Everything lives under one run directory: pids/, logs/, data/ (duet.db),
# redis/, nginx.conf, settings. `start` writes the settings below to
# <run>/settings, and every later call reads them from there, so `stop` and
# `status` need only DUET_RUN_DIR (when it is not the default). A setting in
# the environment wins over the saved one (and `start` saves it).
#
# `start` starts only what is not answering (Redis: PING; duetd and nginx:
# GET /healthz) and reloads nginx, so restarting one part is: kill it (or
# let it die), then `cluster.sh start`. A process that is there but does not
# answer (hung, stopped) is killed first. Settings:
#   DUET_RUN_DIR     the run directory                 [./run/cluster]
#   DUET_INSTANCES   how many duetd instances          [4]
#   DUET_BASE_PORT   instance i listens on BASE + i - 1 [8081]
#   DUET_HTTP        where nginx listens               [127.0.0.1:8080]
#   DUET_REDIS_PORT  Redis port (on 127.0.0.1)         [6390]
#   DUETD            the duetd binary                  [build/duetd]
#   DUET_WEB         the web client folder             [web]
#   DUET_ARGS        extra duetd options (e.g. "--sync normal")
#   DUET_TLS_LISTEN, DUET_TLS_CERT, DUET_TLS_KEY: an extra TLS server block
#   DUET_NGINX_LIMIT_CONN, DUET_NGINX_LIMIT_RATE, DUET_NGINX_LIMIT_BURST:
#                    nginx's per-address limits [256, 50/s, 200]
#
# stop is clean: nginx first (no new connections), then each duetd on
# SIGTERM (it closes its WebSockets with 1001 and commits everything), then
# Redis. Nothing acknowledged is lost.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

# Saved settings, as KEY=VALUE lines; one already in the environment wins.
saved=(DUET_STORE DUET_INSTANCES DUET_BASE_PORT DUET_HTTP DUET_REDIS_PORT DUETD DUET_WEB
  DUET_ARGS DUET_TLS_LISTEN DUET_TLS_CERT DUET_TLS_KEY DUET_CASSANDRA_HOSTS
  DUET_CASSANDRA_NODES DUET_CASSANDRA_NET DUET_CASSANDRA_KEYSPACE DUET_CASSANDRA_RF
  DUET_NGINX_LIMIT_CONN DUET_NGINX_LIMIT_RATE DUET_NGINX_LIMIT_BURST)
settings=${DUET_RUN_DIR:-./run/cluster}/settings
if [ -f "$settings" ]; then
  while IFS= read -r line; do
    k=${line%%=*}
    for s in "${saved[@]}"; do
      if [ "$k" = "$s" ] && [ -z "${!k+x}" ]; then export "$k=${line#*=}"; fi
    done
  done <"$settings"
fi

store=${DUET_STORE:-sqlite}
if [ "${1:-}" = --store ]; then
  store=${2:-}
  shift 2 || true
fi
case $store in
sqlite | cassandra) ;;
*) echo "cluster: --store wants sqlite or cassandra, not '$store'" >&2; exit 2 ;;
esac
DUET_STORE=$store # saved with the other settings

run=${DUET_RUN_DIR:-./run/cluster}
n=${DUET_INSTANCES:-4}
base=${DUET_BASE_PORT:-8081}
http=${DUET_HTTP:-127.0.0.1:8080}
rport=${DUET_REDIS_PORT:-6390}
duetd=${DUETD:-$root/build/duetd}
web=${DUET_WEB:-$root/web}
read -r -a extra <<<"${DUET_ARGS:-}"

case "${1:-}" in
  start | stop | status | restart) ;;
  *) echo "usage: $0 [--store sqlite|cassandra] start|stop|status|restart (settings: see the top of this file)" >&2; exit 2 ;;
esac

# Only a known command gets here, so a typo never leaves a run directory behind.
mkdir -p "$run"
run=$(cd "$run" && pwd)
pids=$run/pids logs=$run/logs

say() { echo "cluster: $*"; }
die() { echo "cluster: $*" >&2; exit 1; }

# True while the pid in file $1 is a process that has not exited. kill -0
# alone also succeeds on a zombie (exited, not yet reaped), which made a
# dead Redis look alive (issue 12); so the state in /proc is checked too.
pid_running() {
  local st
  kill -0 "$1" 2>/dev/null || return 1
  st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "${st:0:1}" != Z ]
}
alive() { [ -f "$1" ] && pid_running "$(cat "$1")"; }

# Writes the settings that start used to <run>/settings (see the top).
save_settings() {
  local s tmp=$run/settings.tmp
  : >"$tmp"
  for s in "${saved[@]}"; do
    if [ -n "${!s+x}" ]; then
      [[ ${!s} != *$'\n'* ]] || die "$s must be one line"
      printf '%s=%s\n' "$s" "${!s}" >>"$tmp"
    fi
  done
  mv "$tmp" "$run/settings"
}

cnet=${DUET_CASSANDRA_NET:-127.0.0}
cass() { "$root/scripts/cassandra.sh" --dir "$run/cassandra" --net "$cnet" "$@"; }
cnodes=${DUET_CASSANDRA_NODES:-1}
chosts=${DUET_CASSANDRA_HOSTS:-}
if [ -z "$chosts" ]; then
  for ((i = 1; i <= cnodes; i++)); do chosts+="${chosts:+,}$cnet.$i"; done
fi
crf=${DUET_CASSANDRA_RF:-$((cnodes < 3 ? cnodes : 3))}

# The duetd options that choose the store.
store_args() {
  if [ "$store" = cassandra ]; then
    echo --store cassandra --cassandra "$chosts" \
      --cassandra-keyspace "${DUET_CASSANDRA_KEYSPACE:-duet}" \
      --cassandra-replication "{'class':'SimpleStrategy','replication_factor':$crf}"
  fi
}

# Waits up to $2 seconds for command $1 to succeed.
wait_for() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    eval "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# Sends SIGTERM (or $2) to the pid in $1 and waits up to 30 s for it to go.
stop_pid() {
  local f=$1 sig=${2:-TERM} pid i
  alive "$f" || { rm -f "$f"; return 0; }
  pid=$(cat "$f")
  kill -"$sig" "$pid"
  # A stopped (SIGSTOP) process acts on the signal only once it runs again.
  kill -CONT "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    pid_running "$pid" || { rm -f "$f"; return 0; }
    sleep 0.1
  done
  echo "cluster: pid $pid ($f) did not stop in 30 s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$f"
  return 1
}

healthz() { curl -fsS --max-time 2 "http://$1/healthz"; }
redis_up() { [ "$(timeout 2 redis-cli -p "$rport" ping 2>/dev/null)" = PONG ]; }

# $1 answers its probe ($2): nothing to do. Its process is there but does
# not answer (hung, SIGSTOPped): killed, so that it can be started afresh.
# Returns 0 when it is up, 1 when it must be started.
check_part() {
  local name=$1 probe=$2 pf=$3
  if alive "$pf" && eval "$probe" >/dev/null 2>&1; then
    say "$name already running"
    return 0
  fi
  if alive "$pf"; then
    say "$name (pid $(cat "$pf")) does not answer; killing it"
    stop_pid "$pf" KILL || true
  fi
  rm -f "$pf"
  return 1
}

start() {
  [ -x "$duetd" ] || die "no duetd at $duetd (run make)"
  for b in redis-server redis-cli nginx curl; do
    command -v "$b" >/dev/null || die "$b is missing (scripts/install-cluster-deps.sh)"
  done
  mkdir -p "$pids" "$logs" "$run/data" "$run/redis" "$run/nginx-tmp"

  local sargs=()
  if [ "$store" = cassandra ]; then
    if [ -z "${DUET_CASSANDRA_HOSTS:-}" ]; then
      cass start --nodes "$cnodes" || die "Cassandra did not start (scripts/cassandra.sh, $run/cassandra)"
    else
      local hl
      IFS=, read -r -a hl <<<"$chosts"
      cass probe "${hl[@]}" || die "Cassandra is not answering on $chosts"
    fi
    # read -a keeps the replication map (it has no spaces) as one word.
    read -r -a sargs <<<"$(store_args)"
    say "store: Cassandra on $chosts, keyspace ${DUET_CASSANDRA_KEYSPACE:-duet}, RF $crf"
  fi

  save_settings
  if ! check_part redis redis_up "$pids/redis.pid"; then
    redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
      --dir "$run/redis" --daemonize yes --pidfile "$pids/redis.pid" \
      --logfile "$logs/redis.log"
    wait_for redis_up 10 || die "redis did not start ($logs/redis.log)"
    say "redis on 127.0.0.1:$rport"
  fi

  for ((i = 1; i <= n; i++)); do
    local port=$((base + i - 1)) pf=$pids/duetd-$i.pid
    check_part "duet-$i" "healthz 127.0.0.1:$port" "$pf" && continue
    setsid "$duetd" --listen "127.0.0.1:$port" --data "$run/data" --web "$web" \
      --instance "duet-$i" --redis "127.0.0.1:$rport" --trust-proxy "${sargs[@]}" "${extra[@]}" \
      </dev/null >>"$logs/duetd-$i.log" 2>&1 &
    echo $! >"$pf"
    # On Cassandra the first instance creates the keyspace and tables; the
    # others start after it, so no two create the same table concurrently
    # (Cassandra can end up with two table ids for one table).
    if [ "$store" = cassandra ] && [ "$i" = 1 ]; then
      wait_for "grep -q 'keyspace .* ready' '$logs/duetd-1.log'" 300 ||
        die "duet-1 did not get its Cassandra keyspace ready ($logs/duetd-1.log)"
    fi
  done
  for ((i = 1; i <= n; i++)); do
    local port=$((base + i - 1))
    wait_for "healthz 127.0.0.1:$port" "$([ "$store" = cassandra ] && echo 300 || echo 20)" ||
      die "duet-$i did not start ($logs/duetd-$i.log)"
  done
  say "$n duetd instances on 127.0.0.1:$base..$((base + n - 1))"

  local tls=()
  [ -n "${DUET_TLS_LISTEN:-}" ] &&
    tls=(--tls-listen "$DUET_TLS_LISTEN" --tls-cert "${DUET_TLS_CERT:?}" --tls-key "${DUET_TLS_KEY:?}")
  "$here/render-nginx.sh" --mode full --instances "$n" --base-port "$base" --listen "$http" \
    --run-dir "$run" --workers 1 "${tls[@]}" --limit-conn "${DUET_NGINX_LIMIT_CONN:-256}" \
    --limit-rate "${DUET_NGINX_LIMIT_RATE:-50}" --limit-burst "${DUET_NGINX_LIMIT_BURST:-200}" \
    >"$run/nginx.conf"
  if alive "$run/nginx.pid"; then
    nginx -p "$run" -c "$run/nginx.conf" -s reload
    say "nginx reloaded"
  else
    nginx -p "$run" -c "$run/nginx.conf" -e "$logs/nginx-error.log"
  fi
  wait_for "healthz $http" 10 || die "nginx does not answer on $http ($logs/nginx-error.log)"
  say "nginx on http://$http"
}

stop() {
  local failed=0
  if alive "$run/nginx.pid"; then
    stop_pid "$run/nginx.pid" QUIT || failed=1
  fi
  for f in "$pids"/duetd-*.pid; do
    [ -e "$f" ] || continue
    stop_pid "$f" TERM || failed=1
  done
  if alive "$pids/redis.pid"; then
    timeout 5 redis-cli -p "$rport" shutdown nosave >/dev/null 2>&1 || true
    stop_pid "$pids/redis.pid" TERM || failed=1
  fi
  rm -f "$pids/redis.pid"
  # Local Cassandra nodes this script started (their data stays); none
  # when DUET_CASSANDRA_HOSTS names nodes run by someone else.
  if [ -z "${DUET_CASSANDRA_HOSTS:-}" ] && [ -d "$run/cassandra" ]; then
    cass stop || failed=1
  fi
  say "stopped"
  return $failed
}

status() {
  local bad=0
  if alive "$pids/redis.pid" && redis_up; then say "redis: up (pid $(cat "$pids/redis.pid"))"; else say "redis: down"; bad=1; fi
  for ((i = 1; i <= n; i++)); do
    local pf=$pids/duetd-$i.pid port=$((base + i - 1))
    if alive "$pf" && healthz "127.0.0.1:$port" >/dev/null 2>&1; then
      say "duet-$i: up (pid $(cat "$pf"), 127.0.0.1:$port)"
    else
      say "duet-$i: down"
      bad=1
    fi
  done
  if [ -z "${DUET_CASSANDRA_HOSTS:-}" ] && [ -d "$run/cassandra" ]; then
    cass status | sed 's/^/cluster: cassandra /'
  fi
  if alive "$run/nginx.pid" && healthz "$http" >/dev/null 2>&1; then
    say "nginx: up (http://$http)"
  else
    say "nginx: down"
    bad=1
  fi
  return $bad
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart) stop || true; start ;;
esac
