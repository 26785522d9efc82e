#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bdwgc-patch/test.sh - build Debian's libgc (bdwgc 8.2) stock and with the
# WW_VDB patch (dirty pages from libwritewatch), run bdwgc's own test suite
# in incremental mode with each, and benchmark the incremental mode:
#   stock     Debian's source as it is; on this kernel its dirty bits come
#             from mprotect + SIGSEGV (MPROTECT_VDB; SOFT_VDB is tried first)
#   patched   the same source with *.patch, configure --enable-writewatch-vdb:
#             dirty bits from libwritewatch's userfaultfd backend (WW_VDB)
#   fallback  the patched library with WW_BACKEND=mprotect, so that
#             libwritewatch offers no userfaultfd backend: MPROTECT_VDB runs
#
# Sources come from Debian's archive through a private apt configuration
# (scripts/debian-archive.sh): trixie's libgc if the archive serves it, and
# bookworm's; the patch is tested on each one it gets.  Needs root (it
# installs build tools).  Downloads and builds are cached, keyed by their
# inputs, in $WW_BDWGC_WORK (default /var/cache/libwritewatch/bdwgc); a second
# run only rebuilds what changed.  Exit status 0 only if every check passed;
# the last line is "bdwgc: N passed, N failed".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
WORK=${WW_BDWGC_WORK:-/var/cache/libwritewatch/bdwgc}
JOBS=${WW_JOBS:-2}
REPEAT=${WW_BENCH_REPEAT:-3}
SUITES=${WW_BDWGC_SUITES:-"trixie bookworm"}
PACKAGES="build-essential autoconf automake libtool pkg-config dpkg-dev patch"
# gcbench: 2 threads, 128 MiB of long-lived trees (a heap of 270-330 MiB),
# not more: the stock runs must stay within the mprotect VDB's mapping
# budget (see the check after the runs).  256 MiB of trees (a 530 MiB heap)
# peaked at 49 000-55 000 of the 65 530 mappings here; 512 MiB aborted.
GCBENCH_ARGS=${WW_GCBENCH_ARGS:-"-t 2 -m 128 -r 8"}
# The configure options of debian/rules (its shared-library build).
DEB_CONFIG="--enable-cplusplus --disable-dependency-tracking --with-tags=CXX
    --with-libatomic-ops=none --enable-shared --disable-static"

LWW=$WORK/libwritewatch
LOGS=$WORK/logs
start_time=$(date +%s)
passed=0 failed=0

say() { printf '[%4ds] %s\n' $(( $(date +%s) - start_time )) "$*"; }
die() {
    echo "test.sh: $*" >&2
    echo "bdwgc: $passed passed, $((failed + 1)) failed"
    echo "$passed passed, $((failed + 1)) failed"
    exit 1
}
# run LOG CMD...: run quietly into $LOGS/LOG, show its tail if it fails
run() {
    local log=$LOGS/$1; shift
    if ! "$@" >"$log" 2>&1; then
        tail -25 "$log" >&2
        die "failed: $* (log: $log)"
    fi
}
# check NAME CONDITION-COMMAND...: count one named check
check() {
    local name=$1; shift
    if "$@"; then passed=$((passed + 1)); else echo "FAILED: $name"; failed=$((failed + 1)); fi
}
hash_of() { sha256sum | cut -d' ' -f1; }

[ "$(id -u)" -eq 0 ] || die "run me as root (I install build tools)"
mkdir -p "$WORK" "$LOGS"

# --- 1. packages -------------------------------------------------------------
say "packages: installing what is missing of $(echo $PACKAGES | wc -w)"
# shellcheck disable=SC2086
run apt-install.log sh "$top/scripts/install-deps.sh" --only $PACKAGES

# --- 2. libwritewatch, static and position-independent ----------------------
# Only the files git tracks (plus their uncommitted edits): a clean clone's view.
say "libwritewatch: checking sources"
rm -rf "$LWW/src.new" && mkdir -p "$LWW/src.new"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$top" ls-files -z -- . ':!wine-patch' ':!bdwgc-patch' |
        (cd "$top" && tar --null -T - -cf -) | tar -xf - -C "$LWW/src.new"
else
    tar -C "$top" --exclude=.git --exclude=wine-patch --exclude=bdwgc-patch -cf - . |
        tar -xf - -C "$LWW/src.new"
