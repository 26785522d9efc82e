#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# kernels-guest.sh BUILD REQUIRE - run by scripts/kernels.sh inside a QEMU
# guest (the host's root, read-only, is /): runs the test programs of the
# build in BUILD and the examples, with WW_TEST_REQUIRE=REQUIRE, and
# prints for scripts/kernels.sh one "ww-result: NAME PASSED FAILED
# BACKENDS SECONDS SKIPPED" line per program, "ww-tap: LINE" for each failed
# and "ww-skip: LINE" for each skipped TAP line, "ww-log: LINE" for the
# program's stderr when it failed, "ww-demo: LINE" for wwdemo's output,
# and the kernel's version as "ww-kernel: VERSION".
#
# Every test program runs but tests/test_vma_limit (65 530 mprotect
# faults: too slow under TCG); the stress test runs at WW_STRESS_PERCENT=5.
# The guest's environment is the init's, so these defaults are set here.
set -u
build=$1
require=$2
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$build" || exit 1
echo "ww-kernel: $(uname -r)"
export WW_TEST_REQUIRE="$require"
# Check's per-test timeout (4 s by default): TCG runs 5-10 times slower.
export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-10}
# The stress test at a short length under TCG.
export WW_TEST_SLOW=1 WW_STRESS_PERCENT=${WW_STRESS_PERCENT:-5}

for p in tests/test_* "$src/tests/examples.tap"; do
    case $p in
    *.* | */test_vma_limit) [ "$p" = "$src/tests/examples.tap" ] || continue ;;
    esac
    [ -f "$p" ] || continue
    name=$(basename "$p")
    # Check's failure messages (FILE:LINE:F:...) from stderr are shown
    # for a program with a failure.
    t0=$(date +%s)
    case $p in
    *.tap) out=$(sh "$p" 2>/tmp/ww-stderr) ;;
    *) out=$("./$p" 2>/tmp/ww-stderr) ;;
    esac
    secs=$(($(date +%s) - t0))
    if echo "$out" | grep -q '^not ok'; then
        grep ':[FE]:' /tmp/ww-stderr |
            head -n 20 | sed 's/^/ww-log: /'
    fi
    echo "$out" | awk -v name="$name" -v secs="$secs" '
        /^ok / && !/# SKIP/ { p++; if ($0 ~ /:uffd:/) u = 1; if ($0 ~ /:mprotect:/) m = 1 }
        /^ok .*# SKIP/ { s++; print "ww-skip: " $0 }
        /^not ok / { f++; print "ww-tap: " $0 }
        END { b = (u ? "uffd" : "") (u && m ? "+" : "") (m ? "mprotect" : "")
              print "ww-result: " name, p + 0, f + 0, (b == "" ? "-" : b), secs "s", s + 0 }'
done
# wwdemo: what a user sees there (the backend auto picks, or why uffd is
# refused); it passes when every backend it could open reported exactly.
if [ -x tools/wwdemo ]; then
    out=$(./tools/wwdemo 2>&1)
    status=$?
    echo "$out" | sed 's/^/ww-demo: /'
    echo "ww-result: wwdemo $((status == 0)) $((status != 0)) - 0s 0"
fi
