#!/usr/bin/env bash
# install-cluster-deps.sh - installs what the local cluster (deploy/cluster.sh)
# and its tests (make test-cluster) need on Debian 12: redis-server and nginx.
# Idempotent: skips apt when both are installed.
#
# The cluster runs its own redis-server and nginx processes on its own ports,
# so the packages' default services are not used. Installing them must not
# start them either (port 80 or 6379 may be taken, or there may be no init
# system): service starts are blocked during the install, and where systemd
# runs, the default services are stopped and disabled afterwards.
set -euo pipefail

PKGS=(redis-server redis-tools nginx curl)

want=()
for p in "${PKGS[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || want+=("$p")
done

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if [ ${#want[@]} -gt 0 ]; then
  echo "install-cluster-deps: installing ${want[*]}"
  # policy-rc.d exit 101 = "do not start services" (invoke-rc.d honours it).
  # Keep an existing one; remove only the one we put there.
  added_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    added_policy=1
  fi
  # An `if`, not `[ … ] && …`: an EXIT trap's last status becomes the
  # script's, and a false test would fail the install (issue 12).
  cleanup() { if [ "$added_policy" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi; }
  trap cleanup EXIT
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}"
fi

# Where systemd manages services, keep the packages' defaults out of the way.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  for svc in nginx redis-server; do
    if systemctl is-enabled --quiet "$svc" 2>/dev/null || systemctl is-active --quiet "$svc" 2>/dev/null; then
      echo "install-cluster-deps: stopping and disabling the default $svc service"
      $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
  done
fi

for b in redis-server redis-cli nginx; do
  command -v "$b" >/dev/null 2>&1 || { echo "install-cluster-deps: $b is still missing" >&2; exit 1; }
done