fi
lww_hash=$(cd "$LWW/src.new" && find . -type f | LC_ALL=C sort | xargs cat | hash_of)
if [ "$(cat "$LWW/stamp" 2>/dev/null)" != "$lww_hash" ]; then
    say "libwritewatch: building (autoreconf, configure --disable-shared --with-pic, make)"
    rm -rf "$LWW/src" "$LWW/build" "$LWW/prefix" && mv "$LWW/src.new" "$LWW/src"
    run lww-autoreconf.log sh -c "cd '$LWW/src' && autoreconf -fi"
    mkdir -p "$LWW/build"
    run lww-configure.log sh -c "cd '$LWW/build' && ../src/configure --prefix='$LWW/prefix' \
        --disable-shared --with-pic"
    run lww-make.log make -C "$LWW/build" -j"$JOBS"
    run lww-install.log make -C "$LWW/build" install
    echo "$lww_hash" >"$LWW/stamp"
else
    rm -rf "$LWW/src.new"
fi
export PKG_CONFIG_PATH=$LWW/prefix/lib/pkgconfig

# --- 3. Debian's libgc sources (private apt configuration per suite) --------
# shellcheck source=../scripts/debian-archive.sh
. "$top/scripts/debian-archive.sh"
declare -A DSC VERSION
SKIPPED=""
for suite in $SUITES; do
    key=$suite/amd64/src
    dl=$WORK/dl/$suite
    mkdir -p "$dl"
    say "$suite: looking up libgc's source"
    if archive_setup "$key" 2>"$LOGS/archive-$suite.log"; then
        # shellcheck disable=SC2046
        v=$(apt-cache $(archive_opts "$key") showsrc libgc 2>/dev/null |
            sed -n 's/^Version: //p' | sort -V | tail -n 1)
        f=$dl/libgc_${v#*:}.dsc
        if [ -n "$v" ] && [ ! -f "$f" ]; then
            say "$suite: fetching libgc $v"
            # shellcheck disable=SC2046
            if ! (cd "$dl" && apt-get -q $(archive_opts "$key") source --download-only \
                    "libgc=$v") >"$LOGS/apt-source-$suite.log" 2>&1; then
                msg="$suite: the archive does not serve libgc $v's source files ($(grep -m1 -o \
                    '[0-9]* *Not Found' "$LOGS/apt-source-$suite.log" || echo see "$LOGS/apt-source-$suite.log")): skipped."
                echo "$msg"
                SKIPPED+="$msg "
                rm -f "$dl"/*
                continue
            fi
        fi
    else
        echo "$suite: the archive cannot be reached ($(cat "$LOGS/archive-$suite.log")); using the cache"
        f=$(ls "$dl"/libgc_*.dsc 2>/dev/null | sort -V | tail -n 1 || true)
    fi
    [ -n "$f" ] && [ -f "$f" ] || { echo "$suite: no libgc source — skipped"; continue; }
    DSC[$suite]=$f
    VERSION[$suite]=$(sed -n 's/^Version: //p' "$f")
done
[ ${#DSC[@]} -gt 0 ] || die "no libgc source from any of: $SUITES"

# --- 4. stock and patched builds ------------------------------------------------
# build_tree DSC DIR PATCHED: unpack, patch, configure, make, and build the
# test programs (make check with no test run).
build_tree() {
    local dsc=$1 dir=$2 patched=$3 p
    rm -rf "$dir" && mkdir -p "$dir"
    dpkg-source -x "$dsc" "$dir/src"
    cd "$dir/src"
    if [ "$patched" = 1 ]; then
        for p in "$here"/*.patch; do
            echo "applying $(basename "$p")"
            patch -p1 --no-backup-if-mismatch <"$p"
        done
        autoreconf -fi
    fi
    mkdir -p "$dir/build" && cd "$dir/build"
    # shellcheck disable=SC2086
    ../src/configure $DEB_CONFIG LDFLAGS=-pthread \
        $([ "$patched" = 1 ] && echo --enable-writewatch-vdb)
    if [ "$patched" = 1 ]; then
        grep -q '^#define WW_VDB 1' include/config.h ||
            { echo "configure did not enable WW_VDB"; return 1; }
    fi
    make -j"$JOBS"
    make -j"$JOBS" check TESTS=
}
declare -A BUILD
for suite in "${!DSC[@]}"; do
    for cfg in stock patched; do
        dir=$WORK/$suite-$cfg
        pat=$([ $cfg = patched ] && echo 1 || echo 0)
        stamp=$( (cat "${DSC[$suite]}"; declare -f build_tree; echo "$DEB_CONFIG $pat"
                  if [ $pat = 1 ]; then cat "$here"/*.patch; echo "$lww_hash"; fi) | hash_of)
        if [ "$(cat "$dir/.ww-stamp" 2>/dev/null)" != "$stamp" ]; then
            say "$suite: building $cfg libgc ${VERSION[$suite]} (about 1 min)"
            export -f build_tree
            export here DEB_CONFIG JOBS
            run "build-$suite-$cfg.log" bash -euo pipefail -c "build_tree '${DSC[$suite]}' '$dir' $pat"
            echo "$stamp" >"$dir/.ww-stamp"
        fi
        BUILD[$suite-$cfg]=$dir/build
    done
    lib=${BUILD[$suite-patched]}/.libs/libgc.so
    check "$suite: patched libgc.so contains libwritewatch" \
        sh -c "nm -D --defined-only '$lib' | grep -q ' ww_tracker_open$'"
    check "$suite: patched libgc.so does not load libwritewatch.so" \
        sh -c "! ldd '$lib' | grep -q writewatch"
done

# --- 5. bdwgc's test suite in incremental mode --------------------------------
# GC_ENABLE_INCREMENTAL=1 switches every test program to incremental mode
# at GC_init (gctest switches itself); GC_PRINT_STATS=1 makes the collector
# log which dirty-bit implementation it uses.
declare -A TOTAL FAILS VDB
ww_env() { [ "$1" = fallback ] && echo WW_BACKEND=mprotect || echo -u WW_BACKEND; }
for suite in "${!DSC[@]}"; do
    for cfg in stock patched fallback; do
        b=${BUILD[$suite-$([ $cfg = stock ] && echo stock || echo patched)]}
        say "$suite $cfg: make check (incremental mode)"
        log=$LOGS/check-$suite-$cfg.log
        env $(ww_env $cfg) GC_ENABLE_INCREMENTAL=1 GC_PRINT_STATS=1 \
            make -C "$b" -j"$JOBS" check >"$log" 2>&1 || true
        TOTAL[$suite-$cfg]=$(sed -n 's/^# TOTAL: *//p' "$log")
        FAILS[$suite-$cfg]=$(sed -n 's/^# \(FAIL\|ERROR\|XPASS\): *//p' "$log" | awk '{ s += $1 } END { print s + 0 }')
        # Per test program (each test's own log), the dirty-bit implementation
        # its collector chose when the incremental mode was switched on.
        n=0 ww=0 mp=0 sd=0
        for t in "$b"/*.log; do
            case $(basename "$t") in config.log|test-suite.log) continue ;; esac
            if grep -q 'Using libwritewatch (userfaultfd) VDB' "$t"; then ww=$((ww + 1))
            elif grep -q 'Using soft-dirty bit feature' "$t"; then sd=$((sd + 1))
            elif grep -q 'Soft-dirty bit is not supported\|libwritewatch not used' "$t"; then
                mp=$((mp + 1))
            else continue; fi
            n=$((n + 1))
        done
        rm -rf "$LOGS/check-$suite-$cfg" && mkdir -p "$LOGS/check-$suite-$cfg" && cp "$b"/*.log "$LOGS/check-$suite-$cfg/"
        VDB[$suite-$cfg]=$(printf '%s ww %s mprot %s soft' $ww $mp $sd | sed 's/\b0 [a-z]* *//g; s/ *$//')
        check "$suite $cfg: make check ran tests" [ "${TOTAL[$suite-$cfg]:-0}" -gt 0 ]
        check "$suite $cfg: make check, 0 failures" [ "${FAILS[$suite-$cfg]}" -eq 0 ]
        check "$suite $cfg: the collectors ran in incremental mode" [ "$n" -gt 0 ]
        if [ $cfg = patched ]; then
            check "$suite patched: every collector used libwritewatch" [ "$ww" -eq "$n" ]
        else
            check "$suite $cfg: no collector used libwritewatch" [ "$ww" -eq 0 ]
        fi
        [ "${FAILS[$suite-$cfg]}" -eq 0 ] || grep -E '^(FAIL|ERROR):' "$log" || true
    done
    check "$suite fallback: gctest says why libwritewatch was not used" \
        grep -q 'libwritewatch not used: its mprotect backend' "$LOGS/check-$suite-fallback/gctest.log"
done

# --- 6. benchmark ---------------------------------------------------------------
# On the first suite that built: bdwgc's gctest (incremental, its own timing
# and the collector's pause log) and bench/gcbench.c (see its header).
suite=""
for s in $SUITES; do [ -n "${DSC[$s]:-}" ] && { suite=$s; break; }; done
STOCK=${BUILD[$suite-stock]} PATCHED=${BUILD[$suite-patched]}
GCBENCH=$WORK/gcbench
if [ ! -x "$GCBENCH" ] || [ "$here/bench/gcbench.c" -nt "$GCBENCH" ]; then
    say "bench: compiling gcbench"
    run bench-build.log gcc -O2 -Wall -Wextra -Werror -pthread -I"$STOCK/../src/include" \
        -o "$GCBENCH" "$here/bench/gcbench.c" -L"$STOCK/.libs" -lgc
fi

# Retention: objects dropped after an incremental cycle that read many runs
# of dirty pages must be freed by the next collections (bench/retain.c).
RETAIN=$WORK/retain
if [ ! -x "$RETAIN" ] || [ "$here/bench/retain.c" -nt "$RETAIN" ]; then
    say "bench: compiling retain"
    run retain-build.log gcc -O2 -Wall -Wextra -Werror -pthread -I"$STOCK/../src/include" \
        -o "$RETAIN" "$here/bench/retain.c" -L"$STOCK/.libs" -lgc
fi
for cfg in stock patched; do
    lib=$([ $cfg = patched ] && echo "$PATCHED/.libs" || echo "$STOCK/.libs")
    out=$(env -u WW_BACKEND GC_USE_GETWRITEWATCH=$([ $cfg = stock ] && echo 0 || echo 1) \
        LD_LIBRARY_PATH="$lib" timeout 300 "$RETAIN" 2>&1) || out="$out (exit $?)"
    echo "retain $cfg: $out"
    kept=$(printf '%s\n' "$out" | sed -n 's/^retain .* retained=\([0-9]*\) incremental=1$/\1/p')
    # A conservative collector may keep a few through stale stack words.
    check "bench $cfg retain: objects dropped after an incremental read of many dirty runs are freed (${kept:-?} of 1200 kept, at most 10)" \
        [ "${kept:-99999}" -le 10 ]
done

# Soft-dirty bits: the stock library tries SOFT_VDB first; its log says why not.
softdirty="unavailable"
sd_log=$LOGS/check-$suite-stock/gctest.log
if grep -q 'Using soft-dirty bit feature' "$sd_log"; then softdirty=available
elif grep -q 'Soft-dirty bit is not supported by kernel' "$sd_log"; then
    softdirty="unavailable: bdwgc: 'Soft-dirty bit is not supported by kernel' (Linux $(uname -r) lacks CONFIG_MEM_SOFT_DIRTY)"
fi
# BENCH CONFIGS: name -> library dir and environment.  "stock" forces
# MPROTECT_VDB (GC_USE_GETWRITEWATCH=0) even where soft-dirty bits work.
BCONFIGS=(stock patched)
[ "$softdirty" = available ] && BCONFIGS+=(softdirty)
libdir_of() { [ "$1" = patched ] && echo "$PATCHED/.libs" || echo "$STOCK/.libs"; }
env_of() { [ "$1" = stock ] && echo GC_USE_GETWRITEWATCH=0 || echo GC_USE_GETWRITEWATCH=1; }

MAX_MAP_COUNT=$(cat /proc/sys/vm/max_map_count 2>/dev/null || echo 65530)
# why_failed: stdin is a failed run's output; explains what bdwgc's own
# message does not.
why_failed() {
    if grep -q 'mprotect vdb failed.*errno= 12'; then
        echo "    (ENOMEM from mprotect: the process reached vm.max_map_count = $MAX_MAP_COUNT" \
             "mappings; the mprotect VDB splits the heap's mapping at written pages)"
    fi
}
# gcbench_run CFG REP CMD...: one gcbench run appended to bench-CFG-gcbench.log;
# a failed run (exit status, or lost nodes) is shown here with its output.
gcbench_run() {
    local cfg=$1 rep=$2 out; shift 2
    out=$("$@" 2>&1) || out="$out
gcbench failed (exit $?)"
    printf '%s\n' "$out" >>"$LOGS/bench-$cfg-gcbench.log"
    if ! printf '%s\n' "$out" | grep -q '^gcbench .*errors=0$'; then
        echo "gcbench $cfg run $rep failed:"
        printf '%s\n' "$out" | tail -15 | sed 's/^/    /'
        printf '%s\n' "$out" | why_failed
    fi
}
rm -f "$LOGS"/bench-*.log "$LOGS"/gctest-failed-*.log
for rep in $(seq 1 "$REPEAT"); do
    say "bench: gctest and gcbench (run $rep of $REPEAT: ${BCONFIGS[*]}, no-incremental baseline)"
    for cfg in "${BCONFIGS[@]}"; do
        # gctest: wall time; pauses from the collector's own report
        t0=$(date +%s%N)
        env -u WW_BACKEND $(env_of $cfg) GC_PRINT_STATS=1 LD_LIBRARY_PATH="$(libdir_of $cfg)" \
            timeout 600 "$(dirname "$(libdir_of $cfg)")/.libs/gctest" >"$LOGS/gctest-run.log" 2>&1 &&
            st=ok || st="failed:exit-$?"
        t1=$(date +%s%N)
        if [ "$st" != ok ]; then
            # keep the evidence: CI shows only this output
            cp "$LOGS/gctest-run.log" "$LOGS/gctest-failed-$cfg-$rep.log"
            echo "gctest $cfg run $rep: $st; its last lines ($LOGS/gctest-failed-$cfg-$rep.log):"
            tail -15 "$LOGS/gctest-run.log" | sed 's/^/    /'
            why_failed <"$LOGS/gctest-run.log"
        fi
        # "World-stopped marking took 1 ms 60631 ns": one line per collection
        awk '/World-stopped marking took/ { printf "%d\n", $4 * 1000 + $6 / 1000 }' \
            "$LOGS/gctest-run.log" | sort -n | awk -v ms=$(( (t1 - t0) / 1000000 )) -v st=$st '
            { v[NR] = $1; sum += $1 }
            END { printf "gctest total_ms=%d pauses=%d pause_med_us=%d pause_p90_us=%d pause_max_us=%d pause_total_ms=%.1f status=%s\n",
                  ms, NR, NR ? v[int((NR + 1) / 2)] : 0, NR ? v[int((NR * 9 + 9) / 10)] : 0,
                  NR ? v[NR] : 0, sum / 1000, st }' \
            >>"$LOGS/bench-$cfg-gctest.log"
        grep -q 'Using libwritewatch' "$LOGS/gctest-run.log" && echo ww >>"$LOGS/bench-$cfg-vdb.log" ||
            echo other >>"$LOGS/bench-$cfg-vdb.log"
        # gcbench
        # shellcheck disable=SC2086
        gcbench_run $cfg $rep env -u WW_BACKEND $(env_of $cfg) LD_LIBRARY_PATH="$(libdir_of $cfg)" \
            timeout 900 "$GCBENCH" $GCBENCH_ARGS
    done
    # shellcheck disable=SC2086
    gcbench_run base $rep env LD_LIBRARY_PATH="$STOCK/.libs" timeout 900 "$GCBENCH" $GCBENCH_ARGS -i 0
done

# median CFG PROGRAM FIELD
median() {
    sed -n "s/^$2 \(.* \)\{0,1\}$3=\([^ ]*\).*/\2/p" "$LOGS/bench-$1-$2.log" | sort -g |
        awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }'
}
for cfg in "${BCONFIGS[@]}" base; do
    prog_list=$([ $cfg = base ] && echo gcbench || echo "gctest gcbench")
    for prog in $prog_list; do
        good=$(grep -c "^$prog .*\(errors=0\|status=ok\)$" "$LOGS/bench-$cfg-$prog.log" || true)
        check "bench $cfg $prog: $REPEAT clean runs" [ "$good" -eq "$REPEAT" ]
    done
