#!/bin/sh
# One line per log of onepair.sh: binary, round, load, duetd CPU per message,
# the measured step (sent/received per second, latency), the whole run
# (messages received over the server's measuring window) and the checks.
# (round 6's summary.sh, unchanged)
dir=${1:-$(dirname "$0")/ab}
for f in "$dir"/*.txt; do
    n=$(basename "$f" .txt)
    load=$(sed -n 's/.*load average: \([0-9.]*\),.*/\1/p' "$f" | head -1)
    cpu=$(sed -n 's/.*server CPU per message \([0-9.]*\) us.*/\1/p' "$f")
    step=$(grep -A1 '^  step 1:' "$f" | tr '\n' ' ' |
        sed -n 's/.*sent \([0-9]*\)\/s, received \([0-9]*\)\/s.*p50 *\([0-9.]*\) *p90 *[0-9.]* *p99 *\([0-9.]*\).*/sent=\1\/s recv=\2\/s p50=\3 p99=\4/p')
    secs=$(sed -n 's/.*server (all threads):.* in \([0-9.]*\) s$/\1/p' "$f")
    got=$(sed -n 's/.*sends [0-9]*, sent [0-9]*, received \([0-9]*\),.*/\1/p' "$f")
    all=$(awk -v g="${got:-0}" -v s="${secs:-0}" 'BEGIN { if (s > 0) printf "%d", g / s }')
    err=$(sed -n 's/.*errors \([0-9]*\), lost \([0-9]*\), duplicates \([0-9]*\).*seq order \([0-9]*\).*/errors=\1 lost=\2 dup=\3 seqorder=\4/p' "$f")
    over=$(grep -c 'overloaded' "$f")
    echo "$n load=$load cpu_us=$cpu $step all=${all}/s ($got in ${secs}s) $err overloaded=$over"
done
