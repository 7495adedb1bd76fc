#!/usr/bin/env bash
# install-cassandra-deps.sh - installs what the Cassandra test node
# (scripts/cassandra.sh) and `make test-cassandra`/`test-cassandra-cluster`
# need on Debian 12: Java 17 (openjdk-17-jre-headless) and Maven, then
# resolves Cassandra 5.0.6 from Maven Central into ~/.m2 (scripts/cassandra.sh
# fetch; as the invoking user when run with sudo). Idempotent: skips apt when
# both packages are installed and Maven when ~/.m2 already has everything.
#
# Nothing is downloaded from anywhere but the Debian archive and Maven Central.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

PKGS=(openjdk-17-jre-headless maven)

want=()
for p in "${PKGS[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || want+=("$p")
done

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if [ ${#want[@]} -gt 0 ]; then
  echo "install-cassandra-deps: installing ${want[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}"
fi

[ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ] || command -v java >/dev/null ||
  { echo "install-cassandra-deps: java is still missing" >&2; exit 1; }
command -v mvn >/dev/null || { echo "install-cassandra-deps: mvn is still missing" >&2; exit 1; }

# The Maven repository belongs to whoever runs the tests, not to root.
if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
  sudo -u "$SUDO_USER" "$here/cassandra.sh" fetch
else
  "$here/cassandra.sh" fetch
fi
