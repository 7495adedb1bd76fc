#!/bin/sh
# make-icons.sh - the app's PNG icons (web/icons/), made once from
# web/icon.svg and committed: neither the build nor CI runs this. Needs
# rsvg-convert (Debian: librsvg2-bin). The maskable icon is the same glyph on
# a full-bleed square, kept inside the central 80% circle that platforms may crop to.
set -eu
cd "$(dirname "$0")/.."
out=web/icons
mkdir -p "$out"
rsvg-convert -w 192 -h 192 web/icon.svg -o "$out/icon-192.png"
rsvg-convert -w 512 -h 512 web/icon.svg -o "$out/icon-512.png"
tmp=$(mktemp --suffix=.svg)
trap 'rm -f "$tmp"' EXIT
glyph=$(sed -e 's/^<svg[^>]*>//' -e 's/<\/svg>$//' -e 's/<rect[^>]*\/>//' web/icon.svg)
printf '%s' "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 64 64\"><rect width=\"64\" height=\"64\" fill=\"#4f46e5\"/><g transform=\"translate(32 32) scale(1.05) translate(-31.5 -30.5)\">$glyph</g></svg>" >"$tmp"
rsvg-convert -w 512 -h 512 "$tmp" -o "$out/maskable-512.png"
