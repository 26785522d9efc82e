#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# test.sh - install dependencies, build, and run the whole test suite:
#   1. gcc, -Werror, `make check` and `make check-slow` (every Check suite
#      on every backend, the examples, the slow tests)
#   2. clang, -Werror, the same
#   3. gcc with AddressSanitizer + UndefinedBehaviorSanitizer and allocation
#      fault injection, the same (LeakSanitizer checks the error paths)
#   4. `make fuzz` (libFuzzer, WW_FUZZ_SECONDS, default 60) in a clang build
#      configured --enable-fuzzer; `make check` and `make tsan` (the stress
#      test, WW_TSAN_PERCENT) under ThreadSanitizer, in a clang build
#      configured --enable-tsan
#   5. `make distcheck`
#   6. the Debian packages (scripts/debs.sh: dpkg-buildpackage in a copy of
#      the tree, with `make check`, then lintian; no lintian error allowed)
#   7. the kernel matrix (scripts/kernels.sh: Debian's kernels of bookworm,
#      trixie, sid and experimental booted under QEMU, the test programs
#      run inside each; downloads cached in $WW_CACHE, default
#      /var/cache/libwritewatch; WW_KERNEL_MATRIX=0 leaves it out)
#   8. the library built and tested as i386 (scripts/i386.sh: `make check`
#      and `make check-slow` in a cached Debian bookworm i386 chroot;
#      WW_I386=0 leaves it out; skipped, loudly, only where Debian's archive
#      cannot be reached to make the chroot)
#   9. the Wine rig (wine-patch/test.sh all: Debian's Wine 8.0 and 10.0,
#      64-bit and 32-bit, stock / patched / fallback; builds cached outside
#      the clone;
#      WW_WINE=0 leaves it out)
#  10. the bdwgc rig (bdwgc-patch/test.sh: Debian's libgc with and without
#      the libwritewatch VDB, bdwgc's own `make check` in incremental mode,
#      and the benchmark; WW_BDWGC=0 leaves it out)
# Ends with one line "N passed, N failed": the test cases of runs 1-3
# and of the ThreadSanitizer make check
# (automake's .trs files: one result per TAP line, one per script) and
# the results of the rigs 7-10 (each ends with such a line), SKIPs counted
# in neither.  Exit
# status 0 only if everything passed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/install-deps.sh || exit 1
[ -x configure ] || autoreconf -fi >/dev/null || exit 1

# hugetlb memory must be refused by ww_watch; the test can only show that
# where huge pages are reserved.  As root, reserve two for the run and put
# the old value back on exit.
hp=/proc/sys/vm/nr_hugepages
if [ "$(id -u)" -eq 0 ] && [ -w "$hp" ] && [ "$(cat "$hp")" -eq 0 ]; then
    trap 'echo 0 > '"$hp" EXIT INT TERM
    echo 2 > "$hp" 2>/dev/null || true
fi

out=$top/_test
rm -rf "$out"
mkdir -p "$out"
status=0
passed=0
failed=0

