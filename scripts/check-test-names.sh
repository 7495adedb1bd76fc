#!/usr/bin/env bash
# check-test-names.sh - every Criterion suite lives in the file named after
# it: tests/unit/test_<name>.c holds suites <name> and <name>_<part> only, so
# `build/unit-tests --filter '<name>*/*'` runs exactly one file's tests and a
# failing suite's name says which file to open.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
for f in tests/unit/test_*.c; do
    base=$(basename "$f" .c)
    want=${base#test_}
    while read -r suite; do
        if [[ $suite != "$want" && $suite != "${want}_"* ]]; then
            echo "$f: suite '$suite' does not belong here (expected $want or ${want}_*)" >&2
            bad=1
        fi
    done < <(grep -oE '^(Test|TestSuite|ParameterizedTest)\([a-z0-9_]+' "$f" | sed 's/.*(//' | sort -u)
done
if [[ $bad != 0 ]]; then
    exit 1
fi
echo "check-test-names: every unit suite is in its own file"