done
check "bench: patched gctest used libwritewatch" [ "$(sort -u "$LOGS/bench-patched-vdb.log")" = ww ]
# The mapping budget of stock bdwgc's mprotect VDB: it makes each written
# heap page writable on its own, and every run of written pages between
# read-only ones costs the kernel two mappings, so random writes over a heap
# of P pages peak at about P/2 mappings.  At vm.max_map_count mprotect fails
# and the collector aborts ("un-mprotect vdb failed ... errno= 12"), or not,
# depending on how the writes fall.  Half the pages of the largest heap a
# stock gcbench run reported must stay below vm.max_map_count.
stock_heap_mib=$(sed -n 's/^gcbench .* heap_mib=\([0-9]*\) .*/\1/p' "$LOGS/bench-stock-gcbench.log" |
    sort -n | tail -n 1)
stock_heap_pages=$(( ${stock_heap_mib:-0} * 1048576 / $(getconf PAGESIZE) ))
budget_ok=no
[ "$stock_heap_pages" -gt 0 ] && [ $((stock_heap_pages / 2)) -lt "$MAX_MAP_COUNT" ] && budget_ok=yes
check "bench stock gcbench: heap of ${stock_heap_mib:-?} MiB ($stock_heap_pages pages) within the mprotect VDB's mapping budget (pages / 2 < vm.max_map_count = $MAX_MAP_COUNT)" \
    [ $budget_ok = yes ]
