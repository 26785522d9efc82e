#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# man-lint.sh - every manual page renders without a warning (mandoc -T lint,
# or groff -ww where mandoc is missing).  Exit 77 (skip) if neither exists.
set -u
dir=${srcdir:-.}/man
status=0
if command -v mandoc >/dev/null 2>&1; then
    for page in "$dir"/*.[0-9]; do
        mandoc -T lint -W warning "$page" || status=1
    done
elif command -v groff >/dev/null 2>&1; then
    for page in "$dir"/*.[0-9]; do
        out=$(groff -ww -z -mandoc "$page" 2>&1)
        [ -z "$out" ] || { echo "$page: $out"; status=1; }
    done
else
    echo "neither mandoc nor groff: cannot lint manual pages"; exit 77
fi
[ $status -eq 0 ] && echo "man-lint: $(ls "$dir"/*.[0-9] | wc -l) pages clean"
exit $status