# Count the results of a build's tests: PASS, and FAIL/XPASS/ERROR.
tally() {
    set -- $(cat "$1"/tests/*.trs 2>/dev/null |
        awk '/^:test-result: PASS/ {p++} /^:test-result: SKIP/ {s++}
             /^:test-result: (FAIL|XPASS|ERROR)/ {f++}
             END {print p+0, f+0, s+0}')
    passed=$((passed + $1))
    failed=$((failed + $2))
    echo "  $(basename "$dir"): $1 passed, $2 failed, $3 skipped"
}

run() {   # run NAME [VAR=value ...] -- configure options
    name=$1; shift
    dir=$out/$name
    echo "== $name"
    if ! env "$@" sh scripts/build.sh "$dir" --enable-werror $CONF; then
        echo "  $name: BUILD FAILED"; status=1; return
    fi
    for target in check check-slow; do
        if ! (cd "$dir" && make -s $target -j2 WW_TEST_REQUIRE="${WW_TEST_REQUIRE:-uffd,mprotect}" >"$dir/$target.out" 2>&1); then
            status=1
            echo "  $name: make $target failed:"
            grep -h -A3 -E '^not ok|^Bail out' "$dir"/tests/*.log | head -40
            grep -E '^(FAIL|ERROR|XPASS):' "$dir/$target.out" | head -20
        fi
    done
    tally "$dir"
}

CONF="" run gcc CC=gcc
CONF="" run clang CC=clang
CONF="--enable-sanitizers --enable-fault-injection" run sanitizers CC=gcc

echo "== fuzz (libFuzzer, ${WW_FUZZ_SECONDS:-60} s, API sequences against the model)"
if sh scripts/build.sh "$out/fuzz" CC=clang --enable-werror --enable-fuzzer >"$out/fuzz.out" 2>&1 &&
   (cd "$out/fuzz" && make -s fuzz FUZZ_SECONDS="${WW_FUZZ_SECONDS:-60}" >>"$out/fuzz.out" 2>&1); then
    echo "  fuzz: $(grep -o 'Done [0-9]* runs' "$out/fuzz.out"), no failure"
else
    echo "  fuzz: FAILED (see $out/fuzz.out)"; tail -20 "$out/fuzz.out"; status=1
fi

echo "== tsan (ThreadSanitizer: make check, every suite on both backends; make tsan, the no-lost-write stress test)"
# A report fails its test (TSan's exit status 66), except in a child the
# test expects to fail anyway: the logs are searched too.
dir=$out/tsan
if sh scripts/build.sh "$dir" CC=clang --enable-werror --enable-tsan >"$out/tsan.out" 2>&1 &&
   (cd "$dir" && make -s -j2 check WW_TEST_REQUIRE="${WW_TEST_REQUIRE:-uffd,mprotect}" >>"$out/tsan.out" 2>&1) &&
   ! grep -q 'WARNING: ThreadSanitizer' "$dir"/tests/*.log &&
   (cd "$dir" && make -s tsan TSAN_STRESS_PERCENT="${WW_TSAN_PERCENT:-100}" WW_TEST_REQUIRE="${WW_TEST_REQUIRE:-uffd,mprotect}" >>"$out/tsan.out" 2>&1); then
    echo "  tsan: clean; make check and $(grep -c 'lost=0' "$out/tsan.out") stress runs (2 per backend), all lost=0"
else
    echo "  tsan: FAILED (see $out/tsan.out)"; tail -30 "$out/tsan.out"
    grep -h -A3 -E '^not ok|WARNING: ThreadSanitizer' "$dir"/tests/*.log 2>/dev/null | head -40
    status=1
fi
tally "$dir"

echo "== distcheck"
if (cd "$out/gcc" && make -s distcheck >"$out/distcheck.out" 2>&1); then
    echo "  distcheck: ok"
else
    echo "  distcheck: FAILED (see $out/distcheck.out)"; tail -20 "$out/distcheck.out"; status=1
fi

echo "== Debian packages (scripts/debs.sh)"
t0=$(date +%s)
if sh scripts/debs.sh >"$out/debs.out" 2>&1; then
    grep -E '^(debs:|  )' "$out/debs.out" | sed 's/^/  /'
    echo "  debs: ok ($(($(date +%s) - t0)) s)"
else
    tail -40 "$out/debs.out"
    echo "  debs: FAILED (see $out/debs.out)"; status=1
fi

# rig NAME PATTERN CMD...: a test rig of its own (the kernel matrix, the
# i386 build, the Wine and bdwgc rigs): its output goes to $out/NAME.out,
# the lines matching PATTERN are shown, and its last line "N passed, N
# failed" counts in the total.  Exit status 77: skipped (it says why).
rig() {
    name=$1 pattern=$2; shift 2
    echo "== $name ($*)"
    t0=$(date +%s)
    "$@" >"$out/$name.out" 2>&1
    rc=$?
    grep -E "$pattern|^  not ok|FAILED:" "$out/$name.out" | sed 's/^/  /'
    if [ "$rc" -eq 77 ]; then
        echo "  $name: SKIP ($(grep -m1 'SKIP' "$out/$name.out"))"
        return
    fi
    set -- $(tail -n 1 "$out/$name.out" |
             sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
    if [ $# -eq 2 ]; then
        passed=$((passed + $1))
        failed=$((failed + $2))
    fi
    if [ "$rc" -ne 0 ] || [ $# -ne 2 ]; then
        echo "  $name: FAILED (see $out/$name.out)"
        # what the rig said about its failures (CI keeps only this output)
        grep -E -A15 '^(gctest|gcbench) .* failed' "$out/$name.out" | head -60
        tail -20 "$out/$name.out"
        status=1
    fi
    echo "  $name: $(($(date +%s) - t0)) s"
}

if [ "${WW_KERNEL_MATRIX:-1}" != 0 ]; then
    rig kernels '^(kernel |kernels: (accel|pruned)|  wwdemo: )' sh scripts/kernels.sh
fi
if [ "${WW_I386:-1}" != 0 ]; then
    rig i386 '^i386: ([0-9]|SKIP|BUILD|make .* failed)|^not ok' sh scripts/i386.sh
fi
if [ "${WW_WINE:-1}" != 0 ]; then
    rig wine '^wine |^wine-patch:' bash wine-patch/test.sh all
fi
if [ "${WW_BDWGC:-1}" != 0 ]; then
    rig bdwgc '^bdwgc:|^\| |^retain ' bash bdwgc-patch/test.sh
fi

[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed"
exit $status
