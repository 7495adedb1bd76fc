#!/bin/sh
# One line per log of ab.sh: binary, round, scenario, load, and what it measured.
dir=${1:-$(dirname "$0")/ab}
for f in "$dir"/*.txt; do
    n=$(basename "$f" .txt)
    load=$(sed -n 's/.*load average: \([0-9.]*\),.*/\1/p' "$f" | head -1)
    cpu=$(sed -n 's/.*server CPU per message \([0-9.]*\) us.*/\1/p' "$f")
    fill=$(sed -n 's/.*filled [0-9]* messages in .* (\([0-9]*\) msg\/s).*/\1/p' "$f")
    step=$(grep -A1 '^  step 1:' "$f" | tr '\n' ' ' |
        sed -n 's/.*sent \([0-9]*\)\/s, received \([0-9]*\)\/s.*p50 *\([0-9.]*\) *p90 *[0-9.]* *p99 *\([0-9.]*\).*/sent=\1\/s recv=\2\/s p50=\3 p99=\4/p')
    err=$(sed -n 's/.*errors \([0-9]*\), lost \([0-9]*\), duplicates \([0-9]*\).*seq order \([0-9]*\).*/errors=\1 lost=\2 dup=\3 seqorder=\4/p' "$f")
    over=$(grep -c 'overloaded' "$f")
    echo "$n load=$load cpu_us=$cpu ${fill:+fill=$fill} $step $err overloaded=$over"
done
