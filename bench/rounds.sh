#!/bin/sh
# rounds.sh: interleaved A/B rounds for the scripts kept with results.
# Sourced (. bench/rounds.sh); then
#   rounds FIRST LAST FN name=BIN name=BIN ...
# calls `FN ROUND NAME BIN` for every build in every round from FIRST to
# LAST, the first build rotating every round (round r starts with build
# r mod n + 1), so that no build always runs first on a warm or cold
# machine.
rounds() {
    _first=$1 _last=$2 _fn=$3
    shift 3
    for _r in $(seq "$_first" "$_last"); do
        _i=0
        while [ "$_i" -lt $# ]; do
            _k=$(((_i + _r) % $# + 1)) _j=0
            for _v in "$@"; do
                _j=$((_j + 1))
                [ "$_j" -eq "$_k" ] && break
            done
            "$_fn" "$_r" "${_v%%=*}" "${_v#*=}"
            _i=$((_i + 1))
        done
    done
}