check "bench: stock gctest did not" [ "$(sort -u "$LOGS/bench-stock-vdb.log")" = other ]

# --- 7. the table ---------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.1fx", a / b; else print "-" }'; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; printf "%d", (d > 0 ? d : 0) }'; }
row() { printf '| %-46s | %12s | %12s | %11s | %9s |\n' "$@"; }
sdcol() { [ "$softdirty" = available ] && median softdirty "$@" || echo unavailable; }
echo
echo "Debian libgc: $(for s in "${!VERSION[@]}"; do printf '%s %s (tested), ' "$s" "${VERSION[$s]}"; done)$SKIPPED"
echo "Linux $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); medians of $REPEAT runs."
echo "soft-dirty (SOFT_VDB): $softdirty"
echo
row "" stock patched soft-dirty stock/pat
row "----------------------------------------------" "------------" "------------" "-----------" "---------"
for s in "${!DSC[@]}"; do
    row "$s: dirty bits by (make check programs)" "${VDB[$s-stock]}" "${VDB[$s-patched]}" "-" ""
    row "$s: make check, incremental (tests/fail)" "${TOTAL[$s-stock]}/${FAILS[$s-stock]}" \
        "${TOTAL[$s-patched]}/${FAILS[$s-patched]}" "-" ""
    row "$s: fallback (WW_BACKEND=mprotect)" "" "${TOTAL[$s-fallback]}/${FAILS[$s-fallback]}" "-" ""
