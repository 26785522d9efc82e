#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# abi-check.sh - the shared library exports exactly what the version
# script libwritewatch/libwritewatch.map lists, at version WRITEWATCH_0,
# whatever the configuration (with or without Wine's headers, sanitizers,
# compiler); a --enable-fault-injection build adds fault-injection.map's
# node and nothing else.  debian/libwritewatch0.symbols must list the same
# as the version script.  Run by make check in the build directory.
# Exit status: 0 = the same, 1 = a difference (shown), 77 = no shared
# library or no nm here.
set -eu
srcdir=${srcdir:-.}
lib=libwritewatch/.libs/libwritewatch.so.0
command -v nm >/dev/null 2>&1 || { echo "abi-check: no nm: skipped"; exit 77; }
if grep -q "^dlname=''" libwritewatch/libwritewatch.la; then
    echo "abi-check: no shared library in this build (--disable-shared): skipped"
    exit 77
fi
[ -f "$lib" ] || { echo "abi-check: $lib is missing"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ww-abi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
status=0

# The names of a version script's node, one name@@node a line, and the
# node itself (nm shows a version definition as an absolute symbol).
map_symbols() {
    node=$(sed -n 's/^\([A-Z][A-Z0-9_.]*\) *{.*/\1/p' "$1")
    echo "$node"
    sed -n 's/^[[:space:]]*\(ww_[A-Za-z0-9_]*\);.*/\1/p' "$1" | sed "s/\$/@@$node/"
}

map_symbols "$srcdir/libwritewatch/libwritewatch.map" >"$tmp/expected"
if grep -q '^#define WW_FAULT_INJECTION 1' config.h; then
    map_symbols "$srcdir/libwritewatch/fault-injection.map" >>"$tmp/expected"
fi
sort -o "$tmp/expected" "$tmp/expected"
nm -D --defined-only "$lib" | awk '{print $NF}' | sort >"$tmp/exported"
if ! cmp -s "$tmp/expected" "$tmp/exported"; then
    echo "abi-check: $lib exports other symbols than the version scripts list (- missing, + unexpected):"
    diff "$tmp/expected" "$tmp/exported" | sed -n 's/^</  -/p; s/^>/  +/p'
    status=1
fi

# dpkg-gensymbols writes name@node, the node included as node@node.
map_symbols "$srcdir/libwritewatch/libwritewatch.map" |
    sed 's/@@/@/; /@/!s/.*/&@&/' | sort >"$tmp/map"
sed -n 's/^ \([^ ]*@[^ ]*\) .*/\1/p' "$srcdir/debian/libwritewatch0.symbols" |
    sort >"$tmp/debian"
if ! cmp -s "$tmp/map" "$tmp/debian"; then
    echo "abi-check: debian/libwritewatch0.symbols differs from libwritewatch.map (- only in the map, + only in the symbols file):"
    diff "$tmp/map" "$tmp/debian" | sed -n 's/^</  -/p; s/^>/  +/p'
    status=1
fi
[ "$status" -ne 0 ] || echo "abi-check: $(grep -c @@ "$tmp/exported") functions, as listed"
exit "$status"
