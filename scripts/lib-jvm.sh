# shellcheck shell=bash
# lib-jvm.sh - what scripts/cassandra.sh and scripts/s3proxy.sh share: the
# Java binary, their messages and usage, and their pid files. Sourced after
# `here` is set; set jvm_name (the prefix of messages) first.

# Used by the scripts that source this file.
# shellcheck disable=SC2034
{
  JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}
  java=$JAVA_HOME/bin/java
  [ -x "$java" ] || java=$(command -v java || echo java)
}

# shellcheck disable=SC2154 # jvm_name is the sourcing script's
say() { echo "$jvm_name: $*"; }
die() {
  echo "$jvm_name: $*" >&2
  exit 1
}
# The script's header comment: line 2 up to `set -euo`.
usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Prints the pid in file $1 when that process still runs; else fails.
pidfile_pid() {
  local pid
  [ -f "$1" ] || return 1
  pid=$(cat "$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# Sends signal $3 (TERM) to pid $1, waits up to $2 seconds for it to exit,
# then kills it and waits for that. Fails when the kill was needed.
stop_pid() {
  local pid=$1 secs=$2 sig=${3:-TERM} i
  kill -"$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  return 1
}
