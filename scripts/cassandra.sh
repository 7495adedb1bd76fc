#!/usr/bin/env bash
# cassandra.sh - fetches Apache Cassandra 5.0 from Maven Central and runs
# local test/development nodes with the configuration in deploy/cassandra/.
#
#   scripts/cassandra.sh [--dir DIR] [--net PREFIX] COMMAND [ARGS]
#
# Commands:
#   fetch             resolve cassandra-all and its dependencies with Maven
#                     (into ~/.m2) and write DIR/classpath.txt; idempotent
#   start [--nodes N] start nodes 1..N that are not running, one after the
#                     other (a node joins the ring only when the previous one
#                     is in); waits until each answers CQL and, for N > 1,
#                     until every node sees all N as Up/Normal
#   stop [NODE]       stop every node (or one) with SIGTERM, SIGKILL after 60 s
#   kill NODE         kill -9 one node (a crash)
#   restart NODE      start a stopped or killed node again and wait for it
#   status            one line per node: pid, CQL answering or not
#   wait [--nodes N]  wait until nodes 1..N answer CQL and see each other Up
#   nodetool NODE ARGS...  run Cassandra's nodetool against a node (over JMX
#                     on 127.0.0.1, port 7199 + 100 * third octet + NODE)
#   cql NODE|ADDR STATEMENT...  run CQL statements on a node (tools/Cql.java on
#                     the driver that ships with cassandra-all)
#   drop-test-keyspaces [--all] [NODE]
#                     drop the keyspaces the integration tests make
#                     (t_<time>_<random>) that are older than an hour, or all
#                     of them with --all; the tests drop their own, this
#                     sweeps what a crashed or interrupted run left
#   probe NODE|ADDR...  fail with a clear message unless each answers CQL
#   logs NODE         print the path of the node's system.log
#   wipe              stop every node and delete DIR
#
# Node N listens on PREFIX.N (CQL on port 9042, inter-node on 7000) and keeps
# everything under DIR/nodeN/: conf/, data/ (-Dcassandra.storagedir), logs/
# (system.log), console.log (the JVM's stdout and stderr) and pid. The seed is
# node 1 (PREFIX.1). Defaults: DIR ./run/cassandra (or $CASSANDRA_DIR), PREFIX
# 127.0.0 (or $CASSANDRA_NET). Other settings (environment):
#   CASSANDRA_HEAP      -Xms/-Xmx of each node              [768M]
#   CASSANDRA_WAIT      seconds to wait for a node to start [300]
#   CASSANDRA_AUTH      "password": PasswordAuthenticator (default superuser
#                       cassandra/cassandra) instead of AllowAllAuthenticator
#   JAVA_HOME           Java 17  [/usr/lib/jvm/java-17-openjdk-amd64]
#
# Downloads nothing except through Maven (deploy/cassandra/pom.xml). Runs as
# root as well: the root check lives in Cassandra's bin/cassandra wrapper,
# which is not used; the JVM is started directly.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
conf_src=$root/deploy/cassandra

dir=${CASSANDRA_DIR:-$root/run/cassandra}
net=${CASSANDRA_NET:-127.0.0}
heap=${CASSANDRA_HEAP:-768M}
wait_s=${CASSANDRA_WAIT:-300}
auth=${CASSANDRA_AUTH:-}
jvm_name=cassandra
# shellcheck source=scripts/lib-jvm.sh
. "$here/lib-jvm.sh"

while [ $# -gt 0 ]; do
  case $1 in
  --dir) dir=$2; shift 2 ;;
  --net) net=$2; shift 2 ;;
  -h | --help) usage ;;
  *) break ;;
  esac
