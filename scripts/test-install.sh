#!/usr/bin/env bash
# test-install.sh - proves the README's install commands on a clean Debian 12
# (make test-install). As root: builds a minimal Debian 12 root with
# mmdebstrap (--mode=root, --variant=minbase), copies this checkout in (the
# files git tracks plus untracked ones it does not ignore), and inside it
#   1. runs scripts/install-deps.sh && make, starts ./build/duetd on a free
#      port, checks GET /healthz answers 200, stops it (SIGTERM, exit 0);
#   2. puts a /usr/sbin/policy-rc.d in place (as on many build machines; an
#      mmdebstrap root has none), runs scripts/install-cluster-deps.sh and
#      checks it exits 0, keeps that policy-rc.d, and leaves redis-server,
#      redis-cli, nginx and curl installed;
#   3. runs the README's cluster command, deploy/cluster.sh start (one
#      instance, free ports), checks /healthz through nginx, and stops it
#      with only DUET_RUN_DIR set (the script remembers its settings).
# mmdebstrap mounts /proc, /sys and /dev for its hooks and unmounts them;
# the EXIT trap here unmounts whatever is left below the root and removes it,
# on success and on failure.
#
# The .deb files are kept between runs in TEST_INSTALL_CACHE
# [/var/cache/duet-test-install]; a cold run downloads everything (about 90
# MB of .deb files) from the Debian mirror. TEST_INSTALL_MIRROR [http://deb.debian.org]
# picks the mirror; TEST_INSTALL_KEEP=1 keeps the root for a look inside.
#
#   scripts/test-install.sh            (on the host, as root)
#   scripts/test-install.sh --inside   (what runs inside the root)
set -euo pipefail

say() { echo "test-install: $*"; }
die() {
  echo "test-install: $*" >&2
  exit 1
}

# --- inside the root ---------------------------------------------------------

# Prints the body of GET $2 on 127.0.0.1:$1 (bash's /dev/tcp: the root has no
# curl before the cluster script installs it). Fails unless the status is 200.
http_get() {
  local port=$1 path=$2 status
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
  IFS=' ' read -r _ status _ <&3 || status=""
  cat <&3 >/dev/null
  exec 3<&-
  [ "$status" = 200 ]
}

# Runs "$@" with its output in $ilog; shows the end of it when it fails.
quiet() {
  local rc=0
  "$@" >>"$ilog" 2>&1 || rc=$?
  [ "$rc" = 0 ] || { tail -n 40 "$ilog" >&2; echo "test-install: inside: '$*' exited $rc" >&2; }
  return "$rc"
}

inside_build() {
  say "inside: scripts/install-deps.sh && make"
  quiet scripts/install-deps.sh
  quiet nice make -j2

  local tmp log pid port="" i
  tmp=$(mktemp -d)
  log=$tmp/duetd.log
  ./build/duetd --listen 127.0.0.1:0 --data "$tmp/data" --web web >"$log" 2>&1 &
  pid=$!
  # Stops duetd if anything below fails: a process left in the root would
  # keep its mounts busy.
  trap 'kill "$pid" 2>/dev/null || true' EXIT
  for ((i = 0; i < 100; i++)); do
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$log")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$log" >&2; die "inside: duetd did not start"; }
  http_get "$port" /healthz || { cat "$log" >&2; die "inside: /healthz did not answer 200"; }
  say "inside: build/duetd answers /healthz on 127.0.0.1:$port"
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  trap - EXIT
  [ "$rc" = 0 ] || { cat "$log" >&2; die "inside: duetd exited $rc on SIGTERM"; }
  rm -rf "$tmp"
}

inside_cluster() {
  # The machine of issue 12: a policy-rc.d that someone else put there.
  printf '#!/bin/sh\n# test-install: blocks service starts\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  say "inside: scripts/install-cluster-deps.sh (with a policy-rc.d already there)"
  quiet scripts/install-cluster-deps.sh || die "inside: scripts/install-cluster-deps.sh failed"
  grep -q 'test-install' /usr/sbin/policy-rc.d ||
    die "inside: install-cluster-deps.sh removed or replaced a policy-rc.d it did not create"
  local b
  for b in redis-server redis-cli nginx curl; do
    command -v "$b" >/dev/null || die "inside: $b is missing after install-cluster-deps.sh"
  done
  # A second run has nothing to install and must exit 0 as well.
  quiet scripts/install-cluster-deps.sh || die "inside: a second install-cluster-deps.sh failed"
  say "inside: redis-server, nginx and curl installed; the script exited 0"
}

