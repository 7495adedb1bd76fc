#!/usr/bin/env bash
# install-browser-deps.sh - installs what the browser tests (tests/browser,
# `make test-browser`) need on Debian 12: Debian's Chromium (the tests never
# download a browser) and a colour emoji font so that screenshots show
# emoji. Run as root (or with sudo); skips apt when everything is installed.
set -euo pipefail

PKGS=(chromium fonts-noto-color-emoji)

missing=()
for p in "${PKGS[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

command -v chromium >/dev/null 2>&1 || { echo "install-browser-deps: chromium is still missing" >&2; exit 1; }
