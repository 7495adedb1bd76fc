#!/usr/bin/env bash
# Installs the Debian 12 packages that building and running duetd needs.
# Skips apt entirely when everything is already installed.
set -euo pipefail

PKGS=(build-essential pkg-config libuv1-dev libhttp-parser-dev libwslay-dev libjansson-dev
      libsodium-dev libssl-dev libsqlite3-dev libhiredis-dev zlib1g-dev libcurl4-openssl-dev)
PKGS+=("$@")

missing=()
for p in "${PKGS[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