# A port on 127.0.0.1 that nothing listens on (a connect is refused).
free_port() {
  local p
  for p in $(shuf -i 20000-29999 -n 100); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

inside_cluster_start() {
  local run=/tmp/duet-cluster base http rport
  if ! base=$(free_port) || ! http=$(free_port) || ! rport=$(free_port); then
    die "inside: no free port"
  fi
  say "inside: deploy/cluster.sh start (1 instance on $base, nginx on $http, Redis on $rport)"
  # Whatever happens, nothing of the cluster may outlive this (its
  # processes would keep the root's mounts busy).
  trap 'DUET_RUN_DIR=/tmp/duet-cluster deploy/cluster.sh stop >/dev/null 2>&1 || true' EXIT
  DUET_RUN_DIR=$run DUET_INSTANCES=1 DUET_BASE_PORT=$base DUET_HTTP=127.0.0.1:$http \
    DUET_REDIS_PORT=$rport quiet deploy/cluster.sh start || die "inside: deploy/cluster.sh start failed"
  curl -fsS --max-time 5 "http://127.0.0.1:$http/healthz" >/dev/null ||
    die "inside: /healthz through nginx did not answer"
  DUET_RUN_DIR=$run quiet deploy/cluster.sh stop || die "inside: deploy/cluster.sh stop failed"
  trap - EXIT
  if (exec 3<>"/dev/tcp/127.0.0.1/$rport") 2>/dev/null; then die "inside: Redis still runs after stop"; fi
  say "inside: the cluster started, answered through nginx and stopped"
}

if [ "${1:-}" = --inside ]; then
  cd "$(dirname "$0")/.."
  ilog=/var/log/duet-test-install.log
  inside_build
  inside_cluster
  inside_cluster_start
  exit 0
fi

# --- on the host -------------------------------------------------------------

[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap --mode=root)"
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (scripts/install-test-deps.sh)"
command -v git >/dev/null || die "git is missing"

src="$(cd "$(dirname "$0")/.." && pwd)"
cache=${TEST_INSTALL_CACHE:-/var/cache/duet-test-install}
mirror=${TEST_INSTALL_MIRROR:-http://deb.debian.org}
mkdir -p "$cache" "$src/run"
# One run at a time per cache: two sync-outs into one folder would collide.
exec 9>"$cache.lock"
flock 9
work=$(mktemp -d "$src/run/test-install.XXXXXX")
rootfs=$work/root

# Unmounts what is still mounted below the root (deepest first), then removes
# it. Every step is an `if` or `|| true`: the trap's last status must not
# become the script's (issue 12).
cleanup() {
  local rc=$? m
  if [ "${TEST_INSTALL_KEEP:-0}" = 1 ]; then
    say "kept $rootfs"
    return "$rc"
  fi
  while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(findmnt -rn -o TARGET | grep -F "$work/" | sort -r || true)
  if findmnt -rn -o TARGET | grep -qF "$work/"; then
    echo "test-install: mounts left below $work; not removing it" >&2
  else
    rm -rf --one-file-system "$work"
  fi
  return "$rc"
}
trap cleanup EXIT

# The checkout: tracked files and untracked ones git does not ignore (no
# build/, run/, node_modules). A file deleted in the work tree is skipped.
list=$work/files
git -C "$src" ls-files -z --cached --others --exclude-standard >"$list"

start=$(date +%s)
say "building a Debian 12 root in $rootfs (apt cache $cache)"
# sync-in before the bootstrap and sync-out at the end carry the .deb files
# between runs (mmdebstrap's own cleanup empties the archive afterwards).
# shellcheck disable=SC2016 # mmdebstrap runs each hook with the root as $1
nice mmdebstrap --mode=root --variant=minbase --quiet \
  --setup-hook='mkdir -p "$1/var/cache/apt/archives"' \
  --setup-hook="sync-in '$cache' /var/cache/apt/archives/" \
  --customize-hook="mkdir -p \"\$1/duet\" && tar -C '$src' --null -T '$list' --ignore-failed-read -cf - 2>/dev/null | tar -C \"\$1/duet\" -xf -" \
  --customize-hook='chroot "$1" /duet/scripts/test-install.sh --inside' \
  --customize-hook="sync-out /var/cache/apt/archives '$cache'" \
  bookworm "$rootfs" \
  "deb $mirror/debian bookworm main" \
  "deb $mirror/debian bookworm-updates main" \
  "deb $mirror/debian-security bookworm-security main"
say "passed in $(($(date +%s) - start)) s"
