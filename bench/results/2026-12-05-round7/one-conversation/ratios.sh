#!/bin/sh
# Medians per build and the ratio to the base build within each round, from
# round 6's acks-beside/summary.sh lines:  ratios.sh DIR BASE FIELD
# FIELD: all (messages over the whole run, /s), recv (the measured step,
# /s), cpu_us (duetd CPU per message) or load. ALIAS="a=x b=x" counts the
# runs of builds a and b (the same code built twice) as build x.
dir=$1 base=$2 field=$3
sh "$(dirname "$0")/../../2026-12-04-round6/acks-beside/summary.sh" "$dir" | awk -v base="$base" -v field="$field" -v alias="${ALIAS:-}" '
function med(a, n,   i, j, t) {
    for (i = 2; i <= n; i++)
        for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
BEGIN {
    na = split(alias, al, " ")
    for (i = 1; i <= na; i++) { split(al[i], kv, "="); as[kv[1]] = kv[2] }
}
{
    split($1, p, "-"); b = p[1]; r = substr(p[2], 2)
    if (b in as) b = as[b]
    v = ""
    for (i = 2; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == field) { v = kv[2]; sub(/\/s.*/, "", v) }
    }
    if (field == "cpu_us" && $3 == "cpu_us=") v = $4
    if (v == "" || v + 0 == 0) next
    val[b, r] = v + 0; builds[b] = 1; rounds[r] = 1 # numbers, not strings: "968" > "1053"
}
END {
    for (b in builds) {
        n = 0; line = ""
        for (r = 1; r <= 99; r++) if ((b, r) in val) { a[++n] = val[b, r]; line = line " r" r "=" val[b, r] }
        printf "%s %s: median %s over %d runs (%s )\n", field, b, med(a, n), n, line
        if (b == base) continue
        n = 0; line = ""
        for (r = 1; r <= 99; r++)
            if ((b, r) in val && (base, r) in val) {
                q = val[b, r] / val[base, r]; c[++n] = q; line = line sprintf(" r%d=%.2f", r, q)
            }
        if (n > 0) printf "%s %s/%s per round: median %.2f (%s )\n", field, b, base, med(c, n), line
    }
}'
