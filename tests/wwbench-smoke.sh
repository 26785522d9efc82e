#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# wwbench-smoke.sh - the benchmark's CI smoke run: `wwbench --quick` must
# finish with status 0, i.e. every method under test reported exactly the
# pages that were written, and scenario 2 must have run its --quick sizes
# (16 and 64 MiB: a size wrapped to 0 in a 32-bit build once skipped them
# all).  Timings are not judged here (shared machines); the tables land in
# this test's log.  Slow: it runs with WW_TEST_SLOW=1 (make check-slow),
# plain make check skips it.
[ "${WW_TEST_SLOW:-}" = 1 ] || exit 77
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
./tools/wwbench/wwbench --quick >"$out" 2>&1
status=$?
cat "$out"
[ $status -eq 0 ] || exit $status
if grep -q 'MiB skipped' "$out"; then
    echo "wwbench-smoke: scenario 2 skipped a --quick size:"
    grep 'MiB skipped' "$out"
    exit 1
fi