done
[ $# -gt 0 ] || usage
cmd=$1
shift

[[ $net =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "--net wants three octets like 127.0.0, not '$net'"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cp_file=$dir/classpath.txt

node_dir() { echo "$dir/node$1"; }
# A node number, or an address as is (cql, probe and drop-test-keyspaces
# also talk to nodes this script did not start).
node_addr() {
  case $1 in
  *.*) echo "$1" ;;
  *) echo "$net.$1" ;;
  esac
}
# JMX (nodetool) listens on 127.0.0.1 only, so nodes of different --net
# prefixes need different ports: 7199 + 100 * third octet + N.
jmx_port() { echo $((${CASSANDRA_JMX_BASE:-7199} + 100 * ${net##*.} + $1)); }

check_node_arg() {
  [[ ${1:-} =~ ^[1-9][0-9]?$ ]] || die "a node number (1..99) is needed, got '${1:-}'"
}

check_node_or_addr() {
  [[ ${1:-} =~ ^([1-9][0-9]?|[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)$ ]] ||
    die "a node number (1..99) or an IPv4 address is needed, got '${1:-}'"
}

node_pid() { pidfile_pid "$(node_dir "$1")/pid"; }

# Nodes that have a directory, in order.
known_nodes() {
  local d
  for d in "$dir"/node*; do
    [ -d "$d" ] && echo "${d##*/node}"
  done | sort -n
}

java_ok() {
  "$java" -version 2>&1 | head -1 | grep -Eq 'version "(17|1[89]|2[0-9])'
}

# --- fetch -------------------------------------------------------------------

classpath_ok() {
  local j
  [ -s "$cp_file" ] || return 1
  # Every jar must still be in the local repository.
  while IFS= read -r j; do
    [ -f "$j" ] || return 1
  done < <(tr ':' '\n' <"$cp_file")
}

do_fetch() {
  java_ok || die "Java 17 is needed ($java); run scripts/install-cassandra-deps.sh"
  if classpath_ok; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn is needed; run scripts/install-cassandra-deps.sh"
  say "resolving cassandra-all with Maven (deploy/cassandra/pom.xml)"
  local tmp=$cp_file.tmp
  JAVA_HOME=$JAVA_HOME mvn -q -B -f "$conf_src/pom.xml" dependency:build-classpath \
    -Dmdep.outputFile="$tmp" ||
    die "Maven could not resolve cassandra-all (see above)"
  [ -s "$tmp" ] || die "Maven wrote no classpath"
  mv "$tmp" "$cp_file"
  classpath_ok || die "the classpath names jars that are missing"
  say "classpath: $(tr ':' '\n' <"$cp_file" | wc -l) jars"
}

# --- probes ------------------------------------------------------------------

# True when the node answers a CQL OPTIONS request (protocol v4) with
# SUPPORTED: the native transport is the last thing a node starts.
cql_ok() {
  local addr
  addr=$(node_addr "$1")
  # shellcheck disable=SC2016 # the inner bash expands $0 (the address), not this one
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/$0/9042" || exit 1
    printf "\x04\x00\x00\x01\x05\x00\x00\x00\x00" >&3
    hdr=$(head -c 9 <&3 | od -An -tx1 | tr -d " \n")
    [ "${hdr:0:10}" = "8400000106" ]
  ' "$addr" 2>/dev/null
}

client_opts() {
  grep -E '^-' "$conf_src/jvm17-clients.options"
}

nodetool() {
  local n=$1 opts=()
  shift
  mapfile -t opts < <(client_opts)
  "$java" "${opts[@]}" -Xmx128M -cp "$(cat "$cp_file")" \
    -Dcassandra.logdir="$(node_dir "$n")/logs" \
    -Dlogback.configurationFile="$conf_src/logback-tools.xml" \
    org.apache.cassandra.tools.NodeTool -h 127.0.0.1 -p "$(jmx_port "$n")" "$@"
}

# True when `nodetool status` on node $1 lists nodes 1..$2 all as UN.
ring_ok() {
  local n=$1 want=$2 out i
  out=$(nodetool "$n" status 2>/dev/null) || return 1
  for ((i = 1; i <= want; i++)); do
    grep -Eq "^UN +$(node_addr "$i" | sed 's/\./\\./g') " <<<"$out" || return 1
  done
}

tail_logs() {
  local d
  d=$(node_dir "$1")
  echo "---- $d/console.log (last 30 lines) ----" >&2
  tail -n 30 "$d/console.log" >&2 2>/dev/null || true
  echo "---- $d/logs/system.log (last 40 lines) ----" >&2
  tail -n 40 "$d/logs/system.log" >&2 2>/dev/null || true
}

# --- start / stop ----------------------------------------------------------

render_conf() {
  local n=$1 d
  d=$(node_dir "$n")
  mkdir -p "$d/conf" "$d/data" "$d/logs" "$d/triggers"
  local authenticator=AllowAllAuthenticator
  case "$auth" in
  "") ;;
  password) authenticator=PasswordAuthenticator ;;
  *) die "CASSANDRA_AUTH wants password or nothing, not '$auth'" ;;
  esac
  sed -e "s/@NODE_ADDR@/$(node_addr "$n")/g" -e "s/@SEEDS@/$(node_addr 1):7000/g" \
    -e "s/^authenticator: AllowAllAuthenticator$/authenticator: $authenticator/" \
    "$conf_src/cassandra.yaml.in" >"$d/conf/cassandra.yaml"
}

launch() {
  local n=$1 d jamm opts=()
  d=$(node_dir "$n")
  render_conf "$n"
  mapfile -t opts < <(grep -E '^-' "$conf_src/jvm17-server.options")
  # As cassandra-env.sh does: jamm as a Java agent, so memtable sizes are
  # measured with Instrumentation rather than guessed.
  jamm=$(tr ':' '\n' <"$cp_file" | grep -m1 '/jamm-[0-9.]*\.jar$' || true)
  [ -n "$jamm" ] && opts+=("-javaagent:$jamm")
  # Local JMX only (bound to 127.0.0.1, no authentication needed there), one
  # port per node, for nodetool.
  opts+=(
    "-Xms$heap" "-Xmx$heap"
    "-XX:HeapDumpPath=$d/logs"
    "-Dcassandra.jmx.local.port=$(jmx_port "$n")"
    "-Dcassandra.config=file://$d/conf/cassandra.yaml"
    "-Dcassandra.storagedir=$d/data"
    "-Dcassandra.logdir=$d/logs"
    "-Dcassandra.triggers_dir=$d/triggers"
    "-Dlogback.configurationFile=file://$conf_src/logback.xml"
    "-Dcassandra-foreground=yes"
    "-Dcassandra-pidfile=$d/pid.java"
  )
  say "starting node $n on $(node_addr "$n") (log $d/logs/system.log)"
  : >>"$d/console.log"
  echo "==== $(date -Is) start" >>"$d/console.log"
  # setsid: the node outlives this script and the terminal; exec keeps the
  # pid the JVM's.
  setsid bash -c 'exec "$@"' _ "$java" "${opts[@]}" -cp "$(cat "$cp_file")" \
    org.apache.cassandra.service.CassandraDaemon </dev/null >>"$d/console.log" 2>&1 &
  echo $! >"$d/pid"
}

# Waits for node $1 to answer CQL; dies with its log tails when it exits or
# does not come up in time.
wait_cql() {
  local n=$1 i
  for ((i = 0; i < wait_s; i++)); do
    cql_ok "$n" && return 0
    if ! node_pid "$n" >/dev/null; then
      tail_logs "$n"
      die "node $n exited during start-up (logs above)"
    fi
    sleep 1
  done
  tail_logs "$n"
  die "node $n did not answer CQL on $(node_addr "$n"):9042 within ${wait_s}s (logs above)"
}

wait_ring() {
  local want=$1 i n ok
  [ "$want" -gt 1 ] || return 0
  for ((i = 0; i < wait_s; i += 2)); do
    ok=1
    for ((n = 1; n <= want; n++)); do
      ring_ok "$n" "$want" || { ok=0; break; }
    done
    [ $ok = 1 ] && return 0
    sleep 2
  done
  for ((n = 1; n <= want; n++)); do
    echo "---- nodetool status on node $n ----" >&2
    nodetool "$n" status >&2 || true
  done
  die "nodes 1..$want did not all see each other Up/Normal within ${wait_s}s"
}

start_node() {
  local n=$1
  if node_pid "$n" >/dev/null; then
    say "node $n already running (pid $(node_pid "$n"))"
  else
    launch "$n"
  fi
  wait_cql "$n"
  say "node $n answers CQL on $(node_addr "$n"):9042"
}

do_start() {
  local nodes=1 n
  while [ $# -gt 0 ]; do
    case $1 in
    --nodes) nodes=$2; shift 2 ;;
    *) die "start: unknown option $1" ;;
    esac
  done
  [[ $nodes =~ ^[1-9]$ ]] || die "--nodes wants 1..9"
  do_fetch
  for ((n = 1; n <= nodes; n++)); do
    start_node "$n"
  done
  wait_ring "$nodes"
  [ "$nodes" -gt 1 ] && say "nodes 1..$nodes are Up/Normal"
  return 0
}

stop_node() {
  local n=$1 sig=${2:-TERM} pid
  pid=$(node_pid "$n") || { rm -f "$(node_dir "$n")/pid"; return 0; }
  stop_pid "$pid" 60 "$sig" || say "node $n (pid $pid) ignored SIG$sig for 60 s; killed it"
  rm -f "$(node_dir "$n")/pid"
  say "node $n stopped (SIG$sig)"
}

do_stop() {
  local n
  if [ $# -gt 0 ]; then
    check_node_arg "$1"
    stop_node "$1"
    return
  fi
  # The seed last, so the others can still tell it that they leave.
  for n in $(known_nodes | sort -rn); do
    stop_node "$n"
  done
}

do_status() {
  local n pid state
  for n in $(known_nodes); do
    if pid=$(node_pid "$n"); then
      if cql_ok "$n"; then state="running, answers CQL"; else state="running, CQL not answering"; fi
      echo "node $n $(node_addr "$n"):9042 pid $pid: $state"
    else
      echo "node $n $(node_addr "$n"):9042: stopped"
    fi
  done
}

cql() {
  local n=$1 opts=()
  shift
  do_fetch
  mapfile -t opts < <(client_opts)
  "$java" "${opts[@]}" -Xmx256M -cp "$(cat "$cp_file")" \
    -Dlogback.configurationFile="$conf_src/logback-tools.xml" \
    "$conf_src/tools/Cql.java" "$(node_addr "$n")" "$@"
}

do_drop_test_keyspaces() {
  local all=0 n=1 ks now t stmts=()
  while [ $# -gt 0 ]; do
    case $1 in
    --all) all=1; shift ;;
    *) check_node_or_addr "$1"; n=$1; shift ;;
    esac
  done
  now=$(date +%s)
  for ks in $(cql "$n" "SELECT keyspace_name FROM system_schema.keyspaces"); do
    [[ $ks =~ ^t_([0-9a-z]+)_[0-9a-f]+$ ]] || continue
    t=$((36#${BASH_REMATCH[1]}))
    if [ $all = 1 ] || [ $((now - t)) -gt 3600 ]; then
      stmts+=("DROP KEYSPACE IF EXISTS $ks")
    fi
  done
  [ ${#stmts[@]} -gt 0 ] && cql "$n" "${stmts[@]}"
  say "dropped ${#stmts[@]} test keyspaces"
}

case $cmd in
fetch) do_fetch ;;
start) do_start "$@" ;;
stop) do_stop "$@" ;;
kill)
  check_node_arg "${1:-}"
  stop_node "$1" KILL
  ;;
restart)
  check_node_arg "${1:-}"
  do_fetch
  stop_node "$1"
  start_node "$1"
  ;;
status) do_status ;;
wait)
  nodes=1
  [ "${1:-}" = --nodes ] && nodes=${2:?}
  for ((n = 1; n <= nodes; n++)); do wait_cql "$n"; done
  wait_ring "$nodes"
  ;;
nodetool)
  check_node_arg "${1:-}"
  do_fetch
  nodetool "$@"
  ;;
cql)
  check_node_or_addr "${1:-}"
  cql "$@"
  ;;
probe)
  [ $# -gt 0 ] || die "probe: which nodes (numbers or addresses)?"
  for a in "$@"; do
    check_node_or_addr "$a"
    cql_ok "$a" || die "no Cassandra node answers CQL on $(node_addr "$a"):9042; start one with scripts/cassandra.sh start"
  done
  ;;
drop-test-keyspaces)
  do_drop_test_keyspaces "$@"
  ;;
logs)
  check_node_arg "${1:-}"
  echo "$(node_dir "$1")/logs/system.log"
  ;;
wipe)
  do_stop
  rm -rf "$dir"
  say "removed $dir"
  ;;
*) usage ;;
esac