done
for prog in gctest gcbench; do
    a=$(median stock $prog total_ms); b=$(median patched $prog total_ms)
    row "$prog: total ms" "$a" "$b" "$(sdcol $prog total_ms)" "$(ratio "$a" "$b")"
    a=$(median stock $prog pause_med_us); b=$(median patched $prog pause_med_us)
    row "$prog: median world-stopped pause us" "$a" "$b" "$(sdcol $prog pause_med_us)" "$(ratio "$a" "$b")"
    a=$(median stock $prog pause_p90_us); b=$(median patched $prog pause_p90_us)
    row "$prog: 90th pct world-stopped pause us" "$a" "$b" "$(sdcol $prog pause_p90_us)" "$(ratio "$a" "$b")"
    a=$(median stock $prog pause_max_us); b=$(median patched $prog pause_max_us)
    row "$prog: max world-stopped pause us" "$a" "$b" "$(sdcol $prog pause_max_us)" "$(ratio "$a" "$b")"
    [ $prog = gcbench ] || continue   # gctest's log also has its fork children's pauses
    a=$(median stock $prog pause_total_ms); b=$(median patched $prog pause_total_ms)
    row "$prog: world-stopped pauses, sum ms" "$a" "$b" "$(sdcol $prog pause_total_ms)" "$(ratio "$a" "$b")"
