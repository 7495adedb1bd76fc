#!/usr/bin/env bash
# check-js-size.sh - fails when a file under web/js is over 600 lines or a
# function in one is over 100 (issue 13). The scan is check-js-size.mjs; its
# header says what it counts and what it misses.
#
#   scripts/check-js-size.sh [DIR]     (default: web/js)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
exec node "$here/check-js-size.mjs" "$@"
