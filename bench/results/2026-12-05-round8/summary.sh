#!/bin/sh
# summary.sh [DIR]: for each shape of ab.sh (m500, m1000, m1500: 200 pairs
# at that rate; p1: one conversation), one line per run (round 6's
# summary.sh) and, per field, the medians per build and the median of the
# per-round ratios new/old (round 7's ratios.sh). SHAPES overrides the
# list (the Paxos v2 round's summary.sh uses m2000 instead of m1500).
dir=${1:-$(dirname "$0")/ab}
here=$(dirname "$0")
for shape in ${SHAPES:-m500 m1000 m1500 p1}; do
    [ -d "$dir/$shape" ] || continue
    echo "== $shape"
    sh "$here/../2026-12-04-round6/acks-beside/summary.sh" "$dir/$shape"
    for field in recv all p50 p99 cpu_us load; do
        sh "$here/../2026-12-05-round7/one-conversation/ratios.sh" "$dir/$shape" old "$field"
    done
done
