#!/bin/sh
# wwbench-smoke.sh - the benchmark's CI smoke run: `wwbench --quick` must
# finish with status 0, i.e. every method under test reported exactly the
# pages that were written.  Timings are not judged here (shared machines);
# the tables land in this test's log.
exec ./tools/wwbench/wwbench --quick
