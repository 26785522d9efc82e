#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# wwbench-smoke.sh - the benchmark's CI smoke run: `wwbench --quick` must
# finish with status 0, i.e. every method under test reported exactly the
# pages that were written.  Timings are not judged here (shared machines);
# the tables land in this test's log.  Slow: it runs with WW_TEST_SLOW=1
# (make check-slow), plain make check skips it.
[ "${WW_TEST_SLOW:-}" = 1 ] || exit 77
exec ./tools/wwbench/wwbench --quick
