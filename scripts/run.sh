#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# run.sh [WWBENCH-ARGS...] - install dependencies, build, and run the
# project's main job: the demo (wwdemo: watch, write, report, on every
# backend) and then the benchmark (wwbench: every scenario, ~5 minutes),
# which also writes _build/wwbench.{csv,json,png}.  Pass --quick for a
# short run, --help for wwbench's options.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
WW_EXTRA_PACKAGES="gnuplot-nox ${WW_EXTRA_PACKAGES:-}" sh scripts/install-deps.sh
sh scripts/build.sh "$top/_build" --enable-werror
"$top/_build/tools/wwdemo"
echo
exec "$top/_build/tools/wwbench/wwbench" --csv "$top/_build/wwbench.csv" \
    --json "$top/_build/wwbench.json" --plot "$top/_build/wwbench.png" "$@"