done
a=$(median stock gcbench mutate_ms); b=$(median patched gcbench mutate_ms)
row "gcbench: mutation phases ms (threads sum)" "$a" "$b" "$(sdcol gcbench mutate_ms)" "$(ratio "$a" "$b")"
base=$(median base gcbench touch_ms)
a=$(median stock gcbench touch_ms); b=$(median patched gcbench touch_ms)
row "gcbench: touch phases ms (no-incr: $base)" "$a" "$b" "$(sdcol gcbench touch_ms)" "$(ratio "$a" "$b")"
ta=$(minus "$a" "$base"); tb=$(minus "$b" "$base")
row "gcbench: write tracking ms (touch - no-incr)" "$ta" "$tb" "-" "$(ratio "$ta" "$tb")"
a=$(median stock gcbench errors); b=$(median patched gcbench errors)
row "gcbench: lost nodes (no write lost)" "$a" "$b" "$(sdcol gcbench errors)" ""
echo
echo "gcbench $GCBENCH_ARGS; logs: $LOGS"
say "done: $([ $failed -eq 0 ] && echo "all checks passed" || echo "SOME CHECKS FAILED")"
echo "bdwgc: $passed passed, $failed failed"
echo "$passed passed, $failed failed"      # the line scripts/test.sh counts
[ $failed -eq 0 ]
