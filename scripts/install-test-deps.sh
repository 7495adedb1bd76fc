#!/usr/bin/env bash
# install-test-deps.sh - installs what `make check` needs on Debian 12: the
# build dependencies (scripts/install-deps.sh), Criterion, clang and
# clang-format (make format-check), the sqlite3
# CLI, Node.js 18+ with npm, and what the cluster suite runs (redis-server,
# nginx: scripts/install-cluster-deps.sh), the browser suite (Chromium:
# scripts/install-browser-deps.sh) and the Cassandra suites (Java 17, Maven
# and Cassandra itself: scripts/install-cassandra-deps.sh), shellcheck and
# mmdebstrap (make shellcheck, make test-install). Run as root (or
# with sudo). Skips apt when everything is already installed.
#   scripts/install-test-deps.sh && make check
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

# For make shellcheck and make test-install (.ci/run): shellcheck, mmdebstrap.
extra=(libcriterion-dev clang clang-format sqlite3 shellcheck mmdebstrap)

# Node.js 18+ with npm. An existing install is kept: NodeSource's nodejs
# package ships npm itself and conflicts with Debian's npm package.
node_ok() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
    node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'
}
node_ok || extra+=(nodejs npm)

"$here/install-deps.sh" "${extra[@]}"

node_ok || { echo "install-test-deps: node 18+ with npm is still missing" >&2; exit 1; }

# redis-server, nginx and curl for the cluster suite (make test-cluster).
"$here/install-cluster-deps.sh"

# Chromium for the browser suite (make test-browser).
"$here/install-browser-deps.sh"

# Java 17, Maven and Cassandra 5.0.6 from Maven Central for the Cassandra
# suites (make test-cassandra, make test-cassandra-cluster).
"$here/install-cassandra-deps.sh"
