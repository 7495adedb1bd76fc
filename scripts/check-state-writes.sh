#!/usr/bin/env bash
# check-state-writes.sh - fails when a module under web/js other than
# store.js writes the shared state (issue 13). The scan is
# check-state-writes.mjs; its header says what it sees and what it misses.
#
#   scripts/check-state-writes.sh [DIR]     (default: web/js)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
exec node "$here/check-state-writes.mjs" "$@"
