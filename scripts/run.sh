#!/bin/sh
# run.sh [ARGS...] - install dependencies, build, and run the project's main
# job: the demo (wwdemo), which watches memory on every backend that runs
# here, writes some pages and checks what is reported.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/install-deps.sh
sh scripts/build.sh "$top/_build" --enable-werror
exec "$top/_build/tools/wwdemo" "$@"
