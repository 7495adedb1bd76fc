#!/bin/sh
# summary.sh [DIR]: for each shape of ab.sh (m500, m1000, m2000: 200 pairs
# at that rate; p1: one conversation), one line per run (round 6's
# summary.sh) and, per field, the medians per build and the median of the
# per-round ratios new/old (round 7's ratios.sh).
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
here=$(dirname "$0")
for shape in m500 m1000 m2000 p1; do
    [ -d "$dir/$shape" ] || continue
    echo "== $shape"
    sh "$here/../2026-12-04-round6/acks-beside/summary.sh" "$dir/$shape"
    for field in recv all p50 p99 cpu_us load; do
        sh "$here/../2026-12-05-round7/one-conversation/ratios.sh" "$dir/$shape" old "$field"
    done
done
