#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# wine-patch/test.sh [8.0|10.0|all] - build each Wine version's ntdll.so with
# libwritewatch and compare stock, patched and fallback (Wine's kernel32
# "virtual" test, bench/wwcheck.c, bench/wwbench.c); one table per version.
#
#   8.0    Debian bookworm's Wine, on this (bookworm) machine: 8.0/test.sh
#   10.0   Debian trixie's Wine, in a cached trixie chroot: 10.0/test.sh
#   all    both (the default)
#
# Needs root.  Each version prints one table per architecture it covers
# (amd64 and i386; WW_WINE_ARCHES="amd64 i386" chooses), each followed by a line
# "wine VERSION ARCH: N passed, M failed"; this script ends with all those
# lines, then "wine-patch: all passed" or "wine-patch: FAILED: ...", and
# last the total of those lines, "N passed, N failed".
# Exit status 0 only if every version passed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
case ${1:-all} in
    8.0|10.0) versions=$1 ;;
    all) versions="8.0 10.0" ;;
    *) echo "usage: $0 [8.0|10.0|all]" >&2; exit 2 ;;
esac

summaries="" failed=""
for v in $versions; do
    echo "=== wine-patch $v ==="
    log=$(mktemp)
    bash "$here/$v/test.sh" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    # every architecture's line, in order
    lines=$(grep -E "^wine $v [a-z0-9]+: [0-9]+ passed, [0-9]+ failed$" "$log")
    rm -f "$log"
    [ -n "$lines" ] || lines="wine $v: 0 passed, 1 failed (no summary line; exit status $status)"
    if [ "$status" -ne 0 ] || echo "$lines" | grep -qv ' 0 failed'; then failed="$failed $v"; fi
    summaries="$summaries$lines"$'\n'
done
echo
printf '%s' "$summaries"
[ -z "$failed" ] && echo "wine-patch: all passed" || echo "wine-patch: FAILED:$failed"
# a version that failed is never counted as "0 failed"
printf '%s' "$summaries" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' |
    awk -v bad="$failed" '{ p += $1; f += $2 }
        END { if (bad != "" && f == 0) f = 1; printf "%d passed, %d failed\n", p, f }'
[ -z "$failed" ]
