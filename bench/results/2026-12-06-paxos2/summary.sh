#!/bin/sh
# summary.sh [DIR]: round 8's summary.sh over this round's shapes (m500,
# m1000, m2000: 200 pairs at that rate; p1: one conversation): one line per
# run and, per field, the medians per node and the median of the per-round
# ratios new/old.
dir=${1:-$(dirname "$0")/ab}
# Rounds 1 and 2 are the nodes' warm-up (fresh JVMs and keyspaces): left
# out unless ALL=1.
if [ "${ALL:-0}" != 1 ]; then
    t=$(mktemp -d)
    trap 'rm -rf "$t"' EXIT
    for s in "$dir"/*/; do
        mkdir -p "$t/$(basename "$s")"
        for f in "$s"*-r*.txt; do
            case $f in *-r1-* | *-r2-*) ;; *) cp "$f" "$t/$(basename "$s")/" ;; esac
        done
    done
    dir=$t
fi
SHAPES="m500 m1000 m2000 p1" sh "$(dirname "$0")/../2026-12-05-round8/summary.sh" "$dir"
