#!/usr/bin/env bash
# check-layers.sh - fails when a file in src/ includes a header of a higher
# layer (docs/architecture.md, "Layers"):
#
#   base  <  net, cql, outbound, push  <  store, blob  <  hub  <  app  <  main (src/main.c)
#
# A file's layer is its first folder under src/ (src/store/sqlite/x.c is in
# store). net, cql, outbound and push are side by side: none may include
# another; so are store and blob.
# Only quoted includes are checked; system headers are not ours.
#
#   scripts/check-layers.sh [SRC_DIR]     (default: src next to this script)
set -euo pipefail

src=${1:-$(cd "$(dirname "$0")/../src" && pwd)}
src=$(cd "$src" && pwd)

rank() {
    case $1 in
    base) echo 0 ;;
    net | cql | outbound | push) echo 1 ;;
    store | blob) echo 2 ;;
    hub) echo 3 ;;
    app) echo 4 ;;
    main) echo 5 ;;
    *) echo -1 ;;
    esac
}

# The layer of a path relative to src/.
layer_of() {
    case $1 in
    */*) echo "${1%%/*}" ;;
    *) echo main ;;
    esac
}

bad=0
while IFS= read -r -d '' file; do
    rel=${file#"$src"/}
    own=$(layer_of "$rel")
    own_rank=$(rank "$own")
    if [ "$own_rank" -lt 0 ]; then
        echo "check-layers: $rel: folder '$own' is not a layer (add it to $0)" >&2
        bad=1
        continue
    fi
    dir=$(dirname "$file")
    while IFS= read -r inc; do
        target=$(realpath -m "$dir/$inc")
        case $target in
        "$src"/*) ;;
        *) continue ;; # outside src/: not a layer
        esac
        to=$(layer_of "${target#"$src"/}")
        to_rank=$(rank "$to")
        if [ "$to_rank" -gt "$own_rank" ] || { [ "$to_rank" -eq "$own_rank" ] && [ "$to" != "$own" ]; }; then
            echo "check-layers: $rel ($own) includes $inc ($to)" >&2
            bad=1
        fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
done < <(find "$src" -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)

if [ "$bad" -ne 0 ]; then
    echo "check-layers: a file includes a header from a higher layer" >&2
    exit 1
fi
echo "check-layers: ok"
